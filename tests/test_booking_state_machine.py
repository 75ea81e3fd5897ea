"""Any sequence of booking, cancelling and waitlist steps keeps a slot's places consistent.

A Hypothesis state machine drives one hourly slot of 1 to 3 places and four children of two
parents through the booking services, each step in its own transaction as a request would
run it, and checks the places after every step. SQLite only: the machine runs many steps.
"""

import itertools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from invariants import violations

from careapp import clock
from careapp.database import run_in_transaction
from careapp.extensions import db
from careapp.models import (
    ACTIVE_BOOKING_STATUSES,
    Booking,
    CareClass,
    CareType,
    Child,
    ClassKind,
    Inventory,
    Role,
    Slot,
    User,
    WaitlistEntry,
    WaitStatus,
)
from careapp.services import booking
from careapp.services.booking import OFFER_HOLD, BookingError, SlotFull

#: The local time at which parents book and cancel: days before every slot, so in time.
NOW = datetime(2030, 3, 1, 8, 0)
#: Each example gets a new slot, one day after the previous example's.
FIRST_DAY = date(2030, 3, 4)
CHILDREN = 4
PARENTS = 2
#: Enough for the expiry job to close every offer made before it ran.
PAST_THE_HOLD = OFFER_HOLD[CareType.HOURLY] + timedelta(hours=1)
MACHINE_SETTINGS = settings(
    max_examples=50,
    stateful_step_count=30,
    deadline=None,
    database=None,
    # Shrinking a failure is what makes it readable; the coverage-traced "explain" phase
    # after it would multiply the time a failing run takes.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
)

children = st.integers(min_value=0, max_value=CHILDREN - 1)
WAITING, OFFERED = WaitStatus.WAITING, WaitStatus.OFFERED


#: The machine runs many steps; the races on PostgreSQL are the concurrency tests' work.
pytestmark = pytest.mark.sqlite_only


@dataclass(frozen=True)
class Places:
    """A slot's places and who holds or waits for them, read in one go."""

    capacity: int
    taken: int
    #: child id → id of its active booking (several ids if the database allowed two).
    booked: dict[int, list[int]]
    #: child id → (entry id, status) of its active waitlist entry, first in line first.
    waiting: dict[int, tuple[int, WaitStatus]]

    @property
    def full(self) -> bool:
        """No place is free."""
        return self.taken >= self.capacity

    def in_line(self) -> list[int]:
        """Children still waiting (not offered), first in line first."""
        return [child for child, (_id, state) in self.waiting.items() if state == WAITING]

    def offered(self) -> list[int]:
        """Children holding an offer."""
        return [child for child, (_id, state) in self.waiting.items() if state == OFFERED]


