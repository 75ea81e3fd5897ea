"""Forms of an institution's steps after filing: answering a finding, asking for its 注销."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, TextAreaField
from wtforms.validators import DataRequired, Length

from careapp.forms import DateField, SiteForm


class AnswerForm(SiteForm):
    """What the institution did to put a follow-up finding right."""

    answer = TextAreaField(
        _l("What you did to put it right (the county health bureau reads it)"),
        validators=[DataRequired(message=_l("Please say what you did.")), Length(max=2000)],
    )


class DeregistrationForm(SiteForm):
    """注销: the institution declares it deregistered with its registration authority."""

    deregistered_on = DateField(
        _l("Date of deregistration with your registration authority"),
        validators=[DataRequired(message=_l("Please enter the date."))],
    )
    reason = TextAreaField(
        _l("Why the institution closes (published with the deregistration)"),
        validators=[Length(max=200)],
    )
    confirmed = BooleanField(
        _l(
            "I understand that the institution leaves the public register and all its bookings end."
        ),
        validators=[DataRequired(message=_l("Please confirm."))],
    )
