"""The page cache: anonymous visitors get kept pages, and never one older than the register."""

import socket
import uuid
from datetime import UTC, datetime, time, timedelta

import flask
import pytest
import sqlalchemy as sa

from careapp import cache, clock
from careapp.extensions import db
from careapp.models import (
    CacheScope,
    CacheVersion,
    CareOffer,
    CareType,
    ClassKind,
    Institution,
    Role,
    Status,
)
from tests.conftest import make_app
from tests.places_desk import PlacesDesk


def _redis_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.2).close()
    except OSError:
        return False
    return True


needs_redis = pytest.mark.skipif(not _redis_reachable(), reason="no Redis on 127.0.0.1:6379")


def _version(app, scope: CacheScope) -> int:
    with app.app_context():
        return db.session.get(CacheVersion, str(scope)).version


def _get(client, path: str, **headers):
    return client.get(path, headers=headers)


def test_a_second_anonymous_request_is_served_from_the_cache(client, institution, count_queries):
    institution("晋江市小橡树托育中心")
    first = client.get("/")
    with count_queries() as statements:
        second = client.get("/")

    assert first.headers["X-Page-Cache"] == "miss"
    assert second.headers["X-Page-Cache"] == "hit"
    assert second.data == first.data
    assert "小橡树" in second.get_data(as_text=True)
    # Only the versions are read: nothing of the register.
    queries = [statement for statement in statements if statement != "BEGIN"]
    assert len(queries) == 1
    assert "cache_versions" in queries[0]


def _rename(app, institution_id: int, name: str) -> None:
    with app.app_context():
        db.session.get(Institution, institution_id).name = name
        db.session.commit()


def _deregister_in_bulk(app, institution_id: int, name: str) -> None:
    with app.app_context():
        db.session.execute(
            sa.update(Institution)
            .where(Institution.id == institution_id)
            .values(status=Status.DEREGISTERED)
        )
        db.session.commit()


def _drop_offers(app, institution_id: int, name: str) -> None:
    with app.app_context():
        for offer in db.session.scalars(
            sa.select(CareOffer).where(CareOffer.institution_id == institution_id)
        ):
            db.session.delete(offer)
        db.session.commit()


@pytest.mark.parametrize(
    ("change", "path", "before", "after"),
    [
        (_rename, "/", "小橡树", "大榕树"),
        (_rename, "/institutions/{id}", "小橡树", "大榕树"),
        (_rename, "/api/v1/institutions", "小橡树", "大榕树"),
        (_rename, "/api/v1/institutions/{id}", "小橡树", "大榕树"),
        (_deregister_in_bulk, "/", "小橡树", "大榕树"),
        (_deregister_in_bulk, "/api/v1/institutions", "小橡树", "大榕树"),
        (_drop_offers, "/api/v1/institutions/{id}", "full_day", "大榕树"),
    ],
    ids=[
        "rename-page",
        "rename-institution",
        "rename-api",
        "rename-api-item",
        "bulk-page",
        "bulk-api",
        "delete-api-item",
    ],  # fmt: skip
)
def test_a_kept_page_changes_in_the_request_after_the_register_changes(
    app, client, institution, change, path, before, after
):
    kept = institution("晋江市小橡树托育中心")
    institution("晋江市大榕树托育园", township_code="chendai")
    url = path.format(id=kept)
    client.get(url)
    assert _get(client, url).headers["X-Page-Cache"] == "hit"
    assert before in client.get(url).get_data(as_text=True)

    change(app, kept, "晋江市大榕树托育中心")
    fresh = client.get(url)

    assert fresh.headers.get("X-Page-Cache") != "hit"
    text = fresh.get_data(as_text=True)
    if change is _rename:
        assert "小橡树" not in text
        assert "大榕树托育中心" in text
    elif change is _deregister_in_bulk:
        assert "小橡树" not in text
        assert "大榕树" in text
    else:
        assert "full_day" not in text


