"""Locations: GCJ-02 conversion, the region check on the form and the profile, the location a
submission needs, what the regulator sees, home-based points published only to about 200 m,
and the communities and villages (社区/村) of the demo region."""

# The filing tests' fixtures are imported by name, and pytest passes them in by that name.
# ruff: noqa: F811

import json
import re
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from careapp import geo
from careapp.demo import seed_demo
from careapp.demo.communities import region_bounds
from careapp.demo.regions import JINJIANG
from careapp.extensions import db
from careapp.models import (
    ChangeRequest,
    Community,
    CommunityKind,
    Institution,
    Nature,
    Region,
    Status,
    Township,
    User,
)
from careapp.services import filing, locations
from tests.test_filing import (
    act_as,  # noqa: F401 (a fixture)
    apply,
    approve,
    field_error,
    file_via_forms,  # noqa: F401 (a fixture)
    filed_edit_form,
    input_value,
    owner,  # noqa: F401 (a fixture)
    profile_form,
    regulator,  # noqa: F401 (a fixture)
    stored,
    submit,
    text,
    township_id,  # noqa: F401 (a fixture)
    visitor,  # noqa: F401 (a fixture)
)

#: Published test vectors of the WGS-84 → GCJ-02 conversion (eviltransform's own tests):
#: (WGS-84 latitude, longitude, GCJ-02 latitude, longitude).
VECTORS = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]
#: A point in Qingyang, Jinjiang, as 高德 shows it (GCJ-02), and Beijing (outside the region).
QINGYANG_GCJ = ("24.807700", "118.584300")
BEIJING = ("39.9042", "116.4074")
#: A flat of a home-based care point (WGS-84), exact to the door.
FLAT = (Decimal("24.812345"), Decimal("118.581234"))


# --- the conversion --------------------------------------------------------------------


@pytest.mark.parametrize(("wgs_lat", "wgs_lng", "gcj_lat", "gcj_lng"), VECTORS)
def test_wgs84_to_gcj02_matches_the_published_vectors(wgs_lat, wgs_lng, gcj_lat, gcj_lng):
    shown = geo.wgs84_to_gcj02(wgs_lat, wgs_lng)
    assert shown == pytest.approx((gcj_lat, gcj_lng), abs=1e-9)


@pytest.mark.parametrize(("wgs_lat", "wgs_lng", "gcj_lat", "gcj_lng"), VECTORS)
def test_gcj02_to_wgs84_finds_the_gps_point_within_a_metre(wgs_lat, wgs_lng, gcj_lat, gcj_lng):
    back = geo.gcj02_to_wgs84(gcj_lat, gcj_lng)
    assert geo.distance_m(wgs_lat, wgs_lng, *back) < 1.0
    # The offset itself is hundreds of metres: converting matters.
    assert geo.distance_m(wgs_lat, wgs_lng, gcj_lat, gcj_lng) > 200


def test_points_outside_china_are_not_offset():
    assert geo.wgs84_to_gcj02(52.52, 13.405) == (52.52, 13.405)
    assert geo.gcj02_to_wgs84(52.52, 13.405) == (52.52, 13.405)


def test_snapping_gives_one_point_per_cell_near_the_original():
    centre = geo.snap_to_grid(*map(float, FLAT), 200)
    assert 0 < geo.distance_m(*map(float, FLAT), *centre) <= 200 / 2**0.5 + 1
    neighbour = geo.snap_to_grid(float(FLAT[0]) + 0.00001, float(FLAT[1]) + 0.00001, 200)
    assert neighbour == centre  # a metre away: the same cell, so nothing to triangulate


# --- fixtures --------------------------------------------------------------------------


@pytest.fixture
def bounded(app, township_id):
    """Jinjiang with its demo box; returns the township id of Qingyang."""
    with app.app_context():
        region = db.session.scalar(sa.select(Region).filter_by(code="jinjiang"))
        for name, value in region_bounds(JINJIANG).items():
            setattr(region, name, value)
        db.session.commit()
    return township_id


def location_form(township: int, latitude, longitude, system: str | None = None, **changes):
    """A complete application with this location; ``system`` None leaves the choice out."""
    data = profile_form(township, latitude=latitude, longitude=longitude, **changes)
    if system is None:
        data.pop("coordinate_system")
    else:
        data["coordinate_system"] = system
    return data


def count_institutions(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Institution.id)))


# --- the filing form -------------------------------------------------------------------


