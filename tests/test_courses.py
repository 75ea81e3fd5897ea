"""Parenting courses as the public and parents see them: the verification gate on every path,
filters of the page and the API, the live link, registration, seats, the waiting list, the
home page's suggestions, the calendar feed and attendance.

Only courses of verified providers that are not cancelled are public. Service calls run like
requests: their own app context and one ``run_in_transaction``, in English so refusals can be
matched by their message. Pages are read in English (the ``lang`` cookie).
"""

import re
from datetime import date, datetime, time, timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from conftest import AuthActions
from flask_babel import force_locale
from icalendar import Calendar

from careapp import clock
from careapp.database import run_in_transaction
from careapp.extensions import db
from careapp.models import (
    CalendarFeed,
    Course,
    CourseFormat,
    CourseRegistration,
    CourseSession,
    Inventory,
    OrganisationType,
    OutboxMessage,
    Provider,
    ProviderStatus,
    RegistrationStatus,
    Role,
    Topic,
    TownshipKind,
    User,
    WaitlistEntry,
    WaitStatus,
)
from careapp.models.base import as_utc
from careapp.services import booking, capacity, courses
from careapp.services.courses import CourseError, SessionFull

LIVE_LINK = "https://live.example.com/room-42"
RECORDED_LINK = "https://video.example.com/watch/7"
PROVIDER_NAME = "晋江市妇幼保健院"
PROVIDER_NAME_EN = "Jinjiang MCH Hospital"
#: How long a freed seat is held for the first family in line.
HOLD = timedelta(hours=24)
#: A moment after every session these tests post: attendance is recorded once a session began.
AFTER_THE_SESSIONS = datetime(2100, 1, 1)
#: The keys of an item of ``GET /api/v1/courses``, from the contract.
API_ITEM_KEYS = {
    "id",
    "title",
    "topic",
    "format",
    "starts_at",
    "ends_at",
    "township",
    "seats",
    "remaining",
    "min_age_months",
    "max_age_months",
    "provider",
}


# --- helpers -------------------------------------------------------------------------------


def page_text(response) -> str:
    """A response body with entities decoded."""
    return unescape(response.get_data(as_text=True))


def flashes(response, category: str) -> list[str]:
    """The flash messages of ``category`` on a page."""
    return re.findall(rf'<p class="flash flash-{category}">(.*?)</p>', page_text(response))


def field_errors(response) -> dict[str, str]:
    """The error message next to each field, by field id."""
    return dict(re.findall(r'<p class="error" id="([\w-]+)-error">(.*?)</p>', page_text(response)))


def listed_ids(response) -> list[int]:
    """The ids of the courses listed on a ``/courses`` page, in order."""
    return [
        int(found) for found in re.findall(r'<h3><a href="/courses/(\d+)">', page_text(response))
    ]


def api_ids(response) -> list[int]:
    """The ids of the courses of an API list, in order."""
    return [item["id"] for item in response.json["items"]]


def days_ahead(days: int, at: time = time(9, 30)) -> datetime:
    """A local time ``days`` days from today."""
    return datetime.combine(clock.local_now().date() + timedelta(days=days), at)


