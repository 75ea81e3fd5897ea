"""Guidance providers: the organisation, posting courses, registrations and attendance, the export,
and the regulator's verification and suspension.

A provider sees only its own courses, sessions and registrations; anything else answers 404.
Nothing of a provider is public until the regulator has verified it.
"""

import csv
import io
import re
from datetime import datetime, timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from careapp import clock
from careapp.extensions import db
from careapp.models import (
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
    SessionStatus,
    Topic,
    User,
    publicly_listed_courses,
)
from careapp.services import courses

ORGANISATION = "晋江市妇幼保健院"
PHONE = "0595-85661234"


def page_text(response) -> str:
    """A response body with entities decoded."""
    return unescape(response.get_data(as_text=True))


def flashes(response, category: str) -> list[str]:
    """The flash messages of ``category`` on a page."""
    return re.findall(rf'<p class="flash flash-{category}">(.*?)</p>', page_text(response))


def field_errors(response) -> dict[str, str]:
    """The error message next to each field, by field id."""
    return dict(re.findall(r'<p class="error" id="([\w-]+)-error">(.*?)</p>', page_text(response)))


def minute(moment: datetime) -> str:
    """A datetime as a datetime-local input sends it."""
    return moment.strftime("%Y-%m-%dT%H:%M")


def first_start() -> datetime:
    """The first session of the courses posted here: ten days ahead at 09:30."""
    return datetime.combine(
        clock.local_now().date() + timedelta(days=10), datetime.min.time()
    ).replace(hour=9, minute=30)


def course_data(township: int, **changes) -> dict:
    """A valid new-course form: three weekly sessions in person; ``changes`` override."""
    start = first_start()
    data = {
        "title": "辅食添加 Weaning",
        "description": "What to feed from six months.",
        "topic": "nutrition",
        "format": "in_person",
        "township_id": str(township),
        "address": "世纪大道 1 号",
        "link": "",
        "min_age_months": "6",
        "max_age_months": "18",
        "first_date": start.date().isoformat(),
        "start_time": "09:30",
        "duration_minutes": "90",
        "weeks": "3",
        "seats": "20",
        "allow_second_seat": "y",
        "registration_opens_at": minute(clock.local_now() - timedelta(days=1)),
        "registration_closes_at": minute(start - timedelta(hours=1)),
    }
    data.update(changes)
    return data


def database_state(app) -> tuple:
    """Every provider, course, session and registration as plain tuples."""
    with app.app_context():
        return (
            db.session.execute(sa.select(Provider.id, Provider.status, Provider.name)).all(),
            db.session.execute(sa.select(Course.id, Course.title)).all(),
            db.session.execute(sa.select(CourseSession.id, CourseSession.status)).all(),
            db.session.execute(sa.select(CourseRegistration.id, CourseRegistration.status)).all(),
        )


@pytest.fixture
def qingyang(township):
    """The id of a township."""
    return township("qingyang")


@pytest.fixture
def organisation(app):
    """Factory: a provider organisation of the account ``user_id``; returns its id."""

    def make(
        user_id: int, status: ProviderStatus = ProviderStatus.PENDING, name: str = ORGANISATION
    ) -> int:
        with app.app_context():
            provider = Provider(
                user_id=user_id,
                name=name,
                organisation_type=OrganisationType.MCH_HOSPITAL,
                phone=PHONE,
                status=status,
            )
            db.session.add(provider)
            db.session.commit()
            return provider.id

    return make


@pytest.fixture
def course(app, qingyang):
    """Factory: a course of the provider ``provider_id`` with ``weeks`` sessions; returns its id."""

    def make(provider_id: int, weeks: int = 2, seats: int = 10, title: str = "科学育儿") -> int:
        start = first_start()
        with app.app_context():
            provider = db.session.get(Provider, provider_id)
            made = courses.create_course(
                provider,
                courses.session_times(start, 60, weeks),
                title=title,
                topic=Topic.GROWTH,
                format=CourseFormat.IN_PERSON,
                township_id=qingyang,
                address="梅岭路 8 号",
                min_age_months=0,
                max_age_months=36,
                seats=seats,
                allow_second_seat=True,
                registration_opens_at=clock.local_now() - timedelta(days=1),
                registration_closes_at=start - timedelta(hours=1),
            )
            db.session.commit()
            return made.id

    return make


