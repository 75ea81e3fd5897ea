"""A page costs a fixed number of queries however many results it shows (no N+1)."""

from datetime import time, timedelta

import pytest
import sqlalchemy as sa
from places_desk import PlacesDesk

from careapp import clock, database
from careapp.extensions import db
from careapp.models import CareClass, CareType, ClassKind

OFFERS = {CareType.FULL_DAY: (12, 36, 2800), CareType.HOURLY: (6, 36, 40)}
CLASSES = ((ClassKind.TODDLER, 15, 3), (ClassKind.OLDER_TODDLER, 20, 3))


def _queries_for(client, count_queries, path: str) -> int:
    with count_queries() as statements:
        response = client.get(path)
    assert response.status_code == 200
    return len(statements)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/api/v1/institutions",
        "/?care_type=hourly&age_months=14",
        "/registry",
        "/api/v1/registry/events",
        "/api/v1/townships",
    ],
)
def test_query_count_does_not_grow_with_the_number_of_results(
    app, client, institution, count_queries, path
):
    app.config["PAGE_CACHE"] = False  # the view's own statements, rendered every time
    institution("第一家托育中心", offers=OFFERS, classes=CLASSES)
    few = _queries_for(client, count_queries, path)
    for number in range(24):
        institution(
            f"托育中心{number}",
            township_code=("qingyang", "chendai")[number % 2],
            offers=OFFERS,
            classes=CLASSES,
        )
    many = _queries_for(client, count_queries, path)
    assert many == few
    # The register's version (the cards' facts are kept under it: careapp/fragments.py), the
    # regions, the chosen region's townships and its communities (the places to search near),
    # the total, the page and its free places.
    assert many <= 9


def test_institution_page_query_count_does_not_grow_with_classes_and_offers(
    client, institution, count_queries
):
    small = institution("小园", offers={CareType.FULL_DAY: (12, 36, 2800)}, classes=CLASSES[:1])
    large = institution(
        "大园",
        offers={care_type: (12, 36, 100) for care_type in CareType},
        classes=CLASSES * 4,
    )
    assert _queries_for(client, count_queries, f"/institutions/{small}") == _queries_for(
        client, count_queries, f"/institutions/{large}"
    )


@pytest.mark.parametrize(
    "path",
    [
        "/?township=chendai",
        "/?nature=inclusive",
        "/?care_type=hourly",
        "/?q=托育",
        "/?q=托育中心",
        "/?q=托",
        "/?q=托育&township=qingyang&care_type=full_day&age_months=14",
        "/api/v1/institutions?per_page=1&page=3",
        "/api/v1/institutions?q=中心&per_page=2",
        "/api/v1/institutions?township=qingyang&per_page=2&page=2",
        "/registry?township=qingyang",
        "/api/v1/registry/events?type=filed",
        "/statistics",
        "/api/v1/statistics/townships",
    ],
)
def test_public_lists_run_as_many_statements_for_30_institutions_as_for_3(
    client, institution, count_queries, path
):
    def fill(up_to: int) -> None:
        for number in range(fill.made, up_to):
            institution(
                f"托育中心{number}",
                township_code=("qingyang", "chendai")[number % 2],
                offers=OFFERS,
                classes=CLASSES,
            )
        fill.made = up_to

    fill.made = 0
    fill(3)
    few = _queries_for(client, count_queries, path)
    fill(30)

    assert _queries_for(client, count_queries, path) == few


# --- a booking -----------------------------------------------------------------------------

#: What a booking POST may send the database: every SQL statement, savepoints and a ping of an
#: idle pooled connection included (BEGIN and COMMIT not counted). The issue asks 8; sent now,
#: on PostgreSQL (SQLite: no ping, and 6 is two statements, also 8):
#:  1. ping of the idle pooled connection;
#:  2. the session and its account (sign-in);
#:  3. the slot with its institution, offers, class and places (the view's load);
#:  4. lock the chosen child (one the account may book for), then the class (FOR UPDATE, one
#:     statement), loading the child and reading the closed days;
#:  5. read after the lock: a booking this form made already, the slots the child holds, the
#:     children counted in the class, and the slot afresh (its status);
#:  6. take the place and insert the booking, only if nobody is in the slot's line: the
#:     compare-and-set in a CTE the INSERT reads (the line is read only when somebody is);
#:  7. queue the parent's message;  8. bump the page cache's version of "places".
BOOKING_STATEMENTS_AT_MOST = 8


@pytest.fixture
def booking_request(app, user, institution, auth, client):
    """A signed-in parent with a child, and the path of an hourly slot a week ahead."""
    institution_id = institution("计数托育中心", offers={CareType.HOURLY: (6, 36, 40)})
    day = clock.today() + timedelta(days=7)
    desk = PlacesDesk(app, user, clock.local_now(), born=day - timedelta(days=540))
    with app.app_context():
        class_id = db.session.scalar(
            sa.select(CareClass.id).where(CareClass.institution_id == institution_id)
        )
    slot_id = desk.add_slot(class_id, CareType.HOURLY, day, (time(9), time(10)), 3)
    parent_id, child_id = desk.family()
    auth.login(parent_id)
    client.get(f"/parents/book/{slot_id}")
    return f"/parents/book/{slot_id}", {"child_id": child_id, "request_key": "count-1"}


def test_a_booking_sends_few_statements_and_none_after_its_commit(
    app, client, booking_request, monkeypatch
):
    path, form = booking_request
    # The worst case: every pooled connection counts as idle and is pinged before use.
    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.0)
    sent: list[str] = []
    pinged = database.ping
    monkeypatch.setattr(
        database, "ping", lambda connection: (sent.append("ping"), pinged(connection))
    )
    committed_after: list[int] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT")):
            sent.append(statement)

    def note_commit(conn):
        committed_after.append(len(sent))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    sa.event.listen(engine, "commit", note_commit)
    try:
        response = client.post(path, data=form)
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
        sa.event.remove(engine, "commit", note_commit)

    assert response.status_code == 302
    assert "/parents/bookings/" in response.headers["Location"]
    assert committed_after == [len(sent)], "a statement was sent after the booking's commit"
    assert len(sent) <= BOOKING_STATEMENTS_AT_MOST, "\n".join(sent)