class BookingMachine(RuleBasedStateMachine):
    """Book, cancel, join the waitlist, accept offers, leave and expire offers at random."""

    #: Set by the test: the application, the class of the slots and the parents' ids.
    app = None
    class_id: int = 0
    parent_ids: tuple[int, ...] = ()
    days = itertools.count()
    request_keys = itertools.count()

    @initialize(places=st.integers(min_value=1, max_value=3))
    def open_slot(self, places: int) -> None:
        """A new slot of ``places`` places and four new 18-month-olds of two parents."""
        day = FIRST_DAY + timedelta(days=next(self.days))
        with self.app.app_context():
            slot = booking.add_slot(
                db.session.get(CareClass, self.class_id),
                CareType.HOURLY,
                day,
                time(9),
                time(10),
                places,
                NOW.date(),
            )
            kids = [
                booking.add_child(
                    db.session.get(User, self.parent_ids[number % PARENTS]),
                    name=f"王小{number}",
                    birth_date=day - timedelta(days=548),
                    notes="",
                    consent=True,
                )
                for number in range(CHILDREN)
            ]
            db.session.commit()
            self.slot_id = slot.id
            self.inventory_id = slot.inventory_id
            self.child_ids = [kid.id for kid in kids]
        # The expiry job's clock: aware UTC, starting now and only moving forward.
        # Holds start at the local time the services are given, so the clock starts there.
        self.clock = clock.to_utc(NOW)
        #: The places as last read; every step through ``run`` forgets them.
        self.snapshot = None

    # --- helpers -------------------------------------------------------------------------

    def run(self, work):
        """``work`` in its own app context and transaction, as one request would run it."""
        self.snapshot = None
        with self.app.app_context():
            return run_in_transaction(work)

    def parent_of(self, child_id: int) -> int:
        """The id of the parent of the child with ``child_id``."""
        return self.parent_ids[self.child_ids.index(child_id) % PARENTS]

    def places(self) -> Places:
        """The slot's places, bookings and waitlist as the database holds them now."""
        if self.snapshot is None:
            self.snapshot = self._read_places()
        return self.snapshot

    def _read_places(self) -> Places:
        with self.app.app_context():
            inventory = db.session.get(Inventory, self.inventory_id)
            booked: dict[int, list[int]] = {}
            for child_id, booking_id in db.session.execute(
                sa.select(Booking.child_id, Booking.id)
                .where(
                    Booking.slot_id == self.slot_id,
                    Booking.status.in_(ACTIVE_BOOKING_STATUSES),
                )
                .order_by(Booking.id)
            ):
                booked.setdefault(child_id, []).append(booking_id)
            waiting = {}
            for entry in db.session.scalars(
                sa.select(WaitlistEntry)
                .where(
                    WaitlistEntry.inventory_id == self.inventory_id,
                    WaitlistEntry.status.in_((WaitStatus.WAITING, WaitStatus.OFFERED)),
                )
                .order_by(WaitlistEntry.id)
            ):
                waiting[int(entry.subject.removeprefix("child:"))] = (entry.id, entry.status)
            return Places(inventory.capacity, inventory.taken, booked, waiting)

    # --- rules ---------------------------------------------------------------------------

    @rule(child=children)
    def book(self, child: int) -> None:
        """Book: refused when the child has the place already, SlotFull when none is free;
        a child holding an offer books the place held for it."""
        before = self.places()
        child_id = self.child_ids[child]
        holds_offer = before.waiting.get(child_id, (None, None))[1] == WaitStatus.OFFERED
        parent_id, key = self.parent_of(child_id), f"machine-{next(self.request_keys)}"
        try:
            self.run(
                lambda: (
                    booking.book(
                        db.session.get(User, parent_id),
                        child_id,
                        db.session.get(Slot, self.slot_id),
                        key,
                        NOW,
                    ).id
                )
            )
        except SlotFull:
            assert before.full
            assert child_id not in before.booked
            assert not holds_offer
        except BookingError:
            assert child_id in before.booked
        else:
            assert holds_offer or not before.full
            assert child_id not in before.booked

    @precondition(lambda self: self.places().booked)
    @rule(data=st.data())
    def cancel(self, data) -> None:
        """Cancel a booking days before the start: the first in line gets the place offered."""
        before = self.places()
        child_id = data.draw(st.sampled_from(sorted(before.booked)), label="child")
        booking_id, parent_id = before.booked[child_id][0], self.parent_of(child_id)
        self.run(
            lambda: booking.cancel_by_parent(
                db.session.get(User, parent_id), db.session.get(Booking, booking_id), NOW
            )
        )
        line = before.in_line()
        if line:
            assert self.places().waiting[line[0]][1] == WaitStatus.OFFERED

    @rule(child=children)
    def join_waitlist(self, child: int) -> None:
        """Join the waitlist: allowed when the slot is full, refused while a place is free
        or when the child holds a place in the slot already; a child already in line (or
        holding an offer) gets its entry back."""
        before = self.places()
        child_id = self.child_ids[child]
        parent_id = self.parent_of(child_id)
        try:
            self.run(
                lambda: (
                    booking.join_waitlist(
                        db.session.get(User, parent_id),
                        db.session.get(Child, child_id),
                        db.session.get(Slot, self.slot_id),
                        NOW,
                    ).id
                )
            )
        except BookingError:
            assert not before.full or child_id in before.booked
        else:
            assert before.full or child_id in before.waiting
            assert child_id not in before.booked
            assert child_id in self.places().waiting

    @precondition(lambda self: self.places().offered())
    @rule(data=st.data())
    def accept_offer(self, data) -> None:
        """Accept an open offer: the held place becomes the child's booking."""
        before = self.places()
        child_id = data.draw(st.sampled_from(before.offered()), label="child")
        entry_id, parent_id = before.waiting[child_id][0], self.parent_of(child_id)
        key = f"machine-{next(self.request_keys)}"
        self.run(
            lambda: (
                booking.accept_offer(
                    db.session.get(User, parent_id),
                    db.session.get(WaitlistEntry, entry_id),
                    key,
                    NOW,
                ).id
            )
        )
        after = self.places()
        assert child_id in after.booked
        assert child_id not in after.waiting

    @precondition(lambda self: self.places().waiting)
    @rule(data=st.data())
    def leave_waitlist(self, data) -> None:
        """Leave the line or turn an offer down."""
        before = self.places()
        child_id = data.draw(st.sampled_from(sorted(before.waiting)), label="child")
        entry_id, parent_id = before.waiting[child_id][0], self.parent_of(child_id)
        self.run(
            lambda: booking.leave_waitlist(
                db.session.get(User, parent_id),
                db.session.get(WaitlistEntry, entry_id),
                NOW,
            )
        )
        assert child_id not in self.places().waiting

    @rule()
    def expire_offers(self) -> None:
        """The clock passes every hold; the job expires offers; running it again does nothing."""
        self.clock += PAST_THE_HOLD
        before = self.places()
        self.run(lambda: booking.expire_offers(self.clock))
        with self.app.app_context():
            statuses = [
                db.session.get(WaitlistEntry, before.waiting[child][0]).status
                for child in before.offered()
            ]
        assert statuses == [WaitStatus.EXPIRED] * len(before.offered())
        after = self.places()
        assert self.run(lambda: booking.expire_offers(self.clock)) == 0
        assert self.places() == after

    def teardown(self) -> None:
        """Close this example's waitlist so its offers cannot reach the next example's job."""
        if not hasattr(self, "inventory_id"):
            return
        with self.app.app_context():
            db.session.execute(
                sa.update(WaitlistEntry)
                .where(
                    WaitlistEntry.inventory_id == self.inventory_id,
                    WaitlistEntry.status.in_((WaitStatus.WAITING, WaitStatus.OFFERED)),
                )
                .values(status=WaitStatus.LEFT)
            )
            db.session.commit()

    # --- invariants ----------------------------------------------------------------------

    @invariant()
    def taken_counts_active_bookings_and_held_offers(self) -> None:
        """``taken`` is the active bookings plus the places held for open offers."""
        places = self.places()
        active = sum(len(ids) for ids in places.booked.values())
        assert places.taken == active + len(places.offered())

    @invariant()
    def taken_stays_within_capacity(self) -> None:
        """Nobody is over capacity, and ``taken`` is never negative."""
        places = self.places()
        assert 0 <= places.taken <= places.capacity

    @invariant()
    def no_child_holds_two_active_bookings(self) -> None:
        """One active booking per child and slot."""
        assert all(len(ids) == 1 for ids in self.places().booked.values())

    @invariant()
    def nobody_waits_while_a_place_is_free(self) -> None:
        """A freed place goes to the first in line, so a free place means an empty line."""
        places = self.places()
        assert places.full or not places.in_line()

    @invariant()
    def nobody_waits_for_a_place_they_hold(self) -> None:
        """A child with a booking in the slot is not also in its line or holding an offer.

        Otherwise accepting the offer would be a second active booking for the same slot.
        """
        places = self.places()
        assert not set(places.booked) & set(places.waiting)


