"""The institution side of places: slots, schedules, closed days, roster, applications, export.

Every page belongs to the owner's filed institution only; children's names are masked
everywhere except on the booking itself.
"""

import csv
import io
import re
from datetime import date, time, timedelta
from html import unescape

import pytest
import sqlalchemy as sa
from babel.dates import format_skeleton

from careapp import clock
from careapp.extensions import db
from careapp.models import (
    Attendance,
    Booking,
    BookingStatus,
    CareType,
    ClassKind,
    ClosedDate,
    Institution,
    OutboxMessage,
    Role,
    Schedule,
    Slot,
    SlotStatus,
    Status,
    User,
)
from careapp.services import booking
from careapp.services.search import months_between
from tests.conftest import PASSWORD

OFFERS = {
    CareType.FULL_DAY: (12, 36, 2800),
    CareType.HOURLY: (12, 36, 30),
}
TODDLERS = (ClassKind.TODDLER, 15, 3)
OLDER = (ClassKind.OLDER_TODDLER, 20, 3)
FULL_NAME = "张小明"
MASKED = "张*明"
NOTES = "花生过敏"


def today() -> date:
    """Today at the site."""
    return clock.local_now().date()


def page_text(response) -> str:
    """A response body with entities decoded."""
    return unescape(response.get_data(as_text=True))


def flashes(response, category: str) -> list[str]:
    """The flash messages of ``category`` on a page."""
    pattern = rf'<p class="flash flash-{category}">(.*?)</p>'
    return re.findall(pattern, page_text(response))


def field_errors(response) -> dict[str, str]:
    """The error message next to each field, by field id."""
    return dict(re.findall(r'<p class="error" id="([\w-]+)-error">(.*?)</p>', page_text(response)))


@pytest.fixture
def owner(user):
    """The id of an institution account."""
    return user(Role.INSTITUTION)


@pytest.fixture
def filed(institution, owner):
    """The id of the owner's filed institution: full-day and hourly care, one toddler class."""
    return institution(owner_id=owner, offers=OFFERS, classes=(TODDLERS,))


@pytest.fixture
def staff(client, auth, owner):
    """A client signed in as the owner, reading English."""
    auth.login(owner)
    client.set_cookie("lang", "en")
    return client


@pytest.fixture
def slot(app):
    """Factory: a slot of an institution's class (the first by default); returns its id."""

    def make(
        institution_id: int,
        care_type: CareType = CareType.HOURLY,
        *,
        days_ahead: int = 1,
        starts: time = time(9),
        ends: time = time(11),
        places: int = 3,
        class_index: int = 0,
    ) -> int:
        with app.app_context():
            institution = db.session.get(Institution, institution_id)
            made = booking.add_slot(
                institution.classes[class_index],
                care_type,
                today() + timedelta(days=days_ahead),
                starts,
                ends,
                places,
                today(),
            )
            db.session.commit()
            return made.id

    return make


@pytest.fixture
def book(app, user):
    """Factory: a new parent books a slot for a child of 18 months; returns the booking id."""

    def make(slot_id: int, name: str = FULL_NAME, notes: str = NOTES) -> int:
        parent_id = user(Role.PARENT)
        with app.app_context():
            parent = db.session.get(User, parent_id)
            child = booking.add_child(
                parent,
                name=name,
                birth_date=today() - timedelta(days=548),
                notes=notes,
                consent=True,
            )
            slot = db.session.get(Slot, slot_id)
            made = booking.book(
                parent, child.id, slot, booking.new_request_key(), clock.local_now()
            )
            db.session.commit()
            return made.id

    return make


def stored(app, model, record_id: int):
    """A fresh copy of a record."""
    with app.app_context():
        found = db.session.get(model, record_id)
        db.session.expunge(found)
        return found


def taken(app, slot_id: int) -> tuple[int, int]:
    """A slot's places taken and its capacity."""
    with app.app_context():
        inventory = db.session.get(Slot, slot_id).inventory
        return inventory.taken, inventory.capacity


def slot_data(**changes) -> dict:
    """A valid add-slot form for tomorrow's hourly care of the first class."""
    data = {
        "slot-care_type": "hourly",
        "slot-on_date": (today() + timedelta(days=1)).isoformat(),
        "slot-starts_at": "09:00",
        "slot-ends_at": "11:00",
        "slot-places": "3",
    }
    data.update(changes)
    return data


def class_id(app, institution_id: int, index: int = 0) -> int:
    """The id of one of an institution's classes."""
    with app.app_context():
        return db.session.get(Institution, institution_id).classes[index].id


# --- who may open the pages ----------------------------------------------------------------


def page_urls(institution_id: int) -> list[str]:
    """Every GET page of the places area of an institution."""
    base = f"/institutions/{institution_id}"
    return [f"{base}/places", f"{base}/roster", f"{base}/applications", f"{base}/bookings.csv"]


@pytest.mark.parametrize(
    "status", [Status.DRAFT, Status.UNDER_REVIEW, Status.RETURNED, Status.DEREGISTERED]
)
def test_places_pages_are_not_found_unless_the_institution_is_filed(
    institution, owner, staff, status
):
    institution_id = institution(owner_id=owner, status=status, offers=OFFERS)
    for url in page_urls(institution_id):
        assert staff.get(url).status_code == 404, url
    response = staff.post(f"/institutions/{institution_id}/slots", data=slot_data())
    assert response.status_code == 404


