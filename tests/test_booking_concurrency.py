"""A place is never given twice: parents racing on SQLite and PostgreSQL, and a naive control.

Every test runs once on the file SQLite database and once on PostgreSQL (``TEST_DATABASE_URL``).
Each racing thread works like a request: its own app context and session, the parent, child and
slot loaded first, then one ``run_in_transaction`` around the service call.
"""

import threading
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from time import sleep

import pytest
import sqlalchemy as sa

from careapp.database import run_in_transaction
from careapp.extensions import db
from careapp.models import (
    ACTIVE_BOOKING_STATUSES,
    Booking,
    BookingStatus,
    CareClass,
    CareType,
    ClassKind,
    Inventory,
    Role,
    Slot,
    User,
)
from careapp.services import booking
from careapp.services.booking import SlotFull

#: Parents pressing "book" at the same moment, each for their own child.
RACERS = 20
#: Places in each contested slot.
PLACES = 3
#: Races per database; the issue asks for 50.
REPETITIONS = 50
#: Races for the negative control; one oversold race is enough to prove the point.
CONTROL_REPETITIONS = 10
#: Races for the double tap; its window is narrow, so it is tried several times.
DOUBLE_TAP_REPETITIONS = 20
#: The local time at which everybody books (slots are later).
NOW = datetime(2030, 3, 1, 8, 0)
#: The contested slots are on consecutive days from here, so no child's bookings overlap.
FIRST_DAY = date(2030, 3, 4)
#: How long a thread waits for the others at the start line, and for the race to end.
RACE_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class Families:
    """One institution with an hourly class, and ``RACERS`` parents with one child each."""

    class_id: int
    #: ``(parent_id, child_id)`` pairs.
    pairs: tuple[tuple[int, int], ...]


@dataclass
class Outcome:
    """What one race left behind."""

    bookings: int
    taken: int
    told_full: int = 0
    unexpected: list[str] = field(default_factory=list)


@pytest.fixture
def families(app, institution, user) -> Families:
    """``RACERS`` parents of 18-month-olds and a toddler class offering hourly care."""
    institution_id = institution(
        offers={CareType.HOURLY: (6, 36, 30)}, classes=((ClassKind.TODDLER, 15, 3),)
    )
    parent_ids = [user(Role.PARENT) for _ in range(RACERS)]
    with app.app_context():
        class_id = db.session.scalar(
            sa.select(CareClass.id).where(CareClass.institution_id == institution_id)
        )
        children = [
            booking.add_child(
                db.session.get(User, parent_id),
                name=f"张{number:02d}",
                birth_date=date(2028, 9, 1),
                notes="",
                consent=True,
            )
            for number, parent_id in enumerate(parent_ids)
        ]
        db.session.commit()
        pairs = tuple(zip(parent_ids, (child.id for child in children), strict=True))
    return Families(class_id=class_id, pairs=pairs)


def open_slot(app, families: Families, day_number: int, places: int = PLACES) -> int:
    """A new hourly slot of ``places`` places, ``day_number`` days after ``FIRST_DAY``."""
    with app.app_context():
        slot = booking.add_slot(
            db.session.get(CareClass, families.class_id),
            CareType.HOURLY,
            FIRST_DAY + timedelta(days=day_number),
            time(9),
            time(10),
            places,
            NOW.date(),
        )
        db.session.commit()
        return slot.id


def outcome_of(app, slot_id: int) -> Outcome:
    """Active bookings of a slot and the places its inventory counts as taken."""
    with app.app_context():
        bookings = db.session.scalar(
            sa.select(sa.func.count(Booking.id)).where(
                Booking.slot_id == slot_id, Booking.status.in_(ACTIVE_BOOKING_STATUSES)
            )
        )
        taken = db.session.scalar(
            sa.select(Inventory.taken)
            .join(Slot, Slot.inventory_id == Inventory.id)
            .where(Slot.id == slot_id)
        )
    return Outcome(bookings=bookings, taken=taken)