def test_a_booking_changes_the_places_shown_at_once(app, client, institution, user):
    kept = institution(
        "小橡树", offers={CareType.HOURLY: (12, 36, 30)}, classes=((ClassKind.TODDLER, 15, 3),)
    )
    desk = PlacesDesk(app, user, clock.local_now(), clock.today() - timedelta(days=600))
    with app.app_context():
        class_id = db.session.get(Institution, kept).classes[0].id
    slot = desk.add_slot(
        class_id, CareType.HOURLY, clock.today() + timedelta(days=2), (time(9), time(11)), 2
    )
    url = f"/api/v1/institutions/{kept}/availability?care_type=hourly"
    client.get(url)
    assert client.get(url).json["items"][0]["remaining"] == 2

    desk.book(desk.family(), slot)

    fresh = client.get(url)
    assert fresh.headers["X-Page-Cache"] == "miss"
    assert fresh.json["items"][0]["remaining"] == 1


def test_a_booking_leaves_pages_without_places_kept(app, client, institution, user):
    kept = institution("小橡树", offers={CareType.HOURLY: (12, 36, 30)})
    desk = PlacesDesk(app, user, clock.local_now(), clock.today() - timedelta(days=600))
    with app.app_context():
        class_id = db.session.get(Institution, kept).classes[0].id
    slot = desk.add_slot(
        class_id, CareType.HOURLY, clock.today() + timedelta(days=2), (time(9), time(11)), 2
    )
    family = desk.family()
    for path in ("/registry", "/api/v1/townships"):
        client.get(path)
    places = _version(app, CacheScope.PLACES)

    desk.book(family, slot)

    assert _version(app, CacheScope.PLACES) == places + 1
    for path in ("/registry", "/api/v1/townships"):
        assert client.get(path).headers["X-Page-Cache"] == "hit"


def test_changes_nobody_sees_leave_the_pages_kept(app, client, institution, user):
    institution("小橡树")
    client.get("/")
    before = _version(app, CacheScope.REGISTER)

    user(Role.PARENT)

    assert _version(app, CacheScope.REGISTER) == before
    assert client.get("/").headers["X-Page-Cache"] == "hit"


def test_a_rolled_back_change_bumps_nothing(app, institution):
    kept = institution("小橡树")
    before = _version(app, CacheScope.REGISTER)
    with app.app_context():
        db.session.get(Institution, kept).name = "改了又撤回"
        db.session.flush()
        db.session.rollback()
        db.session.commit()
    assert _version(app, CacheScope.REGISTER) == before


def test_each_change_bumps_its_own_scope_once_per_transaction(app, institution):
    kept = institution("小橡树")
    before = _version(app, CacheScope.REGISTER)
    with app.app_context():
        found = db.session.get(Institution, kept)
        found.name = "一"
        db.session.flush()
        found.address = "二"
        db.session.commit()
    assert _version(app, CacheScope.REGISTER) == before + 1


def test_signed_in_pages_are_never_kept_nor_served_from_the_cache(
    app, client, institution, user, auth
):
    institution("小橡树")
    anonymous = app.test_client()
    anonymous.get("/")
    auth.login(user(Role.PARENT))

    signed_in = client.get("/")
    assert "X-Page-Cache" not in signed_in.headers
    assert signed_in.headers["Cache-Control"] == "no-store"
    assert "/logout" in signed_in.get_data(as_text=True)

    again = anonymous.get("/")
    assert again.headers["X-Page-Cache"] == "hit"
    assert "/logout" not in again.get_data(as_text=True)


def test_a_pending_message_is_shown_not_a_kept_page(client, institution):
    institution("小橡树")
    client.get("/")
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "一条只给这位访客的消息")]

    response = client.get("/")

    assert "X-Page-Cache" not in response.headers
    assert "一条只给这位访客的消息" in response.get_data(as_text=True)


