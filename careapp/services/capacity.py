"""The one capacity engine: take and release places, and run the waitlist in front of them.

Booking slots and course sessions both own an ``Inventory`` and go through these functions.
A place is taken with one conditional UPDATE whose row count says whether it worked, so two
requests can never take the last place together, on SQLite or PostgreSQL. ``taken`` counts
active bookings plus places held for open waitlist offers.

Decisions about the line (who is first, whether a place is free) are made under a lock on
the inventory's row, and every entry changes state through ``WAITLIST_STATES`` with a
compare-and-set: an entry that left at the moment it was offered a place hands the place on
instead of losing it.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

import sqlalchemy as sa

from careapp.extensions import db
from careapp.models import ACTIVE_WAIT_STATUSES, WAITLIST_STATES, Inventory, WaitlistEntry
from careapp.models import WaitStatus as Wait
from careapp.models.base import as_utc
from careapp.services.transitions import AlreadyMoved, change_state

#: A row that holds places (a booking, a course registration).
Row = TypeVar("Row")


class CapacityError(ValueError):
    """A capacity change that would leave more places taken than exist."""


@dataclass(frozen=True)
class Handover:
    """Where a place went when its holder let it go."""

    #: The next in line, now holding the place (to be told), if anybody waited.
    offered_to: WaitlistEntry | None = None
    #: Nobody waited: the place is free again.
    given_back: bool = False


@dataclass(frozen=True)
class Places:
    """An inventory's places as read under its lock."""

    capacity: int
    taken: int

    @property
    def free(self) -> int:
        """Places neither booked nor held."""
        return max(0, self.capacity - self.taken)


def _taking(inventory_id: int, count: int, nobody_in_line: bool = False) -> sa.Update:
    """The compare-and-set that takes ``count`` places only if that many are free (and, with
    ``nobody_in_line``, only if nobody waits or holds an offer in the inventory's line)."""
    conditions = [Inventory.id == inventory_id, Inventory.taken + count <= Inventory.capacity]
    if nobody_in_line:
        conditions.append(
            ~sa.exists().where(
                WaitlistEntry.inventory_id == inventory_id,
                WaitlistEntry.status.in_(ACTIVE_WAIT_STATUSES),
            )
        )
    return (
        sa.update(Inventory)
        .where(*conditions)
        .values(taken=Inventory.taken + count)
        .execution_options(synchronize_session=False)
    )


def take_place(inventory_id: int, count: int = 1) -> bool:
    """Take ``count`` places if that many are free; False (nothing taken) when they are not."""
    return db.session.execute(_taking(inventory_id, count)).rowcount == 1


def take_place_for(
    inventory_id: int, entity: type[Row], values: dict, nobody_in_line: bool = False
) -> Row | None:
    """Take a place and insert the ``entity`` row (``values``) that holds it; None, and
    neither done, when no place is free (or, with ``nobody_in_line``, when anybody is in
    the line: its order is then the caller's to weigh).

    On PostgreSQL one statement: the INSERT selects from the compare-and-set (a CTE), so it
    inserts a row only if the place was taken.
    """
    taking = _taking(inventory_id, 1, nobody_in_line)
    if db.session.get_bind().dialect.name != "postgresql":
        if db.session.execute(taking).rowcount != 1:
            return None
        row = entity(**values)
        db.session.add(row)
        db.session.flush()
        return row
    took = taking.returning(Inventory.id).cte("took")
    columns = entity.__table__.c
    chosen = sa.select(*(sa.literal(value, columns[name].type) for name, value in values.items()))
    statement = (
        sa.insert(entity)
        .from_select(list(values), chosen.select_from(took))
        .add_cte(took)
        .returning(entity)
    )
    return db.session.scalar(statement)


