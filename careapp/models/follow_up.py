"""What follows a filing: the bureau's follow-up findings, and the institution's 注销 request.

The filing is 告知承诺 (policy 000: "按照告知承诺制要求向市卫生健康局备案"): the bureau files on the
institution's declarations, then checks them. Under the national 托育机构登记和备案办法（试行）
a problem found within 15 working days of filing is notified to the institution and published.
"""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from careapp.extensions import db
from careapp.models.base import StrEnum, created_at_column, enum_type, one_of
from careapp.models.institution import Institution

#: The bureau may record a follow-up finding within this many working days of filing.
FOLLOW_UP_WORKING_DAYS = 15


class FollowUpFindingStatus(StrEnum):
    """Where a follow-up finding stands."""

    OPEN = "open"
    #: The institution said what it did; the bureau has yet to close the finding.
    ANSWERED = "answered"
    PUT_RIGHT = "put_right"
    NOT_PUT_RIGHT = "not_put_right"


#: Findings the bureau has not closed yet.
OPEN_FOLLOW_UP_STATUSES = (FollowUpFindingStatus.OPEN, FollowUpFindingStatus.ANSWERED)
#: How the bureau may close a finding.
CLOSING_STATUSES = (FollowUpFindingStatus.PUT_RIGHT, FollowUpFindingStatus.NOT_PUT_RIGHT)


class FollowUpFinding(db.Model):
    """A problem the bureau found after filing: told to the institution and published."""

    __tablename__ = "follow_up_findings"
    __table_args__ = (
        one_of("status", FollowUpFindingStatus, "status_valid"),
        sa.CheckConstraint("put_right_by >= found_on", name="deadline_after_finding"),
        sa.CheckConstraint(
            "status NOT IN ('put_right', 'not_put_right') OR closed_on IS NOT NULL",
            name="closed_has_date",
        ),
        sa.Index("ix_follow_up_findings_found", "found_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        sa.ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[FollowUpFindingStatus] = mapped_column(
        enum_type(FollowUpFindingStatus), default=FollowUpFindingStatus.OPEN
    )
    #: The day the bureau recorded (and published) the finding.
    found_on: Mapped[date]
    #: What the bureau found, as the public notice says it.
    finding: Mapped[str] = mapped_column(sa.Text)
    #: The day by which the institution must put it right.
    put_right_by: Mapped[date]
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = created_at_column()
    #: What the institution says it did.
    answer: Mapped[str] = mapped_column(sa.Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    closed_on: Mapped[date | None]
    #: The bureau's word on closing, published with the outcome.
    closing_note: Mapped[str] = mapped_column(sa.Text, default="")

    institution: Mapped[Institution] = relationship()

    @property
    def is_open(self) -> bool:
        """Whether the bureau has yet to close the finding."""
        return self.status in OPEN_FOLLOW_UP_STATUSES

    def is_late(self, today: date) -> bool:
        """Whether the deadline to put it right has passed with the finding still open."""
        return self.is_open and today > self.put_right_by

    def __repr__(self) -> str:
        return f"<FollowUpFinding {self.id} {self.status}>"


class RequestStatus(StrEnum):
    """Where an institution's 注销 request stands."""

    PENDING = "pending"
    RECORDED = "recorded"


_PENDING_SQL = "status = 'pending'"


class DeregistrationRequest(db.Model):
    """An institution's 注销: it deregistered with its registration authority and asks the bureau
    to record it (domain brief: 注销 is the institution's act)."""

    __tablename__ = "deregistration_requests"
    __table_args__ = (
        one_of("status", RequestStatus, "status_valid"),
        sa.CheckConstraint(
            "status <> 'recorded' OR recorded_on IS NOT NULL", name="recorded_has_date"
        ),
        sa.Index(
            "uq_deregistration_requests_pending",
            "institution_id",
            unique=True,
            sqlite_where=sa.text(_PENDING_SQL),
            postgresql_where=sa.text(_PENDING_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        sa.ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[RequestStatus] = mapped_column(
        enum_type(RequestStatus), default=RequestStatus.PENDING
    )
    #: The day the registration authority deregistered the institution, as it declares.
    deregistered_on: Mapped[date]
    #: Why it closes, in its own words (published with the 注销).
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    requested_at: Mapped[datetime] = created_at_column()
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recorded_on: Mapped[date | None]

    institution: Mapped[Institution] = relationship()

    @property
    def is_pending(self) -> bool:
        """Whether the bureau has yet to record it."""
        return self.status == RequestStatus.PENDING

    def __repr__(self) -> str:
        return f"<DeregistrationRequest {self.id} {self.status}>"