def test_the_form_offers_both_systems_with_gcj02_chosen(client, act_as, owner, bounded):
    act_as(owner)
    page = text(client.get("/institutions/new"))
    selected = re.search(r'<option selected value="(\w+)">|<option value="(\w+)" selected>', page)
    assert selected is not None
    assert "gcj02" in selected.groups()
    assert "WGS-84 (GPS)" in page
    assert '<label for="latitude">' in page
    assert '<label for="longitude">' in page


def test_gcj02_is_the_default_and_is_converted_on_save(app, client, act_as, owner, bounded):
    act_as(owner)
    institution_id = apply(client, location_form(bounded, *QINGYANG_GCJ, system=None))
    expected = geo.gcj02_to_wgs84(*map(float, QINGYANG_GCJ))
    latitude, longitude = stored(app, institution_id, "latitude", "longitude")
    assert geo.distance_m(float(latitude), float(longitude), *expected) < 0.2
    assert geo.distance_m(float(latitude), float(longitude), *map(float, QINGYANG_GCJ)) > 300


def test_wgs84_is_stored_as_typed(app, client, act_as, owner, bounded):
    act_as(owner)
    institution_id = apply(client, location_form(bounded, "24.8105", "118.579", "wgs84"))
    assert stored(app, institution_id, "latitude", "longitude") == (
        Decimal("24.810500"),
        Decimal("118.579000"),
    )


@pytest.mark.parametrize("system", ["wgs84", "gcj02"])
def test_a_point_outside_the_region_is_refused_keeping_what_was_typed(
    app, client, act_as, owner, bounded, system
):
    act_as(owner)
    before = count_institutions(app)
    response = client.post("/institutions/new", data=location_form(bounded, *BEIJING, system))
    assert response.status_code == 200
    assert "outside Jinjiang" in field_error(response, "latitude")
    assert (input_value(response, "latitude"), input_value(response, "longitude")) == BEIJING
    assert count_institutions(app) == before


@pytest.mark.parametrize(
    ("latitude", "longitude", "field", "message"),
    [
        ("24.81", "", "latitude", "both the latitude and the longitude"),
        ("", "118.58", "latitude", "both the latitude and the longitude"),
        ("95", "118.58", "latitude", "between -90 and 90"),
        ("24.81", "NaN", "longitude", "Not a valid decimal value"),
        ("north", "118.58", "latitude", "Not a valid decimal value"),
        ("118.58", "24.81", "latitude", "between -90 and 90"),  # swapped
        ("31.23", "121.47", "latitude", "outside Jinjiang"),  # Shanghai
    ],
)
def test_a_bad_location_gets_a_clear_message(
    app, client, act_as, owner, bounded, latitude, longitude, field, message
):
    act_as(owner)
    before = count_institutions(app)
    data = location_form(bounded, latitude, longitude, "wgs84")
    response = client.post("/institutions/new", data=data)
    assert response.status_code == 200
    assert message in (field_error(response, field) or "")
    assert input_value(response, field) == data[field]
    assert count_institutions(app) == before


def test_a_draft_may_wait_for_its_location_but_submitting_needs_it(
    app, client, act_as, owner, bounded
):
    act_as(owner)
    institution_id = apply(client, location_form(bounded, "", "", "gcj02"))
    assert stored(app, institution_id, "latitude") is None
    submit(client, institution_id)
    assert stored(app, institution_id, "status") == Status.DRAFT
    status_page = text(client.get(f"/institutions/{institution_id}/status"))
    assert "Enter the location (latitude and longitude) of the premises." in status_page

    edited = location_form(bounded, "24.8105", "118.579", "wgs84")
    assert client.post(f"/institutions/{institution_id}/edit", data=edited).status_code == 302
    submit(client, institution_id)
    assert stored(app, institution_id, "status") == Status.UNDER_REVIEW


# --- the profile of a filed institution -------------------------------------------------


@pytest.fixture
def filed(app, file_via_forms, bounded):
    """A filed institution at a WGS-84 point in Qingyang; the client is its account."""
    return file_via_forms(location_form(bounded, "24.8105", "118.579", "wgs84"))


def test_the_profile_shows_the_stored_point_as_wgs84_so_saving_moves_nothing(
    app, client, filed, bounded
):
    page = client.get(f"/institutions/{filed}/edit")
    assert input_value(page, "latitude").startswith("24.8105")
    assert re.search(r'<option selected value="wgs84">|<option value="wgs84" selected>', text(page))
    uscc = stored(app, filed, "uscc")
    unchanged = filed_edit_form(
        location_form(bounded, "24.810500", "118.579000", "wgs84", uscc=uscc)
    )
    response = client.post(f"/institutions/{filed}/edit", data=unchanged)
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ChangeRequest.id))) == 0