def test_places_pages_of_another_accounts_institution_are_not_found(
    institution, user, staff, filed
):
    other = institution("别家托育中心", owner_id=user(Role.INSTITUTION), offers=OFFERS)
    for url in page_urls(other):
        assert staff.get(url).status_code == 404, url
    for action in ("slots", "schedules", "closed-days"):
        assert staff.post(f"/institutions/{other}/{action}", data={}).status_code == 404


def test_parents_may_not_open_the_places_pages(client, auth, user, filed):
    auth.login(user(Role.PARENT))
    assert client.get(f"/institutions/{filed}/places").status_code == 403


def test_slot_or_booking_of_another_institution_is_not_found(
    app, institution, user, staff, filed, slot, book
):
    other = institution("别家托育中心", owner_id=user(Role.INSTITUTION), offers=OFFERS)
    foreign_slot = slot(other, CareType.FULL_DAY, starts=time(8), ends=time(17))
    foreign_booking = book(foreign_slot)
    base = f"/institutions/{filed}"
    posts = {
        f"{base}/slots/{foreign_slot}/places": {f"places-{foreign_slot}-places": "5"},
        f"{base}/slots/{foreign_slot}/cancel": {f"cancel-{foreign_slot}-reason": "x"},
        f"{base}/bookings/{foreign_booking}/attendance": {"present": "1"},
        f"{base}/bookings/{foreign_booking}/decision": {
            f"decide-{foreign_booking}-decision": "accept"
        },
    }
    for url, data in posts.items():
        assert staff.post(url, data=data).status_code == 404, url
    assert staff.get(f"{base}/bookings/{foreign_booking}").status_code == 404
    assert stored(app, Slot, foreign_slot).status == SlotStatus.OPEN
    assert stored(app, Booking, foreign_booking).status == BookingStatus.APPLIED
    assert taken(app, foreign_slot) == (1, 3)


# --- the places page -------------------------------------------------------------------------


def test_places_page_lists_the_weeks_slots_by_date_with_places_taken(staff, filed, slot, book):
    # The page shows the week (Monday to Sunday) of today; days_ahead counts from today.
    this_monday = today() - timedelta(days=today().weekday())
    to_sunday = (this_monday + timedelta(days=6) - today()).days
    same_week = slot(filed, days_ahead=to_sunday, starts=time(14), ends=time(16))
    later = slot(filed, days_ahead=to_sunday + 1, starts=time(15), ends=time(17))
    book(same_week)

    response = staff.get(f"/institutions/{filed}/places")

    text = page_text(response)
    assert response.status_code == 200
    assert f'id="slot-{same_week}"' in text
    assert "14:00 to 16:00 · 1 of 3 places taken" in " ".join(text.split())
    assert f'id="slot-{later}"' not in text
    assert "Hourly care" in text
    assert FULL_NAME not in text
    assert MASKED not in text
    next_monday = (this_monday + timedelta(days=7)).isoformat()
    assert f'rel="next" href="/institutions/{filed}/places?from={next_monday}"' in text
    next_week = staff.get(f"/institutions/{filed}/places?from={next_monday}").text
    assert f'id="slot-{later}"' in next_week


@pytest.mark.parametrize("value", ["2026-13-01", "tomorrow", "9999-12-31"])
def test_places_page_with_a_bad_from_date_is_a_bad_request(staff, filed, value):
    response = staff.get(f"/institutions/{filed}/places?from={value}")
    assert response.status_code == 400
    assert "in the form YYYY-MM-DD" in page_text(response)


def test_status_page_of_a_filed_institution_links_to_the_places(staff, filed):
    assert f"/institutions/{filed}/places" in staff.get(f"/institutions/{filed}/status").text


def test_slot_form_offers_only_the_institutions_classes_and_care_types(staff, filed):
    text = staff.get(f"/institutions/{filed}/places").text
    select = re.search(r'<select[^>]*name="slot-care_type".*?</select>', text, re.S).group(0)
    assert 'value="full_day"' in select
    assert 'value="hourly"' in select
    assert 'value="half_day"' not in select
    assert 'value="temporary"' not in select
    schedule = re.search(r'<select[^>]*name="schedule-care_type".*?</select>', text, re.S)
    assert 'value="hourly"' in schedule.group(0)
    assert 'value="full_day"' not in schedule.group(0)
    assert 'type="date"' in text
    assert 'type="time"' in text
    assert 'inputmode="numeric"' in text


def test_adding_a_slot_saves_it_and_returns_to_the_places(app, staff, filed):
    data = slot_data(**{"slot-care_class_id": str(class_id(app, filed))})

    response = staff.post(f"/institutions/{filed}/slots", data=data)

    assert response.status_code == 302
    assert response.headers["Location"] == f"/institutions/{filed}/places"
    with app.app_context():
        made = db.session.scalar(sa.select(Slot).where(Slot.institution_id == filed))
        assert (made.care_type, made.starts_at, made.inventory.capacity) == (
            CareType.HOURLY,
            time(9),
            3,
        )


