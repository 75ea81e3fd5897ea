"""E-mail waiting to be sent: written with the change it reports, sent after commit."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from careapp.extensions import db
from careapp.models.base import created_at_column


class OutboxMessage(db.Model):
    """One e-mail; ``sent_at`` stays empty until ``jobs run`` has delivered it."""

    __tablename__ = "outbox_messages"
    __table_args__ = (sa.Index("ix_outbox_messages_unsent", "sent_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = created_at_column()
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} sent={self.sent_at is not None}>"
