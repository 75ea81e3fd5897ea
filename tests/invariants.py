"""The invariants of places (../shared/capacity.md), read straight from the tables.

Written apart from the services on purpose: it counts bookings, registrations and offers row
by row, so a bug in the services' own counting cannot hide itself. ``violations()`` lists
what is wrong, in words; an empty list means every invariant holds.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, time, timedelta

import sqlalchemy as sa

from careapp.extensions import db
from careapp.models import (
    Booking,
    CareClass,
    ClosedDate,
    CourseRegistration,
    CourseSession,
    Institution,
    Inventory,
    Nature,
    OutboxMessage,
    Slot,
    WaitlistEntry,
)

HOLDING_BOOKINGS = ("applied", "confirmed")
HOLDING_REGISTRATIONS = ("registered", "attended", "no_show")
STANDING = ("full_day", "half_day")
#: A home-based point never holds more children than this, in all its classes.
HOME_BASED_LIMIT = 5


@dataclass(frozen=True)
class Held:
    """Children a slot holds (bookings and offers), where and when."""

    slot_id: int
    class_id: int
    institution_id: int
    on_date: date
    standing: bool
    starts_at: time
    ends_at: time
    children: int


def violations(since_message_id: int | None = 0) -> list[str]:
    """Every broken invariant, in words. Messages queued after ``since_message_id`` must all
    differ (one race queues each once); None skips them (a long story may repeat one)."""
    held = _held_by_slot()
    found = (
        _inventory_counts()
        + _rooms_over_capacity(held)
        + _children_in_two_places()
        + _waiting_while_free(held)
    )
    if since_message_id is not None:
        found += _messages_queued_twice(since_message_id)
    return found


def _inventory_counts() -> list[str]:
    """taken = active bookings + active course seats + open offers, for every inventory."""
    bookings = Counter(
        dict(
            db.session.execute(
                sa.select(Slot.inventory_id, sa.func.count(Booking.id))
                .join(Booking, Booking.slot_id == Slot.id)
                .where(Booking.status.in_(HOLDING_BOOKINGS))
                .group_by(Slot.inventory_id)
            ).all()
        )
    )
    seats = Counter(
        dict(
            db.session.execute(
                sa.select(CourseSession.inventory_id, sa.func.sum(CourseRegistration.seats))
                .join(CourseRegistration, CourseRegistration.session_id == CourseSession.id)
                .where(CourseRegistration.status.in_(HOLDING_REGISTRATIONS))
                .group_by(CourseSession.inventory_id)
            ).all()
        )
    )
    offers = Counter(
        dict(
            db.session.execute(
                sa.select(WaitlistEntry.inventory_id, sa.func.count(WaitlistEntry.id))
                .where(WaitlistEntry.status == "offered")
                .group_by(WaitlistEntry.inventory_id)
            ).all()
        )
    )
    found = []
    for inventory_id, taken, capacity in db.session.execute(
        sa.select(Inventory.id, Inventory.taken, Inventory.capacity)
    ):
        booked, seated, offered = bookings[inventory_id], seats[inventory_id], offers[inventory_id]
        if taken != booked + seated + offered or taken > capacity:
            found.append(
                f"inventory {inventory_id}: taken {taken} of {capacity}, but {booked} bookings,"
                f" {seated} seats and {offered} offers hold it"
            )
    return found


def _held_by_slot() -> list[Held]:
    """Bookings and open offers per open slot."""
    holders = sa.union_all(
        sa.select(Booking.slot_id.label("slot_id")).where(Booking.status.in_(HOLDING_BOOKINGS)),
        sa.select(Slot.id.label("slot_id"))
        .join(WaitlistEntry, WaitlistEntry.inventory_id == Slot.inventory_id)
        .where(WaitlistEntry.status == "offered"),
    ).subquery()
    rows = db.session.execute(
        sa.select(
            Slot.id,
            Slot.care_class_id,
            Slot.institution_id,
            Slot.on_date,
            Slot.care_type,
            Slot.starts_at,
            Slot.ends_at,
            sa.func.count(),
        )
        .join(holders, holders.c.slot_id == Slot.id)
        .group_by(Slot.id)
    )
    return [
        Held(slot_id, class_id, institution_id, on_date, care_type in STANDING, start, end, n)
        for slot_id, class_id, institution_id, on_date, care_type, start, end, n in rows
    ]


def _rooms_over_capacity(held: list[Held]) -> list[str]:
    """No class, and no home-based point in all, ever holds more children than its places."""
    classes = {
        class_id: (capacity, weekdays)
        for class_id, capacity, weekdays in db.session.execute(
            sa.select(CareClass.id, CareClass.capacity, CareClass.weekdays)
        )
    }
    closed = defaultdict(set)
    for institution_id, on_date in db.session.execute(
        sa.select(ClosedDate.institution_id, ClosedDate.on_date)
    ):
        closed[institution_id].add(on_date)
    home_based = set(
        db.session.scalars(sa.select(Institution.id).where(Institution.nature == Nature.HOME_BASED))
    )
    by_class, by_home = defaultdict(list), defaultdict(list)
    for item in held:
        by_class[item.class_id].append(item)
        if item.institution_id in home_based:
            by_home[item.institution_id].append(item)
    found = []
    for class_id, items in by_class.items():
        capacity, weekdays = classes[class_id]
        found += _over(f"class {class_id}", items, capacity, {class_id: weekdays}, closed)
    for institution_id, items in by_home.items():
        found += _over(
            f"home-based point {institution_id}",
            items,
            HOME_BASED_LIMIT,
            {item.class_id: classes[item.class_id][1] for item in items},
            closed,
        )
    return found


def _over(name: str, items: list[Held], places: int, weekdays: dict, closed) -> list[str]:
    """Moments at which ``items`` put more than ``places`` children in one room."""
    last = max(item.on_date for item in items) + timedelta(days=7)
    first = min(item.on_date for item in items)
    found = []
    day = first
    while day <= last:
        present = [item for item in items if _present(item, day, weekdays, closed)]
        for moment in {item.starts_at for item in present}:
            count = sum(i.children for i in present if i.starts_at <= moment < i.ends_at)
            if count > places:
                found.append(f"{name}: {count} children at {day} {moment} in {places} places")
        day += timedelta(days=1)
    return found


def _present(item: Held, day: date, weekdays: dict, closed) -> bool:
    if not item.standing:
        return item.on_date == day
    runs = str(day.isoweekday()) in weekdays[item.class_id]
    return item.on_date <= day and runs and day not in closed[item.institution_id]


def _children_in_two_places() -> list[str]:
    """No child holds two active bookings whose times meet."""
    rows = db.session.execute(
        sa.select(Booking.child_id, Slot.on_date, Slot.care_type, Slot.starts_at, Slot.ends_at)
        .join(Slot, Slot.id == Booking.slot_id)
        .where(Booking.status.in_(HOLDING_BOOKINGS))
    ).all()
    by_child = defaultdict(list)
    for child_id, *times in rows:
        by_child[child_id].append(times)
    found = []
    for child_id, places in by_child.items():
        for index, a in enumerate(places):
            for b in places[index + 1 :]:
                if _meet(a, b):
                    found.append(f"child {child_id} is booked twice at once: {a} and {b}")
    return found


def _meet(a, b) -> bool:
    (day_a, type_a, start_a, end_a), (day_b, type_b, start_b, end_b) = a, b
    standing_a, standing_b = type_a in STANDING, type_b in STANDING
    if standing_a and standing_b:
        return True
    if standing_a or standing_b:
        same_period = (day_a <= day_b) if standing_a else (day_b <= day_a)
    else:
        same_period = day_a == day_b
    return same_period and start_a < end_b and start_b < end_a


def _waiting_while_free(held: list[Held]) -> list[str]:
    """Nobody waits for a slot that has a place free in it and room in its class."""
    rows = db.session.execute(
        sa.select(Slot.id, Slot.care_class_id, Slot.on_date, Inventory.capacity, Inventory.taken)
        .join(Inventory, Inventory.id == Slot.inventory_id)
        .join(WaitlistEntry, WaitlistEntry.inventory_id == Slot.inventory_id)
        .where(WaitlistEntry.status == "waiting", Slot.status == "open")
        .distinct()
    ).all()
    found = []
    for slot_id, _class_id, _on_date, capacity, taken in rows:
        if taken < capacity and not _class_full_for(slot_id, held):
            found.append(f"slot {slot_id}: families wait while {capacity - taken} places are free")
    sessions = db.session.execute(
        sa.select(CourseSession.id, Inventory.capacity, Inventory.taken)
        .join(Inventory, Inventory.id == CourseSession.inventory_id)
        .join(WaitlistEntry, WaitlistEntry.inventory_id == CourseSession.inventory_id)
        .where(WaitlistEntry.status == "waiting", CourseSession.status == "scheduled")
        .distinct()
    ).all()
    for session_id, capacity, taken in sessions:
        if taken < capacity:
            found.append(f"session {session_id}: families wait while seats are free")
    return found


def _class_full_for(slot_id: int, held: list[Held]) -> bool:
    """Whether the slot's class has no room left at some moment of the slot (a reason to wait)."""
    slot = db.session.get(Slot, slot_id)
    capacity = slot.care_class.capacity
    same_class = [h for h in held if h.class_id == slot.care_class_id]
    days = [slot.on_date] if not slot.is_standing else sorted({h.on_date for h in same_class})
    for day in days or [slot.on_date]:
        present = [
            h
            for h in same_class
            if (h.on_date == day if not h.standing else h.on_date <= day)
            and h.starts_at < slot.ends_at
            and slot.starts_at < h.ends_at
        ]
        moments = {slot.starts_at} | {h.starts_at for h in present if h.starts_at > slot.starts_at}
        for moment in moments:
            if sum(h.children for h in present if h.starts_at <= moment < h.ends_at) >= capacity:
                return True
    return False


def _messages_queued_twice(since_message_id: int) -> list[str]:
    """No message is queued twice for the same person with the same words."""
    rows = db.session.execute(
        sa.select(OutboxMessage.recipient, OutboxMessage.subject, OutboxMessage.body).where(
            OutboxMessage.id > since_message_id
        )
    ).all()
    return [
        f"queued {count} times to {recipient}: {subject}"
        for (recipient, subject, _body), count in Counter(map(tuple, rows)).items()
        if count > 1
    ]
