"""The filing workflow's records: every decision, and changes awaiting approval (变更)."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from careapp.extensions import db
from careapp.models.base import StrEnum, created_at_column, enum_type, one_of
from careapp.models.user import User


class FilingAction(StrEnum):
    """What somebody did to an application or a filed institution."""

    SUBMITTED = "submitted"
    APPROVED = "approved"
    RETURNED = "returned"
    REJECTED = "rejected"
    DEREGISTERED = "deregistered"
    CHANGE_SUBMITTED = "change_submitted"
    CHANGE_APPROVED = "change_approved"
    CHANGE_REJECTED = "change_rejected"
    # --- follow-up: 撤销备案, the institution's 注销 request, and the 15-day follow-up.
    REVOKED = "revoked"
    DEREGISTRATION_REQUESTED = "deregistration_requested"
    FINDING_RECORDED = "finding_recorded"
    FINDING_ANSWERED = "finding_answered"
    FINDING_CLOSED = "finding_closed"


class FilingDecision(db.Model):
    """Who did what to which institution, when and why. Never updated, never deleted."""

    __tablename__ = "filing_decisions"
    __table_args__ = (
        one_of("action", FilingAction, "action_valid"),
        sa.Index("ix_filing_decisions_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        sa.ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    action: Mapped[FilingAction] = mapped_column(enum_type(FilingAction))
    #: Why: required for returns, rejections and deregistrations.
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = created_at_column()

    actor: Mapped[User] = relationship()
    institution: Mapped["Institution"] = relationship()  # noqa: F821

    def __repr__(self) -> str:
        return f"<FilingDecision {self.action} {self.institution_id}>"


class ChangeStatus(StrEnum):
    """Where a change request stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ChangeRequest(db.Model):
    """New registered facts of a filed institution, public only once the regulator approves."""

    __tablename__ = "change_requests"
    __table_args__ = (
        one_of("status", ChangeStatus, "status_valid"),
        sa.Index("ix_change_requests_status_submitted", "status", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        sa.ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[ChangeStatus] = mapped_column(
        enum_type(ChangeStatus), default=ChangeStatus.PENDING
    )
    #: The proposed registered facts: field name → new value; ``classes`` is a list of dicts.
    proposed: Mapped[dict] = mapped_column(sa.JSON)
    submitted_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = created_at_column()
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(sa.Text, default="")

    institution: Mapped["Institution"] = relationship()  # noqa: F821

    @property
    def is_pending(self) -> bool:
        """Whether the regulator has yet to decide."""
        return self.status == ChangeStatus.PENDING

    def __repr__(self) -> str:
        return f"<ChangeRequest {self.id} {self.status}>"
