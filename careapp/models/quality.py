"""Quality assessments and demonstration (示范) designations of filed institutions.

Policy 002 (四): "健全托育机构质量评估制度" — the bureau assesses institutions' quality and the
grades are public; policies 000 (三) and 003 (三) ask for demonstration institutions
(示范引领). ``Institution.quality_grade`` and ``Institution.is_demonstration`` keep the current
grade and designation for search and the public order; the records here are their history.
"""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from careapp.extensions import db
from careapp.models.base import StrEnum, created_at_column, enum_type, one_of
from careapp.models.institution import LISTING_ORDER, Institution
from careapp.models.user import User


class QualityGrade(StrEnum):
    """A quality grade, best first."""

    EXCELLENT = "excellent"
    GOOD = "good"
    QUALIFIED = "qualified"
    UNQUALIFIED = "unqualified"

    @classmethod
    def at_least(cls, grade: "str") -> list["QualityGrade"]:
        """``grade`` and every better one."""
        members = list(cls)
        return members[: members.index(cls(grade)) + 1]


class QualityAssessment(db.Model):
    """One assessment of an institution by the bureau (or an assessor it names). Never updated."""

    __tablename__ = "quality_assessments"
    __table_args__ = (
        one_of("grade", QualityGrade, "grade_valid"),
        sa.Index("ix_quality_assessments_latest", "institution_id", "assessed_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        sa.ForeignKey("institutions.id", ondelete="CASCADE")
    )
    grade: Mapped[QualityGrade] = mapped_column(enum_type(QualityGrade))
    assessed_on: Mapped[date]
    #: Who assessed: the bureau's team or an organisation it commissioned.
    assessor: Mapped[str] = mapped_column(sa.String(120))
    #: The standard the assessment applied, e.g. 托育机构质量评估标准.
    standard: Mapped[str] = mapped_column(sa.String(200))
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[datetime] = created_at_column()

    institution: Mapped[Institution] = relationship()
    recorded_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<QualityAssessment {self.institution_id} {self.grade} {self.assessed_on}>"


class Designation(db.Model):
    """A demonstration institution (示范) designation, from a date until it is revoked."""

    __tablename__ = "demonstration_designations"
    __table_args__ = (
        sa.CheckConstraint(
            "revoked_on IS NULL OR revoked_on >= designated_on", name="revoked_after_designated"
        ),
        # At most one designation of an institution stands at a time.
        sa.Index(
            "uq_demonstration_designations_standing",
            "institution_id",
            unique=True,
            sqlite_where=sa.text("revoked_on IS NULL"),
            postgresql_where=sa.text("revoked_on IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        sa.ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    #: The title conferred, e.g. 晋江市示范性托育机构.
    title: Mapped[str] = mapped_column(sa.String(120))
    designated_on: Mapped[date]
    revoked_on: Mapped[date | None]
    revoke_reason: Mapped[str | None] = mapped_column(sa.String(500))
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[datetime] = created_at_column()
    #: Who recorded the revocation, and when (none for revocations before migration 0029).
    revoked_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    institution: Mapped[Institution] = relationship()

    @property
    def is_standing(self) -> bool:
        """Not revoked."""
        return self.revoked_on is None

    def __repr__(self) -> str:
        return f"<Designation {self.institution_id} {self.designated_on} {self.revoked_on}>"


# The quality filter of the search, in the public order (a grade filter reads its own rows).
sa.Index(
    "ix_institutions_quality_listing",
    Institution.status,
    Institution.quality_grade,
    *LISTING_ORDER,
)
