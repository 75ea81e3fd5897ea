"""Capacity as its own object (a quota, as pretix calls it) and the waitlist in front of it.

Booking slots and course sessions each own one ``Inventory``; the capacity engine in
``careapp.services.capacity`` is the only code that changes ``taken``.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from careapp.extensions import db
from careapp.models.base import StrEnum, created_at_column, enum_type, one_of
from careapp.models.states import Effect, StateTable, move


class Inventory(db.Model):
    """A number of places and how many of them are taken (or held for a waitlist offer)."""

    __tablename__ = "inventories"
    __table_args__ = (
        sa.CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        sa.CheckConstraint("taken >= 0 AND taken <= capacity", name="taken_within_capacity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    capacity: Mapped[int]
    #: Places given to active bookings plus places held for open waitlist offers.
    taken: Mapped[int] = mapped_column(default=0)

    @property
    def remaining(self) -> int:
        """Places still free."""
        return max(0, self.capacity - self.taken)

    def __repr__(self) -> str:
        return f"<Inventory {self.id} {self.taken}/{self.capacity}>"


class WaitStatus(StrEnum):
    """Where somebody stands on a waitlist."""

    WAITING = "waiting"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    EXPIRED = "expired"
    LEFT = "left"


_WAITING, _OFFERED = WaitStatus.WAITING, WaitStatus.OFFERED

#: Every move of a waiting-list entry and what it does to the places of its inventory.
WAITLIST_STATES = StateTable(
    "waiting-list entry",
    {
        "join": move(set(), _WAITING, Effect.NONE),
        # A place given back passes straight to the first in line ...
        "offer": move({_WAITING}, _OFFERED, Effect.KEEP),
        # ... and a place that became free (more places) is taken for it.
        "offer_free_place": move({_WAITING}, _OFFERED, Effect.TAKE),
        "accept": move({_OFFERED}, WaitStatus.ACCEPTED, Effect.KEEP),
        "leave": move({_WAITING}, WaitStatus.LEFT, Effect.NONE),
        "turn_down": move({_OFFERED}, WaitStatus.LEFT, Effect.RELEASE),
        "expire": move({_OFFERED}, WaitStatus.EXPIRED, Effect.RELEASE),
        "close": move({_WAITING, _OFFERED}, WaitStatus.LEFT, Effect.CLOSE),
    },
)
#: Entries still in the line: waiting, or holding an offer.
ACTIVE_WAIT_STATUSES = (_WAITING, _OFFERED)


class WaitlistEntry(db.Model):
    """Somebody waiting for a place of an inventory; first come, first offered."""

    __tablename__ = "waitlist_entries"
    __table_args__ = (
        one_of("status", WaitStatus, "status_valid"),
        sa.Index("ix_waitlist_entries_queue", "inventory_id", "status", "id"),
        sa.Index("ix_waitlist_entries_offers", "status", "offer_expires_at"),
        sa.Index(
            "uq_waitlist_entries_active_subject",
            "inventory_id",
            "subject",
            unique=True,
            sqlite_where=sa.text("status IN ('waiting', 'offered')"),
            postgresql_where=sa.text("status IN ('waiting', 'offered')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inventory_id: Mapped[int] = mapped_column(sa.ForeignKey("inventories.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: Who the place is for, e.g. ``child:12``; one active entry per subject and inventory.
    subject: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[WaitStatus] = mapped_column(enum_type(WaitStatus), default=WaitStatus.WAITING)
    created_at: Mapped[datetime] = created_at_column()
    offered_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    offer_expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    inventory: Mapped[Inventory] = relationship()

    @property
    def is_active(self) -> bool:
        """Still waiting or holding an offer."""
        return self.status in ACTIVE_WAIT_STATUSES

    def __repr__(self) -> str:
        return f"<WaitlistEntry {self.id} {self.status}>"
