"""Course seats are never given twice: families racing through the shared capacity engine,
on the file SQLite database and on PostgreSQL (``TEST_DATABASE_URL``).

Each racing thread works like a request: its own app context and session, the family and the
session loaded first, then one ``run_in_transaction`` around ``courses.register``. All threads
wait at a ``threading.Barrier`` so they press "register" together.
"""

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from careapp.database import run_in_transaction
from careapp.extensions import db
from careapp.models import (
    ACTIVE_REGISTRATION_STATUSES,
    Course,
    CourseFormat,
    CourseRegistration,
    CourseSession,
    Inventory,
    OrganisationType,
    Provider,
    ProviderStatus,
    Role,
    Topic,
    User,
)
from careapp.services import courses
from careapp.services.courses import SessionFull

#: Families pressing "register" at the same moment.
RACERS = 20
#: Seats of each contested one-seat-per-family session.
SEATS = 3
#: Seats of each contested session where every family takes two.
PAIR_SEATS = 5
#: Races per database and test.
REPETITIONS = 20
#: The local time at which everybody registers (sessions are later).
NOW = datetime(2030, 3, 1, 8, 0)
#: The first contested session; the others follow weekly.
FIRST_START = datetime(2030, 3, 4, 9, 0)
#: How long a thread waits for the others at the start line, and for the race to end.
RACE_TIMEOUT_SECONDS = 60


@dataclass
class Outcome:
    """What one race left behind."""

    #: ``(parent_id, seats)`` of each active registration.
    registrations: list[tuple[int, int]]
    taken: int
    #: Parents whose call returned a registration.
    succeeded: list[int] = field(default_factory=list)
    told_full: int = 0
    unexpected: list[str] = field(default_factory=list)

    @property
    def seats_registered(self) -> int:
        """Seats held by active registrations."""
        return sum(seats for _parent, seats in self.registrations)


@pytest.fixture
def provider_id(app, user) -> int:
    """A verified guidance provider."""
    account_id = user(Role.PROVIDER)
    with app.app_context():
        provider = Provider(
            user_id=account_id,
            name="晋江市妇幼保健院",
            organisation_type=OrganisationType.MCH_HOSPITAL,
            phone="0595-85661234",
            status=ProviderStatus.VERIFIED,
        )
        db.session.add(provider)
        db.session.commit()
        return provider.id


@pytest.fixture
def families(user) -> list[int]:
    """``RACERS`` parent accounts."""
    return [user(Role.PARENT) for _ in range(RACERS)]


def live_course(app, provider_id: int, count: int, closes_at, **fields) -> tuple[int, list[int]]:
    """A live online course of ``count`` weekly sessions for all under-3s unless ``fields``
    say otherwise; its id and its sessions' ids."""
    settings = {
        "title": "辅食添加",
        "topic": Topic.NUTRITION,
        "link": "https://live.example.com/room-1",
        "min_age_months": 0,
        "max_age_months": 36,
        "allow_second_seat": False,
        **fields,
    }
    with app.app_context():
        course = courses.create_course(
            db.session.get(Provider, provider_id),
            courses.session_times(FIRST_START, 90, count),
            format=CourseFormat.LIVE_ONLINE,
            registration_opens_at=NOW - timedelta(days=7),
            registration_closes_at=closes_at,
            **settings,
        )
        db.session.commit()
        return course.id, [session.id for session in db.session.get(Course, course.id).sessions]


def weekly_sessions(app, provider_id: int, seats: int, allow_second_seat: bool) -> list[int]:
    """A course of ``REPETITIONS`` weekly sessions of ``seats`` seats; their ids."""
    closes_at = FIRST_START + timedelta(weeks=REPETITIONS)
    _course, sessions = live_course(
        app,
        provider_id,
        REPETITIONS,
        closes_at,
        seats=seats,
        allow_second_seat=allow_second_seat,
        min_age_months=6,
        max_age_months=18,
    )
    return sessions


