"""A course form's one-time key, whichever form used it: the single-session form or the series
form (one form for every coming session of a course).

A key is answered by what it made only on the same family's same form (a double tap); a key
used already in any other way (by another family, on the other form, for another session or
course) is an expired form: nothing is registered, and the page gives the form a fresh key.
The lookup is served by the key's unique index under any collation: no ``LIKE``.

Service calls run like requests: their own app context, one ``run_in_transaction``, English.
"""
# ruff: noqa: F811

import re
from html import unescape

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from test_courses import (
    course,  # noqa: F401 (a fixture)
    provider,  # noqa: F401 (a fixture)
    qingyang,  # noqa: F401 (a fixture)
    session_ids,
    signed_in,  # noqa: F401 (a fixture)
    verified,  # noqa: F401 (a fixture)
)

from careapp import clock
from careapp.database import run_in_transaction
from careapp.extensions import db
from careapp.models import (
    Course,
    CourseFormat,
    CourseRegistration,
    CourseSession,
    Role,
    User,
)
from careapp.services import courses
from careapp.services.courses import FormExpired

#: The message of an expired form, as the page shows it.
EXPIRED = "This form has expired. Nothing was registered: please check it and send it again."
#: How a plan reads that searches the unique index of ``course_registrations.request_key``.
KEY_INDEX_SEARCH = {
    "postgresql": "Index Cond: ((request_key)::text",
    "sqlite": "SEARCH course_registrations USING INDEX sqlite_autoindex_course_registrations_1",
}


# --- helpers -------------------------------------------------------------------------------


class KeyDesk:
    """The two registration forms by id, each call in its own app context and transaction."""

    def __init__(self, app):
        self.app = app

    def _run(self, work):
        with self.app.app_context(), force_locale("en"):
            return run_in_transaction(work)

    def register(self, parent_id: int, session_id: int, key: str) -> int:
        """Send the single-session form; the id of the registration it answers with."""
        return self._run(
            lambda: (
                courses.register(
                    db.session.get(User, parent_id),
                    db.session.get(CourseSession, session_id),
                    1,
                    key,
                    clock.local_now(),
                ).id
            )
        )

    def series(self, parent_id: int, course_id: int, key: str) -> list[int]:
        """Send the series form; the ids of the registrations it answers with, sorted."""
        return self._run(
            lambda: sorted(
                registration.id
                for registration in courses.register_series(
                    db.session.get(User, parent_id),
                    db.session.get(Course, course_id),
                    1,
                    key,
                    clock.local_now(),
                ).joined
            )
        )

    def send(self, form: str, parent_id: int, course: tuple[int, list[int]], key: str) -> None:
        """Send the ``"single"`` form of the course's last session, or its ``"series"`` form."""
        course_id, sessions = course
        if form == "single":
            self.register(parent_id, sessions[-1], key)
        else:
            self.series(parent_id, course_id, key)

    def held(self, parent_id: int) -> list[tuple[int, int]]:
        """``(registration id, session id)`` of every registration of the family."""
        with self.app.app_context():
            return [
                tuple(row)
                for row in db.session.execute(
                    sa.select(CourseRegistration.id, CourseRegistration.session_id)
                    .where(CourseRegistration.parent_id == parent_id)
                    .order_by(CourseRegistration.id)
                )
            ]


def page_text(response) -> str:
    """A response body with entities decoded."""
    return unescape(response.get_data(as_text=True))


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def desk(app) -> KeyDesk:
    """The registration forms, called by id."""
    return KeyDesk(app)


@pytest.fixture
def series_course(app, course, verified):
    """Factory: a live online course of ``weeks`` weekly sessions of a verified provider, open
    for registration; its id and its sessions' ids."""

    def make(weeks: int = 3) -> tuple[int, list[int]]:
        course_id = course(verified, course_format=CourseFormat.LIVE_ONLINE, weeks=weeks)
        return course_id, session_ids(app, course_id)

    return make


@pytest.fixture
def parent(user):
    """Factory: a parent account; returns its id."""
    return lambda: user(Role.PARENT)


# --- the same family's same form: what the key made ----------------------------------------


def test_a_series_form_sent_again_answers_with_the_registrations_it_made(
    desk, series_course, parent
):
    course_id, sessions = series_course(weeks=3)
    family = parent()
    made = desk.series(family, course_id, "series-key")

    again = desk.series(family, course_id, "series-key")

    assert again == made
    assert [session for _id, session in desk.held(family)] == sessions


def test_a_single_session_form_sent_again_answers_with_its_registration(
    desk, series_course, parent
):
    _course_id, sessions = series_course(weeks=2)
    family = parent()
    made = desk.register(family, sessions[0], "single-key")

    assert desk.register(family, sessions[0], "single-key") == made
    assert desk.held(family) == [(made, sessions[0])]


# --- another family's key, from either form ------------------------------------------------