@pytest.mark.parametrize(
    ("changes", "field_id", "message"),
    [
        ({"slot-ends_at": "08:00"}, "slot-ends_at", "The end must be after the start."),
        ({"slot-places": "0"}, "slot-places", "At least one place."),
        ({"slot-places": "many"}, "slot-places", "Not a valid integer value."),
        ({"slot-on_date": "someday"}, "slot-on_date", "Not a valid date value."),
        ({"slot-care_type": "temporary"}, "slot-care_type", "Not a valid choice."),
    ],
)
def test_bad_slot_input_is_shown_next_to_the_field_and_what_was_typed_is_kept(
    app, staff, filed, changes, field_id, message
):
    data = slot_data(**{"slot-care_class_id": str(class_id(app, filed)), **changes})

    response = staff.post(f"/institutions/{filed}/slots", data=data)

    assert response.status_code == 200
    assert field_errors(response)[field_id] == message
    text = page_text(response)
    assert 'value="09:00"' in text
    if field_id != "slot-care_type":
        assert f'value="{changes[field_id]}"' in text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Slot.id))) == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"slot-places": "16"}, "A slot of this class may have from 1 to 15 places"),
        (
            {"slot-on_date": (date(2001, 1, 1)).isoformat()},
            "The date has passed.",
        ),
    ],
)
def test_slot_refused_by_the_rules_flashes_the_reason_and_keeps_the_form(
    app, staff, filed, changes, message
):
    data = slot_data(**{"slot-care_class_id": str(class_id(app, filed)), **changes})

    response = staff.post(f"/institutions/{filed}/slots", data=data)

    assert response.status_code == 400
    assert any(message in text for text in flashes(response, "error"))
    for value in changes.values():
        assert f'value="{value}"' in page_text(response)


def test_the_same_slot_twice_is_refused(app, staff, filed):
    data = slot_data(**{"slot-care_class_id": str(class_id(app, filed))})
    staff.post(f"/institutions/{filed}/slots", data=data)

    response = staff.post(f"/institutions/{filed}/slots", data=data)

    assert response.status_code == 400
    assert "already has a slot of this care type at that time" in page_text(response)


def schedule_data(app, institution_id: int, **changes) -> dict:
    """A valid schedule form: hourly care every day, 09:00 to 11:00 in hour blocks."""
    data = {
        "schedule-care_class_id": str(class_id(app, institution_id)),
        "schedule-care_type": "hourly",
        "schedule-weekdays": ["1", "2", "3", "4", "5", "6", "7"],
        "schedule-starts_at": "09:00",
        "schedule-ends_at": "11:00",
        "schedule-block_minutes": "60",
        "schedule-places": "4",
        "schedule-valid_from": today().isoformat(),
        "schedule-valid_until": "",
    }
    data.update(changes)
    return data


def test_weekly_schedule_makes_the_slots_of_the_next_30_days(app, staff, filed):
    response = staff.post(f"/institutions/{filed}/schedules", data=schedule_data(app, filed))

    assert response.status_code == 302
    with app.app_context():
        schedule = db.session.scalar(sa.select(Schedule))
        assert (schedule.weekdays, schedule.block_minutes, schedule.capacity) == ("1234567", 60, 4)
        slots = db.session.scalars(sa.select(Slot).where(Slot.schedule_id == schedule.id)).all()
        assert len(slots) == 31 * 2
        assert {s.on_date for s in slots} == {today() + timedelta(days=n) for n in range(31)}
        assert {(s.starts_at, s.ends_at) for s in slots} == {
            (time(9), time(10)),
            (time(10), time(11)),
        }


def test_weekly_schedule_only_on_the_chosen_days(app, staff, filed):
    data = schedule_data(app, filed, **{"schedule-weekdays": ["6", "7"]})

    staff.post(f"/institutions/{filed}/schedules", data=data)

    with app.app_context():
        days = set(db.session.scalars(sa.select(Slot.on_date)))
    assert days
    assert {day.isoweekday() for day in days} == {6, 7}


@pytest.mark.parametrize(
    ("changes", "field_id", "message"),
    [
        ({"schedule-weekdays": []}, "schedule-weekdays", "Choose at least one day of the week."),
        (
            {"schedule-block_minutes": ""},
            "schedule-block_minutes",
            "Enter the length of each block of hourly care.",
        ),
        (
            {"schedule-block_minutes": "10"},
            "schedule-block_minutes",
            "A block lasts from 30 to 600 minutes.",
        ),
        (
            {"schedule-valid_until": (today() - timedelta(days=1)).isoformat()},
            "schedule-valid_until",
            "The last day must not be before the first day.",
        ),
        ({"schedule-care_type": "full_day"}, "schedule-care_type", "Not a valid choice."),
    ],
)
def test_bad_schedule_input_is_shown_next_to_the_field(
    app, staff, filed, changes, field_id, message
):
    response = staff.post(
        f"/institutions/{filed}/schedules", data=schedule_data(app, filed, **changes)
    )

    assert response.status_code == 200
    assert field_errors(response)[field_id] == message
    assert 'value="09:00"' in page_text(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Schedule.id))) == 0


