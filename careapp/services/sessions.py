"""Sessions that really end, and one-time tokens that work once.

A session cookie holds ``"<session id>.<secret>"``. Every request checks the row: ended,
idle longer than ``SESSION_IDLE_MINUTES`` or older than ``SESSION_LIFETIME_DAYS``, and the
cookie no longer signs anybody in, wherever it was copied to.
"""

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from careapp.extensions import db
from careapp.models import LoginSession, OneTimeToken, TokenPurpose, User
from careapp.models.base import as_utc

#: A session's last-seen time is written at most this often (not on every request).
SEEN_EVERY = timedelta(minutes=5)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def start(user: User, now: datetime) -> str:
    """A new session of ``user``; returns what the cookie carries."""
    secret = secrets.token_urlsafe(32)
    record = LoginSession(
        user_id=user.id, secret_hash=_hash(secret), created_at=now, last_seen_at=now
    )
    db.session.add(record)
    db.session.flush()
    return f"{record.id}.{secret}"


def _parse(cookie_value: str) -> tuple[int, str] | None:
    """The session id and secret a cookie value carries, if it is well formed."""
    identifier, _, secret = (cookie_value or "").partition(".")
    if not (identifier.isascii() and identifier.isdigit()) or not secret or len(identifier) > 12:
        return None
    return int(identifier), secret


def _is_right(record: LoginSession | None, secret: str) -> bool:
    return record is not None and hmac.compare_digest(record.secret_hash, _hash(secret))


def _record(cookie_value: str) -> LoginSession | None:
    """The session a cookie value names, if its secret is right."""
    parsed = _parse(cookie_value)
    if parsed is None:
        return None
    record = db.session.get(LoginSession, parsed[0])
    return record if _is_right(record, parsed[1]) else None


def _record_and_user(cookie_value: str) -> tuple[LoginSession, User] | None:
    """The session a cookie value names and its account, read together in one query."""
    parsed = _parse(cookie_value)
    if parsed is None:
        return None
    row = db.session.execute(
        sa.select(LoginSession, User)
        .join(User, User.id == LoginSession.user_id)
        .where(LoginSession.id == parsed[0])
    ).first()
    return (row[0], row[1]) if row is not None and _is_right(row[0], parsed[1]) else None


def _is_live(record: LoginSession, now: datetime) -> bool:
    config = current_app.config
    idle = timedelta(minutes=config["SESSION_IDLE_MINUTES"])
    lifetime = timedelta(days=config["SESSION_LIFETIME_DAYS"])
    return (
        record.ended_at is None
        and as_utc(record.last_seen_at) + idle > now
        and as_utc(record.created_at) + lifetime > now
    )


def resume(cookie_value: str, now: datetime, writing: bool) -> User | None:
    """The account a session cookie signs in, while the session lives.

    ``writing``: the request holds the write transaction, which then notes the session's
    use (another connection would wait for the request's own lock on SQLite).
    """
    found = _record_and_user(cookie_value)
    if found is None or not _is_live(found[0], now):
        return None
    record, user = found
    if as_utc(record.last_seen_at) + SEEN_EVERY <= now:
        if writing:
            record.last_seen_at = now
        else:
            _seen(record.id, now)
    user.login_token = cookie_value
    return user


def _seen(session_id: int, now: datetime) -> None:
    """Note that a session is in use, in a transaction of its own (reads need one too)."""
    with db.engine.begin() as connection:
        connection.execute(
            sa.update(LoginSession).where(LoginSession.id == session_id).values(last_seen_at=now)
        )


def end(cookie_value: str, now: datetime) -> None:
    """End the session a cookie names (signing out)."""
    record = _record(cookie_value)
    if record is not None and record.ended_at is None:
        record.ended_at = now


def end_all(user: User, now: datetime, keep: str | None = None) -> int:
    """End every session of ``user`` except the one ``keep`` names; returns how many."""
    kept = _record(keep) if keep else None
    statement = sa.update(LoginSession).where(
        LoginSession.user_id == user.id, LoginSession.ended_at.is_(None)
    )
    if kept is not None:
        statement = statement.where(LoginSession.id != kept.id)
    result = db.session.execute(
        statement.values(ended_at=now).execution_options(synchronize_session=False)
    )
    return result.rowcount


# --- one-time tokens -----------------------------------------------------------------------


def issue(user: User, purpose: TokenPurpose, lifetime: timedelta, now: datetime) -> str:
    """A new one-time token for ``user``; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        OneTimeToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=_hash(token),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return token


def peek(token: str, purpose: TokenPurpose, now: datetime) -> User | None:
    """The active account a fresh, unused token is for (nothing is used up)."""
    record = db.session.scalar(
        sa.select(OneTimeToken).where(
            OneTimeToken.token_hash == _hash(token or ""), OneTimeToken.purpose == purpose
        )
    )
    if record is None or record.used_at is not None or as_utc(record.expires_at) <= now:
        return None
    user = db.session.get(User, record.user_id)
    if user is None or not user.is_active_account:
        return None
    # A sign-up link is what confirms an address; every other token needs a confirmed one.
    return user if purpose is TokenPurpose.CONFIRM_EMAIL or user.is_active else None


def redeem(token: str, purpose: TokenPurpose, now: datetime) -> User | None:
    """Use a token up (once, even with two requests at once) and return its account."""
    user = peek(token, purpose, now)
    if user is None:
        return None
    used = db.session.execute(
        sa.update(OneTimeToken)
        .where(OneTimeToken.token_hash == _hash(token), OneTimeToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return user if used.rowcount == 1 else None


def revoke(user: User, purpose: TokenPurpose, now: datetime) -> None:
    """Use up every unused token of ``purpose`` sent to ``user``."""
    db.session.execute(
        sa.update(OneTimeToken)
        .where(
            OneTimeToken.user_id == user.id,
            OneTimeToken.purpose == purpose,
            OneTimeToken.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )


def issued_since(user: User, purpose: TokenPurpose, since: datetime) -> bool:
    """Whether a token of ``purpose`` was sent to ``user`` after ``since``."""
    return (
        db.session.scalar(
            sa.select(OneTimeToken.id).where(
                OneTimeToken.user_id == user.id,
                OneTimeToken.purpose == purpose,
                OneTimeToken.created_at > since,
            )
        )
        is not None
    )