@pytest.fixture
def family(app, user):
    """Factory: a new parent called ``name`` takes ``seats`` in a session; returns the
    registration id."""

    def make(session_id: int, name: str, seats: int = 1) -> int:
        parent_id = user(Role.PARENT, display_name=name)
        with app.app_context():
            session = db.session.get(CourseSession, session_id)
            parent = db.session.get(User, parent_id)
            registration = courses.register(
                parent, session, seats, f"key-{parent_id}", clock.local_now()
            )
            db.session.commit()
            return registration.id

    return make


def session_ids(app, course_id: int) -> list[int]:
    """The ids of a course's sessions, first first."""
    with app.app_context():
        return [s.id for s in db.session.get(Course, course_id).sessions]


@pytest.fixture
def provider_account(user):
    """The id of a provider account."""
    return user(Role.PROVIDER, display_name="Dr Lin")


@pytest.fixture
def as_provider(client, auth, provider_account):
    """A client signed in as the provider account, reading English."""
    auth.login(provider_account)
    client.set_cookie("lang", "en")
    return client


@pytest.fixture
def verified(organisation, provider_account):
    """The id of the provider account's verified organisation."""
    return organisation(provider_account, ProviderStatus.VERIFIED)


@pytest.fixture
def as_regulator(client, auth, user):
    """A client signed in as the regulator, reading English."""
    auth.login(user(Role.REGULATOR))
    client.set_cookie("lang", "en")
    return client


# --- the organisation ----------------------------------------------------------------------


def test_provider_without_organisation_is_asked_to_register_it(as_provider):
    home = as_provider.get("/providers/")
    posting = as_provider.get("/providers/courses/new")

    assert home.status_code == 200
    assert "Register your organisation first." in page_text(home)
    assert posting.status_code == 302
    assert posting.headers["Location"] == "/providers/organisation"
    followed = as_provider.get("/providers/organisation")
    assert flashes(followed, "error") == [
        "Please register your organisation before you post a course."
    ]