def months_before(day: date, months: int) -> date:
    """The birth date of a child ``months`` months old on ``day`` (mid-month, so a day's
    difference between clocks never changes the age)."""
    total = day.year * 12 + day.month - 1 - months
    return date(total // 12, total % 12 + 1, min(day.day, 28))


class CourseDesk:
    """The course services by id, each call in its own app context and transaction."""

    def __init__(self, app):
        self.app = app

    def run(self, work):
        """Run ``work`` and commit, as one request would; refusals come in English."""
        with self.app.app_context(), force_locale("en"):
            return run_in_transaction(work)

    def read(self, work):
        """Run ``work`` to read something, without committing."""
        with self.app.app_context():
            return work()

    def register(self, parent_id, session_id, seats=1, now=None, key=None) -> int:
        """Register the family and return the registration's id."""
        key = key or booking.new_request_key()
        return self.run(
            lambda: (
                courses.register(
                    db.session.get(User, parent_id),
                    db.session.get(CourseSession, session_id),
                    seats,
                    key,
                    now or clock.local_now(),
                ).id
            )
        )

    def cancel(self, parent_id, registration_id, now=None) -> None:
        """Cancel the family's registration."""
        self.run(
            lambda: courses.cancel_registration(
                db.session.get(User, parent_id),
                db.session.get(CourseRegistration, registration_id),
                now or clock.local_now(),
            )
        )

    def join(self, parent_id, session_id, now=None) -> int:
        """Join the waiting list and return the entry's id."""
        return self.run(
            lambda: (
                courses.join_waitlist(
                    db.session.get(User, parent_id),
                    db.session.get(CourseSession, session_id),
                    now or clock.local_now(),
                ).id
            )
        )

    def accept(self, parent_id, entry_id) -> int:
        """Accept a held seat and return the registration's id."""
        key = booking.new_request_key()
        return self.run(
            lambda: (
                courses.accept_offer(
                    db.session.get(User, parent_id), db.session.get(WaitlistEntry, entry_id), key
                ).id
            )
        )

    def leave(self, parent_id, entry_id) -> None:
        """Leave the waiting list or turn an offer down."""
        self.run(
            lambda: booking.leave_waitlist(
                db.session.get(User, parent_id),
                db.session.get(WaitlistEntry, entry_id),
                clock.local_now(),
            )
        )

    def expire(self, now: datetime) -> int:
        """Run the expiry job at ``now`` (aware UTC)."""
        return self.run(lambda: booking.expire_offers(now))

    def suspend(self, provider_id, reason="Complaints about advertising.") -> None:
        """The regulator suspends a provider."""
        self.run(lambda: courses.suspend_provider(db.session.get(Provider, provider_id), reason))

    def cancel_session(self, session_id, reason="The hall is flooded.") -> int:
        """The provider cancels a session."""
        return self.run(
            lambda: courses.cancel_session(db.session.get(CourseSession, session_id), reason)
        )

    def mark(self, registration_id, attended: bool) -> None:
        """The provider marks whether the family came."""
        self.run(
            lambda: courses.mark_attendance(
                db.session.get(CourseRegistration, registration_id), attended, AFTER_THE_SESSIONS
            )
        )

    def counts(self, session_id) -> dict[str, int]:
        """Registered, attended and no-show families of a session."""
        return self.read(
            lambda: courses.attendance_counts(
                courses.session_registrations(db.session.get(CourseSession, session_id))
            )
        )

    def taken(self, session_id) -> tuple[int, int]:
        """``(taken, capacity)`` of a session's seats."""
        return self.read(
            lambda: tuple(
                db.session.execute(
                    sa.select(Inventory.taken, Inventory.capacity)
                    .join(CourseSession, CourseSession.inventory_id == Inventory.id)
                    .where(CourseSession.id == session_id)
                ).one()
            )
        )

    def registration(self, registration_id) -> tuple[RegistrationStatus, int]:
        """``(status, seats)`` of a registration."""
        return self.read(
            lambda: (
                (found := db.session.get(CourseRegistration, registration_id)).status,
                found.seats,
            )
        )

    def registrations(self, session_id) -> list[tuple[int, RegistrationStatus, int]]:
        """``(parent_id, status, seats)`` of every registration of a session."""
        return self.read(
            lambda: [
                tuple(row)
                for row in db.session.execute(
                    sa.select(
                        CourseRegistration.parent_id,
                        CourseRegistration.status,
                        CourseRegistration.seats,
                    )
                    .where(CourseRegistration.session_id == session_id)
                    .order_by(CourseRegistration.id)
                )
            ]
        )

    def entry(self, entry_id) -> dict:
        """A waitlist entry's status, position and offer times (aware UTC)."""

        def load():
            found = db.session.get(WaitlistEntry, entry_id)
            return {
                "status": found.status,
                "position": capacity.position(found),
                "offered_at": as_utc(found.offered_at) if found.offered_at else None,
                "offer_expires_at": (
                    as_utc(found.offer_expires_at) if found.offer_expires_at else None
                ),
            }

        return self.read(load)

    def last_message_id(self) -> int:
        """The id of the newest outbox message, 0 when there is none."""
        return self.read(lambda: db.session.scalar(sa.select(sa.func.max(OutboxMessage.id))) or 0)

    def recipients_after(self, message_id: int) -> list[str]:
        """Recipients of outbox messages newer than ``message_id``, oldest first."""
        return self.read(
            lambda: list(
                db.session.scalars(
                    sa.select(OutboxMessage.recipient)
                    .where(OutboxMessage.id > message_id)
                    .order_by(OutboxMessage.id)
                )
            )
        )

    def email(self, user_id) -> str:
        """A user's e-mail address."""
        return self.read(lambda: db.session.get(User, user_id).email)


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def desk(app) -> CourseDesk:
    """The course services, called by id."""
    return CourseDesk(app)


@pytest.fixture
def qingyang(township) -> int:
    """The id of a sub-district."""
    return township("qingyang")


@pytest.fixture
def anhai(township) -> int:
    """The id of a town."""
    return township("anhai", TownshipKind.TOWN)


@pytest.fixture
def provider(app, user):
    """Factory: a guidance provider of its own account in ``status``; returns its id."""

    def make(status: ProviderStatus = ProviderStatus.VERIFIED) -> int:
        account_id = user(Role.PROVIDER)
        with app.app_context():
            found = Provider(
                user_id=account_id,
                name=PROVIDER_NAME,
                name_en=PROVIDER_NAME_EN,
                organisation_type=OrganisationType.MCH_HOSPITAL,
                phone="0595-85661234",
                status=status,
                status_reason="Advertising." if status == ProviderStatus.SUSPENDED else "",
            )
            db.session.add(found)
            db.session.commit()
            return found.id

    return make


@pytest.fixture
def verified(provider) -> int:
    """The id of a verified provider."""
    return provider(ProviderStatus.VERIFIED)


@pytest.fixture
def course(app, qingyang):
    """Factory: a course of ``provider_id`` through ``create_course``; returns its id.

    In person in Qingyang by default, one session ten days ahead, registration open from
    yesterday until an hour before the first session.
    """

    def make(
        provider_id: int,
        title: str = "Weaning basics",
        *,
        topic: Topic = Topic.NUTRITION,
        course_format: CourseFormat = CourseFormat.IN_PERSON,
        township_id: int | None = None,
        ages: tuple[int, int] = (0, 36),
        seats: int = 10,
        allow_second_seat: bool = False,
        starts: datetime | None = None,
        weeks: int = 1,
        opens: datetime | None = None,
        closes: datetime | None = None,
        cancelled: bool = False,
    ) -> int:
        starts = starts or days_ahead(10)
        in_person = course_format == CourseFormat.IN_PERSON
        links = {CourseFormat.LIVE_ONLINE: LIVE_LINK, CourseFormat.RECORDED: RECORDED_LINK}
        with app.app_context():
            made = courses.create_course(
                db.session.get(Provider, provider_id),
                courses.session_times(starts, 90, weeks),
                title=title,
                description="What to feed and when.",
                topic=topic,
                format=course_format,
                township_id=(township_id or qingyang) if in_person else township_id,
                address="世纪大道 1 号" if in_person else None,
                link=links.get(course_format),
                min_age_months=ages[0],
                max_age_months=ages[1],
                seats=seats,
                allow_second_seat=allow_second_seat,
                registration_opens_at=opens or clock.local_now() - timedelta(days=1),
                registration_closes_at=closes or starts - timedelta(hours=1),
                cancelled=cancelled,
            )
            db.session.commit()
            return made.id

    return make


def session_ids(app, course_id: int) -> list[int]:
    """The ids of a course's sessions, first first."""
    with app.app_context():
        return [found.id for found in db.session.get(Course, course_id).sessions]


def first_session(app, course_id: int) -> int:
    """The id of a course's first session."""
    return session_ids(app, course_id)[0]


@pytest.fixture
def parent(app, user):
    """Factory: a parent account, with a child of each of ``child_ages`` months; returns its id."""

    def make(*child_ages: int) -> int:
        parent_id = user(Role.PARENT)
        with app.app_context():
            account = db.session.get(User, parent_id)
            for number, months in enumerate(child_ages):
                booking.add_child(
                    account,
                    name=f"Child{number}",
                    birth_date=months_before(clock.today(), months),
                    notes="",
                    consent=True,
                )
            db.session.commit()
        return parent_id

    return make


@pytest.fixture
def signed_in(app):
    """Factory: a new client signed in as ``user_id``, reading English."""

    def make(user_id: int):
        new_client = app.test_client()
        assert AuthActions(new_client, app).login(user_id).status_code == 302
        new_client.set_cookie("lang", "en")
        return new_client

    return make


@pytest.fixture
def anonymous(client):
    """The test client, not signed in, reading English."""
    client.set_cookie("lang", "en")
    return client


# --- the verification gate -----------------------------------------------------------------

HIDDEN_STATES = ["pending provider", "suspended provider", "cancelled course"]


@pytest.fixture(params=HIDDEN_STATES)
def hidden_course(request, provider, course) -> int:
    """A course that must not be public: its provider pending or suspended, or cancelled."""
    if request.param == "pending provider":
        return course(provider(ProviderStatus.PENDING), "Hidden course")
    if request.param == "suspended provider":
        return course(provider(ProviderStatus.SUSPENDED), "Hidden course")
    return course(provider(ProviderStatus.VERIFIED), "Hidden course", cancelled=True)


@pytest.fixture
def public_course(verified, course) -> int:
    """A verified provider's course, like the hidden one in every other way."""
    return course(verified, "Public course")


def test_hidden_course_is_not_listed_on_the_courses_page(anonymous, hidden_course, public_course):
    response = anonymous.get("/courses")

    assert response.status_code == 200
    assert listed_ids(response) == [public_course]
    assert "Hidden course" not in page_text(response)


def test_hidden_course_is_not_listed_for_a_signed_in_parent(
    signed_in, parent, hidden_course, public_course
):
    response = signed_in(parent(8)).get("/courses?age_months=8&topic=nutrition")

    assert response.status_code == 200
    assert listed_ids(response) == [public_course]


@pytest.mark.parametrize(
    "query",
    ["", "?topic=nutrition", "?township=qingyang", "?format=in_person", "?age_months=8"],
)
def test_hidden_course_is_not_in_the_courses_api(anonymous, hidden_course, public_course, query):
    response = anonymous.get(f"/api/v1/courses{query}")

    assert response.status_code == 200
    assert api_ids(response) == [public_course]
    assert response.json["total"] == 1


def test_hidden_course_page_answers_404(anonymous, signed_in, parent, hidden_course):
    assert anonymous.get(f"/courses/{hidden_course}").status_code == 404
    assert signed_in(parent()).get(f"/courses/{hidden_course}").status_code == 404


def test_hidden_course_sessions_answer_404_to_a_signed_in_parent(
    app, signed_in, parent, hidden_course
):
    session_id = first_session(app, hidden_course)
    as_parent = signed_in(parent())

    assert as_parent.get(f"/parents/courses/sessions/{session_id}").status_code == 404
    registering = as_parent.post(
        f"/parents/courses/sessions/{session_id}", data={"seats": "1", "request_key": "k-1"}
    )
    assert registering.status_code == 404
    waiting = as_parent.post(f"/parents/courses/sessions/{session_id}/waitlist")
    assert waiting.status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(CourseRegistration.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(WaitlistEntry.id))) == 0


def test_hidden_course_is_not_suggested_on_the_parents_home(
    signed_in, parent, hidden_course, public_course
):
    response = signed_in(parent(8)).get("/parents/")

    assert response.status_code == 200
    text = page_text(response)
    assert f'href="/courses/{public_course}"' in text
    assert "Hidden course" not in text
    assert f'href="/courses/{hidden_course}"' not in text


def test_verified_providers_course_is_on_every_public_path(
    app, anonymous, signed_in, parent, public_course
):
    session_id = first_session(app, public_course)
    as_parent = signed_in(parent(8))

    assert listed_ids(anonymous.get("/courses")) == [public_course]
    assert api_ids(anonymous.get("/api/v1/courses")) == [public_course]
    detail = anonymous.get(f"/courses/{public_course}")
    assert detail.status_code == 200
    assert "Public course" in page_text(detail)
    assert PROVIDER_NAME_EN in page_text(detail)
    session_page = as_parent.get(f"/parents/courses/sessions/{session_id}")
    assert session_page.status_code == 200
    assert "Public course" in page_text(session_page)
    assert f'href="/courses/{public_course}"' in page_text(as_parent.get("/parents/"))


def test_suspending_a_provider_unlists_its_courses_at_once(
    app, desk, anonymous, signed_in, parent, verified, public_course
):
    session_id = first_session(app, public_course)
    as_parent = signed_in(parent(8))
    assert anonymous.get(f"/courses/{public_course}").status_code == 200

    desk.suspend(verified)

    assert listed_ids(anonymous.get("/courses")) == []
    assert api_ids(anonymous.get("/api/v1/courses")) == []
    assert anonymous.get(f"/courses/{public_course}").status_code == 404
    assert as_parent.get(f"/parents/courses/sessions/{session_id}").status_code == 404
    assert "Public course" not in page_text(as_parent.get("/parents/"))


