"""The classroom as the unit of capacity: the children counted in a class at every moment.

A slot's inventory counts its active bookings and the places held for waiting-list offers
(``taken``). Those children are in the slot's class during the slot's hours: on its date for
hourly and temporary care, and on every day the class runs from its first date for full-day
and half-day places (closed days excepted). A class never holds more children at any moment
than its places; a home-based point never more than five children in all its classes.

Every change that adds a child to a class first locks the class (``lock_room``), then counts
with ``load_rooms`` and decides with ``Rooms.free_for`` in the same transaction; listings build
the same rooms from the slots they show (``build_rooms``).
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, time

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload

from careapp.extensions import db
from careapp.models import (
    CareClass,
    Child,
    ClosedDate,
    Institution,
    Inventory,
    Nature,
    Slot,
    SlotStatus,
)
from careapp.models.booking import STANDING_CARE_TYPES
from careapp.models.provision import HOME_BASED_MAX_CHILDREN


@dataclass(frozen=True)
class Presence:
    """``count`` children a slot holds in its class during its hours, on its days."""

    first: date
    standing: bool
    starts_at: time
    ends_at: time
    count: int
    #: ISO weekdays the class runs, e.g. ``"12345"`` (standing places only come on those).
    weekdays: str

    def on(self, day: date, closed: frozenset[date]) -> bool:
        """Whether these children are expected on ``day``."""
        if not self.standing:
            return day == self.first
        return self.first <= day and str(day.isoweekday()) in self.weekdays and day not in closed

    def overlaps(self, starts_at: time, ends_at: time) -> bool:
        """Whether these hours meet ``starts_at``–``ends_at``."""
        return self.starts_at < ends_at and starts_at < self.ends_at


@dataclass
class Room:
    """A class (or a whole home-based point): its places and the children counted in it."""

    places: int
    closed: frozenset[date] = frozenset()
    presences: list[Presence] = field(default_factory=list)

    def peak(self, day: date, starts_at: time, ends_at: time) -> int:
        """The most children present at one moment of ``day`` between the two times."""
        present = [
            p for p in self.presences if p.on(day, self.closed) and p.overlaps(starts_at, ends_at)
        ]
        return _peak(present, starts_at)

    def steady_peak(self, starts_at: time, ends_at: time) -> int:
        """The most children at one moment once every standing place has started."""
        standing = [p for p in self.presences if p.standing and p.overlaps(starts_at, ends_at)]
        return _peak(standing, starts_at)

    def free_for(self, slot: Slot) -> int:
        """Places left for one more child of ``slot`` at every moment it covers."""
        if not slot.is_standing:
            return self.places - self.peak(slot.on_date, slot.starts_at, slot.ends_at)
        runs = slot.care_class.runs_on
        dated_days = {
            p.first
            for p in self.presences
            if not p.standing and p.first >= slot.on_date and runs(p.first)
            if p.first not in self.closed
        }
        peaks = [self.steady_peak(slot.starts_at, slot.ends_at)]
        peaks += [self.peak(day, slot.starts_at, slot.ends_at) for day in dated_days]
        return self.places - max(peaks)


def _peak(present: list[Presence], from_time: time) -> int:
    """The largest number of children of ``present`` at one moment from ``from_time`` on."""
    moments = {from_time} | {p.starts_at for p in present if p.starts_at > from_time}
    return max(
        (sum(p.count for p in present if p.starts_at <= t < p.ends_at) for t in moments),
        default=0,
    )


@dataclass
class Rooms:
    """The rooms of some classes: each class's own, and the home-based point's shared one."""

    by_class: dict[int, list[Room]]

    def free_for(self, slot: Slot) -> int:
        """Places left for one more child of ``slot`` in every room it belongs to."""
        rooms = self.by_class[slot.care_class_id]
        return max(0, min(room.free_for(slot) for room in rooms))


def lock_room(care_class: CareClass) -> None:
    """Serialise changes of places in ``care_class`` (in all classes of a home-based point).

    A row lock on PostgreSQL; on SQLite the write transaction already serialises writers.
    """
    if care_class.institution.nature == Nature.HOME_BASED:
        db.session.execute(
            sa.select(Institution.id)
            .where(Institution.id == care_class.institution_id)
            .with_for_update()
        )
    db.session.execute(
        sa.select(CareClass.id).where(CareClass.id == care_class.id).with_for_update()
    )


def lock_child_and_room(
    child_is: sa.ColumnElement[bool], care_class: CareClass, today: date
) -> tuple[Child | None, frozenset[date]]:
    """Lock the child ``child_is`` selects, then ``lock_room``, in one statement, which also
    loads the child and reads the institution's closed days from ``today`` on, for the
    rooms. No child (None): nothing is locked.

    The rows are locked in the order everything else locks them: the child, the home-based
    point, the class (PostgreSQL locks each result row's rows in ``FOR UPDATE OF`` order; a
    deadlock, were that ever to change, is detected and the transaction retried). Closed days
    may be read before the locks are granted: a day is only ever added to them, and a day
    closed meanwhile only frees places, so the count errs on the safe side.
    """
    locked = [Child]
    query = sa.select(Child, ClosedDate.on_date).select_from(CareClass).join(Child, child_is)
    if care_class.institution.nature == Nature.HOME_BASED:
        query = query.join(Institution, Institution.id == CareClass.institution_id)
        locked.append(Institution)
    locked.append(CareClass)
    query = query.outerjoin(
        ClosedDate,
        sa.and_(ClosedDate.institution_id == CareClass.institution_id, ClosedDate.on_date >= today),
    )
    rows = db.session.execute(
        query.where(CareClass.id == care_class.id).with_for_update(of=locked)
    ).all()
    child = rows[0][0] if rows else None
    return child, frozenset(day for _, day in rows if day is not None)


def holds_children(today: date) -> sa.ColumnElement[bool]:
    """SQL, on slots joined with their inventories: the slot is open and holds children
    counted from ``today`` on (a standing place on every day from its first)."""
    return sa.and_(
        Slot.status == SlotStatus.OPEN,
        Inventory.taken > 0,
        sa.or_(Slot.care_type.in_(STANDING_CARE_TYPES), Slot.on_date >= today),
    )


def in_room(care_class: CareClass, today: date) -> sa.ColumnElement[bool]:
    """SQL, on slots joined with their inventories: the slot holds children counted in
    ``care_class``'s rooms from ``today`` on (the whole point's, for a home-based one)."""
    institution = care_class.institution
    owner = (
        Slot.institution_id == institution.id
        if institution.nature == Nature.HOME_BASED
        else Slot.care_class_id == care_class.id
    )
    return sa.and_(owner, holds_children(today))


def load_rooms(care_class: CareClass, today: date) -> Rooms:
    """The rooms ``care_class`` belongs to, with every child counted in them from ``today``.

    Call it after ``lock_room``: the counts are then the ones the decision may rely on.
    """
    slots = db.session.scalars(
        sa.select(Slot)
        .join(Slot.inventory)
        .where(in_room(care_class, today))
        .options(contains_eager(Slot.inventory), joinedload(Slot.care_class))
        # Counts read before the lock may sit in the session: the fresh ones must win.
        .execution_options(populate_existing=True)
    ).all()
    closed = closed_days({care_class.institution_id}, today)[care_class.institution_id]
    return rooms_of_class(care_class, slots, closed, today)


def rooms_of_class(
    care_class: CareClass, slots: Iterable[Slot], closed: frozenset[date], today: date
) -> Rooms:
    """The rooms ``care_class`` belongs to, from ``slots`` (those ``in_room`` selects, read
    after ``lock_room``) and the institution's ``closed`` days from ``today`` on."""
    institution = care_class.institution
    shared = {institution.id} if institution.nature == Nature.HOME_BASED else set()
    closed_by_institution = defaultdict(frozenset, {institution.id: closed})
    return build_rooms(slots, closed_by_institution, shared, today, [care_class])