def test_registering_the_organisation_leaves_it_waiting_for_verification(
    app, as_provider, provider_account, qingyang
):
    response = as_provider.post(
        "/providers/organisation",
        data={
            "name": f"  {ORGANISATION} ",
            "name_en": "Jinjiang MCH Hospital",
            "organisation_type": "mch_hospital",
            "township_id": str(qingyang),
            "phone": PHONE,
        },
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/providers/"
    with app.app_context():
        provider = db.session.scalar(sa.select(Provider))
        assert provider.user_id == provider_account
        assert provider.status == ProviderStatus.PENDING
        assert (provider.name, provider.name_en) == (ORGANISATION, "Jinjiang MCH Hospital")
        assert provider.township_id == qingyang
    home = page_text(as_provider.get("/providers/"))
    assert "waiting for the county health bureau to verify it" in home
    assert "none of them is public until it is verified" in home


def test_organisation_without_township_serves_the_whole_city(app, as_provider):
    as_provider.post(
        "/providers/organisation",
        data={"name": "妇联", "organisation_type": "womens_federation", "phone": "13812345678"},
    )

    with app.app_context():
        provider = db.session.scalar(sa.select(Provider))
        assert provider.township_id is None
        assert provider.organisation_type == OrganisationType.WOMENS_FEDERATION


def test_organisation_form_errors_are_shown_and_input_kept(app, as_provider):
    response = as_provider.post(
        "/providers/organisation",
        data={"name": " ", "name_en": "Kept name", "organisation_type": "other", "phone": "12345"},
    )

    assert response.status_code == 200
    errors = field_errors(response)
    assert errors["name"] == "Enter the name of the organisation."
    assert errors["phone"].startswith("Please enter a phone number with its area code")
    text = page_text(response)
    assert 'value="12345"' in text
    assert 'value="Kept name"' in text
    assert '<option selected value="other">' in text
    assert database_state(app)[0] == []


def test_renaming_a_verified_provider_needs_verification_again(app, as_provider, verified):
    kept = as_provider.post(
        "/providers/organisation",
        data={"name": ORGANISATION, "organisation_type": "mch_hospital", "phone": "0595-85660000"},
    )
    with app.app_context():
        assert db.session.get(Provider, verified).status == ProviderStatus.VERIFIED

    renamed = as_provider.post(
        "/providers/organisation",
        data={
            "name": "晋江市妇幼保健院（新）",
            "organisation_type": "mch_hospital",
            "phone": PHONE,
        },
    )

    assert kept.status_code == renamed.status_code == 302
    with app.app_context():
        assert db.session.get(Provider, verified).status == ProviderStatus.PENDING
    assert flashes(as_provider.get("/providers/"), "success") == [
        "The details of your organisation are saved.",
        "The name changed, so the county health bureau must verify your organisation again."
        " Your courses are not public until then.",
    ]


# --- posting a course ----------------------------------------------------------------------


def test_posting_a_weekly_series_makes_its_sessions(
    app, as_provider, organisation, provider_account, qingyang
):
    provider_id = organisation(provider_account)

    response = as_provider.post("/providers/courses/new", data=course_data(qingyang))

    assert response.status_code == 302
    with app.app_context():
        made = db.session.scalar(sa.select(Course))
        assert response.headers["Location"] == f"/providers/courses/{made.id}"
        assert made.provider_id == provider_id
        assert (made.topic, made.format, made.township_id) == (
            Topic.NUTRITION,
            CourseFormat.IN_PERSON,
            qingyang,
        )
        assert made.link is None
        assert (made.min_age_months, made.max_age_months, made.seats) == (6, 18, 20)
        assert made.allow_second_seat is True
        start = first_start()
        assert [(s.starts_at, s.ends_at) for s in made.sessions] == [
            (start + timedelta(weeks=week), start + timedelta(weeks=week, minutes=90))
            for week in range(3)
        ]
        assert [s.inventory.capacity for s in made.sessions] == [20, 20, 20]
        # Pending: nothing is public yet.
        assert db.session.scalars(publicly_listed_courses()).all() == []
    assert flashes(as_provider.get(response.headers["Location"]), "success") == [
        "The course is saved. It becomes public once the county health bureau has verified"
        " your organisation."
    ]


def test_home_lists_courses_with_sessions_and_seats(as_provider, verified, course, family, app):
    course_id = course(verified, weeks=2, seats=10)
    family(session_ids(app, course_id)[0], "王家", seats=2)

    text = page_text(as_provider.get("/providers/"))

    assert "科学育儿" in text
    assert text.count("of 10 seats taken") == 2
    assert "2 of 10 seats taken" in text
    assert "Your courses are public." in text


def test_online_course_keeps_its_link_and_no_place(app, as_provider, verified, qingyang):
    data = course_data(
        qingyang, format="live_online", link="https://live.example.com/room/1", weeks="1"
    )

    response = as_provider.post("/providers/courses/new", data=data)

    assert response.status_code == 302
    with app.app_context():
        made = db.session.scalar(sa.select(Course))
        assert (made.link, made.township_id, made.address) == (
            "https://live.example.com/room/1",
            None,
            None,
        )
        assert len(made.sessions) == 1
        assert db.session.scalars(publicly_listed_courses()).all() == [made]


LATE = minute(first_start() + timedelta(minutes=1))


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": "  "}, "title", "Enter the title of the course."),
        ({"township_id": ""}, "township_id", "Choose the township where the course takes place."),
        ({"address": ""}, "address", "Enter the address where the course takes place."),
        (
            {"format": "live_online", "link": ""},
            "link",
            "Enter the link families use to follow the course.",
        ),
        (
            {"format": "recorded", "link": "www.example.com/video"},
            "link",
            "Enter a web address that starts with https:// or http://.",
        ),
        (
            {"format": "live_online", "link": "javascript:alert(1)"},
            "link",
            "Enter a web address that starts with https:// or http://.",
        ),
        ({"min_age_months": "36"}, "min_age_months", "Enter an age from 0 to 35 months."),
        ({"max_age_months": "0"}, "max_age_months", "Enter an age from 1 to 36 months."),
        (
            {"min_age_months": "12", "max_age_months": "12"},
            "max_age_months",
            "The upper age must be above the lower age.",
        ),
        ({"duration_minutes": "10"}, "duration_minutes", "Enter a length from 15 to 480 minutes."),
        ({"duration_minutes": ""}, "duration_minutes", "Enter a length from 15 to 480 minutes."),
        ({"weeks": "0"}, "weeks", "Enter a number of sessions from 1 to 26."),
        ({"weeks": "27"}, "weeks", "Enter a number of sessions from 1 to 26."),
        ({"seats": "abc"}, "seats", "Enter a number of seats from 1 to 500."),
        ({"seats": "501"}, "seats", "Enter a number of seats from 1 to 500."),
        ({"first_date": ""}, "first_date", "Enter the date of the first session."),
        ({"registration_opens_at": ""}, "registration_opens_at", "Enter when registration opens."),
        (
            {"registration_closes_at": minute(clock.local_now() - timedelta(days=1))},
            "registration_closes_at",
            "Registration must close after it opens.",
        ),
        (
            {"registration_closes_at": LATE},
            "registration_closes_at",
            "Registration must close no later than the start of the first session.",
        ),
    ],
)
def test_course_form_refuses_bad_input_and_keeps_it(
    app, as_provider, verified, qingyang, changes, field, message
):
    response = as_provider.post("/providers/courses/new", data=course_data(qingyang, **changes))

    assert response.status_code == 200
    assert field_errors(response) == {field: message}
    text = page_text(response)
    kept = {"title": "辅食添加 Weaning", "address": "世纪大道 1 号"} | changes
    for name, value in kept.items():
        if name not in ("format", "township_id") and value.strip():
            assert f'value="{value}"' in text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Course.id))) == 0


