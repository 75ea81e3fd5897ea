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


class User(UserMixin, db.Model):
    """An account that signs in with an e-mail address and a password."""

    __tablename__ = "users"
    __table_args__ = (one_of("role", Role, "role_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-case; the sign-in name.
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(enum_type(Role), index=True)
    display_name: Mapped[str] = mapped_column(sa.String(80))
    #: Chinese mobile number in E.164 form, optional.
    phone: Mapped[str | None] = mapped_column(sa.String(20))
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
        return self.is_active_account and self.email_confirmed_at is not None

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
