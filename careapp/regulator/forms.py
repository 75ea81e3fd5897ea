"""Forms of the regulator's pages."""

from flask_babel import lazy_gettext as _l
from wtforms import DecimalField, HiddenField, IntegerField, RadioField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from careapp import clock
from careapp.forms import DateField, SiteForm, choices


class ReasonForm(SiteForm):
    """A decision that must say why (return, reject, refuse a change)."""

    reason = TextAreaField(
        _l("Reason (the applicant reads it)"),
        validators=[DataRequired(message=_l("Please give the reason.")), Length(max=2000)],
    )


class ReturnForm(ReasonForm):
    """Return an application for correction, saying what to correct."""

    reason = TextAreaField(
        _l("What to correct (the applicant reads it)"),
        validators=[DataRequired(message=_l("Please give the reason.")), Length(max=2000)],
    )


class RejectForm(ReasonForm):
    """Refuse an application, saying why."""

    reason = TextAreaField(
        _l("Why the application is rejected (the applicant reads it)"),
        validators=[DataRequired(message=_l("Please give the reason.")), Length(max=2000)],
    )


class ApproveForm(SiteForm):
    """The confirmation that files (and publishes) an institution: it carries the submission
    the regulator confirmed, so that a resubmission in between is not filed unseen."""

    submitted = HiddenField()


class RevokeForm(SiteForm):
    """撤销备案: revoke a filed institution's filing on a date, with the public notice."""

    effective_on = DateField(
        _l("Filing revoked on"),
        default=clock.today,
        validators=[DataRequired(message=_l("Please enter the date."))],
    )
    reason = TextAreaField(
        _l("Notice of revocation (published, and the institution reads it)"),
        validators=[DataRequired(message=_l("Please give the reason.")), Length(max=300)],
    )


class FindingForm(SiteForm):
    """A problem found in the follow-up after filing, with the deadline to put it right."""

    finding = TextAreaField(
        _l("What was found (published as a notice, and the institution reads it)"),
        validators=[DataRequired(message=_l("Please say what was found.")), Length(max=2000)],
    )
    put_right_by = DateField(
        _l("Put right by"),
        validators=[DataRequired(message=_l("Please enter the date."))],
    )


#: How the bureau may close a follow-up finding.
FINDING_OUTCOMES = (
    ("put_right", _l("Put right")),
    ("not_put_right", _l("Not put right")),
)


class CloseFindingForm(SiteForm):
    """Close a follow-up finding with its outcome, published with the notice."""

    outcome = RadioField(
        _l("Outcome"),
        choices=choices(FINDING_OUTCOMES),
        validators=[InputRequired(message=_l("Please choose the outcome."))],
    )
    note = TextAreaField(_l("Note (published with the outcome)"), validators=[Length(max=2000)])


class RecordForm(SiteForm):
    """A button that records what the institution declared (its 注销); only the CSRF token."""


def _bounded(field_class, label, low, high, message, **keywords):
    """A required number from ``low`` to ``high``; ``message`` is its one error, for any mistake."""

    def within(form: SiteForm, field) -> None:
        # Decimal("NaN") and infinities compare badly or not at all: refuse them as well.
        finite = getattr(field.data, "is_finite", lambda: True)()
        if field.data is not None and not (finite and low <= field.data <= high):
            raise ValidationError(message)

    return field_class(
        label,
        validators=[InputRequired(message=message), within],
        invalid_value_message=message,
        **keywords,
    )


class TownshipTargetsForm(SiteForm):
    """A township's population (with the date of the figure) and its targets."""

    population = _bounded(
        IntegerField,
        _l("Residents"),
        0,
        10_000_000,
        _l("Please enter the number of residents, a whole number from 0 to 10,000,000."),
        render_kw={"inputmode": "numeric"},
    )
    population_as_of = DateField(
        _l("Figure dated"),
        validators=[DataRequired(message=_l("Please enter the date of the figure."))],
    )
    min_institutions = _bounded(
        IntegerField,
        _l("Minimum filed institutions"),
        0,
        99,
        _l("Please enter the minimum, a whole number from 0 to 99."),
        render_kw={"inputmode": "numeric"},
    )
    target_places_per_1000 = _bounded(
        DecimalField,
        _l("Target places per 1,000 residents"),
        0,
        99,
        _l("Please enter the target, a number from 0 to 99, for example 4.5."),
        places=1,
        render_kw={"inputmode": "decimal"},
    )


class RegisteredCountForm(SiteForm):
    """How many institutions are registered in the region, or blank to derive it."""

    registered_institutions = IntegerField(
        _l("Registered institutions"),
        validators=[Optional()],
        invalid_value_message=_l("Please enter a whole number from 0 to 100,000, or nothing."),
        render_kw={"inputmode": "numeric"},
    )
    registered_as_of = DateField(_l("Count dated"), validators=[Optional()])

    def validate(self, extra_validators=None) -> bool:
        """The count must be 0 to 100,000, and a count entered needs its date."""
        if not super().validate(extra_validators):
            return False
        count = self.registered_institutions.data
        if count is not None and not 0 <= count <= 100_000:
            self.registered_institutions.errors.append(
                _l("Please enter a whole number from 0 to 100,000, or nothing.")
            )
        if count is not None and self.registered_as_of.data is None:
            self.registered_as_of.errors.append(_l("Please enter the date of the count."))
        return not (self.registered_institutions.errors or self.registered_as_of.errors)