def test_course_form_keeps_every_typed_value_when_several_are_wrong(
    as_provider, verified, qingyang
):
    data = course_data(qingyang, seats="lots", weeks="99", link="ftp://old", format="recorded")

    response = as_provider.post("/providers/courses/new", data=data)

    text = page_text(response)
    assert set(field_errors(response)) == {"seats", "weeks", "link"}
    for kept in ('value="lots"', 'value="99"', 'value="ftp://old"', 'value="世纪大道 1 号"'):
        assert kept in text
    assert f'value="{data["registration_closes_at"]}"' in text
    assert 'checked id="format-2" name="format" type="radio" value="recorded"' in text
    assert 'checked id="allow_second_seat"' in text


# --- registrations, attendance and cancelling ----------------------------------------------


def has_started(app, session_id: int) -> None:
    """Let a session have begun an hour ago: attendance is recorded once it has started."""
    with app.app_context():
        session = db.session.get(CourseSession, session_id)
        length = session.ends_at - session.starts_at
        session.starts_at = clock.local_now() - timedelta(hours=1)
        session.ends_at = session.starts_at + length
        db.session.commit()


def test_course_page_lists_families_and_attendance_counts(
    app, as_provider, verified, course, family
):
    course_id = course(verified)
    first, second = session_ids(app, course_id)
    came = family(first, "王家")
    stayed_away = family(first, "李家", seats=2)
    family(second, "陈家")
    has_started(app, first)

    marked = as_provider.post(
        f"/providers/courses/{course_id}/registrations/{came}/attendance", data={"attended": "y"}
    )
    missed = as_provider.post(
        f"/providers/courses/{course_id}/registrations/{stayed_away}/attendance",
        data={"attended": "n"},
    )

    assert marked.status_code == missed.status_code == 302
    assert marked.headers["Location"] == f"/providers/courses/{course_id}#registration-{came}"
    with app.app_context():
        statuses = [db.session.get(CourseRegistration, r).status for r in (came, stayed_away)]
        assert statuses == [RegistrationStatus.ATTENDED, RegistrationStatus.NO_SHOW]
    page = as_provider.get(f"/providers/courses/{course_id}")
    text = page_text(page)
    assert flashes(page, "success") == [
        "王家 is recorded as attended.",
        "李家 is recorded as not having come.",
    ]
    assert "Registered: 2 · Attended: 1 · Did not come: 1" in text
    assert "Registered: 1 · Attended: 0 · Did not come: 0" in text
    assert re.search(r"<dt>Families registered</dt><dd>3</dd>", text)
    assert re.search(r"<dt>Attended</dt><dd>1</dd>", text)
    assert re.search(r"<dt>Did not come</dt><dd>1</dd>", text)
    assert "2 seats" in text


def test_attendance_needs_yes_or_no(app, as_provider, verified, course, family):
    course_id = course(verified)
    registration = family(session_ids(app, course_id)[0], "王家")
    before = database_state(app)

    response = as_provider.post(
        f"/providers/courses/{course_id}/registrations/{registration}/attendance",
        data={"attended": "maybe"},
    )

    assert response.status_code == 400
    assert database_state(app) == before


