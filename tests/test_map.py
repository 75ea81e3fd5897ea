"""/map: a well-formed SVG of filed institutions, each a link, nothing from another host."""

import re
import xml.etree.ElementTree as ET
from decimal import Decimal

from careapp.models import Nature, Status
from careapp.services.region_map import DOT_LIMIT

SVG = "{http://www.w3.org/2000/svg}"


def svg_of(text: str) -> ET.Element:
    return ET.fromstring(re.search(r"<svg.*?</svg>", text, re.S)[0])


def test_the_map_links_every_filed_institution_and_no_other(client, institution):
    filed = [
        institution(f"晋江市第{n}托育园", latitude=24.78 + n / 50, longitude=118.55 + n / 50)
        for n in range(3)
    ]
    institution("晋江市审核中托育园", status=Status.UNDER_REVIEW, latitude=24.8, longitude=118.6)
    institution("晋江市已注销托育园", status=Status.DEREGISTERED, latitude=24.8, longitude=118.6)
    answer = client.get("/map")
    text = answer.get_data(as_text=True)
    assert answer.status_code == 200
    svg = svg_of(text)
    assert svg.get("role") == "group"  # links inside: "img" would hide them (axe)
    assert svg.find(f"{SVG}title") is not None
    links = {a.get("href") for a in svg.iter(f"{SVG}a")}
    assert links == {f"/institutions/{i}" for i in filed}
    assert all(a.find(f"{SVG}title") is not None for a in svg.iter(f"{SVG}a"))
    assert "审核中" not in text
    assert "已注销" not in text
    # The list fallback holds the same institutions.
    listed = re.search(r'<ul class="map-list">(.*?)</ul>', text, re.S)[1]
    assert all(f'href="/institutions/{i}"' in listed for i in filed)
    # Nothing from another host.
    assert not re.search(r'(src|href)="(https?:)?//', text)
    assert answer.headers["X-Page-Cache"] == "miss"
    assert client.get("/map").headers["X-Page-Cache"] == "hit"


def test_a_home_is_drawn_where_it_is_published_never_at_the_flat(app, client, institution):
    from careapp.services.locations import public_location, public_point

    class Home:
        latitude, longitude, nature = Decimal("24.781234"), Decimal("118.553377"), Nature.HOME_BASED

    lat, lng = public_point(Home)
    assert (lat, lng) == tuple(float(value) for value in public_location(Home))
    assert (round(lat, 6), round(lng, 6)) != (24.781234, 118.553377)
    # Within its 200 m grid cell (at most about 140 m off).
    assert abs(lat - 24.781234) * 111_000 < 150
    assert abs(lng - 118.553377) * 111_000 * 0.91 < 150


def file_spread_out(institution, count: int) -> None:
    """``count`` filed institutions with long names, spread over 12 townships."""
    for n in range(count):
        institution(
            f"晋江市第{n}号托育服务中心有限公司",
            township_code=f"town{n % 12}",
            latitude=24.7 + (n % 17) / 100,
            longitude=118.5 + (n % 13) / 100,
        )


def test_a_large_register_draws_counts_and_stays_small(client, institution):
    file_spread_out(institution, DOT_LIMIT + 1)
    answer = client.get("/map")
    assert answer.status_code == 200
    assert len(answer.data) <= 60_000
    svg = svg_of(answer.get_data(as_text=True))
    assert not list(svg.iter(f"{SVG}a"))
    assert 'href="/?township=town0#results"' in answer.get_data(as_text=True)


def test_a_map_of_dots_up_to_the_limit_stays_small(client, institution):
    file_spread_out(institution, DOT_LIMIT)
    answer = client.get("/map")
    assert len(answer.data) <= 60_000, len(answer.data)
    assert len(list(svg_of(answer.get_data(as_text=True)).iter(f"{SVG}a"))) == DOT_LIMIT
