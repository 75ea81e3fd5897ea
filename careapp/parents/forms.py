"""Forms of the parents' pages."""

import re

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from careapp.form_messages import INVALID_CHOICE
from careapp.forms import DateField, SiteForm, choices
from careapp.models import ConsentCapacity
from careapp.models.base import MAX_ID
from careapp.services.booking import new_request_key
from careapp.validators import ChinaMobile

#: A form's one-time key as the pages make it (URL-safe base64): at most 48 characters, so that
#: the ``:id`` an offer's page adds still fits the 64 of the key's column.
REQUEST_KEY = re.compile(r"[A-Za-z0-9_-]{1,48}")


class RequestKeyField(HiddenField):
    """A form's one-time key: a fresh one for a form shown, the one sent back for a form sent.
    A form sent without a key, or with one no page sends (longer than 48 characters, other
    characters), gets a fresh one."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, default=new_request_key, **kwargs)

    def process_formdata(self, valuelist) -> None:
        """Keep the key only if a page could have sent it."""
        super().process_formdata(valuelist)
        if not REQUEST_KEY.fullmatch(self.data or ""):
            self.renew()

    def renew(self) -> None:
        """Give the form a fresh key (the one sent cannot be used)."""
        self.data = new_request_key()


class ConsentRadioField(RadioField):
    """Consent, given by choosing in which capacity: no choice (or an unknown one) is no
    consent, said so in the site's words."""

    def pre_validate(self, form) -> None:
        """Refuse a missing or unknown choice."""
        if self.data not in ConsentCapacity.values():
            raise ValidationError(_l("Please give your consent to record your child's details."))


class ChildForm(SiteForm):
    """A child's name, birth date and care notes, with the guardian's consent."""

    name = StringField(
        _l("Child's name"),
        validators=[DataRequired(message=_l("Please enter the child's name.")), Length(max=40)],
        render_kw={"autocomplete": "off"},
    )
    birth_date = DateField(
        _l("Birth date"), validators=[DataRequired(message=_l("Please enter the birth date."))]
    )
    notes = TextAreaField(
        _l("Allergies and care needs (optional)"), validators=[Optional(), Length(max=500)]
    )
    consent = ConsentRadioField(
        _l("Who gives consent for the child's details?"),
        choices=choices(
            [
                (
                    ConsentCapacity.GUARDIAN.value,
                    _l(
                        "I am the child's guardian and agree that careapp keeps these details"
                        " to book care, and shares them only with the institutions I book."
                    ),
                ),
                (
                    ConsentCapacity.FAMILY_MEMBER.value,
                    _l(
                        "I am family of the child (for example a grandparent) acting with"
                        " the guardian's consent; the guardian agrees that careapp keeps these"
                        " details to book care, and shares them only with the institutions I book."
                    ),
                ),
            ]
        ),
    )


class WaitlistForm(SiteForm):
    """Which child joins a full slot's waiting list."""

    child_id = SelectField(
        _l("For which child?"),
        coerce=int,
        # A booking reads the chosen child by this id: one no row may have is refused here
        # (InputRequired, not DataRequired, so that a 0 gets the same message as a -1).
        validators=[InputRequired(), NumberRange(1, MAX_ID, message=INVALID_CHOICE)],
    )

    def set_children(self, children, name_of=lambda child: child.name) -> None:
        """Offer the children the account may book for, each named by ``name_of``."""
        self.child_id.choices = choices((child.id, name_of(child)) for child in children)


class BookingForm(WaitlistForm):
    """Which child the place is for (and, for a standing place, from when); the one-time key
    makes a double tap harmless."""

    #: Full-day and half-day places only: the day care is to start.
    starts_on = DateField(_l("Start date"), validators=[Optional()])
    request_key = RequestKeyField()

    @classmethod
    def for_slot(cls, slot) -> "BookingForm":
        """The form for ``slot``: without the start date where the page shows none (hourly
        and temporary care), so that a value sent for it is neither read nor refused."""
        form = cls()
        if not slot.is_standing:
            del form.starts_on
        return form


class OfferForm(SiteForm):
    """Accept a held place; the one-time key makes a double tap harmless."""

    request_key = RequestKeyField()


class CourseRegistrationForm(SiteForm):
    """How many seats the family takes; the one-time key makes a double tap harmless."""

    seats = SelectField(_l("Seats"), coerce=int, default=1)
    request_key = RequestKeyField()

    def set_seat_choices(self, allow_second_seat: bool) -> None:
        """One seat, or a second one for another carer where the provider allows it."""
        pairs = [(1, _l("One seat"))]
        if allow_second_seat:
            pairs.append((2, _l("Two seats (a second carer comes too)")))
        self.seats.choices = choices(pairs)


class InviteForm(SiteForm):
    """The mobile number of the family member a guardian invites."""

    phone = TelField(
        _l("Family member's mobile number"),
        validators=[
            DataRequired(message=_l("Please enter an 11-digit mainland China mobile number.")),
            Length(max=20, message=_l("Please enter an 11-digit mainland China mobile number.")),
            ChinaMobile(),
        ],
        render_kw={"autocomplete": "off", "inputmode": "tel"},
    )


class RevokeForm(SiteForm):
    """Confirm a revocation; ``seen`` carries the state the guardian was shown."""

    seen = HiddenField()


class DeleteAccountForm(SiteForm):
    """Deleting the whole account, once the parent has ticked that they understand."""

    understood = BooleanField(
        _l("I understand that my account, my children's details and every booking are deleted"),
        validators=[DataRequired(message=_l("Please tick the box to delete your account."))],
    )
