"""Telling an account holder of a change: by SMS, by e-mail or both, as they chose."""

from careapp.models import User
from careapp.services.mail import queue_email
from careapp.services.sms import queue_sms


def notify(
    user: User,
    email: tuple[str, str] | None,
    sms: tuple[str, dict[str, str]] | None = None,
) -> None:
    """Queue ``email`` (subject, body) and ``sms`` (template key, parameters) in the current
    transaction, each only on a channel the account wants and has. When a notice has no SMS
    template, e-mail stands in for an SMS-only choice."""
    channels = user.notice_channels()
    if sms is None and user.email and user.email_confirmed_at is not None:
        channels |= {"email"}
    if email is not None and "email" in channels:
        queue_email(user.email, *email)
    if sms is not None and "sms" in channels:
        queue_sms(user.verified_phone, sms[0], **sms[1])
