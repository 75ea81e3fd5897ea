"""Many regions in one register: a region is chosen first, and its townships only are listed."""

import re

import pytest
import sqlalchemy as sa

from careapp.extensions import db
from careapp.models import Region, Township, TownshipKind


def _region(app, code: str, name: str, township_codes: list[str]) -> None:
    """A region with townships, unless it exists."""
    with app.app_context():
        if db.session.scalar(sa.select(Region).filter_by(code=code)) is None:
            region = Region(code=code, name=name, name_en=code.title())
            db.session.add(region)
            for position, township in enumerate(township_codes):
                db.session.add(
                    Township(
                        code=township,
                        name=f"{township}镇",
                        name_en=f"{township.title()} Town",
                        kind=TownshipKind.TOWN,
                        region=region,
                        position=position,
                    )
                )
            db.session.commit()


@pytest.fixture
def two_regions(app, institution):
    """Jinjiang (qingyang, with 小橡树) and Yong'an (yanan, with 大榕树)."""
    institution("晋江市小橡树托育中心", township_code="qingyang")
    _region(app, "yongan", "永安市", ["yanan", "gongchuan"])
    institution("永安市大榕树托育园", township_code="yanan")
    return app


def _options(html: str, name: str) -> list[str]:
    """The values of the options of the select named ``name``."""
    found = re.search(rf'<select id="{name}" name="{name}".*?</select>', html, re.S)
    return re.findall(r'<option value="([^"]*)"', found[0]) if found else []


def test_a_register_of_several_regions_asks_for_the_region_first(client, two_regions):
    html = client.get("/").get_data(as_text=True)

    assert _options(html, "region") == ["", "jinjiang", "yongan"]
    assert _options(html, "township") == []
    assert "小橡树" in html
    assert "大榕树" in html


@pytest.mark.parametrize("path", ["/?region=yongan", "/?township=yanan"])
def test_a_chosen_region_lists_its_townships_only(client, two_regions, path):
    html = client.get(path).get_data(as_text=True)

    assert _options(html, "township") == ["", "yanan", "gongchuan"]
    assert re.search(r'<option value="yongan" selected>', html)
    assert "大榕树" in html
    assert "小橡树" not in html


def test_the_search_total_of_a_region_comes_from_the_kept_counts(client, two_regions):
    html = client.get("/?region=yongan&lang=en").get_data(as_text=True)
    assert "1 institution found" in html


def test_an_unknown_region_is_refused_with_a_message_and_the_form_kept(client, two_regions):
    response = client.get("/?region=atlantis&q=托育&lang=en")

    assert response.status_code == 400
    assert "There is no such region." in response.get_data(as_text=True)
    assert 'value="托育"' in response.get_data(as_text=True)


def test_the_api_filters_by_region(client, two_regions):
    institutions = client.get("/api/v1/institutions?region=yongan").json
    townships = client.get("/api/v1/townships?region=yongan").json

    assert [item["name"] for item in institutions["items"]] == ["永安市大榕树托育园"]
    assert institutions["total"] == 1
    assert [item["code"] for item in townships["items"]] == ["yanan", "gongchuan"]
    assert [item["institution_count"] for item in townships["items"]] == [1, 0]


@pytest.mark.parametrize(
    "path", ["/api/v1/institutions?region=atlantis", "/api/v1/townships?region=atlantis"]
)
def test_the_api_refuses_an_unknown_region(client, two_regions, path):
    response = client.get(path)
    assert response.status_code == 400
    assert response.json["error"]["code"]


def test_the_public_register_filters_by_region(client, two_regions):
    html = client.get("/registry?region=yongan").get_data(as_text=True)

    assert _options(html, "township") == ["", "yanan", "gongchuan"]
    assert "大榕树" in html
    assert "小橡树" not in html


def test_courses_offer_the_chosen_regions_townships(client, two_regions):
    html = client.get("/courses?region=yongan").get_data(as_text=True)
    assert _options(html, "township") == ["", "yanan", "gongchuan"]


def test_the_search_page_stays_small_with_the_whole_countrys_townships(app, client, institution):
    """3,019 townships in 76 regions: the page lists one region's townships, or the regions."""
    institution("晋江市小橡树托育中心", township_code="qingyang")
    for number in range(75):
        townships = 58 if number == 0 else 40
        codes = [f"t{number:02d}{index:02d}" for index in range(townships)]
        _region(app, f"r{number:02d}", f"第{number}市", codes)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Township.id))) == 3_019

    for path in ("/", "/?region=r42", "/?township=t4207", "/?region=jinjiang"):
        response = client.get(path)
        assert response.status_code == 200
        assert len(response.data) < 30_000, (path, len(response.data))
    assert len(_options(client.get("/?region=r42").get_data(as_text=True), "township")) == 41