def test_cancelling_a_session_needs_a_reason(app, as_provider, verified, course, family):
    course_id = course(verified)
    session_id = session_ids(app, course_id)[0]
    family(session_id, "王家")
    before = database_state(app)

    response = as_provider.post(
        f"/providers/courses/{course_id}/sessions/{session_id}/cancel",
        data={f"cancel-{session_id}-reason": "   "},
    )

    assert response.status_code == 200
    assert field_errors(response) == {
        f"cancel-{session_id}-reason": "Please give the reason; the families will read it."
    }
    assert database_state(app) == before


def test_cancelling_a_session_tells_its_families(app, as_provider, verified, course, family):
    course_id = course(verified)
    session_id, other_id = session_ids(app, course_id)
    registration = family(session_id, "王家")

    response = as_provider.post(
        f"/providers/courses/{course_id}/sessions/{session_id}/cancel",
        data={f"cancel-{session_id}-reason": "医生出诊"},
    )

    assert response.status_code == 302
    assert response.headers["Location"] == f"/providers/courses/{course_id}#session-{session_id}"
    with app.app_context():
        assert db.session.get(CourseSession, session_id).status == SessionStatus.CANCELLED
        assert db.session.get(CourseSession, other_id).status == SessionStatus.SCHEDULED
        found = db.session.get(CourseRegistration, registration)
        assert found.status == RegistrationStatus.CANCELLED_BY_PROVIDER
        messages = db.session.scalars(sa.select(OutboxMessage)).all()
        assert [m.recipient for m in messages] == [found.parent.email]
        assert "医生出诊" in messages[0].body
    page = as_provider.get(f"/providers/courses/{course_id}")
    assert flashes(page, "success")[0].endswith("is cancelled and 1 registered family was told.")
    has_started(app, session_id)
    marking = as_provider.post(
        f"/providers/courses/{course_id}/registrations/{registration}/attendance",
        data={"attended": "y"},
    )
    assert marking.status_code == 400
    assert flashes(marking, "error") == ["Only registered families can be marked."]


def test_registrations_export_is_a_csv_file_for_excel(app, as_provider, verified, course, family):
    course_id = course(verified)
    first, second = session_ids(app, course_id)
    family(first, '=HYPERLINK("x")', seats=2)
    family(second, "李家")

    response = as_provider.get(f"/providers/courses/{course_id}/registrations.csv")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=course-{course_id}-registrations.csv"
    )
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    start = first_start()
    assert rows == [
        ["Session start", "Family", "Seats", "Status"],
        [start.strftime("%Y-%m-%d %H:%M"), '\'=HYPERLINK("x")', "2", "Registered"],
        [
            (start + timedelta(weeks=1)).strftime("%Y-%m-%d %H:%M"),
            "李家",
            "1",
            "Registered",
        ],
    ]


# --- ownership -----------------------------------------------------------------------------


def test_another_providers_course_answers_404(
    app, client, auth, user, organisation, course, family
):
    owner = user(Role.PROVIDER)
    course_id = course(organisation(owner, ProviderStatus.VERIFIED))
    session_id = session_ids(app, course_id)[0]
    registration = family(session_id, "王家")
    intruder = user(Role.PROVIDER)
    organisation(intruder, name="另一家机构")
    auth.login(intruder)
    before = database_state(app)

    answers = [
        client.get(f"/providers/courses/{course_id}").status_code,
        client.get(f"/providers/courses/{course_id}/registrations.csv").status_code,
        client.post(
            f"/providers/courses/{course_id}/registrations/{registration}/attendance",
            data={"attended": "y"},
        ).status_code,
        client.post(
            f"/providers/courses/{course_id}/sessions/{session_id}/cancel",
            data={f"cancel-{session_id}-reason": "冒名"},
        ).status_code,
    ]

    assert answers == [404, 404, 404, 404]
    assert database_state(app) == before


def test_provider_without_organisation_has_no_course_pages(client, auth, user):
    auth.login(user(Role.PROVIDER))

    assert client.get("/providers/courses/1").status_code == 404
    assert client.get("/providers/courses/1/registrations.csv").status_code == 404


