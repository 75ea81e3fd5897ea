"""Near me and free places: distance from a position within a radius, nearest first, and
places free in the next 7 days as the booking counts them."""

import random
import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from places_desk import PlacesDesk

from careapp import clock
from careapp.extensions import db
from careapp.models import CareClass, CareType, ClassKind, Institution
from careapp.services import search
from careapp.services.booking import SlotFull

#: Jinjiang's centre, roughly; institutions are scattered around it.
CENTRE = (24.7814, 118.5522)
#: Parents act at this local time (08:00 in Asia/Shanghai).
NOW = datetime(2030, 3, 1, 8, 0)
BORN = date(2028, 2, 1)
OFFERS = {CareType.FULL_DAY: (6, 36, 2800), CareType.HOURLY: (6, 36, 30)}
SMALL_CLASS = ((ClassKind.OLDER_TODDLER, 2, 1),)


@pytest.fixture
def at_now(monkeypatch):
    """The site's clock reads ``NOW``."""
    monkeypatch.setattr(clock, "_system_now", lambda: datetime(2030, 3, 1, 0, 0, tzinfo=UTC))


@pytest.fixture
def scattered(institution) -> dict[int, tuple[float, float]]:
    """Thirty institutions at random points within about 9 km of the centre; id → position."""
    rng = random.Random(16)
    located = {}
    for number in range(30):
        lat = round(CENTRE[0] + rng.uniform(-0.08, 0.08), 6)
        lng = round(CENTRE[1] + rng.uniform(-0.08, 0.08), 6)
        name = f"{'甲乙丙丁'[number % 4]}托育中心{number:02d}"
        located[institution(name, latitude=Decimal(str(lat)), longitude=Decimal(str(lng)))] = (
            lat,
            lng,
        )
    institution("没有位置的托育园")  # no coordinates: never near anything
    return located


def _brute_force(located, origin, radius) -> list[tuple[float, int]]:
    """Every institution within ``radius`` km of ``origin``, as (distance, id), nearest first."""
    found = [
        (search.haversine_km(*origin, *position), institution_id)
        for institution_id, position in located.items()
    ]
    return sorted(item for item in found if item[0] <= radius)


def _all_pages(client, path: str) -> list[dict]:
    """Every item of an API list, following its ``next`` cursors."""
    items, cursor = [], None
    while True:
        body = client.get(path + (f"&after={cursor}" if cursor else "")).json
        items += body["items"]
        cursor = body["next"]
        if cursor is None:
            return items


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("lat=24.78", "lng", "Please give both the latitude and the longitude."),
        ("lng=118.5", "lat", "Please give both the latitude and the longitude."),
        ("lat=91&lng=118.5", "lat", "Please enter degrees from -90 to 90."),
        ("lat=24.7&lng=east", "lng", "Please enter degrees from -180 to 180."),
        ("lat=nan&lng=118.5", "lat", "Please enter degrees from -90 to 90."),
        ("lat=24.7&lng=118.5&radius_km=2", "radius_km", "Please choose 1, 3 or 5 km."),
        ("sort=distance", "sort", "To sort by distance, use your location or choose a place"),
        ("sort=cheapest", "sort", "There is no such order."),
        ("free=maybe", "free", "Please answer true or false."),
        ("near=atlantis", "near", "There is no such place in this region."),
    ],
)
def test_the_page_refuses_a_bad_position_with_a_message_and_keeps_the_form(
    client, institution, query, field, message
):
    institution()
    response = client.get(f"/?{query}&q=托育&lang=en")

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{field}-error">{message}' in html
    assert 'value="托育"' in html


def test_a_position_given_before_is_kept_in_the_form(client, institution):
    institution()
    html = client.get("/?lat=24.7814&lng=118.5522&radius_km=1").get_data(as_text=True)
    assert 'name="lat" value="24.7814"' in html
    assert 'name="lng" value="118.5522"' in html
    assert '<option value="1" selected>' in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("lat=24.7", "Please give both the latitude and the longitude."),
        ("lat=24.7&lng=118.5&radius_km=0", "Please enter a distance above 0 and at most 50 km."),
        ("lat=24.7&lng=118.5&radius_km=50.5", "Please enter a distance above 0 and at most 50 km."),
        ("lat=-90.1&lng=118.5", "Please enter degrees from -90 to 90."),
        ("has_free_place=yes", "Please answer true or false."),
    ],
)
def test_the_api_refuses_a_bad_position(client, institution, query, message):
    institution()
    response = client.get(f"/api/v1/institutions?{query}&lang=en")
    assert response.status_code == 400
    assert response.json["error"]["message"] == message


def test_the_messages_are_in_chinese_by_default(client, institution):
    institution()
    response = client.get("/api/v1/institutions?lat=24.7")
    assert response.status_code == 400
    assert "纬度" in response.json["error"]["message"]


