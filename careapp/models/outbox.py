"""E-mail and SMS waiting to be sent: written with the change it reports, sent after commit."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from careapp.extensions import db
from careapp.models.base import StrEnum, created_at_column, enum_type, one_of


class Channel(StrEnum):
    """How a message travels."""

    EMAIL = "email"
    SMS = "sms"


class OutboxMessage(db.Model):
    """One e-mail or SMS; ``sent_at`` stays empty until ``jobs run`` has delivered it.

    An SMS follows the provider's template model: ``subject`` names the template
    (``careapp.services.sms.TEMPLATES``) and ``body`` holds its parameters as JSON.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        sa.Index("ix_outbox_messages_unsent", "sent_at", "id"),
        one_of("channel", Channel, "channel_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(
        enum_type(Channel), default=Channel.EMAIL, server_default=Channel.EMAIL.value
    )
    #: An e-mail address, or an E.164 mobile number.
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = created_at_column()
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.channel} sent={self.sent_at is not None}>"