def test_held_seat_of_a_suspended_providers_course_cannot_be_taken(
    app, desk, signed_in, parent, verified, course
):
    session_id = first_session(app, course(verified, "Small group", seats=1))
    holder, waiting = parent(), parent()
    registration_id = desk.register(holder, session_id)
    entry_id = desk.join(waiting, session_id)
    desk.cancel(holder, registration_id)
    desk.suspend(verified)

    response = signed_in(waiting).post(
        f"/parents/course-offers/{entry_id}/accept", data={"request_key": "k"}
    )

    # Like every other way into a course that is no longer public.
    assert response.status_code == 404
    assert [parent_id for parent_id, *_ in desk.registrations(session_id)] == [holder]


def test_renaming_a_verified_provider_unlists_its_courses_until_verified_again(
    app, anonymous, verified, public_course
):
    with app.app_context():
        found = db.session.get(Provider, verified)
        courses.save_provider(found.user, name="New name", phone=found.phone)
        db.session.commit()
    assert anonymous.get(f"/courses/{public_course}").status_code == 404

    with app.app_context():
        courses.verify_provider(db.session.get(Provider, verified))
        db.session.commit()
    assert anonymous.get(f"/courses/{public_course}").status_code == 200


# --- filters of the page and the API -------------------------------------------------------


@pytest.fixture
def catalogue(verified, course, anhai) -> dict[str, int]:
    """Four public courses; their ids by letter.

    A: nutrition, in person in Qingyang, 6–18 months, in 10 days.
    B: safety, live online, 0–12 months, in 12 days.
    C: parent–child, in person in Anhai, 24–36 months, in 40 days.
    D: vaccination, recorded, 0–36 months, in 20 days.
    """
    return {
        "A": course(verified, "Weaning basics", ages=(6, 18), starts=days_ahead(10)),
        "B": course(
            verified,
            "Safe sleep online",
            topic=Topic.SAFETY,
            course_format=CourseFormat.LIVE_ONLINE,
            ages=(0, 12),
            starts=days_ahead(12),
        ),
        "C": course(
            verified,
            "Toddler play in Anhai",
            topic=Topic.PARENT_CHILD,
            township_id=anhai,
            ages=(24, 36),
            starts=days_ahead(40),
        ),
        "D": course(
            verified,
            "Vaccines explained",
            topic=Topic.VACCINATION,
            course_format=CourseFormat.RECORDED,
            starts=days_ahead(20),
        ),
    }


def query_string(params: dict) -> str:
    """A query string; ``from`` and ``to`` given as days from today become dates."""
    parts = []
    for name, value in params.items():
        if name in ("from", "to") and isinstance(value, int):
            value = (clock.local_now().date() + timedelta(days=value)).isoformat()
        parts.append(f"{name}={value}")
    return "?" + "&".join(parts)


FILTER_CASES = [
    pytest.param({}, "ABDC", id="everything-soonest-first"),
    # Online and recorded courses (B, D) are for anyone: every township lists them.
    pytest.param({"township": "qingyang"}, "ABD", id="township-qingyang"),
    pytest.param({"township": "anhai"}, "BDC", id="township-anhai"),
    pytest.param({"township": "anhai", "format": "in_person"}, "C", id="township-in-person"),
    pytest.param({"topic": "safety"}, "B", id="topic"),
    pytest.param({"topic": "nutrition", "township": "anhai"}, "", id="topic-and-township"),
    pytest.param({"format": "in_person"}, "AC", id="format-in-person"),
    pytest.param({"format": "live_online"}, "B", id="format-live"),
    pytest.param({"format": "recorded"}, "D", id="format-recorded"),
    pytest.param({"from": 15}, "DC", id="from"),
    pytest.param({"to": 15}, "AB", id="to"),
    pytest.param({"from": 12, "to": 12}, "B", id="from-and-to-include-their-days"),
    pytest.param({"from": 13, "to": 19}, "", id="range-between-sessions"),
    pytest.param({"age_months": 5}, "BD", id="age-below-minimum"),
    pytest.param({"age_months": 6}, "ABD", id="age-at-minimum"),
    pytest.param({"age_months": 11}, "ABD", id="age-inside"),
    pytest.param({"age_months": 12}, "AD", id="age-at-maximum-excluded"),
    pytest.param({"age_months": 18}, "D", id="age-at-other-maximum"),
    pytest.param({"age_months": 24}, "DC", id="age-toddler"),
    pytest.param({"age_months": 36}, "", id="age-36-months"),
    pytest.param({"age_months": 0}, "BD", id="age-newborn"),
]


@pytest.mark.parametrize(("params", "expected"), FILTER_CASES)
def test_courses_page_filters(anonymous, catalogue, params, expected):
    response = anonymous.get("/courses" + query_string(params))

    assert response.status_code == 200
    assert listed_ids(response) == [catalogue[letter] for letter in expected]


@pytest.mark.parametrize(("params", "expected"), FILTER_CASES)
def test_courses_api_filters(anonymous, catalogue, params, expected):
    response = anonymous.get("/api/v1/courses" + query_string(params))

    assert response.status_code == 200
    assert api_ids(response) == [catalogue[letter] for letter in expected]
    assert response.json["total"] == len(expected)


def test_township_menu_counts_the_courses_each_township_lists(anonymous, catalogue, township):
    township("xintang")  # no course of its own: only those anyone can follow

    response = anonymous.get("/courses")

    counts = dict(
        re.findall(r'<option value="(\w+)"[^>]*>[^<]*\((\d+)\)</option>', page_text(response))
    )
    assert counts == {"qingyang": "3", "anhai": "3", "xintang": "2"}
    for code, count in counts.items():
        listed = listed_ids(anonymous.get(f"/courses?township={code}"))
        assert len(listed) == int(count)


def test_courses_page_keeps_the_chosen_filters(anonymous, catalogue):
    response = anonymous.get(
        "/courses"
        + query_string({"township": "qingyang", "topic": "nutrition", "age_months": 8, "from": 1})
    )

    text = page_text(response)
    assert '<option value="qingyang" selected>' in text
    assert '<option value="nutrition" selected>' in text
    assert 'name="age_months" type="number"' in text
    assert 'value="8"' in text


def test_courses_page_offers_a_parents_children_as_ages(signed_in, parent, catalogue):
    response = signed_in(parent(8, 30)).get("/courses?age_months=8")

    text = page_text(response)
    assert '<option value="8" selected>Child0 (8 months)</option>' in text
    assert '<option value="30">Child1 (30 months)</option>' in text
    assert listed_ids(response) == [catalogue["A"], catalogue["B"], catalogue["D"]]


def test_courses_that_are_over_are_not_listed(app, anonymous, verified, course):
    current = course(verified, "Still to come")
    past = course(
        verified,
        "Already given",
        starts=days_ahead(-3),
        opens=days_ahead(-20),
        closes=days_ahead(-4),
    )

    assert listed_ids(anonymous.get("/courses")) == [current]
    assert api_ids(anonymous.get("/api/v1/courses")) == [current]
    # Its page stays reachable: it is public, only over.
    assert anonymous.get(f"/courses/{past}").status_code == 200


def test_date_filters_match_any_upcoming_session_of_a_series(anonymous, verified, course):
    series = course(verified, "Weekly series", starts=days_ahead(10), weeks=3)

    def listed(params: dict) -> list[int]:
        return api_ids(anonymous.get("/api/v1/courses" + query_string(params)))

    assert listed({"from": 20}) == [series]
    assert listed({"to": 10}) == [series]
    assert listed({"from": 17, "to": 17}) == [series]
    assert listed({"from": 11, "to": 16}) == []
    assert listed({"from": 25}) == []


def test_course_page_counts_the_seats_left(app, desk, anonymous, parent, verified, course):
    course_id = course(verified, seats=3, allow_second_seat=True)
    session_id = first_session(app, course_id)

    desk.register(parent(), session_id, seats=2)
    assert "1 seat left" in page_text(anonymous.get(f"/courses/{course_id}"))
    desk.register(parent(), session_id)
    assert "0 seats left" in page_text(anonymous.get(f"/courses/{course_id}"))
    assert anonymous.get("/api/v1/courses").json["items"][0]["remaining"] == 0


BAD_PARAMETERS = [
    pytest.param("township", "atlantis", "There is no such township.", id="township"),
    pytest.param("topic", "astrology", "There is no such topic.", id="topic"),
    pytest.param("format", "pigeon", "There is no such format.", id="format"),
    pytest.param(
        "from",
        "2030-13-01",
        "Please enter a date as YYYY-MM-DD, for example 2024-05-01.",
        id="from-not-a-date",
    ),
    pytest.param(
        "to",
        "tomorrow",
        "Please enter a date as YYYY-MM-DD, for example 2024-05-01.",
        id="to-not-a-date",
    ),
    pytest.param("age_months", "ten", "Please enter a whole number.", id="age-not-a-number"),
    pytest.param("age_months", "-1", "Please enter a number from 0 to 600.", id="age-negative"),
    pytest.param("age_months", "601", "Please enter a number from 0 to 600.", id="age-too-high"),
]