def test_each_language_has_its_own_kept_page(client, institution):
    institution("小橡树", name_en="Little Oak")
    chosen = client.get("/?lang=en")
    assert "X-Page-Cache" not in chosen.headers
    assert "lang=" in chosen.headers["Set-Cookie"]

    english = client.get("/")
    assert english.headers["X-Page-Cache"] == "miss"
    assert '<html lang="en">' in english.get_data(as_text=True)
    assert client.get("/").headers["X-Page-Cache"] == "hit"

    client.get("/?lang=zh_CN")
    chinese = client.get("/")
    assert chinese.headers["X-Page-Cache"] == "miss"
    assert '<html lang="zh-CN">' in chinese.get_data(as_text=True)


def test_accept_language_chooses_the_kept_page(app, institution):
    institution("小橡树", name_en="Little Oak")
    english, chinese = app.test_client(), app.test_client()
    english.get("/", headers={"Accept-Language": "en"})
    chinese.get("/", headers={"Accept-Language": "zh-CN"})

    assert '<html lang="en">' in english.get("/", headers={"Accept-Language": "en"}).text
    assert '<html lang="zh-CN">' in chinese.get("/", headers={"Accept-Language": "zh-CN"}).text


def test_the_phone_revalidates_with_the_etag_and_gets_304_until_the_register_changes(
    app, client, institution
):
    kept = institution("小橡树")
    first = client.get("/")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, no-cache"
    assert "Cookie" in first.headers["Vary"]
    assert "Accept-Language" in first.headers["Vary"]
    assert first.headers["Last-Modified"]

    unchanged = client.get("/", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    assert unchanged.data == b""

    _rename(app, kept, "大榕树")
    changed = client.get("/", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert "大榕树" in changed.get_data(as_text=True)


def test_refused_searches_are_not_kept(client, institution):
    institution("小橡树")
    assert client.get("/?age_months=abc").status_code == 400
    again = client.get("/?age_months=abc")
    assert again.status_code == 400
    assert again.headers.get("X-Page-Cache") != "hit"


def test_a_page_is_rendered_afresh_in_the_next_minute(monkeypatch, client, institution):
    institution("小橡树")
    moment = datetime(2026, 12, 1, 1, 0, 10, tzinfo=UTC)
    monkeypatch.setattr("careapp.clock._system_now", lambda: moment)
    client.get("/")
    assert client.get("/").headers["X-Page-Cache"] == "hit"

    later = moment + timedelta(minutes=1)
    monkeypatch.setattr("careapp.clock._system_now", lambda: later)

    assert client.get("/").headers["X-Page-Cache"] == "miss"


def test_a_page_rendered_while_a_change_commits_is_never_served_after_it(app, client, institution):
    """The versions are read before the view reads the register: a page saved under them
    after a change committed can only be one whose versions are already old."""
    institution("小橡树")
    with app.test_request_context("/"):
        key = cache.page_key(flask.request, "zh_CN")
        versions, _page = cache.store().lookup(key, cache.REGISTER_AND_PLACES)
    institution("大榕树", township_code="chendai")
    with app.app_context():
        stale = cache.CachedPage(
            versions, b"stale page", "text/html; charset=utf-8", "x", 0.0, ("register", "places")
        )
        cache.store().save(key, stale)

    response = client.get("/")

    assert response.data != b"stale page"
    assert "大榕树" in response.get_data(as_text=True)


def test_private_tables_name_real_tables():
    assert cache.PRIVATE_TABLES - {"alembic_version"} <= set(db.metadata.tables)
    assert cache.COURSE_TABLES <= set(db.metadata.tables)
    assert cache.scope_of_table("institutions") == CacheScope.REGISTER
    assert cache.scope_of_table("slots") == CacheScope.PLACES
    assert cache.scope_of_table("inventories") == CacheScope.PLACES
    assert cache.scope_of_table("course_sessions") == CacheScope.COURSES
    assert cache.scope_of_table("login_sessions") is None
    assert cache.scope_of_table("a_table_added_later") == CacheScope.REGISTER


def test_the_cache_can_be_switched_off(app, client, institution):
    institution("小橡树")
    app.config["PAGE_CACHE"] = False
    client.get("/")
    assert "X-Page-Cache" not in client.get("/").headers


# -- Redis: pages shared by every app server ---------------------------------------------


@pytest.fixture
def redis_servers(app, database_url):
    """Two app servers on the same database sharing pages in Redis under a prefix of their
    own (the prefix and its keys are removed afterwards)."""
    prefix = f"careapp-test:{uuid.uuid4().hex}:"
    servers = [
        make_app(database_url, REDIS_URL="redis://127.0.0.1:6379/0", PAGE_CACHE_PREFIX=prefix)
        for _ in range(2)
    ]
    yield servers
    for server in servers:
        with server.app_context():
            cache.clear()
            db.session.remove()
            db.engine.dispose()


@needs_redis
def test_a_page_kept_in_redis_by_one_server_is_served_by_the_other(app, redis_servers, institution):
    institution("小橡树")
    first, second = (server.test_client() for server in redis_servers)
    assert first.get("/").headers["X-Page-Cache"] == "miss"

    served = second.get("/")

    assert served.headers["X-Page-Cache"] == "hit"
    assert "小橡树" in served.get_data(as_text=True)


@needs_redis
def test_a_change_through_one_server_is_seen_in_the_next_request_to_the_other(
    app, redis_servers, institution
):
    kept = institution("小橡树")
    first, second = redis_servers
    second.test_client().get("/")
    with first.app_context():
        db.session.get(Institution, kept).name = "大榕树"
        db.session.commit()

    fresh = second.test_client().get("/")

    assert fresh.headers["X-Page-Cache"] == "miss"
    assert "大榕树" in fresh.get_data(as_text=True)


@needs_redis
def test_a_lost_version_copy_is_read_again_from_the_database(app, redis_servers, institution):
    kept = institution("小橡树")
    server = redis_servers[0]
    client = server.test_client()
    client.get("/")
    store = server.extensions["careapp_page_cache"]
    _rename(app, kept, "大榕树")  # committed in a process that published nowhere
    store.client.delete(store._version_key(CacheScope.REGISTER))

    fresh = client.get("/")

    assert "大榕树" in fresh.get_data(as_text=True)
    assert int(store.client.get(store._version_key(CacheScope.REGISTER))) == _version(
        app, CacheScope.REGISTER
    )


@needs_redis
def test_versions_published_out_of_order_never_go_back(app, redis_servers):
    server = redis_servers[0]
    store = server.extensions["careapp_page_cache"]
    store.publish({"register": 7})
    store.publish({"register": 5})
    assert int(store.client.get(store._version_key("register"))) == 7


def test_pages_are_served_when_redis_is_down(app, database_url, institution):
    institution("小橡树")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    server = make_app(database_url, REDIS_URL=f"redis://127.0.0.1:{closed_port}/0")
    try:
        client = server.test_client()
        responses = [client.get("/"), client.get("/")]
    finally:
        with server.app_context():
            db.session.remove()
            db.engine.dispose()
    assert [response.status_code for response in responses] == [200, 200]
    assert all("小橡树" in response.get_data(as_text=True) for response in responses)
    assert all(response.headers.get("X-Page-Cache") != "hit" for response in responses)


# -- The front cache: kept pages for visitors without cookies, before Flask runs ----------

KEPT_PATHS = (
    "/",
    "/?care_type=temporary&age_months=20",
    "/registry",
    "/statistics",
    "/courses",
    "/api/v1/institutions",
    "/api/v1/townships",
)


@pytest.fixture
def flask_requests(app):
    """Counts the requests that reach Flask's own request handling."""
    seen = []

    def note() -> None:
        seen.append(flask.request.path)

    app.before_request_funcs.setdefault(None, []).insert(0, note)
    yield seen
    app.before_request_funcs[None].remove(note)


@pytest.mark.parametrize("path", KEPT_PATHS)
def test_a_visitor_without_cookies_gets_the_kept_page_before_flask_runs(
    app, institution, flask_requests, path
):
    institution("小橡树")
    visitor = app.test_client()
    rendered = visitor.get(path)
    assert rendered.headers["X-Page-Cache"] == "miss"
    assert flask_requests == [path.split("?")[0]]

    kept = visitor.get(path)

    assert kept.headers["X-Page-Cache"] == "hit"
    assert kept.data == rendered.data
    assert len(flask_requests) == 1


@pytest.mark.parametrize("path", KEPT_PATHS)
def test_the_front_cache_answers_with_the_headers_flask_gives(app, institution, path):
    """The same kept page, served before Flask (no cookie) and by Flask (another cookie)."""
    kept = institution("小橡树")
    app.test_client().get(path)
    front = app.test_client().get(path)
    through_flask = app.test_client()
    through_flask.set_cookie("unrelated", "1")
    behind = through_flask.get(path)

    assert front.headers["X-Page-Cache"] == behind.headers["X-Page-Cache"] == "hit"
    assert front.data == behind.data
    without_date = {name for name in front.headers.keys() if name != "Date"}
    assert without_date == {name for name in behind.headers.keys() if name != "Date"}
    for name in without_date:
        assert front.headers.get_all(name) == behind.headers.get_all(name), name
    assert kept


def test_a_visitor_with_a_session_cookie_goes_to_flask(
    app, client, institution, user, auth, flask_requests
):
    institution("小橡树")
    app.test_client().get("/")
    auth.login(user(Role.PARENT))
    before = len(flask_requests)

    page = client.get("/")

    assert len(flask_requests) == before + 1
    assert page.headers.get("X-Page-Cache") != "hit"
    assert page.headers["Cache-Control"] == "no-store"


def test_the_front_cache_answers_head_and_revalidation(app, institution, flask_requests):
    institution("小橡树")
    visitor = app.test_client()
    etag = visitor.get("/").headers["ETag"]
    before = len(flask_requests)

    head = visitor.head("/")
    unchanged = visitor.get("/", headers={"If-None-Match": etag})

    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["ETag"] == etag
    assert unchanged.status_code == 304
    assert unchanged.data == b""
    assert len(flask_requests) == before


def test_the_front_cache_keeps_each_language_apart(app, institution):
    institution("小橡树", name_en="Little Oak")
    for headers in ({"Accept-Language": "en"}, {"Accept-Language": "zh-CN,zh;q=0.9"}, {}):
        app.test_client().get("/", headers=headers)

    by_header = app.test_client().get("/", headers={"Accept-Language": "en-GB,en;q=0.8"})
    by_cookie = app.test_client()
    by_cookie.set_cookie("lang", "en")
    chosen = by_cookie.get("/", headers={"Accept-Language": "zh-CN"})
    default = app.test_client().get("/")

    assert by_header.headers["X-Page-Cache"] == "hit"
    assert '<html lang="en">' in by_header.text
    assert chosen.headers["X-Page-Cache"] == "hit"
    assert '<html lang="en">' in chosen.text
    assert '<html lang="zh-CN">' in default.text


def test_the_front_cache_never_serves_a_page_older_than_the_register(app, institution):
    kept = institution("小橡树")
    app.test_client().get("/")
    _rename(app, kept, "大榕树")

    page = app.test_client().get("/")

    assert page.headers["X-Page-Cache"] == "miss"
    assert "大榕树" in page.text


def test_the_front_cache_is_keyed_by_host(app, institution):
    institution("小橡树")
    app.test_client().get("/", base_url="http://one.example")

    other = app.test_client().get("/", base_url="http://two.example")

    assert other.headers["X-Page-Cache"] == "miss"