def test_schedule_without_hourly_or_temporary_care_is_not_offered(institution, owner, staff):
    only_full_day = institution(owner_id=owner, offers={CareType.FULL_DAY: (12, 36, 2800)})
    text = page_text(staff.get(f"/institutions/{only_full_day}/places"))
    assert "which your institution does not offer" in text
    assert 'name="schedule-care_type"' not in text


def test_slot_places_change_within_the_class_capacity_and_the_places_taken(
    app, staff, filed, slot, book
):
    slot_id = slot(filed, places=3)
    book(slot_id)
    book(slot_id, name="李华")
    url = f"/institutions/{filed}/slots/{slot_id}/places"
    field = f"places-{slot_id}-places"

    assert staff.post(url, data={field: "5"}).status_code == 302
    assert taken(app, slot_id) == (2, 5)

    below = staff.post(url, data={field: "1"})
    assert below.status_code == 400
    assert flashes(below, "error") == [
        "Places already taken cannot be removed; cancel bookings first."
    ]
    assert 'value="1"' in page_text(below)

    above = staff.post(url, data={field: "16"})
    assert above.status_code == 400
    assert taken(app, slot_id) == (2, 5)

    empty = staff.post(url, data={field: ""})
    assert empty.status_code == 200
    assert field in field_errors(empty)


def test_cancelling_a_slot_needs_a_reason_and_tells_every_booked_parent(
    app, staff, filed, slot, book
):
    slot_id = slot(filed)
    first, second = book(slot_id), book(slot_id, name="李华")
    url = f"/institutions/{filed}/slots/{slot_id}/cancel"
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)))

    without = staff.post(url, data={f"cancel-{slot_id}-reason": "  "})
    assert without.status_code == 200
    assert f"cancel-{slot_id}-reason" in field_errors(without)
    assert stored(app, Slot, slot_id).status == SlotStatus.OPEN

    response = staff.post(url, data={f"cancel-{slot_id}-reason": "The carer is ill."})
    assert response.status_code == 302
    cancelled = stored(app, Slot, slot_id)
    assert (cancelled.status, cancelled.cancel_reason) == (
        SlotStatus.CANCELLED,
        "The carer is ill.",
    )
    for booking_id in (first, second):
        assert stored(app, Booking, booking_id).status == BookingStatus.CANCELLED_BY_INSTITUTION
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == before + 2
        bodies = db.session.scalars(sa.select(OutboxMessage.body)).all()
    assert any("The carer is ill." in body for body in bodies)

    again = staff.post(url, data={f"cancel-{slot_id}-reason": "Again."}, follow_redirects=True)
    assert again.status_code == 200
    assert flashes(again, "info") == ["This slot is cancelled already."]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == before + 2


def test_closing_a_day_cancels_its_slots_once(app, staff, filed, slot, book):
    day = today() + timedelta(days=3)
    morning = slot(filed, days_ahead=3)
    afternoon = slot(filed, days_ahead=3, starts=time(14), ends=time(16))
    other_day = slot(filed, days_ahead=4)
    book(morning)
    data = {"closed-on_date": day.isoformat(), "closed-reason": "Mid-autumn festival"}

    response = staff.post(f"/institutions/{filed}/closed-days", data=data)

    assert response.status_code == 302
    assert [stored(app, Slot, s).status for s in (morning, afternoon, other_day)] == [
        SlotStatus.CANCELLED,
        SlotStatus.CANCELLED,
        SlotStatus.OPEN,
    ]
    with app.app_context():
        assert db.session.scalar(sa.select(ClosedDate.reason)) == "Mid-autumn festival"
    again = staff.post(f"/institutions/{filed}/closed-days", data=data)
    assert again.status_code == 400
    assert flashes(again, "error") == ["This day is marked closed already."]
    assert 'value="Mid-autumn festival"' in page_text(again)


def test_closing_a_day_needs_a_date_and_a_reason(app, staff, filed):
    response = staff.post(
        f"/institutions/{filed}/closed-days", data={"closed-on_date": "", "closed-reason": ""}
    )
    assert response.status_code == 200
    assert {"closed-on_date", "closed-reason"} <= set(field_errors(response))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ClosedDate.id))) == 0


# --- the day roster ------------------------------------------------------------------------


@pytest.fixture
def two_classes(institution, owner):
    """The owner's filed institution with a toddler and an older toddler class."""
    return institution(owner_id=owner, offers=OFFERS, classes=(TODDLERS, OLDER))


@pytest.fixture
def staff_day(monkeypatch):
    """Set the day the staff pages take as today, ``days_ahead`` from the real one."""

    def set_day(days_ahead: int) -> date:
        day = today() + timedelta(days=days_ahead)
        monkeypatch.setattr("careapp.institutions.places._today", lambda: day)
        # The services refuse a check-in for a day after the site's today.
        monkeypatch.setattr("careapp.clock.today", lambda: day)
        return day

    return set_day