def test_a_sorted_cursor_is_refused_in_another_order(client, scattered):
    origin = "lat=24.7814&lng=118.5522&radius_km=20&per_page=2"
    cursor = client.get(f"/api/v1/institutions?{origin}").json["next"]
    assert client.get(f"/api/v1/institutions?after={cursor}").status_code == 400
    listed = client.get("/api/v1/institutions?per_page=2").json["next"]
    assert client.get(f"/api/v1/institutions?{origin}&after={listed}").status_code == 400


# --- distance --------------------------------------------------------------------------------


def test_the_radius_keeps_exactly_the_institutions_a_haversine_finds_nearest_first(
    client, scattered
):
    rng = random.Random(3)
    for _ in range(12):
        origin = (CENTRE[0] + rng.uniform(-0.06, 0.06), CENTRE[1] + rng.uniform(-0.06, 0.06))
        radius = rng.choice((1, 2.5, 3, 5, 7.5))
        path = f"/api/v1/institutions?lat={origin[0]}&lng={origin[1]}&radius_km={radius}&per_page=4"

        items = _all_pages(client, path)

        expected = _brute_force(scattered, origin, radius)
        assert [item["id"] for item in items] == [institution_id for _, institution_id in expected]
        assert [item["distance_km"] for item in items] == [round(d, 1) for d, _ in expected]


def test_equal_distances_are_ordered_by_name_then_id(client, institution):
    spot = {"latitude": Decimal("24.790000"), "longitude": Decimal("118.560000")}
    second = institution("B 园", **spot)
    first = institution("A 园", **spot)
    third = institution("B 园", **spot)
    body = client.get("/api/v1/institutions?lat=24.78&lng=118.56&radius_km=5").json
    assert [item["id"] for item in body["items"]] == [first, second, third]


