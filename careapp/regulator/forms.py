"""Forms of the regulator's pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DecimalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectMultipleField,
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
from wtforms.widgets import CheckboxInput, ListWidget

from careapp import clock
from careapp.forms import DateField, SiteForm, choices
from careapp.labels import AUTHORITY_LABELS


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


# --- indicators ----------------------------------------------------------------------------


def _optional_percent(label):
    """A target in per cent from 0 to 100, or nothing for no target."""
    message = _l("Please enter a per cent from 0 to 100, or nothing for no target.")

    def within(form: SiteForm, field) -> None:
        finite = getattr(field.data, "is_finite", lambda: True)()
        if field.data is not None and not (finite and 0 <= field.data <= 100):
            raise ValidationError(message)

    return DecimalField(
        label,
        places=1,
        validators=[Optional(), within],
        invalid_value_message=message,
        render_kw={"inputmode": "decimal"},
    )


class RegionTargetsForm(SiteForm):
    """A region's targets: places per 1,000 residents and the shares, in per cent."""

    places_per_1000 = _bounded(
        DecimalField,
        _l("Places per 1,000 residents, region-wide"),
        0,
        99,
        _l("Please enter the target, a number from 0 to 99, for example 4.5."),
        places=1,
        render_kw={"inputmode": "decimal"},
    )
    covered_share = _optional_percent(_l("Townships with a filed institution (%)"))
    applied_share = _optional_percent(_l("Registered operators that applied for filing (%)"))
    guidance_share = _optional_percent(_l("Families with children under 3 given guidance (%)"))
    newborn_guidance_share = _optional_percent(_l("Newborn families reached by guidance (%)"))
    certified_staff_share = _optional_percent(_l("Certified staff, region-wide (%)"))


class OperatorListForm(SiteForm):
    """The registration authorities' list of operators running care, as a CSV file."""

    operators = FileField(
        _l("CSV file: USCC, name, authority, registration date"),
        validators=[FileRequired(message=_l("Please choose the CSV file."))],
    )


class TownshipFamiliesForm(SiteForm):
    """Families with children under 3 in a township, and how many of them are newborn."""

    families_under_3 = IntegerField(
        _l("Families with children under 3"),
        validators=[Optional()],
        invalid_value_message=_l("Please enter a whole number from 0 to 10,000,000, or nothing."),
        render_kw={"inputmode": "numeric"},
    )
    newborn_families = IntegerField(
        _l("Of them, families with a child born in the last 12 months"),
        validators=[Optional()],
        invalid_value_message=_l("Please enter a whole number from 0 to 10,000,000, or nothing."),
        render_kw={"inputmode": "numeric"},
    )
    families_as_of = DateField(_l("Families figure dated"), validators=[Optional()])

    def check_together(self, fields_valid: bool) -> bool:
        """Counts from 0 to 10,000,000, newborns within the families, and a date with a count."""
        if not fields_valid:
            return False
        too_big = _l("Please enter a whole number from 0 to 10,000,000, or nothing.")
        for counted in (self.families_under_3, self.newborn_families):
            if counted.data is not None and not 0 <= counted.data <= 10_000_000:
                counted.errors.append(too_big)
        families, newborns = self.families_under_3.data, self.newborn_families.data
        if newborns is not None and (families is None or newborns > families):
            self.newborn_families.errors.append(
                _l("Newborn families are some of the families with children under 3.")
            )
        if families is not None and self.families_as_of.data is None:
            self.families_as_of.errors.append(_l("Please enter the date of the figure."))
        return not any(field.errors for field in self)


class TownshipFiguresForm(TownshipFamiliesForm, TownshipTargetsForm):
    """A township's residents and targets, and its families with children under 3."""


class AuthorityCheckboxes(SelectMultipleField):
    """Several registration authorities, shown as checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RegionRulesForm(SiteForm):
    """The region's own rules: its registration authorities and the mixed-age class ratio."""

    registration_authorities = AuthorityCheckboxes(
        _l("Registration authorities in this region"),
        choices=choices((a.value, label) for a, label in AUTHORITY_LABELS.items()),
        validators=[DataRequired(message=_l("Choose at least one registration authority."))],
    )
    mixed_class_children_per_carer = IntegerField(
        _l("Children per carer in a mixed-age class (a local rule)"),
        validators=[
            InputRequired(message=_l("Please enter a whole number from 1 to 7.")),
            NumberRange(min=1, max=7, message=_l("Please enter a whole number from 1 to 7.")),
        ],
        invalid_value_message=_l("Please enter a whole number from 1 to 7."),
        render_kw={"inputmode": "numeric"},
    )
