"""Dates that cannot be: a check-in for a day still to come, a course attendance recorded before
the session, a course posted to start in the past. Each is refused, in the service and over
HTTP, with a translated message, and nothing changes."""

from datetime import datetime, time, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from careapp import clock
from careapp.extensions import db
from careapp.models import (
    Attendance,
    CareType,
    ClassKind,
    Course,
    CourseRegistration,
    CourseSession,
    Institution,
    OrganisationType,
    Provider,
    ProviderStatus,
    RegistrationStatus,
    Role,
    User,
)
from careapp.services import booking, courses
from careapp.services.booking import BookingError
from careapp.services.courses import CourseError
from tests.test_providers import course_data, flashes, page_text

# --- check-in ------------------------------------------------------------------------------


@pytest.fixture
def owner(user) -> int:
    """The id of an institution account."""
    return user(Role.INSTITUTION)


@pytest.fixture
def booked_tomorrow(app, institution, owner, user) -> tuple[int, int]:
    """``(institution id, booking id)``: a confirmed hourly booking for tomorrow."""
    institution_id = institution(
        owner_id=owner,
        offers={CareType.HOURLY: (12, 36, 30)},
        classes=((ClassKind.TODDLER, 15, 3),),
    )
    parent_id = user(Role.PARENT)
    with app.app_context():
        today = clock.today()
        parent = db.session.get(User, parent_id)
        child = booking.add_child(
            parent, name="张小明", birth_date=today - timedelta(days=548), notes="", consent=True
        )
        record = db.session.get(Institution, institution_id)
        slot = booking.add_slot(
            record.classes[0],
            CareType.HOURLY,
            today + timedelta(days=1),
            time(9),
            time(11),
            3,
            today,
        )
        made = booking.book(parent, child.id, slot, booking.new_request_key(), clock.local_now())
        db.session.commit()
        return institution_id, made.id


def attendances(app) -> list:
    """Every attendance record."""
    with app.app_context():
        return db.session.execute(sa.select(Attendance.booking_id, Attendance.on_date)).all()


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "A child is checked in on the day of care, not before it."),
        ("zh_CN", "孩子只能在托育当天签到，不能提前。"),
    ],
)
def test_the_service_refuses_a_check_in_for_a_day_to_come(app, booked_tomorrow, language, message):
    _institution_id, booking_id = booked_tomorrow
    with app.app_context(), force_locale(language):
        found = db.session.get(booking.Booking, booking_id)
        tomorrow = found.slot.on_date
        with pytest.raises(BookingError) as refused:
            booking.mark_attendance(found, True, tomorrow)
        assert str(refused.value.message) == message
        db.session.rollback()
    assert attendances(app) == []


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Attendance is recorded on the day of care only."),
        ("zh_CN", "只能在托育当天登记到园情况。"),
    ],
)
def test_checking_in_a_child_booked_for_tomorrow_is_refused(
    app, client, auth, owner, booked_tomorrow, language, message
):
    institution_id, booking_id = booked_tomorrow
    auth.login(owner)
    client.set_cookie("lang", language)

    response = client.post(
        f"/institutions/{institution_id}/bookings/{booking_id}/attendance", data={"present": "1"}
    )

    assert response.status_code == 400
    assert flashes(response, "error") == [message]
    assert attendances(app) == []


# --- course attendance and sessions ----------------------------------------------------------


@pytest.fixture
def provider_account(user) -> int:
    """The id of a guidance provider's account."""
    return user(Role.PROVIDER, display_name="Dr Lin")


@pytest.fixture
def provider_id(app, provider_account) -> int:
    """The id of the account's verified organisation."""
    with app.app_context():
        provider = Provider(
            user_id=provider_account,
            name="晋江市妇幼保健院",
            organisation_type=OrganisationType.MCH_HOSPITAL,
            phone="0595-85661234",
            status=ProviderStatus.VERIFIED,
        )
        db.session.add(provider)
        db.session.commit()
        return provider.id


@pytest.fixture
def as_provider(client, auth, provider_account):
    """A client signed in as the provider, reading English."""
    auth.login(provider_account)
    client.set_cookie("lang", "en")
    return client


