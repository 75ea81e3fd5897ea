"""A parent's shortlist: institutions starred to compare later."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from careapp.extensions import db
from careapp.models.base import created_at_column


class ShortlistEntry(db.Model):
    """One institution on one account's shortlist."""

    __tablename__ = "shortlist_entries"
    __table_args__ = (sa.UniqueConstraint("user_id", "institution_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    institution_id: Mapped[int] = mapped_column(
        sa.ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = created_at_column()

    def __repr__(self) -> str:
        return f"<ShortlistEntry user={self.user_id} institution={self.institution_id}>"