def test_page_numbers_and_cursors_give_the_same_order(client, scattered):
    origin = "lat=24.7814&lng=118.5522&radius_km=8"
    whole = client.get(f"/api/v1/institutions?{origin}&per_page=100").json["items"]
    by_cursor = _all_pages(client, f"/api/v1/institutions?{origin}&per_page=3")
    by_number = []
    for number in range(1, len(whole) // 3 + 2):
        by_number += client.get(f"/api/v1/institutions?{origin}&per_page=3&page={number}").json[
            "items"
        ]
    assert len(whole) > 6
    assert by_cursor == whole
    assert by_number == whole


def test_without_a_position_no_item_carries_a_distance(client, scattered):
    items = client.get("/api/v1/institutions").json["items"]
    assert items
    assert all("distance_km" not in item for item in items)


def test_the_radius_narrows_and_filters_combine(client, scattered):
    origin = "lat=24.7814&lng=118.5522"
    counts = [
        client.get(f"/api/v1/institutions?{origin}&radius_km={km}").json["total"]
        for km in (1, 3, 5, 50)
    ]
    assert counts == sorted(counts)
    assert counts[-1] == len(scattered)
    both = client.get("/api/v1/institutions?" + origin + "&radius_km=50&q=甲托").json["items"]
    assert both
    assert all(item["name"].startswith("甲托") for item in both)


def test_each_card_shows_its_distance_in_both_languages(client, institution):
    institution("近处托育园", latitude=Decimal("24.790000"), longitude=Decimal("118.552200"))
    chinese = client.get("/?lat=24.7814&lng=118.5522&radius_km=3").get_data(as_text=True)
    english = client.get("/?lat=24.7814&lng=118.5522&radius_km=3&lang=en").get_data(as_text=True)
    assert '<span class="distance">1.0 公里</span>' in chinese
    assert '<span class="distance">1.0 km</span>' in english


def test_the_location_index_serves_the_bounding_box(app, database_url, scattered):
    """With sequential scans priced out, PostgreSQL still answers from the index: the box
    compares the columns as they are (no cast of every row)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("EXPLAIN is PostgreSQL's")
    with app.app_context():
        criteria = search.SearchCriteria(lat=24.78, lng=118.55, radius_km=3, today=clock.today())
        query = search._matching(criteria).with_only_columns(Institution.id)
        compiled = query.compile(dialect=db.engine.dialect)
        connection = db.session.connection()
        # Statistics of the rows just made (autovacuum may not have run yet): without them
        # every index looks alike to the planner, whichever one it picks.
        connection.exec_driver_sql("ANALYZE institutions")
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plan = "\n".join(
            row[0]
            for row in connection.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params)
        )
        db.session.rollback()
    assert "ix_institutions_location" in plan, plan
    assert "Seq Scan on institutions" not in plan, plan


# --- the page: script and places -------------------------------------------------------------


def test_the_position_script_is_our_own_deferred_and_talks_to_no_other_host(client, institution):
    institution()
    response = client.get("/")
    html = response.get_data(as_text=True)
    script = client.get("/static/near-me.js")
    source = script.get_data(as_text=True)
    script.close()

    assert '<script src="/static/near-me.js" defer></script>' in html
    assert len(re.findall(r"<script", html)) == 1
    assert not re.search(r'(src|href|action)="(https?:)?//', html)
    assert script.status_code == 200
    assert "http" not in source
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert 'id="use-my-location" hidden' in html  # shown by the script only


def test_without_javascript_a_place_of_the_region_gives_the_origin(client, township, institution):
    township("qingyang", latitude=Decimal("24.781400"), longitude=Decimal("118.552200"))
    township("chendai")  # no centre known: not offered
    near = institution("青阳近园", latitude=Decimal("24.785000"), longitude=Decimal("118.552200"))
    far = institution("青阳远园", latitude=Decimal("24.800000"), longitude=Decimal("118.552200"))
    institution("远方托育园", latitude=Decimal("25.500000"), longitude=Decimal("118.552200"))

    html = client.get("/").get_data(as_text=True)
    found = re.search(r'<select id="near" name="near".*?</select>', html, re.S)
    assert re.findall(r'<option value="([^"]*)"', found[0]) == ["", "qingyang"]

    chosen = client.get("/?near=qingyang&radius_km=3&lang=en").get_data(as_text=True)
    assert '<option value="qingyang" selected>' in chosen
    assert "2 institutions found" in chosen
    assert chosen.index(f"/institutions/{near}") < chosen.index(f"/institutions/{far}")
    assert '<span class="distance">0.4 km</span>' in chosen


def test_a_region_with_communities_offers_them_not_its_townships(
    app, client, township, institution
):
    """社区/村 are where families say they live: with the region's list, those are the places."""
    from careapp.models import Community, CommunityKind, Township

    township("qingyang", latitude=Decimal("24.781400"), longitude=Decimal("118.552200"))
    near = institution("青阳近园", latitude=Decimal("24.785000"), longitude=Decimal("118.552200"))
    far = institution("青阳远园", latitude=Decimal("24.800000"), longitude=Decimal("118.552200"))
    with app.app_context():
        home = db.session.scalar(sa.select(Township).where(Township.code == "qingyang"))
        db.session.add(
            Community(
                region_id=home.region_id,
                township_id=home.id,
                code="350582001001",
                name="青华社区",
                name_en="Qinghua Community",
                kind=CommunityKind.COMMUNITY,
                latitude=Decimal("24.801000"),
                longitude=Decimal("118.552200"),
            )
        )
        db.session.commit()

    html = client.get("/").get_data(as_text=True)
    found = re.search(r'<select id="near" name="near".*?</select>', html, re.S)
    assert re.findall(r'<option value="([^"]*)"', found[0]) == ["", "350582001001"]

    chosen = client.get("/?near=350582001001&radius_km=3&lang=en").get_data(as_text=True)
    assert chosen.index(f"/institutions/{far}") < chosen.index(f"/institutions/{near}")
    assert '<span class="distance">0.1 km</span>' in chosen


def test_the_search_page_stays_small_with_the_places_list(client, township, institution):
    for number in range(58):
        township(f"t{number:02d}", latitude=Decimal("24.7"), longitude=Decimal("118.5"))
    institution()
    response = client.get("/?near=t07&free=1&sort=free")
    assert response.status_code == 200
    assert len(response.data) < 30_000


# --- free places -----------------------------------------------------------------------------


class Desk(PlacesDesk):
    """The booking services at ``NOW`` for two-year-olds."""

    def __init__(self, app, user):
        super().__init__(app, user, NOW, BORN)


def _class_of(app, institution_id: int) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(CareClass.id).where(CareClass.institution_id == institution_id)
        )


@pytest.fixture
def free_places(app, user, institution, at_now):
    """Three institutions a week around ``NOW``: one whose class is full though a slot's
    inventory has places (the booking refuses), one free in two days, one free in four, one
    free only in nine days. Returns (desk, {name: id}, the refused slot)."""
    desk = Desk(app, user)
    ids = {
        name: institution(name, offers=OFFERS, classes=SMALL_CLASS)
        for name in ("满园", "后天园", "四天园", "九天园")
    }
    day = NOW.date()
    full = _class_of(app, ids["满园"])
    morning = desk.add_slot(full, CareType.HOURLY, day + timedelta(1), (time(8), time(10)), 2)
    crowded = desk.add_slot(full, CareType.HOURLY, day + timedelta(1), (time(9), time(11)), 2)
    desk.book(desk.family("甲"), morning)
    desk.book(desk.family("乙"), morning)
    for name, ahead in (("后天园", 2), ("四天园", 4), ("九天园", 9)):
        hours = (time(9), time(11))
        desk.add_slot(_class_of(app, ids[name]), CareType.HOURLY, day + timedelta(ahead), hours, 2)
    return desk, ids, crowded


