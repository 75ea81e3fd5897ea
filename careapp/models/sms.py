"""SMS codes that prove a mobile number: short-lived, hashed, tried a few times, used once."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from careapp.extensions import db
from careapp.models.base import StrEnum, created_at_column, enum_type, one_of


class CodePurpose(StrEnum):
    """What a code proves the number for."""

    #: Sign in, or sign up when no account has the number.
    SIGN_IN = "sign_in"
    #: Add the number to the signed-in account.
    ADD_PHONE = "add_phone"


class SmsCode(db.Model):
    """A 6-digit code sent to a number; only its HMAC is stored, and only the newest of a
    number and purpose counts."""

    __tablename__ = "sms_codes"
    __table_args__ = (
        one_of("purpose", CodePurpose, "purpose_valid"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        sa.Index("ix_sms_codes_phone_purpose", "phone", "purpose", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: E.164 mainland mobile number.
    phone: Mapped[str] = mapped_column(sa.String(20))
    purpose: Mapped[CodePurpose] = mapped_column(enum_type(CodePurpose))
    #: The account adding the number (``ADD_PHONE``); None for signing in.
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    #: HMAC-SHA256 of number and code under the app's secret key.
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    #: Wrong and right tries so far; no try is counted after the limit.
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    def __repr__(self) -> str:
        return f"<SmsCode {self.id} {self.purpose} used={self.used_at is not None}>"
