"""Accounts: sign-up, sign-in, password changes and one-time reset links."""

from collections.abc import Callable
from dataclasses import dataclass
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
    """Create a confirmed account (command line, demo data); raises EmailTaken when the
    address is in use. People sign up through ``sign_up``."""
    if find_user(email) is not None:
        raise EmailTaken(email)
    user = User(
        email=normalize_email(email),
        password_hash=_hash(password),
        role=role,
        display_name=display_name.strip(),
        phone=phone,
        language=language,
        email_confirmed_at=clock.now(),
    )
    db.session.add(user)
    db.session.flush()
    return user


@dataclass(frozen=True)
class SignUp:
    """What a person typed into the sign-up form."""

    email: str
    password: str
    role: Role
    display_name: str
    phone: str | None
    language: str


def sign_up(details: SignUp, now: datetime, next_path: str | None = None) -> None:
    """Mail the address either a link that finishes the sign-up or, when it has an account
    already, a note to its owner: the person signing up is answered the same either way.

    Until its link is opened an account signs nobody in; signing up again with the address
    replaces what the earlier sign-up typed, and only the newest link works.
    """
    password_hash = _hash(details.password)  # in both cases, so that the time taken tells nothing
    user = _locked_user(details.email)
    if user is not None and user.email_confirmed_at is not None:
        _mail_account_exists(user)
        return
    user = user or _new_unconfirmed_user(details.email)
    user.password_hash = password_hash
    user.role = details.role
    user.display_name = details.display_name.strip()
    user.phone = details.phone
    user.language = details.language
    sessions.revoke(user, TokenPurpose.CONFIRM_EMAIL, now)
    _mail_sign_up_link(user, now, next_path)


def _locked_user(email: str) -> User | None:
    """The account with ``email``, its row locked until the transaction ends."""
    return db.session.scalar(
        sa.select(User).where(User.email == normalize_email(email)).with_for_update()
    )


def _new_unconfirmed_user(email: str) -> User:
    """A new account waiting for its address to be confirmed; when a sign-up at the same
    moment inserted it first, that account (locked)."""
    user = User(email=normalize_email(email), password_hash="", role=Role.PARENT, display_name="")
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except sa.exc.IntegrityError:
        return _locked_user(email)
    return user


def _mail_sign_up_link(user: User, now: datetime, next_path: str | None) -> None:
    max_age = current_app.config["SIGN_UP_LINK_MAX_AGE"]
    _mail_link(
        user,
        TokenPurpose.CONFIRM_EMAIL,
        timedelta(seconds=max_age),
        now,
        _link_target("auth.confirm_sign_up", next=next_path),
        lambda link: (
            _("Finish creating your careapp account"),
            _(
                "To finish creating your account, open this link within %(hours)d hours:"
                "\n\n%(link)s\n\nIf you did not sign up, ignore this message; no account"
                " is made.",
                hours=max_age // 3600,
                link=link,
            ),
        ),
    )


def _mail_account_exists(user: User) -> None:
    with force_locale(user.language):
        queue_email(
            user.email,
            _("You already have a careapp account"),
            _(
                "Someone tried to create a careapp account with this address, which has an"
                " account already. If it was you, sign in:\n\n%(login)s\n\nForgot the"
                " password? Ask for a new one:\n\n%(forgot)s\n\nIf it was not you, ignore"
                " this message; nothing has changed.",
                login=_site_url("auth.login"),
                forgot=_site_url("auth.forgot_password"),
            ),
        )


def confirm_sign_up(token: str, now: datetime) -> User | None:
    """Use a sign-up link up: the account's address is confirmed and it may sign in; None
    when the link is spent, stale or replaced by a newer sign-up."""
    user = sessions.redeem(token, TokenPurpose.CONFIRM_EMAIL, now)
    if user is not None and user.email_confirmed_at is None:
        user.email_confirmed_at = now
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active account with this address and password, or None."""
    user = find_user(email)
    stored = user.password_hash if user is not None and user.password_hash else None
    try:
        _hasher().verify(stored or _unknown_account_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or stored is None or not user.is_active:
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
        _hasher().verify(user.password_hash or _unknown_account_hash(), current_password)
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


def _site_url(endpoint: str, **values) -> str:
    """The address of ``endpoint`` on the public site, for e-mails."""
    return current_app.config["SITE_URL"].rstrip("/") + url_for(endpoint, **values)


def _link_target(endpoint: str, **values) -> Callable[[str], str]:
    """The e-mail link to ``endpoint`` for a token."""
    return lambda token: _site_url(endpoint, token=token, **values)


def _mail_link(
    user: User,
    purpose: TokenPurpose,
    lifetime: timedelta,
    now: datetime,
    link_for: Callable[[str], str],
    compose: Callable[[str], tuple[str, str]],
) -> None:
    """Issue a one-time token and queue the mail ``compose`` writes around its link, in the
    account's language."""
    link = link_for(sessions.issue(user, purpose, lifetime, now))
    with force_locale(user.language):
        subject, body = compose(link)
    queue_email(user.email, subject, body)


def request_password_reset(email: str, now: datetime) -> None:
    """Queue a one-time reset link for the account with ``email``; silent when there is none."""
    user = find_user(email)
    if user is None or not user.is_active:
        return
    max_age = current_app.config["PASSWORD_RESET_MAX_AGE"]
    _mail_link(
        user,
        TokenPurpose.RESET_PASSWORD,
        timedelta(seconds=max_age),
        now,
        _link_target("auth.reset_password"),
        lambda link: (
            _("Reset your careapp password"),
            _(
                "Someone asked to reset the password of your account. If it was you, open this"
                " link within %(minutes)d minutes and choose a new password:\n\n%(link)s\n\n"
                "If it was not you, ignore this message; your password stays as it is.",
                minutes=max_age // 60,
                link=link,
            ),
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
    _mail_link(
        user,
        TokenPurpose.SIGN_IN,
        max_age,
        now,
        _link_target("auth.sign_in_link"),
        lambda link: (
            _("Your careapp sign-in link"),
            _(
                "There were many wrong passwords for your account, so signing in with the"
                " password is paused for a while. If it was you, open this link within"
                " %(minutes)d minutes to sign in:\n\n%(link)s\n\nIf it was not you, nobody"
                " got in; you may want to change your password.",
                minutes=int(max_age.total_seconds()) // 60,
                link=link,
            ),
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