def build_rooms(
    slots: Iterable[Slot],
    closed: dict[int, frozenset[date]],
    home_based: set[int],
    today: date,
    classes: Iterable[CareClass] = (),
) -> Rooms:
    """Rooms from open slots (inventory and class loaded) and ``classes``: each class's own
    room, and one shared room per home-based point in ``home_based``."""
    by_class: dict[int, list[Room]] = {}
    shared = {
        institution_id: Room(HOME_BASED_MAX_CHILDREN, closed[institution_id])
        for institution_id in home_based
    }

    def rooms_of(care_class: CareClass) -> list[Room]:
        if care_class.id not in by_class:
            by_class[care_class.id] = [Room(care_class.capacity, closed[care_class.institution_id])]
            if care_class.institution_id in shared:
                by_class[care_class.id].append(shared[care_class.institution_id])
        return by_class[care_class.id]

    for care_class in classes:
        rooms_of(care_class)
    for slot in slots:
        presence = _presence(slot, today)
        for room in rooms_of(slot.care_class):
            if presence is not None:
                room.presences.append(presence)
    return Rooms(by_class)


def _presence(slot: Slot, today: date) -> Presence | None:
    """The children a slot holds in its class, if any are still to come."""
    taken = slot.inventory.taken
    if taken <= 0 or (not slot.is_standing and slot.on_date < today):
        return None
    return Presence(
        first=slot.on_date,
        standing=slot.is_standing,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        count=taken,
        weekdays=slot.care_class.weekdays,
    )


def closed_days(institution_ids: set[int], today: date) -> dict[int, frozenset[date]]:
    """Each institution's closed days from ``today`` on (one statement)."""
    closed: dict[int, set[date]] = defaultdict(set)
    if institution_ids:
        rows = db.session.execute(
            sa.select(ClosedDate.institution_id, ClosedDate.on_date).where(
                ClosedDate.institution_id.in_(institution_ids), ClosedDate.on_date >= today
            )
        )
        for institution_id, on_date in rows:
            closed[institution_id].add(on_date)
    return defaultdict(frozenset, {key: frozenset(days) for key, days in closed.items()})


def too_small_for(care_class: CareClass, places: int, today: date) -> bool:
    """Whether ``places`` would be fewer than the children already counted in the class at
    some moment from ``today`` on (booked or held for an offer)."""
    counted = load_rooms(care_class, today)
    slots = db.session.scalars(
        sa.select(Slot)
        .join(Slot.inventory)
        .where(Slot.care_class_id == care_class.id, holds_children(today))
    )
    own_room = counted.by_class[care_class.id][0]
    smaller = Room(places, own_room.closed, own_room.presences)
    return any(smaller.free_for(slot) < 0 for slot in slots)