@pytest.mark.parametrize(("name", "value", "message"), BAD_PARAMETERS)
def test_courses_page_refuses_a_bad_parameter_and_keeps_the_input(
    anonymous, catalogue, name, value, message
):
    other = {"topic": "safety"} if name != "topic" else {"format": "live_online"}
    response = anonymous.get(f"/courses?{name}={value}&" + query_string(other)[1:])

    assert response.status_code == 400
    assert field_errors(response) == {name: message}
    text = page_text(response)
    assert "Please correct the marked fields." in text
    if name in ("from", "to", "age_months"):
        assert f'id="{name}" name="{name}"' in text
        assert f'value="{value}"' in text
        assert f'aria-describedby="{name}-error"' in text
    [(other_name, other_value)] = other.items()
    assert f'<option value="{other_value}" selected>' in text


def test_courses_page_refuses_a_range_that_ends_before_it_starts(anonymous, catalogue):
    response = anonymous.get("/courses?from=2030-05-02&to=2030-05-01")

    assert response.status_code == 400
    assert field_errors(response) == {"to": "The end date must not be before the start date."}
    assert 'value="2030-05-02"' in page_text(response)
    assert 'value="2030-05-01"' in page_text(response)


@pytest.mark.parametrize(("name", "value", "message"), BAD_PARAMETERS)
def test_courses_api_refuses_a_bad_parameter(anonymous, catalogue, name, value, message):
    response = anonymous.get(f"/api/v1/courses?{name}={value}")

    assert response.status_code == 400
    assert response.json == {"error": {"code": "invalid_parameter", "message": message}}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2030-05-02&to=2030-05-01", "The end date must not be before the start date."),
        ("page=0", "Please enter a number from 1 to 100000."),
        ("per_page=lots", "Please enter a whole number."),
    ],
)
def test_courses_api_refuses_bad_ranges_and_paging(anonymous, catalogue, query, message):
    response = anonymous.get(f"/api/v1/courses?{query}")

    assert response.status_code == 400
    assert response.json == {"error": {"code": "invalid_parameter", "message": message}}


def test_courses_api_items_have_exactly_the_contract_keys(app, anonymous, desk, parent, catalogue):
    desk.register(parent(), first_session(app, catalogue["A"]))

    response = anonymous.get("/api/v1/courses?per_page=2")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.json
    assert set(body) == {"items", "total", "page", "per_page"}
    assert (body["total"], body["page"], body["per_page"]) == (4, 1, 2)
    assert len(body["items"]) == 2
    assert all(set(item) == API_ITEM_KEYS for item in body["items"])
    weaning, safe_sleep = body["items"]
    start = days_ahead(10)
    assert weaning == {
        "id": catalogue["A"],
        "title": "Weaning basics",
        "topic": "nutrition",
        "format": "in_person",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(minutes=90)).isoformat(),
        "township": {"code": "qingyang", "name": "Qingyang Sub-district"},
        "seats": 10,
        "remaining": 9,
        "min_age_months": 6,
        "max_age_months": 18,
        "provider": PROVIDER_NAME_EN,
    }
    assert safe_sleep["format"] == "live_online"
    assert safe_sleep["township"] is None
    assert LIVE_LINK not in response.get_data(as_text=True)


def test_courses_api_pages_on(anonymous, catalogue):
    response = anonymous.get("/api/v1/courses?per_page=3&page=2")

    assert response.status_code == 200
    assert api_ids(response) == [catalogue["C"]]
    assert (response.json["total"], response.json["page"]) == (4, 2)


def test_courses_api_names_follow_the_language(anonymous, catalogue):
    response = anonymous.get("/api/v1/courses?township=qingyang&format=in_person&lang=zh_CN")

    [item] = response.json["items"]
    assert item["provider"] == PROVIDER_NAME
    assert item["township"] == {"code": "qingyang", "name": "qingyang街道"}


# --- the live link -------------------------------------------------------------------------


@pytest.fixture
def live_course(verified, course) -> int:
    """A live online course with one session."""
    return course(verified, "Safe sleep online", course_format=CourseFormat.LIVE_ONLINE)


def test_live_link_is_hidden_from_anonymous_visitors(anonymous, live_course):
    response = anonymous.get(f"/courses/{live_course}")

    assert response.status_code == 200
    text = page_text(response)
    assert LIVE_LINK not in text
    assert "Shown to registered families." in text


def test_live_link_is_hidden_from_a_parent_who_is_not_registered(
    app, signed_in, parent, live_course
):
    as_parent = signed_in(parent())

    course_page = page_text(as_parent.get(f"/courses/{live_course}"))
    session_page = as_parent.get(f"/parents/courses/sessions/{first_session(app, live_course)}")

    assert LIVE_LINK not in course_page
    assert "Shown to registered families." in course_page
    assert session_page.status_code == 200
    assert LIVE_LINK not in page_text(session_page)


def test_live_link_is_hidden_from_a_family_registered_for_another_course(
    app, desk, signed_in, parent, verified, course, live_course
):
    parent_id = parent()
    other = course(verified, "Another course")
    desk.register(parent_id, first_session(app, other))

    assert LIVE_LINK not in page_text(signed_in(parent_id).get(f"/courses/{live_course}"))


@pytest.mark.parametrize("role", [Role.PROVIDER, Role.INSTITUTION, Role.REGULATOR])
def test_live_link_is_hidden_from_other_roles(signed_in, user, live_course, role):
    response = signed_in(user(role)).get(f"/courses/{live_course}")

    assert response.status_code == 200
    assert LIVE_LINK not in page_text(response)


def test_live_link_is_shown_once_the_family_is_registered(
    app, signed_in, anonymous, parent, live_course
):
    session_id = first_session(app, live_course)
    as_parent = signed_in(parent())

    registered = as_parent.post(
        f"/parents/courses/sessions/{session_id}", data={"seats": "1", "request_key": "key-1"}
    )

    assert registered.status_code == 302
    assert LIVE_LINK in page_text(as_parent.get(f"/courses/{live_course}"))
    assert LIVE_LINK in page_text(as_parent.get(f"/parents/courses/sessions/{session_id}"))
    # Nobody else sees it, and no listing carries it.
    assert LIVE_LINK not in page_text(anonymous.get(f"/courses/{live_course}"))
    assert LIVE_LINK not in page_text(as_parent.get("/courses"))
    assert LIVE_LINK not in as_parent.get("/api/v1/courses").get_data(as_text=True)


def test_live_link_is_hidden_again_after_the_family_cancels(
    app, desk, signed_in, parent, live_course
):
    parent_id = parent()
    registration_id = desk.register(parent_id, first_session(app, live_course))
    as_parent = signed_in(parent_id)
    assert LIVE_LINK in page_text(as_parent.get(f"/courses/{live_course}"))

    desk.cancel(parent_id, registration_id)

    assert LIVE_LINK not in page_text(as_parent.get(f"/courses/{live_course}"))


def test_recorded_link_is_shown_only_to_registered_families(
    app, desk, anonymous, signed_in, parent, verified, course
):
    # The page says 登记后可观看 (watch after registering): the link is the registration's.
    recorded = course(verified, "Vaccines explained", course_format=CourseFormat.RECORDED)
    registered_id, other_id = parent(), parent()
    desk.register(registered_id, first_session(app, recorded))

    assert RECORDED_LINK not in page_text(anonymous.get(f"/courses/{recorded}"))
    assert RECORDED_LINK not in page_text(signed_in(other_id).get(f"/courses/{recorded}"))
    assert RECORDED_LINK not in anonymous.get("/api/v1/courses").get_data(as_text=True)
    assert RECORDED_LINK not in page_text(anonymous.get("/courses"))
    assert RECORDED_LINK in page_text(signed_in(registered_id).get(f"/courses/{recorded}"))


def test_in_person_course_shows_its_place(anonymous, verified, course):
    response = anonymous.get(f"/courses/{course(verified)}")

    text = page_text(response)
    assert "Qingyang Sub-district · 世纪大道 1 号" in text
    assert "10 seats left" in text


# --- registering ---------------------------------------------------------------------------


def test_family_registers_for_one_seat(app, desk, signed_in, parent, verified, course):
    session_id = first_session(app, course(verified))
    parent_id = parent()
    as_parent = signed_in(parent_id)

    response = as_parent.post(
        f"/parents/courses/sessions/{session_id}", data={"seats": "1", "request_key": "key-1"}
    )

    assert response.status_code == 302
    assert response.headers["Location"] == f"/parents/courses/sessions/{session_id}"
    followed = as_parent.get(response.headers["Location"])
    assert flashes(followed, "success") == ["Your family is registered."]
    assert "Your family has 1 seat in this session." in page_text(followed)
    assert desk.registrations(session_id) == [(parent_id, RegistrationStatus.REGISTERED, 1)]
    assert desk.taken(session_id) == (1, 10)


