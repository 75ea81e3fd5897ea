"""Sessions of the day (上午, 下午) of hourly and temporary care: named by the institution,
opened as slots, and counted in the class like every other place: a morning and an afternoon
session may each fill the class, a whole-day place counts in both, never oversold in a race.
"""

import threading
from datetime import date, datetime, time, timedelta
from html import unescape

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from places_desk import PlacesDesk

from careapp import clock
from careapp.database import run_in_transaction
from careapp.extensions import db
from careapp.models import (
    ACTIVE_BOOKING_STATUSES,
    Booking,
    CareClass,
    CareSession,
    CareType,
    Child,
    ClassKind,
    ClosedDate,
    Role,
    Slot,
    User,
)
from careapp.services import availability, booking, care_sessions
from careapp.services.booking import BookingError, SlotFull

NOW = datetime(2030, 3, 1, 8, 0)
#: A Monday; the class runs Monday to Friday.
MONDAY = date(2030, 3, 4)
BORN = date(2028, 2, 1)
OFFERS = {
    CareType.FULL_DAY: (6, 36, 2800),
    CareType.HOURLY: (6, 36, 30),
    CareType.TEMPORARY: (6, 36, 150),
}
MORNING, AFTERNOON, WHOLE_DAY = (
    (time(8), time(12)),
    (time(13, 30), time(17, 30)),
    (time(8), time(17, 30)),
)
#: Races per database for each pair of sessions.
ROUNDS = 10
RACE_TIMEOUT_SECONDS = 60


def make_class(institution, places: int = 2) -> int:
    """An institution offering hourly and temporary care with one class of ``places``."""
    return institution(offers=OFFERS, classes=((ClassKind.OLDER_TODDLER, places, 1),))


def class_of(app, institution_id: int) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(CareClass.id).where(CareClass.institution_id == institution_id)
        )


def add_session(app, class_id, care_type, name, hours) -> int:
    """A session through the service, committed; its id."""
    with app.app_context(), force_locale("en"):
        return run_in_transaction(
            lambda: (
                care_sessions.add_session(
                    db.session.get(CareClass, class_id), care_type, name, *hours
                ).id
            )
        )


def open_session(app, session_id, day, places, last=None) -> list[int]:
    """Slots of a session from ``day`` to ``last`` (the same day by default); their ids."""
    with app.app_context(), force_locale("en"):
        run_in_transaction(
            lambda: care_sessions.add_session_slots(
                db.session.get(CareSession, session_id), day, last or day, places, NOW.date()
            )
        )
        return list(
            db.session.scalars(
                sa.select(Slot.id).where(Slot.session_id == session_id).order_by(Slot.on_date)
            )
        )


def refusal(app, work) -> str:
    """The English message of the BookingError ``work`` raises (nothing is saved)."""
    with app.app_context(), force_locale("en"):
        with pytest.raises(BookingError) as refused:
            run_in_transaction(work)
        return str(refused.value.message)


# --- the institution names its sessions ------------------------------------------------------


@pytest.mark.parametrize(
    ("care_type", "name", "hours", "message"),
    [
        (CareType.HOURLY, "早上", (time(7), time(9)), "within its opening hours, 08:00 to 17:30"),
        (CareType.HOURLY, "晚上", (time(16), time(19)), "within its opening hours"),
        (CareType.HOURLY, "反了", (time(12), time(8)), "The end must be after the start."),
        (CareType.HOURLY, "零", (time(9), time(9)), "The end must be after the start."),
        (CareType.FULL_DAY, "上午", MORNING, "Sessions are for hourly and temporary care."),
    ],
)
def test_a_session_outside_the_hours_or_backwards_or_of_full_day_care_is_refused(
    app, institution, care_type, name, hours, message
):
    class_id = class_of(app, make_class(institution))

    said = refusal(
        app,
        lambda: care_sessions.add_session(
            db.session.get(CareClass, class_id), care_type, name, *hours
        ),
    )

    assert message in said
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(CareSession.id))) == 0