def test_a_new_location_on_the_profile_waits_for_the_bureau(
    app, client, act_as, regulator, visitor, filed, bounded
):
    moved = filed_edit_form(
        location_form(bounded, *QINGYANG_GCJ, "gcj02", uscc=stored(app, filed, "uscc"))
    )
    assert client.post(f"/institutions/{filed}/edit", data=moved).status_code == 302
    assert stored(app, filed, "latitude", "longitude") == (Decimal("24.8105"), Decimal("118.579"))
    assert visitor.get(f"/api/v1/institutions/{filed}").json["latitude"] == 24.8105
    with app.app_context():
        proposed = db.session.scalar(sa.select(ChangeRequest.proposed))
    expected = geo.gcj02_to_wgs84(*map(float, QINGYANG_GCJ))
    assert float(proposed["latitude"]) == pytest.approx(expected[0], abs=1e-6)

    act_as(regulator)
    change_page = text(client.get(f"/regulator/changes/{pending_id(app)}"))
    assert "Latitude" in change_page
    assert "coordinate=wgs84" in change_page
    with app.app_context():
        change = db.session.get(ChangeRequest, pending_id(app))
        filing.approve_change(change, db.session.get(User, regulator), date(2026, 11, 30))
        db.session.commit()
    latitude, longitude = stored(app, filed, "latitude", "longitude")
    assert geo.distance_m(float(latitude), float(longitude), *expected) < 0.2


def pending_id(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(ChangeRequest.id))


@pytest.mark.parametrize(
    ("latitude", "longitude", "message"),
    [
        (*BEIJING, "outside Jinjiang"),
        ("", "", "Enter the latitude and the longitude"),
    ],
)
def test_the_profile_refuses_a_point_outside_the_region_or_no_point(
    app, client, filed, bounded, latitude, longitude, message
):
    uscc = stored(app, filed, "uscc")
    data = filed_edit_form(location_form(bounded, latitude, longitude, "wgs84", uscc=uscc))
    response = client.post(f"/institutions/{filed}/edit", data=data)
    assert response.status_code == 200
    assert message in field_error(response, "latitude")
    assert input_value(response, "latitude") == latitude
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ChangeRequest.id))) == 0


# --- the regulator ---------------------------------------------------------------------


def test_the_regulator_sees_the_exact_point_with_map_links_and_nothing_foreign(
    app, client, act_as, owner, regulator, bounded
):
    act_as(owner)
    institution_id = apply(
        client,
        location_form(
            bounded,
            "24.812345",
            "118.581234",
            "wgs84",
            nature="home_based",
            classes=[{"kind": "home_group", "name": "家庭托育组", "capacity": "5", "carers": "2"}],
        ),
    )
    submit(client, institution_id)
    act_as(regulator)
    page = text(client.get(f"/regulator/institutions/{institution_id}"))
    assert "24.812345 N, 118.581234 E (WGS-84)" in page
    assert (
        "https://uri.amap.com/marker?position=118.581234,24.812345&amp;" in page
        or "https://uri.amap.com/marker?position=118.581234,24.812345&" in page
    )
    assert "geo:24.812345,118.581234?" in page
    assert not re.search(r'<(script|img|link|iframe)[^>]+(src|href)="https?://', page)
    approve(client, institution_id)


# --- home-based points in public -------------------------------------------------------


def _spellings(degrees: Decimal) -> list[str]:
    """The ways a coordinate could leak: to 6, 5 and 4 decimals (4 is about 11 m)."""
    return [f"{degrees:.6f}", f"{degrees:.5f}", f"{degrees:.4f}"]