def test_second_seat_is_refused_unless_the_provider_allows_it(
    app, desk, signed_in, parent, verified, course
):
    session_id = first_session(app, course(verified, allow_second_seat=False))
    parent_id = parent()

    response = signed_in(parent_id).post(
        f"/parents/courses/sessions/{session_id}", data={"seats": "2", "request_key": "key-2"}
    )

    assert response.status_code == 200
    assert field_errors(response) == {"seats": "Not a valid choice."}
    assert desk.registrations(session_id) == []
    assert desk.taken(session_id) == (0, 10)
    with pytest.raises(CourseError, match="This course has one seat per family."):
        desk.register(parent_id, session_id, seats=2)
    assert desk.taken(session_id) == (0, 10)


def test_second_seat_takes_two_seats_where_allowed(app, desk, signed_in, parent, verified, course):
    session_id = first_session(app, course(verified, allow_second_seat=True, seats=5))
    parent_id = parent()
    as_parent = signed_in(parent_id)
    assert "Two seats (a second carer comes too)" in page_text(
        as_parent.get(f"/parents/courses/sessions/{session_id}")
    )

    response = as_parent.post(
        f"/parents/courses/sessions/{session_id}", data={"seats": "2", "request_key": "key-2"}
    )

    assert response.status_code == 302
    assert desk.registrations(session_id) == [(parent_id, RegistrationStatus.REGISTERED, 2)]
    assert desk.taken(session_id) == (2, 5)
    assert "Your family has 2 seats in this session." in page_text(
        as_parent.get(f"/parents/courses/sessions/{session_id}")
    )


@pytest.mark.parametrize("seats", [0, 3])
def test_no_family_takes_more_than_two_seats(app, desk, parent, verified, course, seats):
    session_id = first_session(app, course(verified, allow_second_seat=True))

    with pytest.raises(CourseError, match="This course has one seat per family."):
        desk.register(parent(), session_id, seats=seats)
    assert desk.taken(session_id) == (0, 10)


def test_registering_twice_is_refused(app, desk, signed_in, parent, verified, course):
    session_id = first_session(app, course(verified, allow_second_seat=True))
    parent_id = parent()
    as_parent = signed_in(parent_id)
    path = f"/parents/courses/sessions/{session_id}"
    assert as_parent.post(path, data={"seats": "1", "request_key": "key-1"}).status_code == 302

    again = as_parent.post(path, data={"seats": "1", "request_key": "key-2"})

    assert again.status_code == 400
    assert flashes(again, "error") == ["Your family is registered for this session already."]
    with pytest.raises(CourseError, match="registered for this session already"):
        desk.register(parent_id, session_id, seats=2)
    assert desk.registrations(session_id) == [(parent_id, RegistrationStatus.REGISTERED, 1)]
    assert desk.taken(session_id) == (1, 10)


def test_sending_the_same_form_twice_registers_once(app, desk, signed_in, parent, verified, course):
    session_id = first_session(app, course(verified))
    parent_id = parent()
    as_parent = signed_in(parent_id)
    path = f"/parents/courses/sessions/{session_id}"

    first = as_parent.post(path, data={"seats": "1", "request_key": "same-key"})
    second = as_parent.post(path, data={"seats": "1", "request_key": "same-key"})

    assert (first.status_code, second.status_code) == (302, 302)
    assert second.headers["Location"] == path
    assert desk.registrations(session_id) == [(parent_id, RegistrationStatus.REGISTERED, 1)]
    assert desk.taken(session_id) == (1, 10)


def test_another_familys_request_key_registers_nobody_twice(
    app, desk, signed_in, parent, verified, course
):
    session_id = first_session(app, course(verified))
    first_parent, second_parent = parent(), parent()
    desk.register(first_parent, session_id, key="shared-key")

    with pytest.raises(CourseError, match="This form has expired"):
        desk.register(second_parent, session_id, key="shared-key")
    assert desk.registrations(session_id) == [(first_parent, RegistrationStatus.REGISTERED, 1)]
    assert desk.taken(session_id) == (1, 10)


@pytest.mark.parametrize("form", ["session", "series"])
def test_a_key_another_family_used_is_answered_as_an_expired_form_with_a_fresh_key(
    app, desk, signed_in, parent, verified, course, form
):
    """A key copied from another family's form registers nothing and says so (not "registered
    already"); the form comes back with a fresh key, which registers."""
    weekly = course(verified, weeks=2)
    first_session_id = session_ids(app, weekly)[0]
    prefix = "series-" if form == "series" else ""
    path = {
        "session": f"/parents/courses/sessions/{first_session_id}",
        "series": f"/parents/courses/{weekly}/series",
    }[form]
    first_family = signed_in(parent())
    sent = {f"{prefix}seats": "1", f"{prefix}request_key": "copied-key"}
    assert first_family.post(path, data=sent).status_code == 302
    other_parent = parent()
    other_family = signed_in(other_parent)

    refused = other_family.post(path, data=sent)

    page = page_text(refused)
    assert refused.status_code == 409
    assert flashes(refused, "error") == [
        "This form has expired. Nothing was registered: please check it and send it again."
    ]
    fresh = re.search(rf'name="{prefix}request_key" type="hidden" value="([^"]+)"', page)[1]
    assert fresh != "copied-key"
    registered = [row[0] for s in session_ids(app, weekly) for row in desk.registrations(s)]
    assert other_parent not in registered
    again = other_family.post(path, data={f"{prefix}seats": "1", f"{prefix}request_key": fresh})
    assert again.status_code == 302
    assert other_parent in [r[0] for r in desk.registrations(first_session_id)]


@pytest.mark.parametrize(
    ("opens_in_hours", "closes_in_hours", "now_in_hours"),
    [
        pytest.param(24, 48, 23, id="before-it-opens"),
        pytest.param(-48, -1, 0, id="after-it-closed"),
        pytest.param(-48, 2, 2, id="at-the-closing-minute"),
    ],
)
def test_registration_is_refused_outside_its_window(
    app, desk, parent, verified, course, opens_in_hours, closes_in_hours, now_in_hours
):
    now = days_ahead(1, time(12))
    course_id = course(
        verified,
        starts=days_ahead(10),
        opens=now + timedelta(hours=opens_in_hours),
        closes=now + timedelta(hours=closes_in_hours),
    )
    session_id = first_session(app, course_id)

    with pytest.raises(CourseError, match="Registration for this course is not open."):
        desk.register(parent(), session_id, now=now + timedelta(hours=now_in_hours))
    assert desk.taken(session_id) == (0, 10)


def test_registration_opens_at_its_first_minute(app, desk, parent, verified, course):
    opens = days_ahead(1, time(12))
    session_id = first_session(app, course(verified, opens=opens))

    desk.register(parent(), session_id, now=opens)

    assert desk.taken(session_id) == (1, 10)


def test_registering_on_the_page_before_registration_opens_is_refused(
    app, desk, signed_in, parent, verified, course
):
    session_id = first_session(app, course(verified, opens=days_ahead(3)))

    response = signed_in(parent()).post(
        f"/parents/courses/sessions/{session_id}", data={"seats": "1", "request_key": "k"}
    )

    assert response.status_code == 400
    assert flashes(response, "error") == ["Registration for this course is not open."]
    assert desk.registrations(session_id) == []


def test_registering_for_a_session_that_has_started_is_refused(app, desk, parent, verified, course):
    starts = days_ahead(10)
    # Registration stays open all week, so only the start of the session refuses.
    course_id = course(verified, starts=starts, closes=starts + timedelta(days=7))
    session_id = first_session(app, course_id)

    with pytest.raises(CourseError, match="This session has already started."):
        desk.register(parent(), session_id, now=starts)
    with pytest.raises(CourseError, match="This session has already started."):
        desk.register(parent(), session_id, now=starts + timedelta(minutes=30))
    assert desk.taken(session_id) == (0, 10)


def test_registering_for_a_cancelled_session_is_refused(
    app, desk, signed_in, parent, verified, course
):
    first, second = session_ids(app, course(verified, weeks=2))
    desk.cancel_session(first)

    response = signed_in(parent()).post(
        f"/parents/courses/sessions/{first}", data={"seats": "1", "request_key": "k"}
    )

    assert response.status_code == 400
    assert flashes(response, "error") == ["This session has been cancelled."]
    assert desk.registrations(first) == []
    desk.register(parent(), second)
    assert desk.taken(second) == (1, 10)


def test_each_session_of_a_series_has_its_own_seats(app, desk, parent, verified, course):
    first, second, third = session_ids(app, course(verified, weeks=3, seats=1))
    parent_id = parent()

    for session_id in (first, second, third):
        desk.register(parent_id, session_id)

    assert [desk.taken(session_id) for session_id in (first, second, third)] == [(1, 1)] * 3
    with pytest.raises(SessionFull):
        desk.register(parent(), second)


