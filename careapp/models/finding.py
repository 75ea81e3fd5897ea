"""Findings: something to put right by a deadline; the institution answers, the bureau closes.

A finding comes from an inspection (the checklist item that failed, 限期整改) or from the
15-working-day follow-up of a filing (告知承诺: notified to the institution and published). Both
work the same way; the source says which, and only follow-up findings are ever public.
"""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from careapp.extensions import db
from careapp.models.base import StrEnum, created_at_column, enum_type, one_of
from careapp.models.inspection import ChecklistItem, Inspection
from careapp.models.institution import Institution

#: The bureau may record a follow-up finding within this many working days of filing.
FOLLOW_UP_WORKING_DAYS = 15


class FindingSource(StrEnum):
    """Where a finding was found: at an inspection, or in the follow-up of a filing."""

    INSPECTION = "inspection"
    FOLLOW_UP = "follow_up"


class FindingStatus(StrEnum):
    """OPEN until the institution answers; ANSWERED until the bureau closes it, put right or
    not (an inspection finding is only ever closed as put right)."""

    OPEN = "open"
    #: The institution said what it did; the bureau has yet to close the finding.
    ANSWERED = "answered"
    PUT_RIGHT = "put_right"
    NOT_PUT_RIGHT = "not_put_right"


#: Findings the bureau has not closed yet: still to be put right.
OPEN_FINDING_STATUSES = (FindingStatus.OPEN, FindingStatus.ANSWERED)
#: How the bureau may close a finding.
CLOSING_STATUSES = (FindingStatus.PUT_RIGHT, FindingStatus.NOT_PUT_RIGHT)


class Finding(db.Model):
    """Something to put right by a deadline; the institution answers, the bureau closes it."""

    __tablename__ = "findings"
    __table_args__ = (
        one_of("source", FindingSource, "source_valid"),
        one_of("status", FindingStatus, "status_valid"),
        one_of("item", ChecklistItem, "item_valid"),
        sa.CheckConstraint(
            "source <> 'inspection' OR (inspection_id IS NOT NULL AND item IS NOT NULL)",
            name="inspection_has_item",
        ),
        sa.CheckConstraint(
            "source <> 'inspection' OR status <> 'not_put_right'",
            name="inspection_closed_as_put_right",
        ),
        sa.CheckConstraint("due_on >= found_on", name="deadline_after_finding"),
        sa.CheckConstraint(
            "status NOT IN ('put_right', 'not_put_right') OR closed_on IS NOT NULL",
            name="closed_has_date",
        ),
        sa.CheckConstraint(
            "status <> 'answered' OR answered_at IS NOT NULL", name="answered_has_time"
        ),
        # The overdue lists, and the register's newest public notices.
        sa.Index("ix_findings_status_due", "status", "due_on"),
        sa.Index("ix_findings_found", "found_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[FindingSource] = mapped_column(enum_type(FindingSource))
    #: The institution to put it right (an inspection finding's is its inspection's).
    institution_id: Mapped[int] = mapped_column(
        sa.ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    inspection_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("inspections.id", ondelete="CASCADE"), index=True
    )
    #: The failed checklist item of an inspection finding.
    item: Mapped[ChecklistItem | None] = mapped_column(enum_type(ChecklistItem))
    #: What the bureau found (a follow-up finding's public notice says it so).
    description: Mapped[str] = mapped_column(sa.Text)
    #: The day it was found: the inspection's day, or the day a follow-up finding was published.
    found_on: Mapped[date]
    #: The day by which it must be put right (整改期限).
    due_on: Mapped[date]
    status: Mapped[FindingStatus] = mapped_column(
        enum_type(FindingStatus), default=FindingStatus.OPEN
    )
    #: What the institution says it did.
    answer: Mapped[str] = mapped_column(sa.Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    answered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: The day the bureau closed it (for an inspection finding: the day it was put right).
    closed_on: Mapped[date | None]
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: The bureau's word on closing, published with a follow-up finding's outcome.
    closing_note: Mapped[str] = mapped_column(sa.Text, default="")
    #: Who recorded it (an inspection written up before 0026 may not say).
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = created_at_column()

    institution: Mapped[Institution] = relationship()
    inspection: Mapped[Inspection | None] = relationship(back_populates="findings")

    @property
    def is_open(self) -> bool:
        """Whether the bureau has yet to close the finding."""
        return self.status in OPEN_FINDING_STATUSES

    @property
    def is_closed(self) -> bool:
        """Whether the bureau closed it, put right or not."""
        return self.status in CLOSING_STATUSES

    @property
    def closed_in_time(self) -> bool | None:
        """Put right by the deadline (True), late (False), or not put right yet (None)."""
        if self.status != FindingStatus.PUT_RIGHT or self.closed_on is None:
            return None
        return self.closed_on <= self.due_on

    def is_overdue(self, today: date) -> bool:
        """Still open after its deadline."""
        return self.is_open and self.due_on < today

    def __repr__(self) -> str:
        return f"<Finding {self.id} {self.source} {self.status}>"
