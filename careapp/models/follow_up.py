"""What follows a filing besides its findings (careapp.models.finding): the 注销 request.

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