def outcome_of(app, session_id: int) -> Outcome:
    """Active registrations of a session and the seats its inventory counts as taken."""
    with app.app_context():
        registrations = [
            tuple(row)
            for row in db.session.execute(
                sa.select(CourseRegistration.parent_id, CourseRegistration.seats).where(
                    CourseRegistration.session_id == session_id,
                    CourseRegistration.status.in_(ACTIVE_REGISTRATION_STATUSES),
                )
            )
        ]
        taken = db.session.scalar(
            sa.select(Inventory.taken)
            .join(CourseSession, CourseSession.inventory_id == Inventory.id)
            .where(CourseSession.id == session_id)
        )
    return Outcome(registrations=registrations, taken=taken)


def race(app, session_id: int, entrants: list[tuple[int, int]]) -> Outcome:
    """Start one thread per ``(parent_id, seats)`` together; wait for all of them.

    SessionFull is counted; any other exception is recorded as unexpected.
    """
    start_line = threading.Barrier(len(entrants))
    succeeded, told_full, unexpected = [], [], []

    def attempt(parent_id: int, seats: int) -> None:
        try:
            start_line.wait(timeout=RACE_TIMEOUT_SECONDS)
            with app.app_context():
                parent = db.session.get(User, parent_id)
                session = db.session.get(CourseSession, session_id)
                key = f"race-{session_id}-{parent_id}"
                run_in_transaction(lambda: courses.register(parent, session, seats, key, NOW))
                succeeded.append(parent_id)
        except SessionFull:
            told_full.append(parent_id)
        except Exception as error:  # every other error is a finding
            unexpected.append(f"{type(error).__name__}: {error}".splitlines()[0])

    threads = [threading.Thread(target=attempt, args=entrant) for entrant in entrants]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=RACE_TIMEOUT_SECONDS)
    unexpected.extend("thread still running" for thread in threads if thread.is_alive())
    outcome = outcome_of(app, session_id)
    outcome.succeeded = sorted(succeeded)
    outcome.told_full = len(told_full)
    outcome.unexpected = unexpected
    return outcome


def test_twenty_families_racing_for_three_seats_get_exactly_three(app, provider_id, families):
    sessions = weekly_sessions(app, provider_id, SEATS, allow_second_seat=False)

    outcomes = [race(app, session_id, [(f, 1) for f in families]) for session_id in sessions]

    assert [outcome.unexpected for outcome in outcomes] == [[]] * REPETITIONS
    assert [
        (len(outcome.registrations), outcome.taken, outcome.told_full) for outcome in outcomes
    ] == [(SEATS, SEATS, RACERS - SEATS)] * REPETITIONS
    # The families told they are registered are exactly the ones holding the seats.
    assert all(
        sorted(parent for parent, _seats in outcome.registrations) == outcome.succeeded
        for outcome in outcomes
    )


def test_families_taking_two_seats_never_exceed_the_seats(app, provider_id, families):
    sessions = weekly_sessions(app, provider_id, PAIR_SEATS, allow_second_seat=True)

    outcomes = [race(app, session_id, [(f, 2) for f in families]) for session_id in sessions]

    assert [outcome.unexpected for outcome in outcomes] == [[]] * REPETITIONS
    # Two families get two seats each; the fifth seat stays free, because a family whose
    # second seat fails keeps neither (its whole transaction rolls back).
    assert [
        (
            sorted(seats for _parent, seats in outcome.registrations),
            outcome.taken,
            outcome.told_full,
        )
        for outcome in outcomes
    ] == [([2, 2], 4, RACERS - 2)] * REPETITIONS
    assert all(
        sorted(parent for parent, _seats in outcome.registrations) == outcome.succeeded
        for outcome in outcomes
    )


def test_families_taking_one_or_two_seats_fill_the_session_without_overselling(
    app, provider_id, families
):
    sessions = weekly_sessions(app, provider_id, PAIR_SEATS, allow_second_seat=True)
    entrants = [(family, 1 + number % 2) for number, family in enumerate(families)]

    outcomes = [race(app, session_id, entrants) for session_id in sessions]

    assert [outcome.unexpected for outcome in outcomes] == [[]] * REPETITIONS
    # Ten families want one seat, so the last seat never stays free; the counter and the
    # registrations agree.
    assert [(outcome.taken, outcome.seats_registered) for outcome in outcomes] == [
        (PAIR_SEATS, PAIR_SEATS)
    ] * REPETITIONS
    assert all(
        sorted(parent for parent, _seats in outcome.registrations) == outcome.succeeded
        for outcome in outcomes
    )