def public_bodies(client, institution_id: int) -> dict[str, str]:
    """Every public output an institution's location could appear in."""
    paths = {
        "page": f"/institutions/{institution_id}",
        "search": "/",
        "api_detail": f"/api/v1/institutions/{institution_id}",
        "api_list": "/api/v1/institutions?per_page=100",
        "hsds": "/api/v1/open-data/hsds.json",
        "hsds_organizations": "/api/v1/open-data/hsds/organizations?per_page=100",
        "csv": "/open-data/institutions.csv",
        "registry": "/registry",
    }
    bodies = {}
    for name, path in paths.items():
        response = client.get(path)
        assert response.status_code == 200, path
        bodies[name] = response.get_data(as_text=True)
    return bodies


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_no_public_output_has_a_home_based_points_exact_location(
    app, institution, visitor, language
):
    home = institution(
        "晋江市小星星家庭托育点", nature=Nature.HOME_BASED, latitude=FLAT[0], longitude=FLAT[1]
    )
    elsewhere = (Decimal("24.798765"), Decimal("118.561357"))
    centre = institution("晋江市青阳托育中心", latitude=elsewhere[0], longitude=elsewhere[1])
    visitor.set_cookie("lang", language)
    bodies = public_bodies(visitor, home)
    leaks = [
        (name, spelling)
        for name, body in bodies.items()
        for spelling in _spellings(FLAT[0]) + _spellings(FLAT[1])
        if spelling in body
    ]
    assert leaks == []

    # What is published is the 200 m cell's centre, close to the flat but not on it.
    detail = json.loads(bodies["api_detail"])
    published = (detail["latitude"], detail["longitude"])
    assert 10 < geo.distance_m(*map(float, FLAT), *published) < 150
    hsds_location = next(
        loc
        for loc in json.loads(bodies["hsds"])["locations"]
        if loc["name"] == "晋江市小星星家庭托育点"
    )
    assert (hsds_location["latitude"], hsds_location["longitude"]) == published
    assert f"geo:{published[0]:.5f},{published[1]:.5f}" in bodies["page"]

    # The same check finds an ordinary institution's exact point: it can fail.
    other = visitor.get(f"/api/v1/institutions/{centre}").json
    assert (other["latitude"], other["longitude"]) == tuple(map(float, elsewhere))
    assert all(spelling in bodies["hsds"] for spelling in map(str, elsewhere))


def test_public_location_snaps_only_home_based_points(app):
    class Row:
        def __init__(self, nature):
            self.nature, self.latitude, self.longitude = nature, *FLAT

    assert locations.public_location(Row(Nature.INCLUSIVE)) == FLAT
    snapped = locations.public_location(Row(Nature.HOME_BASED))
    assert snapped != FLAT
    assert 0 < geo.distance_m(*map(float, FLAT), *map(float, snapped)) < 150


# --- the demo region and its communities ---------------------------------------------------


@pytest.fixture
def demo(app):
    """The Jinjiang demo data, seeded once into this test's database."""
    with app.app_context():
        created = seed_demo("jinjiang", date(2026, 11, 30))
        db.session.commit()
    return created


def test_the_demo_region_has_a_box_holding_every_demo_institution(app, demo):
    with app.app_context():
        region = db.session.scalar(sa.select(Region).filter_by(code="jinjiang"))
        assert region.has_bounds
        points = db.session.execute(sa.select(Institution.latitude, Institution.longitude)).all()
        assert len(points) == JINJIANG.institution_count
        assert all(region.contains(lat, lng) for lat, lng in points)
        assert not region.contains(Decimal(BEIJING[0]), Decimal(BEIJING[1]))


def test_the_demo_seeds_communities_and_villages_near_each_township(app, demo):
    assert demo["communities"] >= 3 * len(JINJIANG.townships)
    with app.app_context():
        region = db.session.scalar(sa.select(Region).filter_by(code="jinjiang"))
        found = locations.communities_of(region)
        assert len(found) == demo["communities"]
        assert all(community.is_demo for community in found)
        centres = {t.code: (t.latitude, t.longitude) for t in JINJIANG.townships}
        for township in db.session.scalars(sa.select(Township)):
            own = [c for c in found if c.township_id == township.id]
            assert len(own) >= 3
            for community in own:
                distance = geo.distance_m(
                    float(community.latitude), float(community.longitude), *centres[township.code]
                )
                assert distance < 3_000
        towns = {t.code for t in JINJIANG.townships if t.kind == "town"}
        villages = [c for c in found if c.kind == CommunityKind.VILLAGE]
        assert villages
        assert all(c.township.code in towns for c in villages)
        # Official order: by township, then position within it.
        order = [(c.township.position, c.position) for c in found]
        assert order == sorted(order)
        assert locations.communities_of(region.id) == found


def test_a_community_is_found_by_its_code_and_the_seed_adds_nothing_twice(app, demo):
    with app.app_context():
        first = locations.communities_of(db.session.scalar(sa.select(Region.id)))[0]
        assert re.fullmatch(r"350582\d{6}", first.code)
        assert locations.community_by_code(first.code) == first
        assert locations.community_by_code(f" {first.code} ") == first
        assert locations.community_by_code("000000000000") is None
        assert locations.community_by_code("") is None
        assert first.name_for("en").endswith(("Community", "Village"))
        again = seed_demo("jinjiang", date(2026, 11, 30))
        assert again["communities"] == 0
        assert db.session.scalar(sa.select(sa.func.count(Community.id))) == len(
            locations.communities_of(first.region_id)
        )