def test_a_class_cannot_have_two_sessions_of_one_name_or_of_the_same_hours(app, institution):
    class_id = class_of(app, make_class(institution))
    add_session(app, class_id, CareType.TEMPORARY, "上午", MORNING)

    def add(name, hours, care_type=CareType.TEMPORARY):
        return lambda: care_sessions.add_session(
            db.session.get(CareClass, class_id), care_type, name, *hours
        )

    assert "already has a session called 上午" in refusal(app, add(" 上午 ", AFTERNOON))
    assert "already has a session at these hours: 上午" in refusal(app, add("早班", MORNING))
    # Another care type of the class may use the name and the hours.
    add_session(app, class_id, CareType.HOURLY, "上午", MORNING)
    add_session(app, class_id, CareType.TEMPORARY, "下午", AFTERNOON)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(CareSession.id))) == 3


def test_a_sessions_slots_are_made_on_the_days_the_class_runs_and_the_institution_is_open(
    app, institution
):
    institution_id = make_class(institution)
    class_id = class_of(app, institution_id)
    with app.app_context():
        db.session.add(ClosedDate(institution_id=institution_id, on_date=MONDAY + timedelta(2)))
        db.session.commit()
    morning = add_session(app, class_id, CareType.TEMPORARY, "上午", MORNING)

    made = open_session(app, morning, MONDAY, 2, last=MONDAY + timedelta(days=6))
    # Again over the same week: the days that have the session already are skipped.
    again = open_session(app, morning, MONDAY, 2, last=MONDAY + timedelta(days=6))

    with app.app_context():
        slots = [db.session.get(Slot, slot_id) for slot_id in made]
        assert [s.on_date.isoformat() for s in slots] == [
            "2030-03-04",
            "2030-03-05",
            "2030-03-07",
            "2030-03-08",
        ]
        assert {(s.starts_at, s.ends_at, s.session_name, s.care_type) for s in slots} == {
            (time(8), time(12), "上午", CareType.TEMPORARY)
        }
    assert again == made


def test_a_sessions_slots_need_a_short_range_from_today_and_places_within_the_class(
    app, institution
):
    class_id = class_of(app, make_class(institution, places=2))
    morning = add_session(app, class_id, CareType.TEMPORARY, "上午", MORNING)

    def slots(first, last, places):
        return lambda: care_sessions.add_session_slots(
            db.session.get(CareSession, morning), first, last, places, NOW.date()
        )

    assert "has passed" in refusal(app, slots(NOW.date() - timedelta(1), MONDAY, 1))
    assert "must not be before" in refusal(app, slots(MONDAY, MONDAY - timedelta(1), 1))
    assert "at most 31 days" in refusal(app, slots(MONDAY, MONDAY + timedelta(31), 1))
    assert "from 1 to 2 places" in refusal(app, slots(MONDAY, MONDAY, 3))


# --- the class counts every moment ------------------------------------------------------------


class Desk(PlacesDesk):
    """Families booking sessions at ``NOW``."""

    def __init__(self, app, user):
        super().__init__(app, user, NOW, BORN)

    def left(self, slot_id: int) -> int:
        with self.app.app_context():
            return availability.places_left(db.session.get(Slot, slot_id), NOW.date())


def test_morning_and_afternoon_each_fill_the_class_and_a_whole_day_counts_in_both(
    app, institution, user
):
    desk = Desk(app, user)
    class_id = class_of(app, make_class(institution, places=2))
    [morning] = open_session(
        app, add_session(app, class_id, CareType.TEMPORARY, "上午", MORNING), MONDAY, 2
    )
    [afternoon] = open_session(
        app, add_session(app, class_id, CareType.TEMPORARY, "下午", AFTERNOON), MONDAY, 2
    )
    whole_day = desk.add_slot(
        class_id, CareType.TEMPORARY, MONDAY + timedelta(0), (time(8, 30), time(17)), 2
    )

    desk.book(desk.family("王一"), morning)
    desk.book(desk.family("王二"), morning)

    assert (desk.left(morning), desk.left(afternoon), desk.left(whole_day)) == (0, 2, 0)
    with pytest.raises(SlotFull):
        desk.book(desk.family("王三"), whole_day)
    desk.book(desk.family("李一"), afternoon)
    desk.book(desk.family("李二"), afternoon)
    assert (desk.left(morning), desk.left(afternoon), desk.left(whole_day)) == (0, 0, 0)


