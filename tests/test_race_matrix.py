"""Every pair of actions that changes places, at the same moment, on SQLite and PostgreSQL.

Each actor is a thread with its own connection and application context, working like a
request: it loads what it needs first, waits at a barrier with the other actor, then runs
one transaction (``run_in_transaction``). After every round the invariants of
../shared/capacity.md are checked row by row (``tests/invariants.py``): taken = active
bookings + open offers, no class over its places at any moment, no child in two places at
once, nobody waiting while a place is free, no message queued twice, and no error other than
the refusals a page shows (anything else would be a 500).

A negative control runs a read-check-write cancel through the same harness: the harness
must catch it, or it proves nothing.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from time import sleep

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from invariants import violations
from places_desk import PlacesDesk

from careapp import clock
from careapp.database import begin_write, run_in_transaction
from careapp.extensions import db
from careapp.jobs import run_jobs
from careapp.models import (
    Booking,
    BookingStatus,
    CareClass,
    CareType,
    Child,
    ClassKind,
    Course,
    CourseFormat,
    CourseRegistration,
    CourseSession,
    OrganisationType,
    OutboxMessage,
    Provider,
    ProviderStatus,
    RegistrationStatus,
    Role,
    Slot,
    SlotStatus,
    Topic,
    User,
    WaitlistEntry,
    WaitStatus,
)
from careapp.services import booking, capacity, courses
from careapp.services.booking import BookingError
from careapp.services.courses import CourseError

#: Rounds per pair of actions and database.
ROUNDS = 20
#: Local time of every action: days before every slot.
NOW = datetime(2030, 3, 1, 8, 0)
#: Round ``n`` books places on ``FIRST_DAY + n``: rounds never meet in one class-day.
FIRST_DAY = date(2030, 3, 4)
OFFERS = {
    CareType.HOURLY: (6, 36, 30),
    CareType.TEMPORARY: (6, 36, 150),
    CareType.FULL_DAY: (12, 36, 2800),
}
#: A child of this birth date is 18 months old in March 2030.
BORN = date(2028, 9, 1)
RACE_TIMEOUT_SECONDS = 60
#: Refusals and "already done" answers a page shows; anything else is a finding.
SHOWN_TO_USERS = (BookingError, CourseError)


# --- the harness ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """One request: ``load`` reads what the view loads, ``act`` is its transaction (or, for
    a job that commits step by step, its whole work)."""

    load: Callable[[], tuple]
    act: Callable[..., object]
    commits_itself: bool = False

    def run(self, loaded: tuple) -> object:
        """Do the work, in one transaction unless it commits itself."""
        if self.commits_itself:
            return self.act(*loaded)
        return run_in_transaction(lambda: self.act(*loaded))


@dataclass
class Outcome:
    """What one actor's request ended with."""

    kind: str  # "done", "refused" or "error"
    value: object = None


@dataclass
class Round:
    """One round: what each actor got and what the invariants say after it."""

    outcomes: list[Outcome]
    broken: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        """Outcomes that a user would have seen as a server error."""
        return [str(o.value) for o in self.outcomes if o.kind == "error"]