# --- cancelling ----------------------------------------------------------------------------


def test_cancelling_gives_the_seats_back(app, desk, signed_in, parent, verified, course):
    session_id = first_session(app, course(verified, allow_second_seat=True, seats=3))
    parent_id = parent()
    registration_id = desk.register(parent_id, session_id, seats=2)
    as_parent = signed_in(parent_id)

    response = as_parent.post(f"/parents/course-registrations/{registration_id}/cancel")

    assert response.status_code == 302
    assert response.headers["Location"] == f"/parents/courses/sessions/{session_id}"
    assert flashes(as_parent.get(response.headers["Location"]), "success") == [
        "Your registration is cancelled."
    ]
    assert desk.registration(registration_id) == (RegistrationStatus.CANCELLED, 2)
    assert desk.taken(session_id) == (0, 3)


def test_family_may_register_again_after_cancelling(app, desk, parent, verified, course):
    session_id = first_session(app, course(verified))
    parent_id = parent()
    desk.cancel(parent_id, desk.register(parent_id, session_id))

    desk.register(parent_id, session_id)

    assert [status for _, status, _ in desk.registrations(session_id)] == [
        RegistrationStatus.CANCELLED,
        RegistrationStatus.REGISTERED,
    ]
    assert desk.taken(session_id) == (1, 10)


def test_cancelling_twice_says_it_is_cancelled_and_frees_nothing_more(
    app, desk, parent, verified, course
):
    session_id = first_session(app, course(verified))
    parent_id = parent()
    registration_id = desk.register(parent_id, session_id)
    desk.cancel(parent_id, registration_id)

    with pytest.raises(courses.Settled, match="This registration has been cancelled."):
        desk.cancel(parent_id, registration_id)
    assert desk.taken(session_id) == (0, 10)


def test_cancelling_after_the_session_started_is_refused(app, desk, parent, verified, course):
    starts = days_ahead(10)
    session_id = first_session(app, course(verified, starts=starts))
    parent_id = parent()
    registration_id = desk.register(parent_id, session_id)

    with pytest.raises(CourseError, match="The session has started."):
        desk.cancel(parent_id, registration_id, now=starts)
    assert desk.taken(session_id) == (1, 10)


def test_a_family_cannot_cancel_another_familys_registration(
    app, desk, signed_in, parent, verified, course
):
    session_id = first_session(app, course(verified))
    owner = parent()
    registration_id = desk.register(owner, session_id)
    stranger = parent()

    response = signed_in(stranger).post(f"/parents/course-registrations/{registration_id}/cancel")

    assert response.status_code == 404
    with pytest.raises(CourseError, match="This registration cannot be cancelled."):
        desk.cancel(stranger, registration_id)
    assert desk.registration(registration_id) == (RegistrationStatus.REGISTERED, 1)
    assert desk.taken(session_id) == (1, 10)


# --- full sessions and the waiting list ----------------------------------------------------


@pytest.fixture
def full_session(app, desk, parent, verified, course) -> tuple[int, int, int]:
    """A one-seat session taken by a family: ``(session_id, parent_id, registration_id)``."""
    session_id = first_session(app, course(verified, "Small group", seats=1))
    holder = parent()
    return session_id, holder, desk.register(holder, session_id)


def test_full_session_refuses_registration_and_offers_the_waiting_list(
    desk, signed_in, parent, full_session
):
    session_id, _holder, _registration = full_session
    as_parent = signed_in(parent())
    path = f"/parents/courses/sessions/{session_id}"

    page = page_text(as_parent.get(path))
    response = as_parent.post(path, data={"seats": "1", "request_key": "k"})

    assert "Join the waiting list" in page
    assert f'action="{path}/waitlist"' in page
    assert response.status_code == 409
    assert flashes(response, "error") == ["This session is full. You can join the waiting list."]
    assert desk.taken(session_id) == (1, 1)
    assert len(desk.registrations(session_id)) == 1


def test_waiting_list_gives_positions_in_order(desk, signed_in, parent, full_session):
    session_id, _holder, _registration = full_session
    path = f"/parents/courses/sessions/{session_id}/waitlist"
    first, second = signed_in(parent()), signed_in(parent())

    def join(as_parent) -> list[str]:
        response = as_parent.post(path)
        assert response.status_code == 302
        assert response.headers["Location"] == f"/parents/courses/sessions/{session_id}"
        return flashes(as_parent.get(response.headers["Location"]), "success")

    assert join(first) == ["You are number 1 on the waiting list."]
    assert join(second) == ["You are number 2 on the waiting list."]
    # Joining again keeps the family's place.
    assert join(first) == ["You are number 1 on the waiting list."]


def test_joining_the_waiting_list_while_a_seat_is_free_is_refused(
    app, desk, parent, verified, course
):
    session_id = first_session(app, course(verified, seats=2))
    desk.register(parent(), session_id)

    with pytest.raises(CourseError, match="A seat is free: you can register now."):
        desk.join(parent(), session_id)


def test_registered_family_cannot_join_its_own_sessions_waiting_list(desk, full_session):
    session_id, holder, _registration = full_session

    with pytest.raises(CourseError, match="registered for this session already"):
        desk.join(holder, session_id)


def test_freed_seat_is_offered_to_the_first_in_line_for_24_hours(desk, parent, full_session):
    session_id, holder, registration_id = full_session
    first, second = parent(), parent()
    first_entry, second_entry = desk.join(first, session_id), desk.join(second, session_id)
    before = desk.last_message_id()

    desk.cancel(holder, registration_id)

    offered = desk.entry(first_entry)
    assert offered["status"] == WaitStatus.OFFERED
    assert offered["offer_expires_at"] - offered["offered_at"] == HOLD
    assert abs(offered["offered_at"] - clock.now()) < timedelta(minutes=5)
    assert desk.entry(second_entry)["status"] == WaitStatus.WAITING
    assert desk.entry(second_entry)["position"] == 1
    # The seat is held, not free: nobody else can take it.
    assert desk.taken(session_id) == (1, 1)
    with pytest.raises(SessionFull):
        desk.register(parent(), session_id)
    assert desk.recipients_after(before) == [desk.email(first)]


def test_offered_seat_becomes_the_familys_registration(app, desk, signed_in, parent, full_session):
    session_id, holder, registration_id = full_session
    waiting = parent()
    entry_id = desk.join(waiting, session_id)
    desk.cancel(holder, registration_id)
    as_waiting = signed_in(waiting)

    response = as_waiting.post(
        f"/parents/course-offers/{entry_id}/accept", data={"request_key": "offer-key"}
    )

    assert response.status_code == 302
    assert response.headers["Location"] == f"/parents/courses/sessions/{session_id}"
    assert flashes(as_waiting.get(response.headers["Location"]), "success") == [
        "Your family is registered."
    ]
    assert desk.entry(entry_id)["status"] == WaitStatus.ACCEPTED
    assert desk.registrations(session_id) == [
        (holder, RegistrationStatus.CANCELLED, 1),
        (waiting, RegistrationStatus.REGISTERED, 1),
    ]
    assert desk.taken(session_id) == (1, 1)


def test_seat_offer_posted_to_the_slot_offer_address_is_not_found_and_changes_nothing(
    desk, signed_in, parent, full_session
):
    session_id, holder, registration_id = full_session
    waiting = parent()
    entry_id = desk.join(waiting, session_id)
    desk.cancel(holder, registration_id)

    response = signed_in(waiting).post(
        f"/parents/waitlist/{entry_id}/accept", data={"request_key": "k"}
    )

    assert response.status_code == 404
    assert desk.entry(entry_id)["status"] == WaitStatus.OFFERED
    assert desk.taken(session_id) == (1, 1)


def test_another_family_cannot_accept_an_offer(desk, signed_in, parent, full_session):
    session_id, holder, registration_id = full_session
    waiting, stranger = parent(), parent()
    entry_id = desk.join(waiting, session_id)
    desk.cancel(holder, registration_id)

    response = signed_in(stranger).post(
        f"/parents/course-offers/{entry_id}/accept", data={"request_key": "k"}
    )

    assert response.status_code == 404
    with pytest.raises(CourseError, match="This offer is not yours."):
        desk.accept(stranger, entry_id)
    assert desk.entry(entry_id)["status"] == WaitStatus.OFFERED


def test_waiting_entry_without_an_offer_cannot_be_accepted(desk, parent, full_session):
    session_id, _holder, _registration = full_session
    waiting = parent()
    entry_id = desk.join(waiting, session_id)

    with pytest.raises(CourseError, match="This offer has expired."):
        desk.accept(waiting, entry_id)
    assert desk.taken(session_id) == (1, 1)


