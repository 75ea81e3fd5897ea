"""The outbox: queue e-mail and SMS inside the transaction, deliver after commit."""

import smtplib
from collections.abc import Callable
from email.message import EmailMessage
from typing import NamedTuple

import sqlalchemy as sa
from flask import current_app

from careapp import clock
from careapp.extensions import db
from careapp.models import Channel, OutboxMessage


def N_(message: str) -> str:
    """Mark ``message`` for extraction; it is translated when the e-mail is written."""
    return message


#: A message that failed this often is left for an operator.
MAX_ATTEMPTS = 5


def queue_email(recipient: str, subject: str, body: str) -> OutboxMessage:
    """Add an e-mail to the outbox in the current transaction."""
    message = OutboxMessage(recipient=recipient, subject=str(subject), body=str(body))
    db.session.add(message)
    return message


class DeliveryError(Exception):
    """A backend could not hand a message over; it is tried again later."""


class Delivery(NamedTuple):
    """One message tried: its id and whether it went."""

    message_id: int
    sent: bool


def _unsent():
    return sa.select(OutboxMessage).where(
        OutboxMessage.sent_at.is_(None), OutboxMessage.attempts < MAX_ATTEMPTS
    )


def claim_next_message(after_id: int = 0) -> OutboxMessage | None:
    """The oldest unsent message still worth trying, locked until this transaction ends;
    a message another run holds is skipped (PostgreSQL), so each is sent by one run."""
    return db.session.scalar(
        _unsent()
        .where(OutboxMessage.id > after_id)
        .order_by(OutboxMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )


def deliver_now(message_id: int, send: Callable[[OutboxMessage], None]) -> bool:
    """Try one message at once (a sign-in code should not wait for the next run), claimed
    as ``jobs run`` claims it; False when it did not go, and a later run tries again."""
    message = db.session.scalar(
        _unsent().where(OutboxMessage.id == message_id).with_for_update(skip_locked=True)
    )
    return message is not None and deliver(message, send)


def by_channel(
    email: Callable[[OutboxMessage], None], sms: Callable[[OutboxMessage], None]
) -> Callable[[OutboxMessage], None]:
    """One sender that hands each message to the backend of its channel."""
    return lambda message: (sms if message.channel == Channel.SMS else email)(message)


def configured_sender() -> Callable[[OutboxMessage], None]:
    """The backends chosen by ``MAIL_BACKEND`` and ``SMS_BACKEND``."""
    from careapp.services import sms  # sms builds on this module

    config = current_app.config
    return by_channel(BACKENDS[config["MAIL_BACKEND"]], sms.BACKENDS[config["SMS_BACKEND"]])


def deliver_next(send: Callable[[OutboxMessage], None], after_id: int = 0) -> Delivery | None:
    """Claim the next message after ``after_id`` and try to send it once; None when nothing
    is left. Commit after each call: the claim holds until then."""
    message = claim_next_message(after_id)
    if message is None:
        return None
    return Delivery(message.id, deliver(message, send))


def _as_email(message: OutboxMessage) -> EmailMessage:
    email = EmailMessage()
    email["From"] = current_app.config["MAIL_SENDER"]
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email.set_content(message.body)
    return email


def send_console(message: OutboxMessage) -> None:
    """Development backend: print the message instead of sending it. Outside development
    only the recipient and subject are printed: bodies carry sign-in and reset links."""
    if current_app.config["CAREAPP_ENV"] == "development":
        print(_as_email(message).as_string(), flush=True)
    else:
        print(f"(not sent) To: {message.recipient} Subject: {message.subject}", flush=True)


def send_smtp(message: OutboxMessage) -> None:
    """Production backend: send through the configured SMTP server."""
    config = current_app.config
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(_as_email(message))


BACKENDS: dict[str, Callable[[OutboxMessage], None]] = {
    "console": send_console,
    "smtp": send_smtp,
}


def deliver(message: OutboxMessage, send: Callable[[OutboxMessage], None]) -> bool:
    """Try to send one message, recording the outcome on it; True when sent."""
    message.attempts += 1
    try:
        send(message)
    except (OSError, smtplib.SMTPException, DeliveryError) as error:
        message.last_error = str(error)[:500]
        return False
    message.sent_at = clock.now()
    message.last_error = None
    return True