# --- joining a whole weekly series at once ----------------------------------------------------

#: Sessions of each contested series, and the races run on it.
SERIES_SESSIONS = 4
SERIES_ROUNDS = 5


def series_course(app, provider_id: int, seats: int) -> tuple[int, list[int]]:
    """A weekly course of ``SERIES_SESSIONS`` sessions; its id and its sessions' ids."""
    return live_course(
        app,
        provider_id,
        SERIES_SESSIONS,
        FIRST_START,
        seats=seats,
        title="科学育儿系列",
        topic=Topic.GROWTH,
        link="https://live.example.com/room-2",
    )


def race_series(app, course_id: int, entrants: list[tuple[int, int | None, str]]) -> list[str]:
    """Start every ``(parent_id, session_id or None for the series, key)`` together; returns
    the unexpected errors (a full session or series is expected)."""
    start_line = threading.Barrier(len(entrants))
    unexpected = []

    def attempt(parent_id: int, session_id: int | None, key: str) -> None:
        try:
            start_line.wait(timeout=RACE_TIMEOUT_SECONDS)
            with app.app_context():
                parent = db.session.get(User, parent_id)
                if session_id is None:
                    course = courses.public_course(course_id)
                    run_in_transaction(lambda: courses.register_series(parent, course, 1, key, NOW))
                else:
                    session = db.session.get(CourseSession, session_id)
                    run_in_transaction(lambda: courses.register(parent, session, 1, key, NOW))
        except courses.CourseError:
            pass  # full: told so, nothing taken
        except Exception as error:  # every other error (a deadlock, a lock timeout) is a finding
            unexpected.append(f"{type(error).__name__}: {error}".splitlines()[0])

    threads = [threading.Thread(target=attempt, args=entrant) for entrant in entrants]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=RACE_TIMEOUT_SECONDS)
    unexpected.extend("thread still running" for thread in threads if thread.is_alive())
    return unexpected


def test_series_and_single_registrations_racing_never_oversell_any_session(
    app, provider_id, families
):
    for round_number in range(SERIES_ROUNDS):
        course_id, sessions = series_course(app, provider_id, SEATS)
        entrants = [
            (
                family,
                None if number % 2 else sessions[(number // 2) % SERIES_SESSIONS],
                f"series-{round_number}-{family}",
            )
            for number, family in enumerate(families)
        ]
        # One family taps "join the series" twice at once: one series, not two.
        entrants.append((families[1], None, f"series-{round_number}-{families[1]}"))

        unexpected = race_series(app, course_id, entrants)

        outcomes = [outcome_of(app, session_id) for session_id in sessions]
        assert unexpected == []
        # Every session is full, its counter agrees with its registrations, and no family
        # holds two registrations of one session.
        assert [(o.taken, o.seats_registered) for o in outcomes] == [(SEATS, SEATS)] * len(sessions)
        for o in outcomes:
            parents = [parent for parent, _seats in o.registrations]
            assert len(parents) == len(set(parents))


def test_a_series_is_all_or_nothing_when_a_session_fails_midway(app, provider_id, families):
    course_id, sessions = series_course(app, provider_id, SEATS)
    with app.app_context():
        course = courses.public_course(course_id)  # the page shows every session as coming
        db.session.expunge_all()
        db.session.rollback()
        with db.engine.begin() as provider:  # meanwhile the provider cancels the last one
            provider.execute(
                sa.update(CourseSession)
                .where(CourseSession.id == sessions[-1])
                .values(status="cancelled")
            )
        course = db.session.merge(course, load=False)
        parent = db.session.get(User, families[0])
        with pytest.raises(courses.CourseError):
            run_in_transaction(lambda: courses.register_series(parent, course, 1, "k", NOW))

    assert [outcome_of(app, session_id).taken for session_id in sessions] == [0] * len(sessions)