def race(app, slot_id: int, entrants, book_function) -> tuple[Outcome, list]:
    """Start one thread per ``(parent_id, child_id, request_key)`` together; wait for all.

    Returns the slot's outcome and what each thread's call returned (booking ids), with
    SlotFull counted and any other exception recorded as unexpected.
    """
    start_line = threading.Barrier(len(entrants))
    results, told_full, unexpected = [], [], []

    def attempt(parent_id: int, child_id: int, request_key: str) -> None:
        try:
            start_line.wait(timeout=RACE_TIMEOUT_SECONDS)
            with app.app_context():
                parent = db.session.get(User, parent_id)
                slot = db.session.get(Slot, slot_id)
                results.append(
                    run_in_transaction(
                        lambda: book_function(parent, child_id, slot, request_key, NOW).id
                    )
                )
        except SlotFull:
            told_full.append(child_id)
        except Exception as error:  # every other error is a finding
            unexpected.append(f"{type(error).__name__}: {error}")

    threads = [threading.Thread(target=attempt, args=entrant) for entrant in entrants]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=RACE_TIMEOUT_SECONDS)
    unexpected.extend("thread still running" for thread in threads if thread.is_alive())
    outcome = outcome_of(app, slot_id)
    outcome.told_full = len(told_full)
    outcome.unexpected = unexpected
    return outcome, results


def race_everybody(app, families: Families, day_number: int, book_function) -> Outcome:
    """Every family races for a new slot of ``PLACES`` places."""
    slot_id = open_slot(app, families, day_number)
    entrants = [
        (parent_id, child_id, f"race-{slot_id}-{child_id}")
        for parent_id, child_id in families.pairs
    ]
    outcome, _results = race(app, slot_id, entrants, book_function)
    return outcome


def naive_book(parent: User, child_id: int, slot: Slot, request_key: str, now: datetime):
    """Read the places taken, then insert and write ``taken = read + 1``: check-then-act.

    No conditional WHERE and no row count. Because the new ``taken`` is the value read plus
    one, it never exceeds the capacity, so the check constraint cannot object either.
    """
    inventory_id, capacity = slot.inventory_id, slot.inventory.capacity
    row = {"slot_id": slot.id, "child_id": child_id, "parent_id": parent.id}
    seen = db.session.scalar(sa.select(Inventory.taken).where(Inventory.id == inventory_id))
    # SQLite refuses to turn a stale read transaction into a write one, so a check and a
    # write in one transaction cannot oversell there; like a view that looks before it
    # books, the naive code checks in one transaction and writes in the next.
    db.session.commit()
    if seen >= capacity:
        raise SlotFull()
    sleep(0.005)
    new_booking = Booking(status=BookingStatus.CONFIRMED, request_key=request_key, **row)
    db.session.add(new_booking)
    db.session.execute(
        sa.update(Inventory).where(Inventory.id == inventory_id).values(taken=seen + 1)
    )
    return new_booking


def test_twenty_parents_racing_for_three_places_get_exactly_three(app, families):
    outcomes = [race_everybody(app, families, day, booking.book) for day in range(REPETITIONS)]

    assert [outcome.unexpected for outcome in outcomes] == [[]] * REPETITIONS
    assert [(outcome.bookings, outcome.taken, outcome.told_full) for outcome in outcomes] == [
        (PLACES, PLACES, RACERS - PLACES)
    ] * REPETITIONS


def test_race_harness_catches_a_naive_read_then_insert(app, families):
    outcomes = [
        race_everybody(app, families, day, naive_book) for day in range(CONTROL_REPETITIONS)
    ]

    assert [outcome.unexpected for outcome in outcomes] == [[]] * CONTROL_REPETITIONS
    oversold = [outcome for outcome in outcomes if outcome.bookings > PLACES]
    assert oversold, "the harness never saw more bookings than places"
    # The counter alone looks healthy: only counting bookings exposes the overselling.
    assert all(outcome.taken <= PLACES for outcome in oversold)


def test_double_tap_makes_one_booking_and_shows_it_to_both_taps(app, families):
    parent_id, child_id = families.pairs[0]
    seen = []
    for day in range(DOUBLE_TAP_REPETITIONS):
        slot_id = open_slot(app, families, day)
        taps = [(parent_id, child_id, f"tap-{slot_id}")] * 2
        outcome, booking_ids = race(app, slot_id, taps, booking.book)
        seen.append(
            {
                "bookings": outcome.bookings,
                "taken": outcome.taken,
                "taps shown a booking": len(booking_ids),
                "one booking shown": len(set(booking_ids)) == 1,
                "errors": [error.splitlines()[0] for error in outcome.unexpected],
            }
        )

    expected = {
        "bookings": 1,
        "taken": 1,
        "taps shown a booking": 2,
        "one booking shown": True,
        "errors": [],
    }
    wrong = [tap for tap in seen if tap != expected]
    assert not wrong, f"{len(wrong)} of {len(seen)} double taps went wrong, e.g. {wrong[0]}"
