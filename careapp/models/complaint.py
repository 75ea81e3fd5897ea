"""Reports of a concern (投诉举报) about a filed institution or about unfiled care.

Policy 002 (四) asks for 社会监督 (supervision by the public); policies 001 (三)3 and 003 item
25 hold zero tolerance for abuse (对虐童等行为零容忍), so reports about a child's safety go to
the top of the bureau's queue. Reports are never public; who sent one only the bureau sees.
"""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from careapp.extensions import db
from careapp.models.base import StrEnum, created_at_column, enum_type, one_of
from careapp.models.institution import Institution
from careapp.models.region import Township
from careapp.models.states import Effect, StateTable, move
from careapp.models.user import User


class ReportCategory(StrEnum):
    """What a report is about; the first is flagged before every other."""

    CHILD_SAFETY = "child_safety"
    UNFILED_CARE = "unfiled_care"
    HYGIENE_FOOD = "hygiene_food"
    PREMISES = "premises"
    STAFF = "staff"
    FEES = "fees"
    OTHER = "other"


class ReportStatus(StrEnum):
    """Where a report stands with the bureau."""

    RECEIVED = "received"
    HANDLING = "handling"
    ANSWERED = "answered"
    CLOSED = "closed"


#: Reports the bureau still owes an answer.
OPEN_REPORT_STATUSES = (ReportStatus.RECEIVED, ReportStatus.HANDLING)

#: The bureau's moves of a report: each a compare-and-set from the states named.
REPORT_STATES = StateTable(
    "report",
    {
        "take_up": move({"received"}, "handling", Effect.NONE),
        "answer": move({"received", "handling"}, "answered", Effect.NONE),
        "close": move({"received", "handling", "answered"}, "closed", Effect.NONE),
    },
)


class Complaint(db.Model):
    """One report of a concern, about a filed institution or about a place named by the reporter.

    Only a digest of the tracking number is kept: the reporter is shown the number once.
    """

    __tablename__ = "complaints"
    __table_args__ = (
        one_of("category", ReportCategory, "category_valid"),
        one_of("status", ReportStatus, "status_valid"),
        sa.CheckConstraint(
            "institution_id IS NOT NULL OR place_name IS NOT NULL", name="names_a_place"
        ),
        # The bureau's queue: open reports, child safety first, earliest deadline first.
        sa.Index("ix_complaints_queue", "status", "is_urgent", "due_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the tracking number, hex; the number itself is never stored.
    tracking_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: A filed institution the report is about, or None for a place the reporter names.
    #: (An institution with reports is never deleted: they are the bureau's records.)
    institution_id: Mapped[int | None] = mapped_column(sa.ForeignKey("institutions.id"), index=True)
    #: Unfiled care: the name and address the reporter gives, and its township if known.
    place_name: Mapped[str | None] = mapped_column(sa.String(120))
    place_address: Mapped[str | None] = mapped_column(sa.String(200))
    township_id: Mapped[int | None] = mapped_column(sa.ForeignKey("townships.id"))
    category: Mapped[ReportCategory] = mapped_column(enum_type(ReportCategory))
    #: Flagged first: a report about a child's safety.
    is_urgent: Mapped[bool] = mapped_column(default=False)
    description: Mapped[str] = mapped_column(sa.Text)
    #: An optional telephone number or e-mail address for the bureau's questions.
    contact: Mapped[str | None] = mapped_column(sa.String(254))
    #: The signed-in account that sent it, if any (seen by the bureau only).
    reporter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[ReportStatus] = mapped_column(
        enum_type(ReportStatus), default=ReportStatus.RECEIVED
    )
    received_at: Mapped[datetime] = created_at_column()
    #: The last day of the answer period, counted in working days.
    due_on: Mapped[date]
    #: What the bureau answers; the reporter reads it on the status page.
    reply: Mapped[str | None] = mapped_column(sa.Text)
    replied_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    handled_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    institution: Mapped[Institution | None] = relationship()
    township: Mapped[Township | None] = relationship()
    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id])
    handled_by: Mapped[User | None] = relationship(foreign_keys=[handled_by_id])

    @property
    def is_open(self) -> bool:
        """Whether the bureau still owes an answer."""
        return self.status in OPEN_REPORT_STATUSES

    def is_overdue(self, today: date) -> bool:
        """Still open after its last day."""
        return self.is_open and today > self.due_on

    def place_for(self, language: str) -> str:
        """The place the report is about: the institution's name, or the name given."""
        if self.institution is not None:
            return self.institution.name_for(language)
        return self.place_name or ""

    def __repr__(self) -> str:
        return f"<Complaint {self.id} {self.category} {self.status}>"