def _give_back(inventory_id: int) -> None:
    statement = (
        sa.update(Inventory)
        .where(Inventory.id == inventory_id, Inventory.taken > 0)
        .values(taken=Inventory.taken - 1)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(statement)


def lock(inventory_id: int) -> Places:
    """Serialise decisions about one inventory's line and read its places (a row lock on
    PostgreSQL; SQLite's write transaction serialises writers already)."""
    capacity, taken = db.session.execute(
        sa.select(Inventory.capacity, Inventory.taken)
        .where(Inventory.id == inventory_id)
        .with_for_update()
    ).one()
    return Places(capacity, taken)


def _first_waiting(inventory_id: int) -> WaitlistEntry | None:
    return db.session.scalar(
        sa.select(WaitlistEntry)
        .where(WaitlistEntry.inventory_id == inventory_id, WaitlistEntry.status == Wait.WAITING)
        .order_by(WaitlistEntry.id)
        .limit(1)
        .execution_options(populate_existing=True)
    )


def _offer_to_first(
    inventory_id: int, action: str, now: datetime, hold: timedelta
) -> WaitlistEntry | None:
    """Offer a place to the first entry still waiting (by ``action``); None if nobody waits."""
    while (entry := _first_waiting(inventory_id)) is not None:
        try:
            change_state(
                entry, WAITLIST_STATES, action, offered_at=now, offer_expires_at=now + hold
            )
        except AlreadyMoved:
            continue  # it left at this moment; the next in line gets the place
        return entry
    return None


def release_place(inventory_id: int, now: datetime, hold: timedelta) -> Handover:
    """A place frees: hold it for the first in line, else give it back."""
    lock(inventory_id)
    entry = _offer_to_first(inventory_id, "offer", now, hold)
    if entry is None:
        _give_back(inventory_id)
        return Handover(given_back=True)
    return Handover(offered_to=entry)


def offer_free_places(
    inventory_id: int, now: datetime, hold: timedelta, limit: int | None = None
) -> list[WaitlistEntry]:
    """Offer free places to those waiting, in order, at most ``limit`` (after places grew)."""
    free = lock(inventory_id).free
    if limit is not None:
        free = min(free, limit)
    offered = []
    while len(offered) < free and take_place(inventory_id):
        entry = _offer_to_first(inventory_id, "offer_free_place", now, hold)
        if entry is None:
            _give_back(inventory_id)
            break
        offered.append(entry)
    return offered


@dataclass(frozen=True)
class Line:
    """One subject's place in an inventory's line, and who is first in it."""

    #: The subject's entry, waiting or holding an offer, if any.
    entry: WaitlistEntry | None
    #: The first entry still waiting, if any.
    first_waiting: WaitlistEntry | None

    @property
    def waiting_ahead(self) -> bool:
        """Whether somebody waits ahead of the subject (anybody, if it is not in line)."""
        first = self.first_waiting
        return first is not None and (self.entry is None or first.id < self.entry.id)


def line_for(inventory_id: int, subject: str) -> Line:
    """``subject``'s entry in the line and the first one waiting, read afresh in one query."""
    first_waiting_id = (
        sa.select(sa.func.min(WaitlistEntry.id))
        .where(WaitlistEntry.inventory_id == inventory_id, WaitlistEntry.status == Wait.WAITING)
        .scalar_subquery()
    )
    entries = db.session.scalars(
        sa.select(WaitlistEntry)
        .where(
            WaitlistEntry.inventory_id == inventory_id,
            sa.or_(
                sa.and_(
                    WaitlistEntry.subject == subject,
                    WaitlistEntry.status.in_(ACTIVE_WAIT_STATUSES),
                ),
                WaitlistEntry.id == first_waiting_id,
            ),
        )
        .execution_options(populate_existing=True)
    ).all()
    return Line(
        entry=next(
            (e for e in entries if e.subject == subject and e.status in ACTIVE_WAIT_STATUSES),
            None,
        ),
        first_waiting=min(
            (e for e in entries if e.status == Wait.WAITING), key=lambda e: e.id, default=None
        ),
    )


def has_waiting(inventory_id: int, ahead_of: WaitlistEntry | None = None) -> bool:
    """Whether anybody waits in the line (ahead of ``ahead_of``, when given)."""
    first = _first_waiting(inventory_id)
    return first is not None and (ahead_of is None or first.id < ahead_of.id)


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


def join_waitlist(
    inventory_id: int, user_id: int, subject: str, room: int | None = None
) -> WaitlistEntry | None:
    """Put ``subject`` at the end of the line (or return its place in line if already there).

    Returns None, joining nobody, when a place is free (in the inventory, and in ``room``
    when the place needs room elsewhere too): decided under the inventory's lock, so a place
    given back at this moment is not left free while families wait.
    """
    places = lock(inventory_id)
    existing = active_entry(inventory_id, subject)
    if existing is not None:
        return existing
    free = places.free if room is None else min(places.free, room)
    if free > 0:
        return None
    entry = WaitlistEntry(inventory_id=inventory_id, user_id=user_id, subject=subject)
    db.session.add(entry)
    db.session.flush()
    return entry


def active_entry(inventory_id: int, subject: str) -> WaitlistEntry | None:
    """``subject``'s entry in the line, waiting or holding an offer, if any (read afresh)."""
    return db.session.scalar(
        sa.select(WaitlistEntry)
        .where(
            WaitlistEntry.inventory_id == inventory_id,
            WaitlistEntry.subject == subject,
            WaitlistEntry.status.in_(ACTIVE_WAIT_STATUSES),
        )
        .execution_options(populate_existing=True)
    )


def position(entry: WaitlistEntry) -> int:
    """1 for the first in line; 0 once a place is offered or the entry is closed."""
    if entry.status != Wait.WAITING:
        return 0
    ahead = db.session.scalar(
        sa.select(sa.func.count(WaitlistEntry.id)).where(
            WaitlistEntry.inventory_id == entry.inventory_id,
            WaitlistEntry.status == Wait.WAITING,
            WaitlistEntry.id < entry.id,
        )
    )
    return ahead + 1


def offer_is_open(entry: WaitlistEntry, now: datetime) -> bool:
    """Whether ``entry`` holds an offer that has not expired."""
    return entry.status == Wait.OFFERED and as_utc(entry.offer_expires_at) > now


def accept_offer(entry: WaitlistEntry) -> None:
    """The offered place becomes the caller's booking (the place is already held).

    Raises AlreadyMoved when the offer was turned down or expired at this moment.
    """
    change_state(entry, WAITLIST_STATES, "accept")


def leave(entry: WaitlistEntry, now: datetime, hold: timedelta) -> Handover:
    """Leave the line, or turn the offer down; a held place passes to the next in line.
    Whatever state a concurrent request left the entry in, a held place is never lost: an
    entry offered a place at this moment turns the offer down."""
    if entry.status == Wait.WAITING:
        try:
            change_state(entry, WAITLIST_STATES, "leave")
            return Handover()
        except AlreadyMoved:
            if entry.status != Wait.OFFERED:
                raise
    change_state(entry, WAITLIST_STATES, "turn_down")
    return release_place(entry.inventory_id, now, hold)


def expired_offers(now: datetime, limit: int = 10) -> list[WaitlistEntry]:
    """Offers whose time is up, oldest first.

    Not locked here: the caller locks what the place belongs to first (a class, a course
    session), then ``expire`` changes the entry only if it is still an open offer, so two
    runs of the job at once expire each offer once.
    """
    return list(
        db.session.scalars(
            sa.select(WaitlistEntry)
            .where(WaitlistEntry.status == Wait.OFFERED, WaitlistEntry.offer_expires_at <= now)
            .order_by(WaitlistEntry.offer_expires_at, WaitlistEntry.id)
            .limit(limit)
        )
    )


def expire(entry: WaitlistEntry, now: datetime, hold: timedelta) -> Handover:
    """Close an unanswered offer and pass the place on.

    Raises AlreadyMoved when the offer was answered (or expired by another run) meanwhile.
    """
    lock(entry.inventory_id)
    db.session.refresh(entry, ["status", "offer_expires_at"])
    if entry.status == Wait.OFFERED and as_utc(entry.offer_expires_at) > now:
        raise AlreadyMoved(WAITLIST_STATES, "expire", entry.status)  # extended meanwhile
    change_state(entry, WAITLIST_STATES, "expire")
    return release_place(entry.inventory_id, now, hold)


def close(inventory_id: int) -> list[WaitlistEntry]:
    """No place will be given any more: end every waitlist entry and free every place."""
    lock(inventory_id)
    entries = list(
        db.session.scalars(
            sa.select(WaitlistEntry).where(
                WaitlistEntry.inventory_id == inventory_id,
                WaitlistEntry.status.in_(ACTIVE_WAIT_STATUSES),
            )
        )
    )
    for entry in entries:
        change_state(entry, WAITLIST_STATES, "close")
    db.session.execute(
        sa.update(Inventory)
        .where(Inventory.id == inventory_id)
        .values(taken=0)
        .execution_options(synchronize_session=False)
    )
    return entries
