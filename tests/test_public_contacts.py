"""What the public learns of where an institution is and how to call it.

A home-based care point (家庭托育点) is somebody's flat: every public output (pages, search
cards, the API, the spreadsheet, HSDS) gives its address only to the road or community, in step
with its point blurred to 200 m, and no institution's contact telephone is public, only the
service number it chose to publish (``public_phone``)."""

import json
from datetime import date
from decimal import Decimal
from html import unescape
from urllib.parse import unquote

import pytest
import sqlalchemy as sa

from careapp.demo import seed_demo
from careapp.extensions import db
from careapp.models import CareType, ClassKind, Institution, Nature, Role, Status
from careapp.services.locations import community_address, public_address
from tests.test_filing import apply, approve, filed_edit_form, profile_form, stored, submit

HOME_OFFERS = {CareType.FULL_DAY: (12, 36, 1800), CareType.HOURLY: (12, 36, 30)}
HOME_CLASSES = ((ClassKind.HOME_GROUP, 5, 2),)

#: A home-based point that publishes no telephone.
QUIET = {
    "name": "阳光家庭托育点",
    "name_en": "Sunshine Home Care",
    "address": "青阳街道阳光路 88 号 3 幢 601 室",
    "address_en": "Room 601, Building 3, 88 Sunshine Road, Qingyang",
    "phone": "13812345678",
    "public_phone": None,
}
#: A home-based point that chose its operator's mobile as its public number.
CHOSEN = {
    "name": "溪边家庭托育点",
    "address": "池店镇溪边村 12 号 2 单元 302",
    "address_en": None,
    "phone": "13912345678",
    "public_phone": "13912345678",
}
#: A centre with a contact number for the bureau and a service number for parents.
CENTRE = {
    "name": "晋江市小橡树托育中心",
    "address": "世纪大道 5 号 2 楼",
    "phone": "0595-85660001",
    "public_phone": "0595-85669999",
}
#: What must never be public, whatever the page or file.
NEVER_PUBLIC = (
    "601 室",
    "3 幢",
    "幢",
    "Room 601",
    "Building 3",
    "88 Sunshine",
    "阳光路 88",
    "溪边村 12",
    "单元",
    "13812345678",
    "0595-85660001",
    "059585660001",
)


@pytest.fixture
def register(institution) -> dict[str, int]:
    """The three institutions above, filed, by key."""
    point = {"latitude": Decimal("24.812345"), "longitude": Decimal("118.577777")}
    return {
        "quiet": institution(
            nature=Nature.HOME_BASED,
            offers=HOME_OFFERS,
            classes=HOME_CLASSES,
            **point,
            **{k: v for k, v in QUIET.items() if k != "name"},
            name=QUIET["name"],
        ),
        "chosen": institution(
            nature=Nature.HOME_BASED, offers=HOME_OFFERS, classes=HOME_CLASSES, **point, **CHOSEN
        ),
        "centre": institution(**point, **CENTRE),
    }


def public_text(response) -> str:
    """A response as a reader sees it: entities, JSON escapes and URL escapes decoded."""
    assert response.status_code == 200, response.request.path
    body = response.get_data(as_text=True)
    if response.mimetype.endswith("json"):
        body = json.dumps(json.loads(body), ensure_ascii=False)
    body = unescape(body)
    return body + "\n" + unquote(body)


def public_paths(register: dict[str, int]) -> list[str]:
    """Every public page, feed and file that shows institutions."""
    paths = [
        "/",
        "/?q=阳光",
        "/?q=Sunshine",
        "/?q=溪边",
        "/map",
        "/registry",
        "/api/v1/institutions",
        "/api/v1/institutions?q=阳光",
        "/api/v1/registry/events",
        "/open-data/institutions.csv",
        "/api/v1/open-data/hsds.json",
        "/api/v1/open-data/hsds/organizations",
        "/api/v1/open-data/hsds/services",
        "/api/v1/open-data/hsds/service_at_locations",
    ]
    for institution_id in register.values():
        paths += [f"/institutions/{institution_id}", f"/api/v1/institutions/{institution_id}"]
    return paths


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_no_public_output_carries_a_flat_or_a_private_telephone(app, register, language):
    visitor = app.test_client()
    visitor.set_cookie("lang", language)

    for path in public_paths(register):
        text = public_text(visitor.get(path))
        leaked = [secret for secret in NEVER_PUBLIC if secret in text]
        assert not leaked, (path, leaked)


