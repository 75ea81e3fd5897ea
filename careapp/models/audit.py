"""Records of staff looking at a child's data, for the regulator's audit log."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from careapp.extensions import db
from careapp.models.base import created_at_column
from careapp.models.user import User


class ChildRecordView(db.Model):
    """An institution's staff member opened a child's booking record. Never updated.

    Holds ids only, no child data, and keeps no foreign key to the booking or the child so
    that the record outlives a parent deleting the child's data.
    """

    __tablename__ = "child_record_views"
    __table_args__ = (sa.Index("ix_child_record_views_viewed_at", "viewed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    viewer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    institution_id: Mapped[int] = mapped_column(
        sa.ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    booking_id: Mapped[int]
    child_id: Mapped[int]
    viewed_at: Mapped[datetime] = created_at_column()

    viewer: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<ChildRecordView booking {self.booking_id} by {self.viewer_id}>"
