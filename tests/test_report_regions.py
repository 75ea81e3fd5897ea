"""Reports of a concern in a register of several regions: the reporter chooses the region
before its townships are listed, and the bureau reads one region's reports at a time."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from careapp import clock
from careapp.extensions import db
from careapp.models import Complaint, Role
from careapp.services import complaints
from tests.test_regions import _region

UNFILED = {
    "place_name": "某小区家中看护点",
    "place_address": "某小区 3 栋",
    "category": "unfiled_care",
    "description": "有人在家中照看七八个幼儿。",
}
FEES = {"category": "fees", "description": "押金退托后一个月仍未退还。"}


@pytest.fixture
def two_regions(app, institution):
    """Jinjiang (qingyang, with 小橡树) and Yong'an (yanan, gongchuan; with 大榕树): the two
    institutions' ids."""
    jinjiang = institution("晋江市小橡树托育中心", township_code="qingyang")
    _region(app, "yongan", "永安市", ["yanan", "gongchuan"])
    yongan = institution("永安市大榕树托育园", township_code="yanan")
    return {"jinjiang": jinjiang, "yongan": yongan}


def _options(html: str, name: str) -> list[str]:
    """The values of the options of the select named ``name``, selected or not."""
    found = re.search(rf'<select id="{name}" name="{name}".*?</select>', html, re.S)
    return re.findall(r'<option (?:selected )?value="([^"]*)"', found[0]) if found else []


def stored(app) -> list[tuple[str | None, str | None]]:
    """Every stored report's (place name, township code), oldest first."""
    with app.app_context():
        reports = db.session.scalars(sa.select(Complaint).order_by(Complaint.id))
        return [(r.place_name, r.township.code if r.township else None) for r in reports]


def test_the_form_lists_no_township_before_the_region_is_chosen(client, two_regions):
    html = client.get("/report").get_data(as_text=True)

    assert _options(html, "region") == ["", "jinjiang", "yongan"]
    assert _options(html, "township") == []


@pytest.mark.parametrize("region", ["yongan", "jinjiang"])
def test_a_region_in_the_address_lists_its_townships_only(client, two_regions, region):
    html = client.get(f"/report?region={region}").get_data(as_text=True)

    expected = {"yongan": ["", "yanan", "gongchuan"], "jinjiang": ["", "qingyang"]}[region]
    assert _options(html, "township") == expected
    assert f'<option selected value="{region}">' in html


def test_an_unknown_region_in_the_address_is_not_found(client, two_regions):
    assert client.get("/report?region=atlantis").status_code == 404


def test_listing_a_regions_townships_keeps_what_was_typed_and_sends_nothing(
    app, client, two_regions
):
    app.config["REPORT_LIMIT_PER_IP"] = "1 per hour"

    answers = [
        client.post("/report", data={**UNFILED, "region": "yongan", "list_townships": "1"})
        for _ in range(3)
    ]

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    html = answers[-1].get_data(as_text=True)
    assert _options(html, "township") == ["", "yanan", "gongchuan"]
    assert "某小区家中看护点" in html
    assert "有人在家中照看七八个幼儿。" in html
    assert stored(app) == []
    # Listing townships is no report: the one report an hour allowed is still there.
    sent = client.post("/report", data={**UNFILED, "region": "yongan", "township": "gongchuan"})
    assert sent.status_code == 302
    assert stored(app) == [("某小区家中看护点", "gongchuan")]


def test_a_township_of_another_region_is_refused_keeping_what_was_typed(app, client, two_regions):
    refused = client.post(
        "/report?lang=en", data={**UNFILED, "region": "yongan", "township": "qingyang"}
    )

    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "Not a valid choice" in html
    assert "某小区家中看护点" in html
    assert stored(app) == []


def test_a_report_may_name_a_region_and_no_township(app, client, two_regions):
    sent = client.post("/report", data={**UNFILED, "region": "yongan", "township": ""})

    assert sent.status_code == 302
    assert stored(app) == [("某小区家中看护点", None)]


def test_a_single_region_register_lists_its_townships_at_once(client, township):
    township("chendai")

    html = client.get("/report").get_data(as_text=True)

    assert _options(html, "region") == []
    assert _options(html, "township") == ["", "chendai"]


# --- the bureau's queue -------------------------------------------------------------------


def _report_about(client, institution_id: int) -> None:
    assert client.post(f"/institutions/{institution_id}/report", data=FEES).status_code == 302


def _report_numbers(html: str) -> set[int]:
    return {int(number) for number in re.findall(r"Report (\d+)<", html)}


@pytest.fixture
def reports_in_both(app, client, two_regions):
    """A report about each region's institution and one about a place of no known township:
    their ids by region (None: the unknown township)."""
    app.config["REPORT_LIMIT_PER_IP"] = "100 per hour"
    _report_about(client, two_regions["jinjiang"])
    _report_about(client, two_regions["yongan"])
    assert client.post("/report", data={**UNFILED, "township": ""}).status_code == 302
    with app.app_context():
        ids = db.session.scalars(sa.select(Complaint.id).order_by(Complaint.id)).all()
    return dict(zip(["jinjiang", "yongan", None], ids, strict=True))


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("/regulator/reports?lang=en", {"jinjiang", "yongan", None}),
        ("/regulator/reports?region=yongan&lang=en", {"yongan", None}),
        ("/regulator/reports?region=jinjiang&lang=en", {"jinjiang", None}),
    ],
)
def test_the_queue_shows_one_regions_reports_and_those_of_no_known_township(
    client, auth, user, reports_in_both, path, shown
):
    auth.login(user(Role.REGULATOR))

    html = client.get(path).get_data(as_text=True)

    assert _report_numbers(html) == {reports_in_both[key] for key in shown}


def test_the_queue_of_an_unknown_region_is_not_found(client, auth, user, two_regions):
    auth.login(user(Role.REGULATOR))

    assert client.get("/regulator/reports?region=atlantis").status_code == 404


def test_a_regions_overdue_reports_are_not_crowded_out_by_other_regions(
    app, client, auth, user, two_regions, monkeypatch
):
    app.config["REPORT_LIMIT_PER_IP"] = "100 per hour"
    monkeypatch.setattr(complaints, "QUEUE_SIZE", 2)
    for _ in range(3):
        _report_about(client, two_regions["jinjiang"])
    _report_about(client, two_regions["yongan"])
    with app.app_context():
        *jinjiang, yongan = db.session.scalars(sa.select(Complaint).order_by(Complaint.id))
        for report in jinjiang:
            report.due_on = clock.today() - timedelta(days=10)
        yongan.due_on = clock.today() - timedelta(days=1)
        yongan_report = yongan.id
        db.session.commit()
    auth.login(user(Role.REGULATOR))

    html = client.get("/regulator/dashboard?region=yongan&lang=en").get_data(as_text=True)

    section = html[html.index('id="overdue-reports-heading"') :]
    assert _report_numbers(section) == {yongan_report}