@pytest.mark.parametrize("first_form", ["single", "series"])
@pytest.mark.parametrize("second_form", ["single", "series"])
@pytest.mark.parametrize("same_course", [True, False], ids=["same-course", "another-course"])
def test_a_key_another_family_used_on_either_form_registers_nothing(
    desk, series_course, parent, first_form, second_form, same_course
):
    first_course = series_course(weeks=2)
    second_course = first_course if same_course else series_course(weeks=2)
    first_family, second_family = parent(), parent()
    desk.send(first_form, first_family, first_course, "copied-key")
    held = desk.held(first_family)

    with pytest.raises(FormExpired):
        desk.send(second_form, second_family, second_course, "copied-key")

    assert desk.held(second_family) == []
    assert desk.held(first_family) == held


# --- the family's own key on another form: an expired form, not a second registration ------


def test_a_familys_single_session_key_sent_on_the_series_form_registers_nothing(
    desk, series_course, parent
):
    """The series form is another form: answering with the one registration would tell the
    family "registered for 1 session" while it asked for every session."""
    course_id, sessions = series_course(weeks=3)
    family = parent()
    made = desk.register(family, sessions[0], "single-key")

    with pytest.raises(FormExpired):
        desk.series(family, course_id, "single-key")

    assert desk.held(family) == [(made, sessions[0])]


@pytest.mark.parametrize("same_course", [True, False], ids=["same-course", "another-course"])
def test_a_familys_series_key_sent_on_a_single_session_form_registers_nothing(
    desk, series_course, parent, same_course
):
    series_id, series_sessions = series_course(weeks=2)
    _other, other_sessions = series_course(weeks=1)
    family = parent()
    desk.series(family, series_id, "series-key")
    held = desk.held(family)
    session_id = series_sessions[0] if same_course else other_sessions[0]

    with pytest.raises(FormExpired):
        desk.register(family, session_id, "series-key")

    assert desk.held(family) == held


def test_a_familys_single_session_key_sent_for_another_session_registers_nothing(
    desk, series_course, parent
):
    _course_id, sessions = series_course(weeks=2)
    family = parent()
    made = desk.register(family, sessions[0], "single-key")

    with pytest.raises(FormExpired):
        desk.register(family, sessions[1], "single-key")

    assert desk.held(family) == [(made, sessions[0])]


def test_a_familys_series_key_copied_to_another_courses_series_is_an_expired_form(
    desk, signed_in, series_course, parent
):
    """Neither registered twice nor told "registered" for the first course's sessions: the
    form comes back expired with a fresh key, which registers."""
    first_course, _first_sessions = series_course(weeks=2)
    second_course, second_sessions = series_course(weeks=2)
    family = parent()
    desk.series(family, first_course, "series-key")
    held = desk.held(family)
    as_family = signed_in(family)
    path = f"/parents/courses/{second_course}/series"

    refused = as_family.post(path, data={"series-seats": "1", "series-request_key": "series-key"})

    assert refused.status_code == 409
    assert EXPIRED in page_text(refused)
    assert desk.held(family) == held
    fresh = re.search(
        r'name="series-request_key" type="hidden" value="([^"]+)"', page_text(refused)
    )
    assert fresh[1] != "series-key"
    again = as_family.post(path, data={"series-seats": "1", "series-request_key": fresh[1]})
    assert again.status_code == 302
    assert [session for _id, session in desk.held(family)[len(held) :]] == second_sessions


# --- the lookup and the index ----------------------------------------------------------------


def key_lookups(app, send) -> list[tuple[str, object]]:
    """The statements (with parameters) that ``send`` ran to find registrations by key."""
    found = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if "request_key" in statement.partition("WHERE")[2]:
            found.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        send()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return found


def uses_key_index(app, statement: str, parameters) -> bool:
    """Whether the database runs ``statement`` by searching the key's index, given the choice."""
    with app.app_context(), db.engine.begin() as connection:
        backend = connection.dialect.name
        if backend == "postgresql":
            # A plan that can use the index does; one that cannot still scans the table.
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
        else:
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        return KEY_INDEX_SEARCH[backend] in "\n".join(row[-1] for row in plan)


@pytest.mark.parametrize("form", ["single", "series"])
def test_finding_a_forms_key_uses_the_key_index(app, desk, series_course, parent, form):
    """``LIKE 'key:%'`` is served by a plain index only under the C collation (on SQLite,
    not at all: its LIKE ignores case); an exact lookup is served under any."""
    course_id, sessions = series_course(weeks=3)
    family = parent()
    if form == "single":
        desk.register(family, sessions[0], "form-key")
        lookups = key_lookups(app, lambda: desk.register(family, sessions[0], "form-key"))
    else:
        desk.series(family, course_id, "form-key")
        lookups = key_lookups(app, lambda: desk.series(family, course_id, "form-key"))

    assert lookups
    for statement, parameters in lookups:
        assert uses_key_index(app, statement, parameters), statement