def test_roster_lists_the_days_children_per_class_with_masked_names(
    app, staff, staff_day, two_classes, slot, book
):
    toddlers = slot(two_classes, days_ahead=2)
    book(toddlers)
    day = staff_day(2).isoformat()

    response = staff.get(f"/institutions/{two_classes}/roster?date={day}")

    text = page_text(response)
    assert response.status_code == 200
    assert MASKED in text
    assert FULL_NAME not in text
    assert "Expected" in text
    assert "Check in" in text
    assert "Did not come" in text
    assert "No child is expected in this class on this day." in text
    other_class = class_id(app, two_classes, 1)
    only_older = page_text(
        staff.get(f"/institutions/{two_classes}/roster?date={day}&class={other_class}")
    )
    assert MASKED not in only_older
    assert staff.get(f"/institutions/{two_classes}/roster").status_code == 200


def test_roster_of_another_day_shows_who_is_expected_without_check_in(staff, filed, slot, book):
    book(slot(filed, days_ahead=2))
    day = (today() + timedelta(days=2)).isoformat()

    text = page_text(staff.get(f"/institutions/{filed}/roster?date={day}"))

    assert MASKED in text
    assert "Check in" not in text
    assert "Children are checked in on the day of care." in text


def test_roster_of_a_class_of_another_institution_or_a_bad_date_is_refused(
    app, institution, staff, filed
):
    foreign = class_id(app, institution("别家托育中心", offers=OFFERS))
    assert staff.get(f"/institutions/{filed}/roster?class={foreign}").status_code == 404
    assert staff.get(f"/institutions/{filed}/roster?date=2026-02-30").status_code == 400