@pytest.mark.parametrize(
    ("language", "quiet_address", "chosen_address"),
    [
        ("zh_CN", "青阳街道阳光路", "池店镇溪边村"),
        ("en", "Sunshine Road, Qingyang", "池店镇溪边村"),
    ],
)
def test_pages_and_files_show_the_community_and_the_chosen_numbers(
    app, register, language, quiet_address, chosen_address
):
    visitor = app.test_client()
    visitor.set_cookie("lang", language)

    quiet = public_text(visitor.get(f"/institutions/{register['quiet']}"))
    chosen = public_text(visitor.get(f"/institutions/{register['chosen']}"))
    centre = public_text(visitor.get(f"/institutions/{register['centre']}"))
    csv_text = public_text(visitor.get("/open-data/institutions.csv"))
    hsds = visitor.get("/api/v1/open-data/hsds.json").json

    assert quiet_address in quiet
    assert chosen_address in chosen
    assert "13912345678" in chosen
    assert "0595-85669999" in centre
    assert "世纪大道 5 号 2 楼" in centre  # a centre's address is public in full
    assert quiet_address in csv_text
    assert "13912345678" in csv_text
    assert sorted(phone["number"] for phone in hsds["phones"]) == ["0595-85669999", "13912345678"]
    assert quiet_address in [address["address_1"] for address in hsds["addresses"]]


def test_the_api_gives_the_chosen_number_or_null(client, register):
    details = {
        key: client.get(f"/api/v1/institutions/{institution_id}").json
        for key, institution_id in register.items()
    }

    assert {key: detail["phone"] for key, detail in details.items()} == {
        "quiet": None,
        "chosen": "13912345678",
        "centre": "0595-85669999",
    }
    assert details["quiet"]["address"] == "青阳街道阳光路"
    schema = client.get("/api/v1/openapi.json").json
    phone = schema["components"]["schemas"]["InstitutionDetail"]["properties"]["phone"]
    assert phone["type"] == ["string", "null"]


def test_a_point_without_a_public_number_says_how_to_reach_it(app, register):
    visitor = app.test_client()
    visitor.set_cookie("lang", "zh_CN")

    text = public_text(visitor.get(f"/institutions/{register['quiet']}"))

    assert "未公开电话：请通过本平台预约或咨询。" in text
    assert "tel:" not in text.split('id="contact-heading"')[1].split("</dl>")[0]


# --- the address, cut ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "published"),
    [
        ("青阳街道阳光路 88 号 3 幢 601 室", "青阳街道阳光路"),
        ("青阳街道阳光花园3幢601室", "青阳街道阳光花园"),
        ("梅岭街道桂华社区三号楼二单元六〇一", "梅岭街道桂华社区"),
        ("池店镇溪边村 12 号 2 单元 302", "池店镇溪边村"),
        ("西园街道五一路７号", "西园街道五一路"),
        ("安海镇中山路#5-601", "安海镇中山路"),
        ("陈埭镇江头村", "陈埭镇江头村"),
        ("Room 601, Building 3, 88 Sunshine Road, Qingyang", "Sunshine Road, Qingyang"),
        ("Flat 2B, 12 Xibian Village, Chidian", "Xibian Village, Chidian"),
        ("Apt. 5, No. 7 Wuyi Road", "Wuyi Road"),
        ("", ""),
    ],
)
def test_community_address_drops_door_building_and_flat(address, published):
    assert community_address(address) == published


def test_public_address_falls_back_to_the_township_and_keeps_other_natures_whole(app, institution):
    home = institution(nature=Nature.HOME_BASED, address="88 号 3 幢 601 室", classes=HOME_CLASSES)
    centre = institution(address="世纪大道 5 号 2 楼")
    with app.app_context():
        home_record, centre_record = (
            db.session.get(Institution, home),
            db.session.get(Institution, centre),
        )
        assert public_address(home_record, "zh_CN") == home_record.township.name
        assert public_address(centre_record, "zh_CN") == "世纪大道 5 号 2 楼"


# --- the filing form ----------------------------------------------------------------------