@pytest.fixture
def registered_ahead(app, township, user, provider_id) -> tuple[int, int]:
    """``(course id, registration id)``: a family registered for a session in three days."""
    township_id = township("qingyang")
    parent_id = user(Role.PARENT, display_name="王家")
    start = datetime.combine(clock.today() + timedelta(days=3), time(9, 30))
    with app.app_context():
        course = courses.create_course(
            db.session.get(Provider, provider_id),
            courses.session_times(start, 60, 1),
            title="科学育儿",
            topic="growth",
            format="in_person",
            township_id=township_id,
            address="梅岭路 8 号",
            min_age_months=0,
            max_age_months=36,
            seats=10,
            registration_opens_at=clock.local_now() - timedelta(days=1),
            registration_closes_at=start - timedelta(hours=1),
        )
        db.session.flush()
        registration = courses.register(
            db.session.get(User, parent_id), course.sessions[0], 1, "key-1", clock.local_now()
        )
        db.session.commit()
        return course.id, registration.id


def registration_status(app, registration_id: int) -> RegistrationStatus:
    """The registration's status as stored."""
    with app.app_context():
        return db.session.get(CourseRegistration, registration_id).status


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Attendance can be recorded once the session has started, not before."),
        ("zh_CN", "课程开始后才能记录出勤，不能提前。"),
    ],
)
def test_the_service_refuses_attendance_before_the_session(
    app, registered_ahead, language, message
):
    _course_id, registration_id = registered_ahead
    with app.app_context(), force_locale(language):
        registration = db.session.get(CourseRegistration, registration_id)
        with pytest.raises(CourseError) as refused:
            courses.mark_attendance(registration, True, clock.local_now())
        assert str(refused.value.message) == message
        db.session.rollback()
    assert registration_status(app, registration_id) == RegistrationStatus.REGISTERED


def test_the_service_records_attendance_once_the_session_has_started(app, registered_ahead):
    _course_id, registration_id = registered_ahead
    with app.app_context():
        registration = db.session.get(CourseRegistration, registration_id)
        courses.mark_attendance(registration, True, registration.session.starts_at)
        db.session.commit()
    assert registration_status(app, registration_id) == RegistrationStatus.ATTENDED


@pytest.mark.parametrize("attended", ["y", "n"])
def test_marking_a_family_before_the_session_is_refused(
    app, as_provider, registered_ahead, attended
):
    course_id, registration_id = registered_ahead
    page = as_provider.get(f"/providers/courses/{course_id}")
    assert "Attendance is recorded once the session has started." in page_text(page)
    assert f"/registrations/{registration_id}/attendance" not in page_text(page)

    response = as_provider.post(
        f"/providers/courses/{course_id}/registrations/{registration_id}/attendance",
        data={"attended": attended},
    )

    assert response.status_code == 400
    assert flashes(response, "error") == [
        "Attendance can be recorded once the session has started, not before."
    ]
    assert registration_status(app, registration_id) == RegistrationStatus.REGISTERED


def test_the_service_refuses_sessions_in_the_past():
    now = datetime(2026, 11, 30, 19, 30)
    times = courses.session_times(now - timedelta(days=7), 60, 3)
    with pytest.raises(CourseError):
        courses.check_sessions_ahead(times, now)
    with pytest.raises(CourseError):
        courses.check_sessions_ahead([(now, now + timedelta(hours=1))], now)
    courses.check_sessions_ahead(courses.session_times(now + timedelta(minutes=1), 60, 3), now)


def course_count(app) -> int:
    """Courses and sessions stored."""
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Course.id))) + db.session.scalar(
            sa.select(sa.func.count(CourseSession.id))
        )


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "A session cannot start in the past. Choose a first session after now."),
        ("zh_CN", "课程不能安排在过去的时间。请选择现在之后的首次课程时间。"),
    ],
)
@pytest.mark.parametrize("days_ago", [1, 30])
def test_posting_a_course_that_starts_in_the_past_is_refused(
    app, client, auth, provider_account, provider_id, township, language, message, days_ago
):
    auth.login(provider_account)
    client.set_cookie("lang", language)
    start = clock.local_now() - timedelta(days=days_ago)
    data = course_data(
        township("qingyang"),
        first_date=start.date().isoformat(),
        registration_opens_at=(start - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        registration_closes_at=(start - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        weeks="1",
    )

    response = client.post("/providers/courses/new", data=data)

    assert response.status_code == 400
    assert flashes(response, "error") == [message]
    assert 'value="辅食添加 Weaning"' in page_text(response)  # what was typed is kept
    assert course_count(app) == 0
