"""Accounts: sign-up, sign-in, password changes and one-time reset links."""

from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from careapp import clock
from careapp.extensions import db
from careapp.models import Role, TokenPurpose, User
from careapp.services import sessions
from careapp.services.errors import CareappError
from careapp.services.mail import queue_email

#: argon2id with the library's recommended parameters (RFC 9106, low memory).
_HASHERS = {
    "RFC_9106_LOW_MEMORY": PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY),
    # Only for the test suite, where hundreds of accounts are made.
    "CHEAPEST": PasswordHasher.from_parameters(profiles.CHEAPEST),
}
_unknown_account_hashes: dict[str, str] = {}


def _hasher() -> PasswordHasher:
    return _HASHERS[current_app.config["PASSWORD_HASH_PROFILE"]]


def _unknown_account_hash() -> str:
    """Compared against when no account matches, so sign-in takes as long either way."""
    profile = current_app.config["PASSWORD_HASH_PROFILE"]
    if profile not in _unknown_account_hashes:
        _unknown_account_hashes[profile] = _hasher().hash("no account has this password")
    return _unknown_account_hashes[profile]


class EmailTaken(CareappError):
    """Another account already signs in with this e-mail address."""


class WrongPassword(CareappError):
    """The current password given does not match."""


def normalize_email(email: str) -> str:
    """The form in which addresses are stored and compared."""
    return email.strip().lower()


def find_user(email: str) -> User | None:
    """The account signing in with ``email``, if any."""
    return db.session.scalar(sa.select(User).where(User.email == normalize_email(email)))


def _hash(password: str) -> str:
    return _hasher().hash(password)


def register_user(
    *, email: str, password: str, role: Role, display_name: str, phone: str | None, language: str
) -> User:
    """Create an account; raises EmailTaken when the address is in use."""
    if find_user(email) is not None:
        raise EmailTaken(email)
    user = User(
        email=normalize_email(email),
        password_hash=_hash(password),
        role=role,
        display_name=display_name.strip(),
        phone=phone,
        language=language,
    )
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active account with this address and password, or None."""
    user = find_user(email)
    try:
        _hasher().verify(user.password_hash if user else _unknown_account_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.is_active:
        return None
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = _hash(password)
    user.last_login_at = clock.now()
    return user


def set_password(user: User, new_password: str) -> None:
    """Replace the password (the caller ends the sessions the old one opened)."""
    user.password_hash = _hash(new_password)


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Change the password after checking the current one; raises WrongPassword."""
    try:
        _hasher().verify(user.password_hash, current_password)
    except (VerificationError, InvalidHashError) as error:
        raise WrongPassword() from error
    set_password(user, new_password)


def user_for_reset_token(token: str, now: datetime) -> User | None:
    """The account a reset link is for, while it is fresh and unused."""
    return sessions.peek(token, TokenPurpose.RESET_PASSWORD, now)


def reset_password(token: str, new_password: str, now: datetime) -> User | None:
    """Use a reset link up: set the password and end every session; None if it is spent."""
    user = sessions.redeem(token, TokenPurpose.RESET_PASSWORD, now)
    if user is not None:
        set_password(user, new_password)
        sessions.end_all(user, now)
    return user


def _link(endpoint: str, token: str) -> str:
    return current_app.config["SITE_URL"].rstrip("/") + url_for(endpoint, token=token)


def request_password_reset(email: str, now: datetime) -> None:
    """Queue a one-time reset link for the account with ``email``; silent when there is none."""
    user = find_user(email)
    if user is None or not user.is_active:
        return
    max_age = current_app.config["PASSWORD_RESET_MAX_AGE"]
    token = sessions.issue(user, TokenPurpose.RESET_PASSWORD, timedelta(seconds=max_age), now)
    with force_locale(user.language):
        queue_email(
            user.email,
            _("Reset your careapp password"),
            _(
                "Someone asked to reset the password of your account. If it was you, open this"
                " link within %(minutes)d minutes and choose a new password:\n\n%(link)s\n\n"
                "If it was not you, ignore this message; your password stays as it is.",
                minutes=max_age // 60,
                link=_link("auth.reset_password", token),
            ),
        )


def send_sign_in_link(email: str, now: datetime) -> None:
    """The account's password attempts are used up: mail its owner a one-time sign-in link
    (at most one per link lifetime); silent when there is no such account."""
    user = find_user(email)
    max_age = timedelta(seconds=current_app.config["SIGN_IN_LINK_MAX_AGE"])
    if user is None or not user.is_active:
        return
    if sessions.issued_since(user, TokenPurpose.SIGN_IN, now - max_age):
        return
    token = sessions.issue(user, TokenPurpose.SIGN_IN, max_age, now)
    with force_locale(user.language):
        queue_email(
            user.email,
            _("Your careapp sign-in link"),
            _(
                "There were many wrong passwords for your account, so signing in with the"
                " password is paused for a while. If it was you, open this link within"
                " %(minutes)d minutes to sign in:\n\n%(link)s\n\nIf it was not you, nobody"
                " got in; you may want to change your password.",
                minutes=int(max_age.total_seconds()) // 60,
                link=_link("auth.sign_in_link", token),
            ),
        )


def user_for_sign_in_link(token: str, now: datetime) -> User | None:
    """Use a sign-in link up and return its account, or None when it is spent or stale."""
    return sessions.redeem(token, TokenPurpose.SIGN_IN, now)


def create_user(*, email: str, password: str, role: Role, display_name: str) -> User:
    """Create an account from the command line (the only way to make a regulator)."""
    return register_user(
        email=email,
        password=password,
        role=role,
        display_name=display_name,
        phone=None,
        language="zh_CN",
    )