def race(app, actors: list[Actor], since_message_id: int) -> Round:
    """Run the actors in threads released together; check the invariants afterwards."""
    start_line = threading.Barrier(len(actors), timeout=RACE_TIMEOUT_SECONDS)
    outcomes: list[Outcome] = [Outcome("error", "thread did not finish")] * len(actors)

    def attempt(index: int, actor: Actor) -> None:
        with app.app_context(), force_locale("en"):
            try:
                loaded = actor.load()
                start_line.wait()
                outcomes[index] = Outcome("done", actor.run(loaded))
            except SHOWN_TO_USERS as refusal:
                outcomes[index] = Outcome("refused", str(refusal))
            except Exception as error:  # every other error is a finding
                outcomes[index] = Outcome("error", f"{type(error).__name__}: {error}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=pair) for pair in enumerate(actors)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=RACE_TIMEOUT_SECONDS)
    with app.app_context():
        return Round(outcomes, violations(since_message_id))


class World(PlacesDesk):
    """Builds each round's families, slots, bookings and lines, each step committed, at a
    filed institution (``home``) with a toddler class of 15."""

    def __init__(self, app, user, institution):
        super().__init__(app, user, NOW, BORN)
        self.institution = institution
        self.home = institution(offers=OFFERS, classes=((ClassKind.TODDLER, 15, 3),))

    def last_message_id(self) -> int:
        """The newest outbox message's id (0 for none)."""
        return self.run(lambda: db.session.scalar(sa.select(sa.func.max(OutboxMessage.id))) or 0)

    def class_of(self, institution_id: int) -> int:
        """The first class of an institution."""
        return self.run(
            lambda: db.session.scalar(
                sa.select(CareClass.id)
                .where(CareClass.institution_id == institution_id)
                .order_by(CareClass.id)
            )
        )

    def slot(
        self,
        day: date,
        places: int,
        care_type: CareType = CareType.HOURLY,
        hours: tuple[time, time] = (time(9), time(10)),
        institution_id: int | None = None,
    ) -> int:
        """A new slot of the institution's first class."""
        return self.add_slot(
            self.class_of(institution_id or self.home), care_type, day, hours, places
        )

    def full_slot_with_line(
        self, day: date, places: int, waiting: int, hours: tuple[time, time] = (time(9), time(10))
    ):
        """A slot of ``places`` places all booked, and ``waiting`` families in line.

        Returns ``(slot_id, [(family, booking_id)], [(family, entry_id)])``.
        """
        slot_id = self.slot(day, places, hours=hours)
        holders = [(f, self.book(f, slot_id)) for f in (self.family() for _ in range(places))]
        line = [(f, self.join(f, slot_id)) for f in (self.family() for _ in range(waiting))]
        return slot_id, holders, line

    def status(self, model, record_id: int):
        """A record's status."""
        return self.run(lambda: db.session.get(model, record_id).status)

    def count(self, statement) -> int:
        """The number a count statement returns."""
        return self.run(lambda: db.session.scalar(statement))


# --- the actions, as requests do them ------------------------------------------------------


def booking_by(family, slot_id: int, key: str | None = None) -> Actor:
    """A parent books ``slot_id`` for the family's child (with ``key``, the form's), the
    slot loaded as the booking page loads it (with its places)."""
    parent_id, child_id = family
    form_key = key or booking.new_request_key()
    return Actor(
        lambda: (
            db.session.get(User, parent_id),
            db.session.get(Child, child_id),
            booking.bookable_slot(slot_id),
        ),
        lambda parent, child, slot: booking.book(parent, child.id, slot, form_key, NOW).id,
    )


def cancelling(family, booking_id: int) -> Actor:
    """The parent cancels a booking."""
    return Actor(
        lambda: (db.session.get(User, family[0]), db.session.get(Booking, booking_id)),
        lambda parent, held: booking.cancel_by_parent(parent, held, NOW),
    )


def joining(family, slot_id: int) -> Actor:
    """A parent joins the slot's waiting list."""
    parent_id, child_id = family
    return Actor(
        lambda: (
            db.session.get(User, parent_id),
            db.session.get(Child, child_id),
            db.session.get(Slot, slot_id),
        ),
        lambda parent, child, slot: booking.join_waitlist(parent, child, slot, NOW).id,
    )


def leaving(family, entry_id: int) -> Actor:
    """A parent leaves the line or turns the offer down."""
    return Actor(
        lambda: (db.session.get(User, family[0]), db.session.get(WaitlistEntry, entry_id)),
        lambda parent, entry: booking.leave_waitlist(parent, entry, NOW),
    )


def accepting(family, entry_id: int) -> Actor:
    """A parent takes the place held for the child."""
    key = booking.new_request_key()
    return Actor(
        lambda: (db.session.get(User, family[0]), db.session.get(WaitlistEntry, entry_id)),
        lambda parent, entry: booking.accept_offer(parent, entry, key, NOW).id,
    )


def deciding(booking_id: int, accept: bool) -> Actor:
    """The institution accepts or declines an application."""
    return Actor(
        lambda: (db.session.get(Booking, booking_id),),
        lambda held: booking.decide_application(held, accept, "" if accept else "班级已满", NOW),
    )


def cancelling_slot(slot_id: int) -> Actor:
    """The institution cancels a slot."""
    return Actor(
        lambda: (db.session.get(Slot, slot_id),),
        lambda slot: booking.cancel_slot(slot, "老师生病", NOW),
    )


def read_check_write_cancel(family, booking_id: int) -> Actor:
    """A cancel that looks, then acts: reads the status in one transaction and frees the
    place in the next, with no condition on the state it read (the negative control)."""

    def act(parent, held):
        seen = db.session.scalar(sa.select(Booking.status).where(Booking.id == held.id))
        # Like a view that looks before it acts: the check and the change are two
        # transactions (on SQLite the second waits for the write lock instead of failing).
        db.session.commit()
        if seen not in (BookingStatus.APPLIED, BookingStatus.CONFIRMED):
            raise BookingError("This booking has been cancelled.")
        sleep(0.005)
        begin_write()
        db.session.execute(
            sa.update(Booking).where(Booking.id == held.id).values(status="cancelled")
        )
        capacity.release_place(held.slot.inventory_id, clock.to_utc(NOW), timedelta(hours=12))

    return Actor(
        lambda: (db.session.get(User, family[0]), db.session.get(Booking, booking_id)),
        act,
    )


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def world(app, user, institution) -> World:
    """A filed institution with a toddler class of 15 offering hourly, temporary and
    full-day care."""
    return World(app, user, institution)


def rounds(world: World, app, make_round) -> list[Round]:
    """``ROUNDS`` rounds of ``make_round(day) -> actors``, each on a day of its own."""
    played = []
    for number in range(ROUNDS):
        actors = make_round(FIRST_DAY + timedelta(days=number))
        played.append(race(app, actors, world.last_message_id()))
    return played


def assert_clean(played: list[Round]) -> None:
    """No round broke an invariant or answered with an error."""
    problems = [
        (index, r.errors, r.broken) for index, r in enumerate(played) if r.errors or r.broken
    ]
    assert not problems, f"{len(problems)} of {len(played)} rounds went wrong, e.g. {problems[0]}"


# --- bookings ------------------------------------------------------------------------------


def test_double_tapped_booking_books_once_and_shows_the_booking_to_both_taps(app, world):
    made = []

    def make_round(day):
        family, slot_id = world.family(), world.slot(day, 3)
        key = booking.new_request_key()
        made.append(slot_id)
        return [booking_by(family, slot_id, key), booking_by(family, slot_id, key)]

    played = rounds(world, app, make_round)

    assert_clean(played)
    assert all(r.outcomes[0] == r.outcomes[1] for r in played), "each tap sees the same booking"
    assert all(o.kind == "done" for r in played for o in r.outcomes)


def test_one_child_booked_from_two_pages_at_once_gets_one_place(app, world):
    def make_round(day):
        family, slot_id = world.family(), world.slot(day, 3)
        return [booking_by(family, slot_id), booking_by(family, slot_id)]

    played = rounds(world, app, make_round)

    assert_clean(played)
    assert all(sorted(o.kind for o in r.outcomes) == ["done", "refused"] for r in played)


def test_one_child_in_two_overlapping_slots_at_once_gets_one(app, world):
    def make_round(day):
        family = world.family()
        first = world.slot(day, 3, hours=(time(9), time(11)))
        second = world.slot(day, 3, CareType.TEMPORARY, hours=(time(10), time(12)))
        return [booking_by(family, first), booking_by(family, second)]

    played = rounds(world, app, make_round)

    assert_clean(played)
    assert all(sorted(o.kind for o in r.outcomes) == ["done", "refused"] for r in played)


def test_two_bookings_for_the_last_place_of_a_class_get_one(app, world, institution):
    def make_round(day):
        own = institution(offers=OFFERS, classes=((ClassKind.TODDLER, 2, 1),))
        hour = world.slot(day, 2, institution_id=own)
        whole_day = world.slot(day, 2, CareType.TEMPORARY, (time(8), time(17)), own)
        world.book(world.family(), whole_day)
        return [booking_by(world.family(), hour), booking_by(world.family(), hour)]

    played = rounds(world, app, make_round)

    assert_clean(played)
    assert all(sorted(o.kind for o in r.outcomes) == ["done", "refused"] for r in played)


def test_two_cancels_of_one_booking_free_one_place_for_one_family(app, world):
    def make_round(day):
        _slot, holders, _line = world.full_slot_with_line(day, places=3, waiting=2)
        family, booking_id = holders[0]
        return [cancelling(family, booking_id), cancelling(family, booking_id)]

    played = rounds(world, app, make_round)

    assert_clean(played)
    assert all(sorted(o.kind for o in r.outcomes) == ["done", "refused"] for r in played)
    offers = world.count(
        sa.select(sa.func.count(WaitlistEntry.id)).where(WaitlistEntry.status == WaitStatus.OFFERED)
    )
    assert offers == ROUNDS, "each freed place went to exactly one family"


def test_cancel_and_booking_at_once_never_give_the_place_twice(app, world):
    def make_round(day):
        slot_id = world.slot(day, 1)
        holder = world.family()
        held = world.book(holder, slot_id)
        return [cancelling(holder, held), booking_by(world.family(), slot_id)]

    assert_clean(rounds(world, app, make_round))


def test_cancel_and_joining_the_line_at_once_leave_nobody_waiting_for_a_free_place(app, world):
    def make_round(day):
        slot_id = world.slot(day, 1)
        holder = world.family()
        held = world.book(holder, slot_id)
        return [cancelling(holder, held), joining(world.family(), slot_id)]

    assert_clean(rounds(world, app, make_round))


def test_leaving_the_line_as_a_place_is_offered_passes_the_place_on(app, world):
    seconds = []

    def make_round(day):
        _slot, holders, line = world.full_slot_with_line(day, places=1, waiting=2)
        (first, first_entry), (_second, second_entry) = line
        seconds.append(second_entry)
        return [cancelling(*holders[0]), leaving(first, first_entry)]

    played = rounds(world, app, make_round)

    assert_clean(played)
    assert [world.status(WaitlistEntry, e) for e in seconds] == [WaitStatus.OFFERED] * ROUNDS


def test_taking_and_turning_down_one_offer_at_once_does_one_of_them(app, world):
    def make_round(day):
        _slot, holders, line = world.full_slot_with_line(day, places=1, waiting=2)
        world.cancel(*holders[0])
        first, entry = line[0]
        return [accepting(first, entry), leaving(first, entry)]

    played = rounds(world, app, make_round)

    assert_clean(played)
    assert all(sorted(o.kind for o in r.outcomes) == ["done", "refused"] for r in played)


def test_two_joins_of_one_child_make_one_entry_and_no_error(app, world):
    def make_round(day):
        slot_id, _holders, _line = world.full_slot_with_line(day, places=1, waiting=0)
        family = world.family()
        return [joining(family, slot_id), joining(family, slot_id)]

    played = rounds(world, app, make_round)

    assert_clean(played)
    assert all(r.outcomes[0] == r.outcomes[1] for r in played), "both see the same entry"


# --- the institution -----------------------------------------------------------------------


def _application(world: World, day: date, waiting: int = 1):
    """A full-day class of one place in an institution of its own: one application holding
    it, and ``waiting`` families in line. Returns ``(booking_id, [entry_id])``."""
    own = world.institution(offers=OFFERS, classes=((ClassKind.TODDLER, 15, 3),))
    slot_id = world.slot(day, 1, CareType.FULL_DAY, (time(8), time(17, 30)), own)
    application = world.book(world.family(), slot_id)
    return application, [world.join(world.family(), slot_id) for _ in range(waiting)]


def test_accepting_and_declining_one_application_at_once_decides_it_once(app, world):
    applicants = []

    def make_round(day):
        application, _line = _application(world, day)
        applicants.append((application, world.last_message_id()))
        return [deciding(application, True), deciding(application, False)]

    played = rounds(world, app, make_round)

    assert_clean(played)
    assert all(sorted(o.kind for o in r.outcomes) == ["done", "refused"] for r in played)
    told = [world.count(_messages_to_parent_of(b, since)) for b, since in applicants]
    assert told == [1] * ROUNDS, "the parent hears one decision"


def _messages_to_parent_of(booking_id: int, since: int):
    """How many messages went to a booking's parent after message ``since``."""
    recipient = (
        sa.select(User.email)
        .join(Booking, Booking.parent_id == User.id)
        .where(Booking.id == booking_id)
        .scalar_subquery()
    )
    return sa.select(sa.func.count(OutboxMessage.id)).where(
        OutboxMessage.id > since, OutboxMessage.recipient == recipient
    )


def test_two_declines_of_one_application_free_one_place(app, world):
    def make_round(day):
        application, _line = _application(world, day, waiting=2)
        return [deciding(application, False), deciding(application, False)]

    played = rounds(world, app, make_round)

    assert_clean(played)
    assert all(sorted(o.kind for o in r.outcomes) == ["done", "refused"] for r in played)


def test_cancelling_a_slot_while_a_parent_books_leaves_no_booking_in_it(app, world):
    slots = []

    def make_round(day):
        slot_id = world.slot(day, 3)
        world.book(world.family(), slot_id)
        slots.append(slot_id)
        return [cancelling_slot(slot_id), booking_by(world.family(), slot_id)]

    played = rounds(world, app, make_round)

    assert_clean(played)
    active_in_cancelled = world.count(
        sa.select(sa.func.count(Booking.id))
        .join(Slot, Slot.id == Booking.slot_id)
        .where(Slot.status == SlotStatus.CANCELLED, Booking.status == BookingStatus.CONFIRMED)
    )
    assert active_in_cancelled == 0


# --- courses -------------------------------------------------------------------------------


def _session(world: World, seats: int) -> int:
    """A session of a new live course of a verified provider; its id."""
    provider_user = world.user(Role.PROVIDER)

    def make():
        provider = Provider(
            user_id=provider_user,
            name="晋江市妇幼保健院",
            organisation_type=OrganisationType.MCH_HOSPITAL,
            phone="0595-85661234",
            status=ProviderStatus.VERIFIED,
        )
        db.session.add(provider)
        db.session.flush()
        course = courses.create_course(
            provider,
            [(datetime(2030, 3, 20, 9), datetime(2030, 3, 20, 10, 30))],
            title="辅食添加",
            topic=Topic.NUTRITION,
            format=CourseFormat.LIVE_ONLINE,
            link="https://live.example.com/room-1",
            min_age_months=6,
            max_age_months=18,
            seats=seats,
            allow_second_seat=False,
            registration_opens_at=NOW - timedelta(days=7),
            registration_closes_at=datetime(2030, 3, 19),
        )
        db.session.flush()
        return db.session.get(Course, course.id).sessions[0].id

    return world.run(make)


def registering(parent_id: int, session_id: int) -> Actor:
    """A family registers for a session."""
    key = booking.new_request_key()
    return Actor(
        lambda: (db.session.get(User, parent_id), db.session.get(CourseSession, session_id)),
        lambda parent, session: courses.register(parent, session, 1, key, NOW).id,
    )


def cancelling_registration(parent_id: int, registration_id: int) -> Actor:
    """A family cancels its registration."""
    return Actor(
        lambda: (
            db.session.get(User, parent_id),
            db.session.get(CourseRegistration, registration_id),
        ),
        lambda parent, registration: courses.cancel_registration(parent, registration, NOW),
    )


def _registered(world: World, session_id: int) -> tuple[int, int]:
    """A new family registered for the session: ``(parent_id, registration_id)``."""
    parent_id = world.user(Role.PARENT)
    registration_id = world.run(
        lambda: (
            courses.register(
                db.session.get(User, parent_id),
                db.session.get(CourseSession, session_id),
                1,
                booking.new_request_key(),
                NOW,
            ).id
        )
    )
    return parent_id, registration_id


def test_registering_and_cancelling_a_seat_at_once_never_gives_it_twice(app, world):
    def make_round(_day):
        session_id = _session(world, seats=1)
        return [
            cancelling_registration(*_registered(world, session_id)),
            registering(world.user(Role.PARENT), session_id),
        ]

    assert_clean(rounds(world, app, make_round))


def test_two_cancels_of_one_registration_free_its_seat_once(app, world):
    def make_round(_day):
        session_id = _session(world, seats=1)
        parent_id, registration_id = _registered(world, session_id)
        for _ in range(2):
            waiting = world.user(Role.PARENT)
            world.run(
                lambda waiting=waiting: courses.join_waitlist(
                    db.session.get(User, waiting), db.session.get(CourseSession, session_id), NOW
                )
            )
        return [
            cancelling_registration(parent_id, registration_id),
            cancelling_registration(parent_id, registration_id),
        ]

    played = rounds(world, app, make_round)

    assert_clean(played)
    assert all(sorted(o.kind for o in r.outcomes) == ["done", "refused"] for r in played)
    assert (
        world.count(
            sa.select(sa.func.count(CourseRegistration.id)).where(
                CourseRegistration.status == RegistrationStatus.CANCELLED
            )
        )
        == ROUNDS
    )


# --- the jobs ------------------------------------------------------------------------------


def test_two_job_runs_at_once_expire_each_offer_once_and_send_each_message_once(app, world):
    sent: list[int] = []
    lock = threading.Lock()

    def record(message):
        with lock:
            sent.append(message.id)

    after_hold = clock.to_utc(NOW) + timedelta(days=3)

    def job() -> Actor:
        return Actor(lambda: (), lambda: run_jobs(after_hold, NOW.date(), record), True)

    def make_round(day):
        for hour in (9, 10):
            _slot, holders, _line = world.full_slot_with_line(
                day, places=1, waiting=3, hours=(time(hour), time(hour + 1))
            )
            world.cancel(*holders[0])
        return [job(), job()]

    played = rounds(world, app, make_round)

    assert_clean(played)
    assert sorted(sent) == sorted(set(sent)), "a message was sent twice"
    unsent = world.count(
        sa.select(sa.func.count(OutboxMessage.id)).where(OutboxMessage.sent_at.is_(None))
    )
    assert unsent == 0
    # Every round: two slots whose first offer expired and passed to the second in line.
    expired = world.count(
        sa.select(sa.func.count(WaitlistEntry.id)).where(WaitlistEntry.status == WaitStatus.EXPIRED)
    )
    assert expired == 2 * ROUNDS


# --- the harness can see the bug -----------------------------------------------------------


def test_harness_catches_a_read_check_write_cancel(app, world):
    def make_round(day):
        _slot, holders, _line = world.full_slot_with_line(day, places=3, waiting=2)
        family, booking_id = holders[0]
        return [
            read_check_write_cancel(family, booking_id),
            read_check_write_cancel(family, booking_id),
        ]

    played = rounds(world, app, make_round)

    assert [r.errors for r in played] == [[]] * ROUNDS
    caught = [r for r in played if r.broken]
    assert caught, f"the harness never saw a place freed twice: {[r.outcomes for r in played]}"