def attendance_of(app, booking_id: int) -> dict[date, bool]:
    """A booking's attendance, day by day."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(Attendance.on_date, Attendance.present).where(
                Attendance.booking_id == booking_id
            )
        )
        return dict(rows.all())


def test_check_in_and_no_show_are_recorded_for_the_day_and_lead_back_to_the_roster(
    app, staff, staff_day, filed, slot, book
):
    booking_id = book(slot(filed, days_ahead=2))
    day = staff_day(2)
    url = f"/institutions/{filed}/bookings/{booking_id}/attendance"

    response = staff.post(url, data={"present": "1"})
    assert response.status_code == 302
    assert response.headers["Location"] == (
        f"/institutions/{filed}/roster?date={day.isoformat()}#booking-{booking_id}"
    )
    assert attendance_of(app, booking_id) == {day: True}
    assert stored(app, Booking, booking_id).status == BookingStatus.CONFIRMED

    staff.post(url, data={"present": "0"})
    assert attendance_of(app, booking_id) == {day: False}
    followed = staff.get(f"/institutions/{filed}/roster?date={day.isoformat()}")
    assert "Did not come" in page_text(followed)


def test_check_in_on_another_day_than_the_day_of_care_is_refused(
    app, staff, staff_day, filed, slot, book
):
    booking_id = book(slot(filed, days_ahead=2))
    staff_day(1)

    response = staff.post(
        f"/institutions/{filed}/bookings/{booking_id}/attendance", data={"present": "1"}
    )

    assert response.status_code == 400
    assert flashes(response, "error") == ["Attendance is recorded on the day of care only."]
    assert attendance_of(app, booking_id) == {}


def test_attendance_keeps_the_class_filter(app, staff, staff_day, filed, slot, book):
    booking_id = book(slot(filed, days_ahead=2))
    staff_day(2)
    class_of_slot = class_id(app, filed)

    response = staff.post(
        f"/institutions/{filed}/bookings/{booking_id}/attendance?class={class_of_slot}",
        data={"present": "1"},
    )

    assert f"class={class_of_slot}" in response.headers["Location"]


def _next_weekday(after_days: int, iso_weekday: int) -> int:
    """Days from today to the first ``iso_weekday`` at least ``after_days`` away."""
    day = today() + timedelta(days=after_days)
    return after_days + (iso_weekday - day.isoweekday()) % 7


def test_standing_place_is_on_the_roster_every_day_the_class_runs_from_its_start(
    app, staff, staff_day, filed, slot, book
):
    start = _next_weekday(2, 1)  # a Monday
    application = book(
        slot(filed, CareType.FULL_DAY, days_ahead=start, starts=time(8), ends=time(17))
    )
    with app.app_context():
        booking.decide_application(db.session.get(Booking, application), True, "", clock.now())
        db.session.commit()

    def listed(days_ahead: int) -> bool:
        day = (today() + timedelta(days=days_ahead)).isoformat()
        return MASKED in page_text(staff.get(f"/institutions/{filed}/roster?date={day}"))

    assert [listed(start - 1), listed(start), listed(start + 1), listed(start + 7)] == [
        False,
        True,
        True,
        True,
    ]
    assert not listed(start + 5), "the class does not run on Saturdays"
    for days_ahead in (start, start + 1):
        staff_day(days_ahead)
        staff.post(
            f"/institutions/{filed}/bookings/{application}/attendance", data={"present": "1"}
        )
    assert sorted(attendance_of(app, application)) == [
        today() + timedelta(days=start),
        today() + timedelta(days=start + 1),
    ]


def test_attendance_of_an_application_is_refused_with_the_reason(app, staff, filed, slot, book):
    application = book(slot(filed, CareType.FULL_DAY, starts=time(8), ends=time(17)))

    response = staff.post(
        f"/institutions/{filed}/bookings/{application}/attendance", data={"present": "1"}
    )

    assert response.status_code == 400
    assert flashes(response, "error") == ["Only confirmed bookings can be checked in."]
    assert stored(app, Booking, application).status == BookingStatus.APPLIED


@pytest.mark.parametrize("data", [{}, {"present": "yes"}])
def test_attendance_without_a_valid_answer_is_a_bad_request(staff, filed, slot, book, data):
    booking_id = book(slot(filed))
    url = f"/institutions/{filed}/bookings/{booking_id}/attendance"
    assert staff.post(url, data=data).status_code == 400


# --- applications --------------------------------------------------------------------------


@pytest.fixture
def application(filed, slot, book):
    """An application for a full-day place starting in a week; returns the booking id."""
    return book(slot(filed, CareType.FULL_DAY, days_ahead=7, starts=time(8), ends=time(17)))


def decision_url(institution_id: int, booking_id: int) -> str:
    """Where an application is decided."""
    return f"/institutions/{institution_id}/bookings/{booking_id}/decision"


def test_applications_list_masked_names_age_class_and_start_date(staff, filed, application):
    response = staff.get(f"/institutions/{filed}/applications")

    text = page_text(response)
    assert response.status_code == 200
    assert MASKED in text
    assert FULL_NAME not in text
    assert NOTES not in text
    start = today() + timedelta(days=7)
    assert f"From {format_skeleton('MMMEd', start, locale='en')}, 08:00 to 17:00" in text
    assert "Full-day care" in text
    assert str(ClassKind.TODDLER) in text
    months = months_between(today() - timedelta(days=548), start)
    assert f"{months} months old on the first day" in text


def test_accepting_an_application_confirms_it(app, staff, filed, application):
    response = staff.post(
        decision_url(filed, application), data={f"decide-{application}-decision": "accept"}
    )

    assert response.status_code == 302
    assert response.headers["Location"] == f"/institutions/{filed}/applications"
    assert stored(app, Booking, application).status == BookingStatus.CONFIRMED
    listed = page_text(staff.get(f"/institutions/{filed}/applications"))
    assert f'id="application-{application}"' not in listed
    assert "There are no applications waiting for your answer." in listed


def test_declining_needs_a_reason_next_to_the_field_and_frees_the_place(
    app, staff, filed, application
):
    field = f"decide-{application}-reason"
    without = staff.post(
        decision_url(filed, application),
        data={f"decide-{application}-decision": "decline", field: " "},
    )
    assert without.status_code == 200
    assert field_errors(without)[field] == "Please give the reason; the parent will read it."
    assert stored(app, Booking, application).status == BookingStatus.APPLIED

    response = staff.post(
        decision_url(filed, application),
        data={f"decide-{application}-decision": "decline", field: "We are full until June."},
    )

    assert response.status_code == 302
    declined = stored(app, Booking, application)
    assert (declined.status, declined.decline_reason) == (
        BookingStatus.DECLINED,
        "We are full until June.",
    )
    assert taken(app, declined.slot_id)[0] == 0


def test_deciding_an_application_twice_tells_how_it_was_decided(app, staff, filed, application):
    data = {f"decide-{application}-decision": "accept"}
    staff.post(decision_url(filed, application), data=data)

    response = staff.post(decision_url(filed, application), data=data, follow_redirects=True)

    assert response.status_code == 200
    assert flashes(response, "info") == [
        "This application has been decided already: it is accepted."
    ]


def test_decision_without_accept_or_decline_is_a_bad_request(staff, filed, application):
    data = {f"decide-{application}-decision": "maybe"}
    assert staff.post(decision_url(filed, application), data=data).status_code == 400


# --- one booking ---------------------------------------------------------------------------


def test_booking_page_shows_the_full_name_birth_date_and_notes(staff, filed, slot, book):
    booking_id = book(slot(filed, days_ahead=2))

    response = staff.get(f"/institutions/{filed}/bookings/{booking_id}")

    text = page_text(response)
    assert response.status_code == 200
    assert FULL_NAME in text
    assert NOTES in text
    assert (today() - timedelta(days=548)).isoformat() in text
    assert "Hourly care" in text
    assert "09:00 to 11:00" in text
    assert "Confirmed" in text


def test_full_name_appears_only_on_the_booking_page(staff, filed, slot, book, application):
    booking_id = book(slot(filed, days_ahead=2))
    day = (today() + timedelta(days=2)).isoformat()
    base = f"/institutions/{filed}"
    for url in (
        f"{base}/places",
        f"{base}/roster?date={day}",
        f"{base}/applications",
        f"{base}/bookings.csv",
    ):
        assert FULL_NAME not in staff.get(url).get_data(as_text=True), url
    assert FULL_NAME in page_text(staff.get(f"{base}/bookings/{booking_id}"))


# --- the export ----------------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    """The rows of a CSV response, which must start with a UTF-8 byte order mark."""
    assert response.data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_csv_export_lists_the_bookings_with_masked_names_for_excel(
    staff, filed, slot, book, application
):
    hourly = book(slot(filed, days_ahead=2))

    response = staff.get(f"/institutions/{filed}/bookings.csv")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    rows = read_csv(response)
    assert rows[0] == [
        "Booking",
        "Date",
        "Start",
        "End",
        "Care type",
        "Class",
        "Child",
        "Age in months",
        "Status",
    ]
    by_id = {row[0]: row for row in rows[1:]}
    assert set(by_id) == {str(hourly), str(application)}
    day = (today() + timedelta(days=2)).isoformat()
    assert by_id[str(hourly)][:7] == [
        str(hourly),
        day,
        "09:00",
        "11:00",
        "Hourly care",
        str(ClassKind.TODDLER),
        MASKED,
    ]
    assert by_id[str(hourly)][8] == "Confirmed"
    assert by_id[str(application)][8] == "Application sent"
    assert int(by_id[str(hourly)][7]) in (17, 18)


def test_csv_export_covers_today_to_30_days_ahead_unless_told(staff, filed, slot, book):
    inside = book(slot(filed, days_ahead=30))
    outside = book(slot(filed, days_ahead=31))
    base = f"/institutions/{filed}/bookings.csv"

    default_ids = {row[0] for row in read_csv(staff.get(base))[1:]}
    assert default_ids == {str(inside)}

    first = (today() + timedelta(days=31)).isoformat()
    chosen = read_csv(staff.get(f"{base}?from={first}&to={first}"))
    assert {row[0] for row in chosen[1:]} == {str(outside)}


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("from=2026-01-10&to=2026-01-01", 400),
        ("from=2026-01-01&to=2027-01-02", 400),
        ("from=2026-01-01&to=2027-01-01", 200),
        ("from=2026-01-01&to=2026-12-31", 200),
        ("from=01/02/2026", 400),
        ("to=never", 400),
    ],
)
def test_csv_export_range_is_checked(staff, filed, query, status):
    response = staff.get(f"/institutions/{filed}/bookings.csv?{query}")
    assert response.status_code == status
    if status == 400:
        assert response.mimetype == "text/html"


def test_csv_cells_that_look_like_formulas_are_quoted(staff, filed, slot, book):
    book(slot(filed, days_ahead=2), name="=HYPERLINK(1)")

    rows = read_csv(staff.get(f"/institutions/{filed}/bookings.csv"))

    assert rows[1][6].startswith("'=")


# --- queries -------------------------------------------------------------------------------


def test_roster_applications_and_export_make_no_query_per_booking(
    app, staff, filed, slot, book, count_queries
):
    day = (today() + timedelta(days=2)).isoformat()
    hourly = slot(filed, days_ahead=2, places=5)
    full_day = slot(filed, CareType.FULL_DAY, days_ahead=2, starts=time(8), ends=time(17), places=5)
    urls = [
        f"/institutions/{filed}/roster?date={day}",
        f"/institutions/{filed}/applications",
        f"/institutions/{filed}/bookings.csv",
        f"/institutions/{filed}/places",
    ]

    def counts() -> list[int]:
        result = []
        for url in urls:
            with count_queries() as statements:
                assert staff.get(url).status_code == 200
            result.append(len(statements))
        return result

    book(hourly)
    book(full_day)
    few = counts()
    for name in ("李华", "王芳", "陈杰"):
        book(hourly, name=name)
        book(full_day, name=name)
    assert counts() == few


# --- a full-day place is an application from a start date -----------------------------------


def next_weekday(day: date, weekday: int) -> date:
    """The first day on or after ``day`` that is ``weekday`` (ISO, Monday = 1)."""
    return day + timedelta(days=(weekday - day.isoweekday()) % 7)


@pytest.fixture
def family(app, user):
    """A parent with a child of 18 months, signed in on a client of its own reading English;
    returns ``(client, child_id)``."""
    parent_id = user(Role.PARENT)
    with app.app_context():
        child = booking.add_child(
            db.session.get(User, parent_id),
            name=FULL_NAME,
            birth_date=today() - timedelta(days=548),
            notes="",
            consent=True,
        )
        db.session.commit()
        child_id = child.id
    client = app.test_client()
    client.set_cookie("lang", "en")
    client.post("/login", data={"email": stored(app, User, parent_id).email, "password": PASSWORD})
    return client, child_id


@pytest.fixture
def standing(filed, slot):
    """A full-day place of the toddler class whose first day is the Monday a week or more ahead."""
    first = next_weekday(today() + timedelta(days=7), 1)
    return slot(
        filed, CareType.FULL_DAY, days_ahead=(first - today()).days, starts=time(8), ends=time(17)
    )


def first_day_of(app, slot_id: int) -> date:
    return stored(app, Slot, slot_id).on_date


def test_application_form_shows_the_monthly_fee_and_asks_for_a_start_date(app, family, standing):
    client, _child = family

    text = page_text(client.get(f"/parents/book/{standing}"))

    assert "<h1>Apply for a place</h1>" in text
    assert "Monthly fee" in text
    assert "¥2,800" in text
    assert "Every day the class runs, 08:00–17:00" in text
    assert re.search(
        rf'<input[^>]*id="starts_on"[^>]*value="{first_day_of(app, standing).isoformat()}"', text
    )
    assert "Send the application" in text


def test_a_family_applies_from_the_day_it_chooses_and_both_sides_read_an_application(
    app, staff, filed, family, standing
):
    client, child_id = family
    start = first_day_of(app, standing) + timedelta(days=14)

    response = client.post(
        f"/parents/book/{standing}",
        data={"child_id": child_id, "starts_on": start.isoformat(), "request_key": "apply-1"},
        follow_redirects=True,
    )

    parent_page = page_text(response)
    with app.app_context():
        made = db.session.scalar(sa.select(Booking))
        assert (made.starts_on, made.status) == (start, "applied")
        booking_id = made.id
    assert f"<h1>Application {booking_id}</h1>" in parent_page
    assert "Application sent" in parent_page
    assert "Starts on" in parent_page
    assert "Withdraw the application" in parent_page
    assert "Booking" not in re.search(r"<main.*</main>", parent_page, re.S)[0]
    applications = page_text(staff.get(f"/institutions/{filed}/applications"))
    assert f"From {format_skeleton('MMMEd', start, locale='en')}, 08:00 to 17:00" in applications
    assert ">Admit</button>" in applications
    assert ">Do not admit</button>" in applications


@pytest.mark.parametrize(
    ("shift", "message"),
    [
        (-7, "Care can start on {first} at the earliest."),
        (5, "The class does not run on that day of the week. Please choose another day."),
        (371, "Please choose a day within a year of {first}."),
        (None, "Please choose the day care is to start."),
    ],
    ids=["before-the-first-day", "a-saturday", "after-a-year", "empty"],
)
def test_a_start_date_care_cannot_start_on_is_refused_on_its_field(
    app, family, standing, shift, message
):
    client, child_id = family
    first = first_day_of(app, standing)
    chosen = "" if shift is None else (first + timedelta(days=shift)).isoformat()

    response = client.post(
        f"/parents/book/{standing}",
        data={"child_id": child_id, "starts_on": chosen, "request_key": "apply-2"},
    )

    assert field_errors(response)["starts_on"] == message.format(first=first.isoformat())
    assert f'value="{chosen}"' in page_text(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Booking.id))) == 0


def test_an_admitted_place_is_an_enrolment_from_its_start_date(app, staff, filed, family, standing):
    client, child_id = family
    first = first_day_of(app, standing)
    start = first + timedelta(days=7)
    client.post(
        f"/parents/book/{standing}",
        data={"child_id": child_id, "starts_on": start.isoformat(), "request_key": "apply-3"},
    )
    with app.app_context():
        booking_id = db.session.scalar(sa.select(Booking.id))
    staff.post(decision_url(filed, booking_id), data={f"decide-{booking_id}-decision": "accept"})
    staff.get(f"/institutions/{filed}/applications")  # shows the flash

    detail = page_text(client.get(f"/parents/bookings/{booking_id}"))
    mine = page_text(client.get("/parents/bookings"))
    on_first_day = page_text(staff.get(f"/institutions/{filed}/roster?date={first.isoformat()}"))
    on_start = page_text(staff.get(f"/institutions/{filed}/roster?date={start.isoformat()}"))

    assert "Admitted" in detail
    assert (
        f"is admitted: a standing place from {format_skeleton('MMMEd', start, locale='en')}"
        in detail
    )
    assert "Give up the place" in detail
    upcoming = re.search(r'id="upcoming-heading".*?</section>', mine, re.S)[0]
    assert f"Full-day care · from {format_skeleton('MMMEd', start, locale='en')}" in upcoming
    assert MASKED not in on_first_day
    assert MASKED in on_start


def test_parent_and_institution_read_the_same_application_words_in_chinese(
    app, staff, filed, family, standing
):
    client, child_id = family
    client.set_cookie("lang", "zh_CN")
    staff.set_cookie("lang", "zh_CN")
    start = first_day_of(app, standing)
    client.post(
        f"/parents/book/{standing}",
        data={"child_id": child_id, "starts_on": start.isoformat(), "request_key": "apply-zh"},
    )
    with app.app_context():
        booking_id = db.session.scalar(sa.select(Booking.id))

    form = page_text(client.get(f"/parents/book/{standing}"))
    applied = page_text(client.get(f"/parents/bookings/{booking_id}"))
    applications = page_text(staff.get(f"/institutions/{filed}/applications"))
    staff.post(decision_url(filed, booking_id), data={f"decide-{booking_id}-decision": "accept"})
    admitted = page_text(client.get(f"/parents/bookings/{booking_id}"))
    seen_by_staff = page_text(staff.get(f"/institutions/{filed}/bookings/{booking_id}"))

    def main(page: str) -> str:
        """The page's own content, without the navigation to the lists of every booking."""
        content = re.search(r"<main.*</main>", page, re.S)[0]
        content = re.sub(r"<nav .*?</nav>", "", content, flags=re.S)
        return re.sub(r'<a href="/parents/bookings">.*?</a>', "", content)

    assert "月费" in main(form)
    assert "入托日期" in main(form)
    assert "入托申请" in main(applied)
    assert "已提交" in main(applied)
    assert ">录取</button>" in applications
    assert ">不予录取</button>" in applications
    assert "已录取" in main(admitted)
    assert "已录取" in main(seen_by_staff)
    for page in (form, applied, applications, admitted, seen_by_staff):
        assert "预约" not in main(page)
        assert "接收" not in main(page)
        assert "已确认" not in main(page)
