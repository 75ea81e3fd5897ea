"""Forms of the institution staff pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, ValidationError

from careapp.labels import CLASS_KIND_LABELS
from careapp.models import CLASS_STANDARDS, ClassKind


class CareClassForm(FlaskForm):
    """One class: its kind, name, advertised capacity and number of carers."""

    kind = SelectField(
        _l("Class type"),
        choices=[(kind.value, label) for kind, label in CLASS_KIND_LABELS.items()],
        validators=[DataRequired()],
    )
    name = StringField(_l("Class name"), validators=[DataRequired(), Length(max=64)])
    capacity = IntegerField(
        _l("Places"),
        validators=[DataRequired(), NumberRange(min=1, message=_l("At least one place."))],
        render_kw={"inputmode": "numeric"},
    )
    carers = IntegerField(
        _l("Carers"),
        validators=[DataRequired(), NumberRange(min=1, message=_l("At least one carer."))],
        render_kw={"inputmode": "numeric"},
    )

    def validate_capacity(self, field: IntegerField) -> None:
        """Refuse a capacity above the national cap or above what the carers allow."""
        if self.kind.data not in ClassKind.values() or field.data is None or not self.carers.data:
            return
        standard = CLASS_STANDARDS[ClassKind(self.kind.data)]
        if field.data > standard.max_children:
            raise ValidationError(
                _l(
                    "A class of this type may have at most %(count)d children.",
                    count=standard.max_children,
                )
            )
        if field.data > standard.max_capacity_for(self.carers.data):
            raise ValidationError(
                _l(
                    "With %(carers)d carers this class may have at most %(count)d children"
                    " (one carer for every %(ratio)d children).",
                    carers=self.carers.data,
                    count=standard.max_capacity_for(self.carers.data),
                    ratio=standard.children_per_carer,
                )
            )
