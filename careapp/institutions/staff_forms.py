"""Forms of the staff register and the filing documents."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from careapp.forms import DateField, SiteForm, choices
from careapp.labels import CERTIFICATE_TYPE_LABELS, DOCUMENT_KIND_LABELS, STAFF_ROLE_LABELS
from careapp.models import CARE_ROLES, CertificateType, DocumentKind, StaffRole
from careapp.services.staff import StaffEntry, is_valid_id_number

#: Hours of training nobody exceeds, far below an overflow.
MAX_TRAINING_HOURS = 10_000
CODE = {"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"}


def _lazy_choices(labels: dict, blank=None):
    pairs = [(str(value), text) for value, text in labels.items()]
    return lambda: choices(([("", blank)] if blank else []) + pairs)


class StaffForm(SiteForm):
    """One person on the register; the ID card number only when adding them."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=40)])
    id_number = StringField(
        _l("Resident identity card number"),
        # No Optional(): it would skip validate_id_number, which says what is missing.
        validators=[Length(max=24)],
        render_kw=CODE,
    )
    role = SelectField(_l("Role"), choices=_lazy_choices(STAFF_ROLE_LABELS))
    certificate_type = SelectField(
        _l("Qualification certificate"),
        choices=_lazy_choices(CERTIFICATE_TYPE_LABELS, _l("None")),
        validators=[Optional()],
    )
    certificate_number = StringField(
        _l("Certificate number"), validators=[Length(max=40)], render_kw=CODE
    )
    health_checked_on = DateField(_l("Health check on"), validators=[DataRequired()])
    health_check_expires_on = DateField(
        _l("Health certificate valid until"), validators=[DataRequired()]
    )
    training_hours = IntegerField(
        _l("Training hours"),
        validators=[Optional(), NumberRange(min=0, max=MAX_TRAINING_HOURS)],
        render_kw={"inputmode": "numeric"},
        default=0,
    )

    def __init__(self, *args, adding: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.adding = adding
        if not adding:
            del self.id_number

    def validate_id_number(self, field) -> None:
        """Required when adding, and a valid number (check character and birth date)."""
        if not self.adding:
            return
        if not (field.data or "").strip():
            raise ValidationError(_l("Enter the person's ID card number."))
        if not is_valid_id_number(field.data):
            raise ValidationError(
                _l("This is not a valid ID card number. Please check every character.")
            )

    def validate_role(self, field) -> None:
        """One of the roles."""
        if field.data not in StaffRole.values():
            raise ValidationError(_l("Choose a role."))

    def validate_certificate_number(self, field) -> None:
        """A certificate is its type and number together; carers need one (checked at submit)."""
        has_type = bool(self.certificate_type.data)
        has_number = bool((field.data or "").strip())
        if has_type and not has_number:
            raise ValidationError(_l("Enter the certificate's number."))
        if has_number and not has_type:
            raise ValidationError(_l("Choose the type of the certificate."))

    def validate_health_check_expires_on(self, field) -> None:
        """Valid after the check."""
        checked = self.health_checked_on.data
        if checked and field.data and field.data <= checked:
            raise ValidationError(_l("The certificate must be valid after the day of the check."))

    def entry(self) -> StaffEntry:
        """The service's view of the validated form."""
        return StaffEntry(
            name=self.name.data.strip(),
            role=StaffRole(self.role.data),
            certificate_type=CertificateType(self.certificate_type.data)
            if self.certificate_type.data
            else None,
            certificate_number=(self.certificate_number.data or "").strip() or None,
            health_checked_on=self.health_checked_on.data,
            health_check_expires_on=self.health_check_expires_on.data,
            training_hours=self.training_hours.data or 0,
            id_number=self.id_number.data if self.adding else None,
        )

    @staticmethod
    def needs_certificate(role: str) -> bool:
        """Whether people of ``role`` look after children."""
        return role in {str(care_role) for care_role in CARE_ROLES}


class DocumentForm(SiteForm):
    """One file and the material it shows."""

    kind = SelectField(_l("Material"), choices=_lazy_choices(DOCUMENT_KIND_LABELS))
    file = FileField(_l("File (PDF, JPEG or PNG)"), render_kw={"accept": ".pdf,.jpg,.jpeg,.png"})

    def validate_kind(self, field) -> None:
        """One of the materials."""
        if field.data not in DocumentKind.values():
            raise ValidationError(_l("Choose which material the file shows."))

    def validate_file(self, field) -> None:
        """A file was chosen."""
        if not field.data or not getattr(field.data, "filename", ""):
            raise ValidationError(_l("Choose a file to upload."))
