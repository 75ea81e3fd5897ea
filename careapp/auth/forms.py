"""Forms for accounts."""

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, RadioField, StringField, TelField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Regexp, ValidationError

from careapp.forms import SiteForm, choices
from careapp.labels import ROLE_LABELS
from careapp.models import SELF_SERVICE_ROLES, NoticeChannel
from careapp.validators import ChinaMobile, HardToGuess

PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 128


def _email_field() -> EmailField:
    return EmailField(
        _l("E-mail address"),
        validators=[
            DataRequired(message=_l("Please enter your e-mail address.")),
            Email(message=_l("Please enter a valid e-mail address."), check_deliverability=False),
            Length(max=254),
        ],
        render_kw={"autocomplete": "email", "inputmode": "email"},
    )


def _new_password_field(label) -> PasswordField:
    return PasswordField(
        label,
        validators=[
            DataRequired(message=_l("Please choose a password.")),
            Length(
                min=PASSWORD_MIN_LENGTH,
                max=PASSWORD_MAX_LENGTH,
                message=_l(
                    "Use %(min)d to %(max)d characters.",
                    min=PASSWORD_MIN_LENGTH,
                    max=PASSWORD_MAX_LENGTH,
                ),
            ),
            HardToGuess("email", "display_name"),
        ],
        render_kw={"autocomplete": "new-password"},
    )


def _confirmation_field(other: str) -> PasswordField:
    return PasswordField(
        _l("Repeat the password"),
        validators=[
            DataRequired(message=_l("Please repeat the password.")),
            EqualTo(other, message=_l("The two passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class LoginForm(SiteForm):
    """Sign in with e-mail address and password."""

    email = _email_field()
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(message=_l("Please enter your password."))],
        render_kw={"autocomplete": "current-password"},
    )


class LogoutForm(SiteForm):
    """Sign out (a form so that it carries a CSRF token)."""


class RegisterForm(SiteForm):
    """Create a parent, institution or guidance provider account."""

    role = RadioField(
        _l("I am"),
        choices=choices((role.value, ROLE_LABELS[role]) for role in SELF_SERVICE_ROLES),
        default=SELF_SERVICE_ROLES[0].value,
        validators=[DataRequired(message=_l("Please choose who you are."))],
    )
    display_name = StringField(
        _l("Your name or your organisation's name"),
        validators=[DataRequired(message=_l("Please enter a name.")), Length(max=80)],
        render_kw={"autocomplete": "name"},
    )
    email = _email_field()
    phone = TelField(
        _l("Mobile number (optional)"),
        validators=[ChinaMobile()],
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )
    password = _new_password_field(_l("Password"))
    confirm = _confirmation_field("password")

    def validate_password(self, field) -> None:
        """A password must not be the e-mail address."""
        if field.data and self.email.data and field.data.lower() == self.email.data.lower():
            raise ValidationError(_l("Your password must not be your e-mail address."))


class ChangePasswordForm(SiteForm):
    """Change the password, proving the current one."""

    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(message=_l("Please enter your current password."))],
        render_kw={"autocomplete": "current-password"},
    )
    password = _new_password_field(_l("New password"))
    confirm = _confirmation_field("password")


class ForgotPasswordForm(SiteForm):
    """Ask for a password reset link."""

    email = _email_field()


class ResetPasswordForm(SiteForm):
    """Choose a new password from a reset link."""

    password = _new_password_field(_l("New password"))
    confirm = _confirmation_field("password")


def _mobile_field() -> TelField:
    return TelField(
        _l("Mobile number"),
        validators=[
            DataRequired(message=_l("Please enter your mobile number.")),
            ChinaMobile(),
        ],
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )


class PhoneForm(SiteForm):
    """Ask for a code by SMS to sign in or up, or to add the number to one's account."""

    phone = _mobile_field()


class PhoneCodeForm(SiteForm):
    """The number and the 6-digit code sent to it."""

    phone = _mobile_field()
    code = StringField(
        _l("Code from the SMS"),
        validators=[
            DataRequired(message=_l("Please enter the 6-digit code from the SMS.")),
            Regexp(r"^\s*\d{6}\s*$", message=_l("The code has 6 digits.")),
        ],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": 6},
    )


#: The notice channels a parent can choose, in the order offered.
NOTICE_CHANNEL_LABELS = {
    NoticeChannel.SMS: _l("By SMS"),
    NoticeChannel.EMAIL: _l("By e-mail"),
    NoticeChannel.BOTH: _l("By SMS and e-mail"),
}


class NoticeChannelForm(SiteForm):
    """How a parent wants to hear about bookings, offers and reminders."""

    channel = RadioField(
        _l("Send me booking notices"),
        choices=choices((channel.value, label) for channel, label in NOTICE_CHANNEL_LABELS.items()),
        validators=[DataRequired(message=_l("Please choose how you want to be told."))],
    )