def test_a_whole_day_place_leaves_one_place_in_each_session_of_a_class_of_two(
    app, institution, user
):
    desk = Desk(app, user)
    class_id = class_of(app, make_class(institution, places=2))
    [morning] = open_session(
        app, add_session(app, class_id, CareType.HOURLY, "上午", MORNING), MONDAY, 2
    )
    [afternoon] = open_session(
        app, add_session(app, class_id, CareType.HOURLY, "下午", AFTERNOON), MONDAY, 2
    )
    whole_day = desk.add_slot(class_id, CareType.TEMPORARY, MONDAY, WHOLE_DAY, 2)

    desk.book(desk.family("王一"), whole_day)

    assert (desk.left(morning), desk.left(afternoon), desk.left(whole_day)) == (1, 1, 1)
    desk.book(desk.family("王二"), morning)
    with pytest.raises(SlotFull):
        desk.book(desk.family("王三"), morning)
    assert desk.left(whole_day) == 0
    assert desk.left(afternoon) == 1


# --- races on the database -------------------------------------------------------------------


def race(app, entrants) -> tuple[int, int, list[str]]:
    """Each ``(parent_id, child_id, slot_id)`` books at one barrier, its own connection.
    Returns (booked, told full, unexpected errors)."""
    start = threading.Barrier(len(entrants))
    booked, full, unexpected = [], [], []

    def attempt(parent_id, child_id, slot_id):
        try:
            start.wait(timeout=RACE_TIMEOUT_SECONDS)
            with app.app_context():
                parent = db.session.get(User, parent_id)
                child = db.session.get(Child, child_id)
                slot = db.session.get(Slot, slot_id)
                run_in_transaction(
                    lambda: booking.book(parent, child.id, slot, booking.new_request_key(), NOW)
                )
                booked.append(slot_id)
        except SlotFull:
            full.append(slot_id)
        except Exception as error:  # every other error is a finding
            unexpected.append(f"{type(error).__name__}: {error}")

    threads = [threading.Thread(target=attempt, args=entrant) for entrant in entrants]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=RACE_TIMEOUT_SECONDS)
    unexpected += ["thread still running" for thread in threads if thread.is_alive()]
    return len(booked), len(full), unexpected


def peak_in_class(app, class_id: int, day: date) -> int:
    """The most children booked in the class at one moment of ``day``, counted in SQL rows."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(Slot.starts_at, Slot.ends_at)
            .join(Booking, Booking.slot_id == Slot.id)
            .where(
                Slot.care_class_id == class_id,
                Slot.on_date == day,
                Booking.status.in_(ACTIVE_BOOKING_STATUSES),
            )
        ).all()
    return max((sum(1 for s, e in rows if s <= t < e) for t, _ in rows), default=0)


@pytest.fixture
def last_place(app, institution, user):
    """A class of one place, its three sessions' ids, and two families."""
    desk = Desk(app, user)
    class_id = class_of(app, make_class(institution, places=1))
    sessions = {
        name: add_session(app, class_id, care_type, name, hours)
        for name, care_type, hours in (
            ("上午", CareType.HOURLY, MORNING),
            ("下午", CareType.HOURLY, AFTERNOON),
            ("全天", CareType.TEMPORARY, WHOLE_DAY),
        )
    }
    families = [desk.family("王一"), desk.family("李二")]
    return class_id, sessions, families


@pytest.mark.parametrize(
    ("first", "second", "both_fit"),
    [("上午", "全天", False), ("全天", "下午", False), ("上午", "下午", True)],
)
def test_two_families_racing_for_the_last_place_in_two_sessions(
    app, last_place, first, second, both_fit
):
    class_id, sessions, (one, other) = last_place
    outcomes = []
    for number in range(ROUNDS):
        day = MONDAY + timedelta(days=7 * number)
        [a] = [s for s in open_session(app, sessions[first], day, 1) if _on(app, s, day)]
        [b] = [s for s in open_session(app, sessions[second], day, 1) if _on(app, s, day)]
        booked, full, unexpected = race(app, [(*one, a), (*other, b)])
        outcomes.append((booked, full, unexpected, peak_in_class(app, class_id, day)))

    expected = (2, 0, [], 1) if both_fit else (1, 1, [], 1)
    assert outcomes == [expected] * ROUNDS


def _on(app, slot_id: int, day: date) -> bool:
    with app.app_context():
        return db.session.get(Slot, slot_id).on_date == day


# --- pages ----------------------------------------------------------------------------------


@pytest.fixture
def owner(user):
    return user(Role.INSTITUTION)


