"""Signing in, signing up and adding a number with a 6-digit code sent by SMS.

A code works for ``SMS_CODE_MAX_AGE`` seconds, once, and for ``SMS_CODE_MAX_ATTEMPTS`` tries;
only the newest code of a number counts. It is stored as an HMAC under the app's secret key,
queued as an SMS in the same transaction and never logged. Each try and the use are
compare-and-set updates, so two requests at once can neither use a code twice nor try it
more often than allowed.
"""

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from careapp.extensions import db
from careapp.models import CodePurpose, OutboxMessage, Role, SmsCode, User
from careapp.models.base import as_utc
from careapp.services.errors import CareappError
from careapp.services.sms import masked, queue_sms

CODE_DIGITS = 6


class CodeRejected(CareappError):
    """The code is wrong, spent, stale or tried too often; ``reason`` says which."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class TooSoon(CareappError):
    """A code was sent to the number moments ago; ``seconds`` until another may be."""

    def __init__(self, seconds: int):
        super().__init__(seconds)
        self.seconds = seconds


class PhoneTaken(CareappError):
    """Another account signs in with this number already."""


def _code_hash(phone: str, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def _newest(phone: str, purpose: CodePurpose, user: User | None) -> SmsCode | None:
    query = sa.select(SmsCode).where(SmsCode.phone == phone, SmsCode.purpose == purpose)
    if user is not None:
        query = query.where(SmsCode.user_id == user.id)
    return db.session.scalar(query.order_by(SmsCode.id.desc()).limit(1))


def resend_state(phone: str, purpose: CodePurpose, now: datetime) -> tuple[int, int]:
    """The id of the newest code sent to ``phone`` (0: none) and the seconds before another
    may be sent (0: now)."""
    newest = _newest(phone, purpose, None)
    if newest is None:
        return 0, 0
    wait = timedelta(seconds=current_app.config["SMS_CODE_RESEND_SECONDS"])
    seconds = (as_utc(newest.created_at) + wait - now).total_seconds()
    return newest.id, max(0, math.ceil(seconds))


def send_code(
    phone: str, purpose: CodePurpose, now: datetime, user: User | None = None
) -> OutboxMessage:
    """Make a new code for ``phone`` and queue its SMS; raises TooSoon within the resend
    wait. The caller has checked the per-number and per-IP limits."""
    _newest_id, wait = resend_state(phone, purpose, now)
    if wait:
        raise TooSoon(wait)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    db.session.add(
        SmsCode(
            phone=phone,
            purpose=purpose,
            user_id=user.id if user else None,
            code_hash=_code_hash(phone, code),
            created_at=now,
            expires_at=now + timedelta(seconds=current_app.config["SMS_CODE_MAX_AGE"]),
        )
    )
    message = queue_sms(phone, "sign_in_code", code=code)
    db.session.flush()
    return message


def use_code(
    phone: str, code: str, purpose: CodePurpose, now: datetime, user: User | None = None
) -> None:
    """Spend the newest code of ``phone`` if ``code`` is it; raises CodeRejected. A wrong
    try counts (the caller commits either way)."""
    record = _newest(phone, purpose, user)
    if record is None or record.used_at is not None or as_utc(record.expires_at) <= now:
        raise CodeRejected("expired" if record is not None and record.used_at is None else "none")
    tried = db.session.execute(
        sa.update(SmsCode)
        .where(
            SmsCode.id == record.id,
            SmsCode.used_at.is_(None),
            SmsCode.attempts < current_app.config["SMS_CODE_MAX_ATTEMPTS"],
        )
        .values(attempts=SmsCode.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if tried.rowcount != 1:
        raise CodeRejected("tries")
    if not hmac.compare_digest(record.code_hash, _code_hash(phone, code.strip())):
        raise CodeRejected("wrong")
    spent = db.session.execute(
        sa.update(SmsCode)
        .where(SmsCode.id == record.id, SmsCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        raise CodeRejected("none")


def account_for_phone(phone: str) -> User | None:
    """The account that signs in with this verified number."""
    return db.session.scalar(
        sa.select(User).where(User.phone == phone, User.phone_verified_at.is_not(None))
    )


@dataclass(frozen=True)
class PhoneSignIn:
    """Who signed in by code, and whether the account was made just now."""

    user: User
    created: bool


def sign_in(phone: str, code: str, now: datetime, language: str) -> PhoneSignIn | None:
    """Spend the code and return the number's account, made now (a parent, ready at once)
    when there is none; None when that account may not sign in. Raises CodeRejected."""
    use_code(phone, code, CodePurpose.SIGN_IN, now)
    user = account_for_phone(phone)
    created = user is None
    if created:
        user = _new_phone_account(phone, now, language)
    if not user.is_active:
        return None
    user.last_login_at = now
    return PhoneSignIn(user, created)


def _new_phone_account(phone: str, now: datetime, language: str) -> User:
    """A parent account signing in with ``phone``; when a request at the same moment made
    it first, that one."""
    user = User(
        email=None,
        password_hash=None,
        role=Role.PARENT,
        display_name=masked(phone),
        phone=phone,
        phone_verified_at=now,
        language=language,
    )
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except sa.exc.IntegrityError:
        return account_for_phone(phone)
    return user


def add_phone(user: User, phone: str, code: str, now: datetime) -> None:
    """Spend the code sent to ``phone`` for ``user`` and make the number the account's
    verified one; raises CodeRejected, or PhoneTaken when another account has it."""
    use_code(phone, code, CodePurpose.ADD_PHONE, now, user)
    other = account_for_phone(phone)
    if other is not None and other.id != user.id:
        raise PhoneTaken(phone)
    try:
        with db.session.begin_nested():
            user.phone = phone
            user.phone_verified_at = now
    except sa.exc.IntegrityError as error:
        db.session.refresh(user)
        raise PhoneTaken(phone) from error