def test_places_stay_consistent_through_any_sequence_of_steps(app, institution, user):
    institution_id = institution(
        offers={CareType.HOURLY: (6, 36, 30)}, classes=((ClassKind.TODDLER, 15, 3),)
    )
    parent_ids = tuple(user(Role.PARENT) for _ in range(PARENTS))
    with app.app_context():
        class_id = db.session.scalar(
            sa.select(CareClass.id).where(CareClass.institution_id == institution_id)
        )
    machine = type(
        "SlotMachine",
        (BookingMachine,),
        {"app": app, "class_id": class_id, "parent_ids": parent_ids},
    )

    run_state_machine_as_test(machine, settings=MACHINE_SETTINGS)


# --- the classroom: standing places, dated care and offers sharing one class ---------------

#: Each example's week starts on a Monday of its own (the classes run Monday to Friday).
FIRST_MONDAY = date(2030, 4, 1)
#: Children are two and a half on their example's Monday: the older-toddler class takes them.
AGE_30_MONTHS = timedelta(days=913)
CLASSROOM_OFFERS = {
    CareType.FULL_DAY: (24, 36, 2800),
    CareType.TEMPORARY: (24, 36, 150),
    CareType.HOURLY: (24, 36, 30),
}
#: The slots of each example, in one class of three places: (care type, day, hours, places).
CLASSROOM_SLOTS = (
    (CareType.FULL_DAY, 0, (time(8), time(17, 30)), 2),
    (CareType.TEMPORARY, 1, (time(8), time(17, 30)), 2),
    (CareType.HOURLY, 1, (time(9), time(10)), 2),
    (CareType.HOURLY, 1, (time(14), time(15)), 2),
)
slots = st.integers(min_value=0, max_value=len(CLASSROOM_SLOTS) - 1)