@pytest.fixture
def staff(client, auth, owner):
    auth.login(owner)
    client.set_cookie("lang", "en")
    return client


def page(response) -> str:
    return unescape(response.get_data(as_text=True))


def test_the_institution_adds_a_session_and_opens_its_slots_on_its_places_page(
    app, staff, institution, owner
):
    institution_id = institution(
        owner_id=owner, offers=OFFERS, classes=((ClassKind.OLDER_TODDLER, 2, 1),)
    )
    class_id = class_of(app, institution_id)
    today = clock.today()

    added = staff.post(
        f"/institutions/{institution_id}/sessions",
        data={
            "session-care_class_id": class_id,
            "session-care_type": "temporary",
            "session-name": "下午",
            "session-starts_at": "13:30",
            "session-ends_at": "17:30",
        },
    )
    assert added.status_code == 302
    with app.app_context():
        session_id = db.session.scalar(sa.select(CareSession.id))
    opened = staff.post(
        f"/institutions/{institution_id}/sessions/slots",
        data={
            "session-slots-session_id": session_id,
            "session-slots-first_day": today.isoformat(),
            "session-slots-last_day": (today + timedelta(days=6)).isoformat(),
            "session-slots-places": "2",
        },
        follow_redirects=True,
    )

    text = page(opened)
    assert "slots of 下午 were added" in text
    assert "Sessions of the day" in text
    assert "下午</strong> 13:30–17:30" in text
    with app.app_context():
        made = db.session.scalars(sa.select(Slot).where(Slot.session_id == session_id)).all()
        assert made
        assert {s.session_name for s in made} == {"下午"}
    public = page(staff.get(f"/institutions/{institution_id}?care_type=temporary"))
    assert "下午 13:30–17:30" in public


def test_a_session_outside_the_hours_is_shown_again_with_the_reason_and_what_was_typed(
    app, staff, institution, owner
):
    institution_id = institution(
        owner_id=owner, offers=OFFERS, classes=((ClassKind.OLDER_TODDLER, 2, 1),)
    )
    class_id = class_of(app, institution_id)

    response = staff.post(
        f"/institutions/{institution_id}/sessions",
        data={
            "session-care_class_id": class_id,
            "session-care_type": "hourly",
            "session-name": "晚上",
            "session-starts_at": "18:00",
            "session-ends_at": "20:00",
        },
    )

    assert response.status_code == 400
    text = page(response)
    assert "within its opening hours, 08:00 to 17:30" in text
    assert 'value="晚上"' in text
    assert 'value="18:00"' in text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(CareSession.id))) == 0


def test_another_institutions_session_is_not_found(app, staff, institution, owner, user):
    mine = institution(owner_id=owner, offers=OFFERS)
    theirs = institution("别家托育", owner_id=user(Role.INSTITUTION), offers=OFFERS)
    session_id = add_session(app, class_of(app, theirs), CareType.HOURLY, "上午", MORNING)
    add_session(app, class_of(app, mine), CareType.HOURLY, "上午", MORNING)

    deleted = staff.post(f"/institutions/{mine}/sessions/{session_id}/delete")
    opened = staff.post(
        f"/institutions/{mine}/sessions/slots",
        data={
            "session-slots-session_id": session_id,
            "session-slots-first_day": clock.today().isoformat(),
            "session-slots-last_day": clock.today().isoformat(),
            "session-slots-places": "1",
        },
    )

    assert deleted.status_code == 404
    # Not one of mine: the form's choices refuse it, and nothing is made.
    assert opened.status_code == 200
    assert "Not a valid choice" in page(opened)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(CareSession.id))) == 2
        assert db.session.scalar(sa.select(sa.func.count(Slot.id))) == 0


def test_removing_a_session_keeps_its_slots_and_their_bookings(app, staff, institution, owner):
    institution_id = institution(
        owner_id=owner, offers=OFFERS, classes=((ClassKind.OLDER_TODDLER, 2, 1),)
    )
    class_id = class_of(app, institution_id)
    session_id = add_session(app, class_id, CareType.HOURLY, "上午", MORNING)
    [slot_id] = open_session(app, session_id, MONDAY, 2)

    response = staff.post(f"/institutions/{institution_id}/sessions/{session_id}/delete")

    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(CareSession, session_id) is None
        kept = db.session.get(Slot, slot_id)
        assert (kept.session_id, kept.session_name) == (None, "上午")