def test_unanswered_offer_expires_and_passes_to_the_next_in_line(desk, parent, full_session):
    session_id, holder, registration_id = full_session
    first, second = parent(), parent()
    first_entry, second_entry = desk.join(first, session_id), desk.join(second, session_id)
    desk.cancel(holder, registration_id)
    before = desk.last_message_id()

    assert desk.expire(clock.now() + timedelta(hours=23)) == 0
    assert desk.entry(first_entry)["status"] == WaitStatus.OFFERED
    assert desk.expire(clock.now() + HOLD + timedelta(minutes=1)) == 1

    assert desk.entry(first_entry)["status"] == WaitStatus.EXPIRED
    passed = desk.entry(second_entry)
    assert passed["status"] == WaitStatus.OFFERED
    assert passed["offer_expires_at"] - passed["offered_at"] == HOLD
    assert desk.taken(session_id) == (1, 1)
    assert desk.recipients_after(before) == [desk.email(second)]
    with pytest.raises(CourseError, match="This offer has expired."):
        desk.accept(first, first_entry)
    desk.accept(second, second_entry)
    assert desk.taken(session_id) == (1, 1)


def test_last_expired_offer_gives_the_seat_back(desk, parent, full_session):
    session_id, holder, registration_id = full_session
    entry_id = desk.join(parent(), session_id)
    desk.cancel(holder, registration_id)

    assert desk.expire(clock.now() + HOLD + timedelta(minutes=1)) == 1

    assert desk.entry(entry_id)["status"] == WaitStatus.EXPIRED
    assert desk.taken(session_id) == (0, 1)
    assert desk.expire(clock.now() + HOLD + timedelta(minutes=2)) == 0
    desk.register(parent(), session_id)
    assert desk.taken(session_id) == (1, 1)


def test_turning_an_offer_down_passes_it_to_the_next_in_line(desk, parent, full_session):
    session_id, holder, registration_id = full_session
    first, second = parent(), parent()
    first_entry, second_entry = desk.join(first, session_id), desk.join(second, session_id)
    desk.cancel(holder, registration_id)

    desk.leave(first, first_entry)

    assert desk.entry(first_entry)["status"] == WaitStatus.LEFT
    assert desk.entry(second_entry)["status"] == WaitStatus.OFFERED
    assert desk.taken(session_id) == (1, 1)


def test_two_freed_seats_are_offered_to_two_families(app, desk, parent, verified, course):
    session_id = first_session(app, course(verified, seats=2, allow_second_seat=True))
    holder = parent()
    registration_id = desk.register(holder, session_id, seats=2)
    first, second, third = parent(), parent(), parent()
    entries = [desk.join(family, session_id) for family in (first, second, third)]

    desk.cancel(holder, registration_id)

    assert [desk.entry(entry)["status"] for entry in entries] == [
        WaitStatus.OFFERED,
        WaitStatus.OFFERED,
        WaitStatus.WAITING,
    ]
    assert desk.taken(session_id) == (2, 2)


def test_my_bookings_offers_the_held_seat_to_take_or_turn_down(
    desk, signed_in, parent, full_session
):
    session_id, holder, registration_id = full_session
    first, second = parent(), parent()
    first_entry, second_entry = desk.join(first, session_id), desk.join(second, session_id)
    desk.cancel(holder, registration_id)
    as_first = signed_in(first)

    page = page_text(as_first.get("/parents/bookings"))
    turned_down = as_first.post(f"/parents/waitlist/{first_entry}/leave")

    assert "Small group" in page
    assert f'action="/parents/course-offers/{first_entry}/accept"' in page
    assert f'action="/parents/waitlist/{first_entry}/leave"' in page
    assert turned_down.status_code == 302
    assert turned_down.headers["Location"] == "/parents/bookings"
    assert flashes(as_first.get("/parents/bookings"), "success") == [
        "You have left the waiting list."
    ]
    assert desk.entry(first_entry)["status"] == WaitStatus.LEFT
    assert desk.entry(second_entry)["status"] == WaitStatus.OFFERED
    assert "You are number 1 in line." not in page_text(as_first.get("/parents/bookings"))


def test_taking_the_seat_twice_registers_once(desk, signed_in, parent, full_session):
    session_id, holder, registration_id = full_session
    waiting = parent()
    entry_id = desk.join(waiting, session_id)
    desk.cancel(holder, registration_id)
    as_waiting = signed_in(waiting)
    path = f"/parents/course-offers/{entry_id}/accept"

    first = as_waiting.post(path, data={"request_key": "same-key"})
    second = as_waiting.post(path, data={"request_key": "same-key"})

    assert (first.status_code, second.status_code) == (302, 302)
    assert desk.registrations(session_id) == [
        (holder, RegistrationStatus.CANCELLED, 1),
        (waiting, RegistrationStatus.REGISTERED, 1),
    ]
    assert desk.taken(session_id) == (1, 1)


def test_cancelled_session_closes_its_waiting_list_and_tells_the_families(
    app, desk, parent, full_session
):
    session_id, holder, registration_id = full_session
    entry_id = desk.join(parent(), session_id)
    before = desk.last_message_id()

    assert desk.cancel_session(session_id) == 1

    assert desk.registration(registration_id) == (RegistrationStatus.CANCELLED_BY_PROVIDER, 1)
    assert desk.entry(entry_id)["status"] == WaitStatus.LEFT
    assert desk.recipients_after(before) == [desk.email(holder)]


# --- the parent's home page ----------------------------------------------------------------


def test_home_page_suggests_courses_for_the_childrens_ages(signed_in, parent, verified, course):
    infants = course(verified, "Weaning basics", ages=(6, 18))
    toddlers = course(verified, "Toddler talk", ages=(24, 36))
    newborns = course(verified, "Newborn care", ages=(0, 3))

    response = signed_in(parent(8)).get("/parents/")

    assert response.status_code == 200
    text = page_text(response)
    assert "Courses for your child's age" in text
    assert f'href="/courses/{infants}"' in text
    assert f'href="/courses/{toddlers}"' not in text
    assert f'href="/courses/{newborns}"' not in text


def test_home_page_suggests_courses_for_each_child(signed_in, parent, verified, course):
    infants = course(verified, "Weaning basics", ages=(6, 18))
    toddlers = course(verified, "Toddler talk", ages=(24, 36))
    newborns = course(verified, "Newborn care", ages=(0, 3))

    text = page_text(signed_in(parent(8, 30)).get("/parents/"))

    assert f'href="/courses/{infants}"' in text
    assert f'href="/courses/{toddlers}"' in text
    assert f'href="/courses/{newborns}"' not in text


def test_home_page_suggests_nothing_without_children(signed_in, parent, verified, course):
    course(verified, "Weaning basics")

    text = page_text(signed_in(parent()).get("/parents/"))

    assert "Courses for your child's age" not in text
    assert "Weaning basics" not in text


def test_home_page_does_not_suggest_courses_that_are_over(signed_in, parent, verified, course):
    course(
        verified,
        "Already given",
        starts=days_ahead(-3),
        opens=days_ahead(-20),
        closes=days_ahead(-4),
    )

    assert "Already given" not in page_text(signed_in(parent(8)).get("/parents/"))


# --- the calendar feed ---------------------------------------------------------------------