class ClassroomMachine(RuleBasedStateMachine):
    """Families book, apply, cancel, wait, take and turn down offers in four slots that share
    one class of three places; the institution decides applications; offers expire. After
    every step every invariant of ../shared/capacity.md holds, read row by row."""

    app = None
    institution = None
    user = None
    weeks = itertools.count()

    @initialize()
    def open_class(self) -> None:
        """A new institution with one older-toddler class of three places, its four slots,
        and four children of two parents."""
        monday = FIRST_MONDAY + timedelta(weeks=next(self.weeks))
        institution_id = self.institution(
            offers=CLASSROOM_OFFERS, classes=((ClassKind.OLDER_TODDLER, 3, 1),)
        )
        parents = [self.user(Role.PARENT) for _ in range(PARENTS)]
        with self.app.app_context():
            care_class = db.session.scalar(
                sa.select(CareClass).where(CareClass.institution_id == institution_id)
            )
            self.slot_ids = [
                booking.add_slot(
                    care_class, care_type, monday + timedelta(days=day), *hours, places, NOW.date()
                ).id
                for care_type, day, hours, places in CLASSROOM_SLOTS
            ]
            self.children = [
                (
                    parents[number % PARENTS],
                    booking.add_child(
                        db.session.get(User, parents[number % PARENTS]),
                        name=f"李小{number}",
                        birth_date=monday - AGE_30_MONTHS,
                        notes="",
                        consent=True,
                    ).id,
                )
                for number in range(CHILDREN)
            ]
            db.session.commit()
        self.clock = clock.to_utc(NOW)

    def run(self, work):
        """``work`` in its own app context and transaction; refusals are expected answers."""
        with self.app.app_context():
            try:
                return run_in_transaction(work)
            except BookingError:
                return None

    def rows(self, statement) -> list:
        """Rows of a query about this example."""
        with self.app.app_context():
            return db.session.execute(statement).all()

    def active_bookings(self) -> list[tuple[int, int, str]]:
        """``(booking id, parent id, status)`` of this example's active bookings."""
        return self.rows(
            sa.select(Booking.id, Booking.parent_id, Booking.status)
            .where(Booking.slot_id.in_(self.slot_ids), Booking.status.in_(ACTIVE_BOOKING_STATUSES))
            .order_by(Booking.id)
        )

    def entries(self, *statuses) -> list[tuple[int, int]]:
        """``(entry id, parent id)`` of this example's waitlist entries in ``statuses``."""
        return self.rows(
            sa.select(WaitlistEntry.id, WaitlistEntry.user_id)
            .join(Slot, Slot.inventory_id == WaitlistEntry.inventory_id)
            .where(Slot.id.in_(self.slot_ids), WaitlistEntry.status.in_(statuses))
            .order_by(WaitlistEntry.id)
        )

    @rule(child=children, slot=slots)
    def book(self, child: int, slot: int) -> None:
        """Book a dated place or apply for a standing one (refused when it does not fit)."""
        parent_id, child_id = self.children[child]
        slot_id, key = self.slot_ids[slot], f"classroom-{next(BookingMachine.request_keys)}"
        self.run(
            lambda: booking.book(
                db.session.get(User, parent_id),
                child_id,
                db.session.get(Slot, slot_id),
                key,
                NOW,
            )
        )

    @rule(child=children, slot=slots)
    def join_waitlist(self, child: int, slot: int) -> None:
        """Join a slot's line (refused while the slot and its class have room)."""
        parent_id, child_id = self.children[child]
        slot_id = self.slot_ids[slot]
        self.run(
            lambda: booking.join_waitlist(
                db.session.get(User, parent_id),
                db.session.get(Child, child_id),
                db.session.get(Slot, slot_id),
                NOW,
            )
        )

    @precondition(lambda self: self.active_bookings())
    @rule(data=st.data())
    def cancel(self, data) -> None:
        """A parent cancels a booking or an application."""
        booking_id, parent_id, _status = data.draw(st.sampled_from(self.active_bookings()))
        self.run(
            lambda: booking.cancel_by_parent(
                db.session.get(User, parent_id), db.session.get(Booking, booking_id), NOW
            )
        )

    @precondition(lambda self: any(s == "applied" for _b, _p, s in self.active_bookings()))
    @rule(data=st.data(), accept=st.booleans())
    def decide(self, data, accept: bool) -> None:
        """The institution accepts or declines an application."""
        applied = [b for b, _p, s in self.active_bookings() if s == "applied"]
        booking_id = data.draw(st.sampled_from(applied))
        self.run(
            lambda: booking.decide_application(
                db.session.get(Booking, booking_id), accept, "" if accept else "已满", NOW
            )
        )

    @precondition(lambda self: self.entries(WaitStatus.OFFERED))
    @rule(data=st.data())
    def accept_offer(self, data) -> None:
        """Take a held place (refused when it no longer fits the child)."""
        entry_id, parent_id = data.draw(st.sampled_from(self.entries(WaitStatus.OFFERED)))
        key = f"classroom-{next(BookingMachine.request_keys)}"
        self.run(
            lambda: booking.accept_offer(
                db.session.get(User, parent_id), db.session.get(WaitlistEntry, entry_id), key, NOW
            )
        )

    @precondition(lambda self: self.entries(WaitStatus.WAITING, WaitStatus.OFFERED))
    @rule(data=st.data())
    def leave_waitlist(self, data) -> None:
        """Leave a line or turn an offer down."""
        line = self.entries(WaitStatus.WAITING, WaitStatus.OFFERED)
        entry_id, parent_id = data.draw(st.sampled_from(line))
        self.run(
            lambda: booking.leave_waitlist(
                db.session.get(User, parent_id), db.session.get(WaitlistEntry, entry_id), NOW
            )
        )

    @rule()
    def expire_offers(self) -> None:
        """The clock passes every hold and the job runs."""
        self.clock += PAST_THE_HOLD
        self.run(lambda: booking.expire_offers(self.clock))

    @invariant()
    def every_place_invariant_holds(self) -> None:
        """taken = bookings + offers; the class never over three at any moment, standing
        places counted every weekday; no child twice at once; nobody waiting for room."""
        with self.app.app_context():
            assert violations(since_message_id=None) == []


def test_a_class_shared_by_standing_places_dated_care_and_offers_never_overflows(
    app, institution, user
):
    machine = type(
        "Classroom",
        (ClassroomMachine,),
        {"app": app, "institution": staticmethod(institution), "user": staticmethod(user)},
    )

    run_state_machine_as_test(machine, settings=MACHINE_SETTINGS)
