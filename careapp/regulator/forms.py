"""Forms of the regulator's pages."""

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, TextAreaField
from wtforms.validators import DataRequired, Length


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
