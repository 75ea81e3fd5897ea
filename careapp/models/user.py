"""Accounts: parents, institution staff, guidance providers and the regulator."""

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column

from careapp.extensions import db
from careapp.models.base import StrEnum, created_at_column, enum_type, one_of


class Role(StrEnum):
    """Who an account belongs to; each role has its own part of the site."""

    PARENT = "parent"
    INSTITUTION = "institution"
    PROVIDER = "provider"
    REGULATOR = "regulator"


#: Roles anybody may sign up for; regulator accounts are made on the command line.
SELF_SERVICE_ROLES = (Role.PARENT, Role.INSTITUTION, Role.PROVIDER)


class NoticeChannel(StrEnum):
    """How a parent wants to be told of their bookings."""

    SMS = "sms"
    EMAIL = "email"
    BOTH = "both"


class User(UserMixin, db.Model):
    """An account that signs in with an e-mail address and a password, or a mobile number
    and an SMS code."""

    __tablename__ = "users"
    __table_args__ = (
        one_of("role", Role, "role_valid"),
        one_of("notice_channel", NoticeChannel, "notice_channel_valid"),
        # Staff sign in with an e-mail address and a password; a parent may have neither.
        sa.CheckConstraint(
            "role = 'parent' OR (email IS NOT NULL AND password_hash IS NOT NULL)",
            name="staff_sign_in_by_password",
        ),
        sa.CheckConstraint(
            "email IS NOT NULL OR phone_verified_at IS NOT NULL", name="has_a_sign_in_name"
        ),
        # A number signs in one account only, once its owner has proved it with a code.
        sa.Index(
            "ix_users_verified_phone",
            "phone",
            unique=True,
            sqlite_where=sa.text("phone_verified_at IS NOT NULL"),
            postgresql_where=sa.text("phone_verified_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-case; a sign-in name. Optional for parents who sign in by mobile number.
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)
    #: argon2id; None for a parent who signs in by SMS code only.
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(enum_type(Role), index=True)
    display_name: Mapped[str] = mapped_column(sa.String(80))
    #: Chinese mobile number in E.164 form, optional.
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    #: When the owner proved ``phone`` with an SMS code; from then on it signs in too.
    phone_verified_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    #: The parent's choice of SMS, e-mail or both; None: SMS when the phone is verified.
    notice_channel: Mapped[NoticeChannel | None] = mapped_column(enum_type(NoticeChannel))
    #: Language of the e-mails sent to this account: ``zh_CN`` or ``en``.
    language: Mapped[str] = mapped_column(sa.String(8), default="zh_CN")
    is_active_account: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = created_at_column()
    last_login_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    #: When the owner opened the sign-up link sent to ``email``; until then no one signs in.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    @property
    def is_active(self) -> bool:
        """Flask-Login: whether the account may sign in."""
        return self.is_active_account and (
            self.email_confirmed_at is not None or self.phone_verified_at is not None
        )

    @property
    def verified_phone(self) -> str | None:
        """The mobile number proved by an SMS code, if any."""
        return self.phone if self.phone_verified_at is not None else None

    def notice_channels(self) -> frozenset[str]:
        """Where notices go: ``sms`` and/or ``email``, by choice and what the account has."""
        choice = self.notice_channel or (
            NoticeChannel.SMS if self.verified_phone else NoticeChannel.EMAIL
        )
        wanted = {"sms", "email"} if choice == NoticeChannel.BOTH else {str(choice)}
        have = {"sms"} if self.verified_phone else set()
        have |= {"email"} if self.email and self.email_confirmed_at is not None else set()
        return frozenset(wanted & have or have)

    #: The session cookie value this account was signed in with, for this request.
    login_token = None  # str | None; a plain attribute, not a column

    def get_id(self) -> str | None:
        """Flask-Login: the server-side session the cookie names (``careapp.services.sessions``)."""
        return self.login_token

    def has_role(self, role: Role) -> bool:
        """Whether the account has ``role``."""
        return self.role == role

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"