def calendar_events(app, as_parent, parent_id) -> list:
    """The VEVENTs of the parent's feed, after making its address."""
    assert as_parent.post("/parents/calendar/renew").status_code == 302
    with app.app_context():
        token = db.session.scalar(
            sa.select(CalendarFeed.token).where(CalendarFeed.user_id == parent_id)
        )
    response = as_parent.get(f"/calendar/{token}.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    return list(Calendar.from_ical(response.data).walk("VEVENT"))


def test_calendar_feed_contains_the_registered_course_session(
    app, desk, signed_in, parent, verified, course
):
    starts = days_ahead(10)
    course_id = course(verified, "Weaning basics", starts=starts)
    parent_id = parent()
    desk.register(parent_id, first_session(app, course_id))

    [event] = calendar_events(app, signed_in(parent_id), parent_id)

    assert str(event["SUMMARY"]) == "Weaning basics"
    assert event.decoded("DTSTART").replace(tzinfo=None) == starts
    assert event.decoded("DTEND").replace(tzinfo=None) == starts + timedelta(minutes=90)
    assert event.decoded("DTSTART").utcoffset() == timedelta(hours=8)
    assert str(event["LOCATION"]) == "世纪大道 1 号"


def test_calendar_feed_leaves_out_cancelled_registrations_and_sessions(
    app, desk, signed_in, parent, verified, course
):
    first, second, third = session_ids(app, course(verified, "Weaning basics", weeks=3))
    parent_id = parent()
    desk.cancel(parent_id, desk.register(parent_id, first))
    desk.register(parent_id, second)
    desk.register(parent_id, third)
    desk.cancel_session(third)

    events = calendar_events(app, signed_in(parent_id), parent_id)

    assert [str(event["SUMMARY"]) for event in events] == ["Weaning basics"]
    assert events[0].decoded("DTSTART").replace(tzinfo=None) == days_ahead(17)


def test_calendar_feed_has_no_course_of_another_family(
    app, desk, signed_in, parent, verified, course
):
    desk.register(parent(), first_session(app, course(verified)))
    parent_id = parent()

    assert calendar_events(app, signed_in(parent_id), parent_id) == []


# --- attendance ----------------------------------------------------------------------------


def test_attendance_is_marked_and_counted(app, desk, parent, verified, course):
    session_id = first_session(app, course(verified, allow_second_seat=True))
    came, stayed_away, unmarked, cancelled = (
        desk.register(parent(), session_id, seats=2),
        desk.register(parent(), session_id),
        desk.register(parent(), session_id),
        desk.register(family := parent(), session_id),
    )
    desk.cancel(family, cancelled)

    desk.mark(came, attended=True)
    desk.mark(stayed_away, attended=False)

    assert desk.registration(came) == (RegistrationStatus.ATTENDED, 2)
    assert desk.registration(stayed_away) == (RegistrationStatus.NO_SHOW, 1)
    assert desk.registration(unmarked) == (RegistrationStatus.REGISTERED, 1)
    assert desk.counts(session_id) == {"registered": 3, "attended": 1, "no_show": 1}


def test_attendance_can_be_corrected(app, desk, parent, verified, course):
    session_id = first_session(app, course(verified))
    registration_id = desk.register(parent(), session_id)

    desk.mark(registration_id, attended=False)
    desk.mark(registration_id, attended=True)

    assert desk.registration(registration_id) == (RegistrationStatus.ATTENDED, 1)
    assert desk.counts(session_id) == {"registered": 1, "attended": 1, "no_show": 0}


def test_cancelled_registration_cannot_be_marked(app, desk, parent, verified, course):
    session_id = first_session(app, course(verified))
    family = parent()
    registration_id = desk.register(family, session_id)
    desk.cancel(family, registration_id)

    with pytest.raises(CourseError, match="Only registered families can be marked."):
        desk.mark(registration_id, attended=True)
    assert desk.counts(session_id) == {"registered": 0, "attended": 0, "no_show": 0}


def test_attended_family_can_no_longer_cancel(app, desk, parent, verified, course):
    session_id = first_session(app, course(verified))
    family = parent()
    registration_id = desk.register(family, session_id)
    desk.mark(registration_id, attended=True)

    with pytest.raises(CourseError, match="The provider has marked your family as attended."):
        desk.cancel(family, registration_id)
    assert desk.taken(session_id) == (1, 10)


# --- who may use the parents' course pages -------------------------------------------------


@pytest.mark.parametrize("role", [Role.PROVIDER, Role.INSTITUTION, Role.REGULATOR])
def test_other_roles_may_not_register(app, desk, signed_in, user, verified, course, role):
    session_id = first_session(app, course(verified))
    other = signed_in(user(role))

    assert other.get(f"/parents/courses/sessions/{session_id}").status_code == 403
    posted = other.post(
        f"/parents/courses/sessions/{session_id}", data={"seats": "1", "request_key": "k"}
    )
    assert posted.status_code == 403
    assert desk.registrations(session_id) == []


def test_anonymous_visitor_is_sent_to_sign_in(app, anonymous, verified, course):
    course_id = course(verified)
    session_id = first_session(app, course_id)

    response = anonymous.get(f"/parents/courses/sessions/{session_id}")

    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query) == {"next": [f"/parents/courses/sessions/{session_id}"]}
    assert "Sign in to register" in page_text(anonymous.get(f"/courses/{course_id}"))


# --- joining a weekly course as a series ---------------------------------------------------


def series_key(response) -> str:
    """The one-time key of the series form on a page."""
    return re.search(
        r'id="series-request_key" name="series-request_key" type="hidden" value="([^"]+)"',
        page_text(response),
    )[1]


def test_a_weekly_course_offers_to_join_the_series_from_its_page(
    anonymous, signed_in, parent, verified, course
):
    weekly = course(verified, weeks=4)
    single = course(verified, "One evening", weeks=1)

    as_parent = signed_in(parent(8))

    assert "Join the series: all 4 coming sessions" in page_text(
        as_parent.get(f"/courses/{weekly}")
    )
    assert "Join the series" not in page_text(as_parent.get(f"/courses/{single}"))
    assert f'href="/login?next=/parents/courses/{weekly}/series"' in page_text(
        anonymous.get(f"/courses/{weekly}")
    )


def test_joining_the_series_takes_a_seat_in_every_coming_session_with_one_free(
    app, desk, signed_in, parent, verified, course
):
    weekly = course(verified, weeks=4, seats=1)
    first, second, third, fourth = session_ids(app, weekly)
    desk.register(parent(), second)  # full
    family = parent(8)
    desk.register(family, third)  # the family holds this one already
    as_parent = signed_in(family)
    page = as_parent.get(f"/parents/courses/{weekly}/series")
    assert "Register for these 2 sessions" in page_text(page)

    response = as_parent.post(
        f"/parents/courses/{weekly}/series",
        data={"series-seats": "1", "series-request_key": series_key(page)},
        follow_redirects=True,
    )

    assert response.request.path == "/parents/bookings"
    assert flashes(response, "success") == ["Your family is registered for 2 sessions."]
    assert flashes(response, "info")[0].startswith("Full, so not registered: ")
    assert [desk.taken(s) for s in (first, second, third, fourth)] == [(1, 1)] * 4
    assert [len(desk.registrations(s)) for s in (first, second, third, fourth)] == [1] * 4
    assert desk.registrations(first)[0][0] == family


def test_a_double_tapped_series_registers_once(app, desk, signed_in, parent, verified, course):
    weekly = course(verified, weeks=3)
    as_parent = signed_in(parent(8))
    key = series_key(as_parent.get(f"/parents/courses/{weekly}/series"))
    data = {"series-seats": "1", "series-request_key": key}

    first = as_parent.post(f"/parents/courses/{weekly}/series", data=data)
    again = as_parent.post(f"/parents/courses/{weekly}/series", data=data)

    assert (first.status_code, again.status_code) == (302, 302)
    assert [desk.taken(s)[0] for s in session_ids(app, weekly)] == [1, 1, 1]


def test_a_series_with_every_session_full_takes_nothing_and_says_so(
    app, desk, signed_in, parent, verified, course
):
    weekly = course(verified, weeks=2, seats=1)
    for session_id in session_ids(app, weekly):
        desk.register(parent(), session_id)
    as_parent = signed_in(parent(8))
    page = as_parent.get(f"/parents/courses/{weekly}/series")

    response = as_parent.post(  # sent from a page opened while seats were free
        f"/parents/courses/{weekly}/series",
        data={"series-seats": "1", "series-request_key": "an-older-page"},
    )

    assert "No session of this series has a seat" in page_text(page)
    assert response.status_code == 409
    assert "Every coming session is full." in page_text(response)
    assert [desk.taken(s) for s in session_ids(app, weekly)] == [(1, 1), (1, 1)]


KEYS_NO_PAGE_SENDS = ["k" * 49, "k" * 64, "k" * 10_000, "键" * 30]


@pytest.mark.parametrize("request_key", KEYS_NO_PAGE_SENDS)
def test_an_offered_seat_taken_with_a_key_no_page_sends_is_taken_once(
    desk, signed_in, parent, full_session, request_key
):
    """A key no page sends (longer than 48 characters, other characters) is replaced by a
    fresh one: the offer's page adds ``:<entry id>`` to it, and 64 characters and more ended
    in a server error on PostgreSQL."""
    session_id, holder, registration_id = full_session
    waiting = parent()
    entry_id = desk.join(waiting, session_id)
    desk.cancel(holder, registration_id)

    accepted = signed_in(waiting).post(
        f"/parents/course-offers/{entry_id}/accept", data={"request_key": request_key}
    )

    assert accepted.status_code == 302
    assert desk.entry(entry_id)["status"] == WaitStatus.ACCEPTED
    assert desk.registrations(session_id)[-1] == (waiting, RegistrationStatus.REGISTERED, 1)
    assert desk.taken(session_id) == (1, 1)


@pytest.mark.parametrize("request_key", KEYS_NO_PAGE_SENDS)
def test_a_seat_registered_with_a_key_no_page_sends_is_registered_once(
    app, desk, signed_in, parent, verified, course, request_key
):
    session_id = first_session(app, course(verified, "Open group", seats=2))
    family = parent()

    registered = signed_in(family).post(
        f"/parents/courses/sessions/{session_id}", data={"seats": "1", "request_key": request_key}
    )

    assert registered.status_code == 302
    assert desk.registrations(session_id) == [(family, RegistrationStatus.REGISTERED, 1)]
    assert desk.taken(session_id) == (1, 2)
