"""Forms of the regulator's pages."""

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, IntegerField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)


class ReasonForm(FlaskForm):
    """A decision that must say why (return, reject, refuse a change)."""

    reason = TextAreaField(
        _l("Reason (the applicant reads it)"),
        validators=[DataRequired(message=_l("Please give the reason.")), Length(max=2000)],
    )


class DeregisterForm(ReasonForm):
    """Deregister a filed institution on a date, saying why."""

    effective_on = DateField(
        _l("Deregistered on"),
        default=date.today,
        validators=[DataRequired(message=_l("Please enter the date."))],
    )


class TownshipTargetsForm(FlaskForm):
    """A township's population (with the date of the figure) and its targets."""

    population = IntegerField(
        _l("Residents"),
        validators=[
            InputRequired(message=_l("Please enter the number of residents.")),
            NumberRange(min=0, max=10_000_000, message=_l("Please enter 0 to 10,000,000.")),
        ],
        render_kw={"inputmode": "numeric"},
    )
    population_as_of = DateField(
        _l("Figure dated"),
        validators=[DataRequired(message=_l("Please enter the date of the figure."))],
    )
    min_institutions = IntegerField(
        _l("Minimum filed institutions"),
        validators=[
            InputRequired(message=_l("Please enter the minimum.")),
            NumberRange(min=0, max=99, message=_l("Please enter 0 to 99.")),
        ],
        render_kw={"inputmode": "numeric"},
    )
    target_places_per_1000 = DecimalField(
        _l("Target places per 1,000 residents"),
        places=1,
        validators=[
            InputRequired(message=_l("Please enter the target.")),
            NumberRange(min=0, max=99, message=_l("Please enter 0 to 99.")),
        ],
        render_kw={"inputmode": "decimal"},
    )


class RegisteredCountForm(FlaskForm):
    """How many institutions are registered in the region, or blank to derive it."""

    registered_institutions = IntegerField(
        _l("Registered institutions"),
        validators=[
            Optional(),
            NumberRange(min=0, max=100_000, message=_l("Please enter 0 to 100,000.")),
        ],
        render_kw={"inputmode": "numeric"},
    )
    registered_as_of = DateField(_l("Count dated"), validators=[Optional()])

    def validate_registered_as_of(self, field: DateField) -> None:
        """A count entered needs the date it was taken."""
        if self.registered_institutions.data is not None and field.data is None:
            raise ValidationError(_l("Please enter the date of the count."))
