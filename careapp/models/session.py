"""Sign-in sessions kept on the server, and one-time tokens sent by e-mail.

A session cookie names a ``LoginSession`` row and carries its secret: signing out, a
password change or "sign out everywhere" ends the row, and every copy of the cookie with it.
Secrets are stored only as SHA-256 hashes.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from careapp.extensions import db
from careapp.models.base import StrEnum, created_at_column, enum_type, one_of


class LoginSession(db.Model):
    """One signed-in browser: from sign-in until it signs out, idles or grows too old."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: SHA-256 of the secret the cookie carries.
    secret_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = created_at_column()
    last_seen_at: Mapped[datetime] = created_at_column()
    ended_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    def __repr__(self) -> str:
        return f"<LoginSession {self.id} user={self.user_id} ended={self.ended_at is not None}>"


class TokenPurpose(StrEnum):
    """What a one-time token lets its holder do."""

    RESET_PASSWORD = "reset_password"
    SIGN_IN = "sign_in"
    CONFIRM_EMAIL = "confirm_email"


class OneTimeToken(db.Model):
    """A secret sent by e-mail that works once, until it expires."""

    __tablename__ = "one_time_tokens"
    __table_args__ = (one_of("purpose", TokenPurpose, "purpose_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[TokenPurpose] = mapped_column(enum_type(TokenPurpose))
    #: SHA-256 of the token; the token itself is only in the e-mail.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    def __repr__(self) -> str:
        return f"<OneTimeToken {self.id} {self.purpose}>"