@pytest.fixture
def township_id(app, township):
    """Qingyang, whose filing numbers start with ``JJ``."""
    return township("qingyang")


def test_the_form_separates_the_contact_from_the_public_number_and_publishes_at_once(
    app, client, auth, user, township_id
):
    owner, regulator = user(Role.INSTITUTION), user(Role.REGULATOR)
    client.set_cookie("lang", "en")
    auth.login(owner)
    data = profile_form(township_id, phone="13812345678", public_phone="")
    form_page = unescape(client.get("/institutions/new").get_data(as_text=True))
    assert "Contact telephone (for the health bureau, not published)" in form_page
    assert 'id="public_phone"' in form_page
    institution_id = apply(client, data)
    submit(client, institution_id)
    auth.logout()
    auth.login(regulator)
    approve(client, institution_id)
    auth.logout()
    visitor = app.test_client()
    visitor.set_cookie("lang", "en")
    page = f"/institutions/{institution_id}"
    before = public_text(visitor.get(page))
    assert "13812345678" not in before
    assert "No public telephone" in before
    assert visitor.get(page).headers["X-Page-Cache"] == "hit"

    auth.login(owner)
    edited = client.post(
        f"/institutions/{institution_id}/edit",
        data=filed_edit_form(data, public_phone="0595-85669999"),
    )

    assert edited.status_code == 302
    assert stored(app, institution_id, "public_phone") == "0595-85669999"
    after = public_text(visitor.get(page))  # the cached page is no longer served
    assert "0595-85669999" in after
    assert "13812345678" not in after
    assert visitor.get(f"/api/v1/institutions/{institution_id}").json["phone"] == "0595-85669999"


def test_a_public_number_must_be_a_telephone_number(client, auth, user, township_id):
    client.set_cookie("lang", "en")
    auth.login(user(Role.INSTITUTION))

    response = client.post(
        "/institutions/new", data=profile_form(township_id, public_phone="call me")
    )

    text = unescape(response.get_data(as_text=True))
    assert response.status_code in (200, 400)
    assert 'id="public_phone-error"' in text
    assert 'value="call me"' in text


# --- search cannot confirm a flat ---------------------------------------------------------


def found_ids(client, query: str) -> set[int]:
    """The ids the API's search returns for ``q``."""
    response = client.get("/api/v1/institutions", query_string={"q": query, "per_page": 50})
    return {item["id"] for item in response.json["items"]}


@pytest.mark.parametrize("query", ["601", "601 室", "3 幢", "幢", "Room 601", "88 号", "单元 302"])
def test_searching_a_flat_finds_no_home_based_point(client, register, query):
    found = found_ids(client, query)

    assert register["quiet"] not in found
    assert register["chosen"] not in found


def test_searching_a_road_or_a_name_still_finds_home_based_points(client, register):
    assert register["quiet"] in found_ids(client, "阳光路")
    assert register["quiet"] in found_ids(client, "Sunshine Road")
    assert register["chosen"] in found_ids(client, "溪边村")
    assert register["quiet"] in found_ids(client, "阳光家庭托育点")
    assert register["centre"] in found_ids(client, "5 号 2 楼")  # a centre's address is public


# --- the demo register, every home-based point ----------------------------------------------


def test_the_demo_register_publishes_no_flat_and_no_home_based_mobile(app):
    with app.app_context():
        seed_demo("jinjiang", date(2026, 11, 30))
        db.session.commit()
        homes = db.session.execute(
            sa.select(Institution.id, Institution.address, Institution.phone).where(
                Institution.nature == Nature.HOME_BASED, Institution.status == Status.FILED
            )
        ).all()
    assert homes
    assert all("幢" in address for _id, address, _phone in homes)  # the register keeps the flat
    visitor = app.test_client()
    files = {
        language: public_text(
            visitor.get("/open-data/institutions.csv", query_string={"lang": language})
        )
        + public_text(visitor.get("/api/v1/open-data/hsds.json", query_string={"lang": language}))
        for language in ("zh_CN", "en")
    }
    pages = "".join(
        public_text(visitor.get(f"/institutions/{institution_id}"))
        for institution_id, *_ in homes[:5]
    )

    for text in [*files.values(), pages]:
        assert "幢" not in text
        assert "Building" not in text
        assert not [phone for _id, _address, phone in homes if phone in text]
