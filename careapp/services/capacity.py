"""The one capacity engine: take and release places, and run the waitlist in front of them.

Booking slots and course sessions both own an ``Inventory`` and go through these functions.
A place is taken with one conditional UPDATE whose row count says whether it worked, so two
requests can never take the last place together, on SQLite or PostgreSQL. ``taken`` counts
active bookings plus places held for open waitlist offers.
"""

from datetime import datetime, timedelta

import sqlalchemy as sa

from careapp.extensions import db
from careapp.models import Inventory, WaitlistEntry, WaitStatus
from careapp.models.base import as_utc


class CapacityError(ValueError):
    """A capacity change that would leave more places taken than exist."""


def take_place(inventory_id: int) -> bool:
    """Take one place if one is free; False when the inventory is full."""
    statement = (
        sa.update(Inventory)
        .where(Inventory.id == inventory_id, Inventory.taken < Inventory.capacity)
        .values(taken=Inventory.taken + 1)
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(statement).rowcount == 1


def _give_back(inventory_id: int) -> None:
    statement = (
        sa.update(Inventory)
        .where(Inventory.id == inventory_id, Inventory.taken > 0)
        .values(taken=Inventory.taken - 1)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(statement)


def _lock(inventory_id: int) -> None:
    """Serialise waitlist decisions on one inventory (a row lock on PostgreSQL)."""
    db.session.execute(
        sa.select(Inventory.id).where(Inventory.id == inventory_id).with_for_update()
    )


def _first_waiting(inventory_id: int) -> WaitlistEntry | None:
    return db.session.scalar(
        sa.select(WaitlistEntry)
        .where(
            WaitlistEntry.inventory_id == inventory_id,
            WaitlistEntry.status == WaitStatus.WAITING,
        )
        .order_by(WaitlistEntry.id)
        .limit(1)
    )


def _offer(entry: WaitlistEntry, now: datetime, hold: timedelta) -> WaitlistEntry:
    entry.status = WaitStatus.OFFERED
    entry.offered_at = now
    entry.offer_expires_at = now + hold
    return entry


def release_place(inventory_id: int, now: datetime, hold: timedelta) -> WaitlistEntry | None:
    """A place frees: hold it for the first in line and return that entry, else give it back."""
    _lock(inventory_id)
    entry = _first_waiting(inventory_id)
    if entry is None:
        _give_back(inventory_id)
        return None
    return _offer(entry, now, hold)


def offer_free_places(inventory_id: int, now: datetime, hold: timedelta) -> list[WaitlistEntry]:
    """Offer every free place to those waiting, in order (after capacity grew)."""
    _lock(inventory_id)
    offered = []
    while (entry := _first_waiting(inventory_id)) is not None and take_place(inventory_id):
        offered.append(_offer(entry, now, hold))
        db.session.flush()
    return offered


def set_capacity(inventory_id: int, capacity: int) -> None:
    """Change the number of places; raises CapacityError below the places taken."""
    statement = (
        sa.update(Inventory)
        .where(Inventory.id == inventory_id, Inventory.taken <= capacity)
        .values(capacity=capacity)
        .execution_options(synchronize_session=False)
    )
    if db.session.execute(statement).rowcount != 1:
        raise CapacityError(capacity)


def join_waitlist(inventory_id: int, user_id: int, subject: str) -> WaitlistEntry:
    """Put ``subject`` at the end of the line, or return its place in line if already there."""
    existing = db.session.scalar(
        sa.select(WaitlistEntry).where(
            WaitlistEntry.inventory_id == inventory_id,
            WaitlistEntry.subject == subject,
            WaitlistEntry.status.in_((WaitStatus.WAITING, WaitStatus.OFFERED)),
        )
    )
    if existing is not None:
        return existing
    entry = WaitlistEntry(inventory_id=inventory_id, user_id=user_id, subject=subject)
    db.session.add(entry)
    db.session.flush()
    return entry


def position(entry: WaitlistEntry) -> int:
    """1 for the first in line; 0 once a place is offered or the entry is closed."""
    if entry.status != WaitStatus.WAITING:
        return 0
    ahead = db.session.scalar(
        sa.select(sa.func.count(WaitlistEntry.id)).where(
            WaitlistEntry.inventory_id == entry.inventory_id,
            WaitlistEntry.status == WaitStatus.WAITING,
            WaitlistEntry.id < entry.id,
        )
    )
    return ahead + 1


def offer_is_open(entry: WaitlistEntry, now: datetime) -> bool:
    """Whether ``entry`` holds an offer that has not expired."""
    return entry.status == WaitStatus.OFFERED and as_utc(entry.offer_expires_at) > now


def accept_offer(entry: WaitlistEntry) -> None:
    """The offered place becomes the caller's booking (the place is already held)."""
    entry.status = WaitStatus.ACCEPTED


def leave(entry: WaitlistEntry, now: datetime, hold: timedelta) -> WaitlistEntry | None:
    """Leave the line; a held place passes to the next in line, whom it returns."""
    was_offered = entry.status == WaitStatus.OFFERED
    entry.status = WaitStatus.LEFT
    db.session.flush()
    return release_place(entry.inventory_id, now, hold) if was_offered else None


def expired_offers(now: datetime) -> list[WaitlistEntry]:
    """Offers whose time is up, oldest first."""
    return list(
        db.session.scalars(
            sa.select(WaitlistEntry)
            .where(
                WaitlistEntry.status == WaitStatus.OFFERED,
                WaitlistEntry.offer_expires_at <= now,
            )
            .order_by(WaitlistEntry.offer_expires_at, WaitlistEntry.id)
        )
    )


def expire(entry: WaitlistEntry, now: datetime, hold: timedelta) -> WaitlistEntry | None:
    """Close an unanswered offer and pass the place on; returns the next offer, if any."""
    entry.status = WaitStatus.EXPIRED
    db.session.flush()
    return release_place(entry.inventory_id, now, hold)


def close(inventory_id: int) -> list[WaitlistEntry]:
    """No place will be given any more: end every waitlist entry and free every place."""
    entries = list(
        db.session.scalars(
            sa.select(WaitlistEntry).where(
                WaitlistEntry.inventory_id == inventory_id,
                WaitlistEntry.status.in_((WaitStatus.WAITING, WaitStatus.OFFERED)),
            )
        )
    )
    for entry in entries:
        entry.status = WaitStatus.LEFT
    db.session.execute(
        sa.update(Inventory)
        .where(Inventory.id == inventory_id)
        .values(taken=0)
        .execution_options(synchronize_session=False)
    )
    return entries