def test_sessions_and_registrations_of_another_course_answer_404(
    app, user, organisation, course, family, as_provider, verified
):
    mine = course(verified)
    other_provider = organisation(user(Role.PROVIDER), ProviderStatus.VERIFIED, name="别家")
    theirs = course(other_provider)
    their_session = session_ids(app, theirs)[0]
    their_registration = family(their_session, "王家")
    before = database_state(app)

    cancel = as_provider.post(
        f"/providers/courses/{mine}/sessions/{their_session}/cancel",
        data={f"cancel-{their_session}-reason": "冒名"},
    )
    mark = as_provider.post(
        f"/providers/courses/{mine}/registrations/{their_registration}/attendance",
        data={"attended": "n"},
    )

    assert (cancel.status_code, mark.status_code) == (404, 404)
    assert database_state(app) == before


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (Role.PARENT, "/providers/organisation"),
        (Role.INSTITUTION, "/providers/courses/new"),
        (Role.PROVIDER, "/regulator/providers"),
        (Role.PARENT, "/regulator/providers"),
    ],
)
def test_other_roles_may_not_open_these_pages(client, auth, user, role, path):
    auth.login(user(role))

    assert client.get(path).status_code == 403


# --- the regulator -------------------------------------------------------------------------


def test_regulator_lists_providers_pending_first(as_regulator, user, organisation, course):
    verified_id = organisation(
        user(Role.PROVIDER, email="verified@example.com"), ProviderStatus.VERIFIED, name="甲机构"
    )
    course(verified_id)
    course(verified_id)
    organisation(user(Role.PROVIDER), ProviderStatus.SUSPENDED, name="乙机构")
    organisation(user(Role.PROVIDER, email="new@example.com"), name="丙机构")

    text = page_text(as_regulator.get("/regulator/providers"))

    assert text.index("丙机构") < text.index("甲机构") < text.index("乙机构")
    assert text.index("Waiting for verification: 1") < text.index("丙机构")
    assert "verified@example.com" in text
    assert "new@example.com" in text
    assert "2 courses" in text
    assert "Maternal and child health hospital" in text
    assert "/regulator/providers" in page_text(as_regulator.get("/regulator/"))


def test_regulator_verifies_a_provider_and_its_courses_become_public(
    app, as_regulator, user, organisation, course
):
    provider_id = organisation(user(Role.PROVIDER))
    course_id = course(provider_id)

    response = as_regulator.post(f"/regulator/providers/{provider_id}/verify")

    assert response.status_code == 302
    assert response.headers["Location"] == f"/regulator/providers#provider-{provider_id}"
    with app.app_context():
        assert db.session.get(Provider, provider_id).status == ProviderStatus.VERIFIED
        assert [c.id for c in db.session.scalars(publicly_listed_courses())] == [course_id]
    assert flashes(as_regulator.get("/regulator/providers"), "success") == [
        f"{ORGANISATION} is verified; its courses are public now."
    ]


@pytest.mark.parametrize("reason", ["", "   "])
def test_suspending_needs_a_reason(app, as_regulator, user, organisation, reason):
    provider_id = organisation(user(Role.PROVIDER), ProviderStatus.VERIFIED)
    before = database_state(app)

    response = as_regulator.post(
        f"/regulator/providers/{provider_id}/suspend", data={"suspend-reason": reason}
    )

    assert response.status_code == 400
    assert f'id="suspend-reason-{provider_id}-error">Please give the reason.' in page_text(response)
    assert database_state(app) == before


def test_suspending_unlists_the_courses_and_the_provider_reads_why(
    app, client, auth, as_regulator, provider_account, verified, course
):
    course(verified)

    response = as_regulator.post(
        f"/regulator/providers/{verified}/suspend", data={"suspend-reason": "宣传内容不实"}
    )

    assert response.status_code == 302
    assert response.headers["Location"] == f"/regulator/providers#provider-{verified}"
    with app.app_context():
        provider = db.session.get(Provider, verified)
        assert (provider.status, provider.status_reason) == (
            ProviderStatus.SUSPENDED,
            "宣传内容不实",
        )
        assert db.session.scalars(publicly_listed_courses()).all() == []
    auth.logout()
    auth.login(provider_account)
    home = page_text(client.get("/providers/"))
    assert "suspended your organisation" in home
    assert "The reason given: 宣传内容不实" in home


def test_deciding_on_an_unknown_provider_answers_404(as_regulator):
    assert as_regulator.post("/regulator/providers/2147483647/verify").status_code == 404
    missing = as_regulator.post(
        "/regulator/providers/2147483647/suspend", data={"suspend-reason": "x"}
    )
    assert missing.status_code == 404