def test_free_places_list_what_the_booking_would_accept_and_nothing_it_refuses(
    app, client, free_places
):
    desk, ids, crowded = free_places
    query = "has_free_place=true&care_type=hourly&age_months=25"

    body = client.get(f"/api/v1/institutions?{query}").json

    assert {item["id"] for item in body["items"]} == {ids["后天园"], ids["四天园"]}
    assert body["total"] == 2
    # The inventory alone would have listed the full class; the booking refuses it.
    with app.app_context():
        criteria = search.SearchCriteria(
            care_type="hourly", age_months=25, free=True, today=NOW.date()
        )
        assert search.count_matching(criteria) == 3
    with pytest.raises(SlotFull):
        desk.book(desk.family("丙"), crowded)


def test_soonest_free_place_first_and_the_card_says_when(client, free_places):
    _desk, ids, _crowded = free_places
    html = client.get("/?sort=free&care_type=hourly&age_months=25&lang=en").get_data(as_text=True)

    assert "2 institutions found" in html
    assert html.index(f"/institutions/{ids['后天园']}") < html.index(
        f"/institutions/{ids['四天园']}"
    )
    assert f"/institutions/{ids['满园']}" not in html
    assert f"/institutions/{ids['九天园']}" not in html
    assert "from 09:00: 2 places free" in html


def test_free_places_for_another_age_or_care_type_do_not_count(client, free_places):
    assert (
        client.get("/api/v1/institutions?has_free_place=true&care_type=full_day").json["items"]
        == []
    )
    # Under the offers' six months: no place fits.
    assert client.get("/api/v1/institutions?has_free_place=true&age_months=3").json["items"] == []
    empty = client.get("/?free=1&age_months=3&lang=en").get_data(as_text=True)
    assert "With or without a free place" in empty


# --- statements ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/?lat=24.7814&lng=118.5522&radius_km=5",
        "/?lat=24.7814&lng=118.5522&radius_km=5&free=1&age_months=20",
        "/?near=qingyang&sort=free",
        "/api/v1/institutions?lat=24.7814&lng=118.5522&radius_km=5",
        "/api/v1/institutions?lat=24.7814&lng=118.5522&radius_km=5&has_free_place=true"
        "&age_months=20",
    ],
)
def test_near_me_statements_do_not_grow_with_the_results(
    app, client, institution, township, open_places, count_queries, path
):
    app.config["PAGE_CACHE"] = False
    township("qingyang", latitude=Decimal("24.781400"), longitude=Decimal("118.552200"))

    def located(number: int) -> None:
        made = institution(
            f"托育中心{number:02d}",
            latitude=Decimal(f"{24.7814 + number / 10_000:.6f}"),
            longitude=Decimal("118.552200"),
            classes=((ClassKind.TODDLER, 15, 3),),
        )
        open_places(made, days_ahead=2)

    located(0)
    with count_queries() as few:
        assert client.get(path).status_code == 200
    for number in range(1, 25):
        located(number)
    with count_queries() as many:
        response = client.get(path)
    assert response.status_code == 200
    assert len(many) == len(few)
    # A search page not kept by the page cache also reads the register's version first
    # (careapp/fragments.py): 9 at most on the page, the API's lists need fewer.
    assert len(many) <= 9


def test_a_home_based_points_distance_is_measured_to_its_public_point(client, institution):
    """Distances from many origins would otherwise trilaterate the flat."""
    from careapp import geo
    from careapp.models import Nature
    from careapp.services.locations import public_distance_km, public_location

    home = institution(
        "小家托育点",
        nature=Nature.HOME_BASED,
        latitude=Decimal("24.781234"),
        longitude=Decimal("118.553377"),
    )
    origin = (24.7814, 118.5522)
    items = client.get(f"/api/v1/institutions?lat={origin[0]}&lng={origin[1]}&radius_km=5").json[
        "items"
    ]
    [shown] = [item for item in items if item["id"] == home]

    class Home:
        latitude, longitude, nature = Decimal("24.781234"), Decimal("118.553377"), Nature.HOME_BASED

    assert public_location(Home) != (Home.latitude, Home.longitude)
    exact_km = geo.distance_m(*origin, 24.781234, 118.553377) / 1000
    assert round(exact_km, 1) != round(public_distance_km(origin, Home), 1)  # could give it away
    assert shown["distance_km"] == round(public_distance_km(origin, Home), 1)
