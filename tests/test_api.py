"""The JSON API of the public contract: shapes, filters, language, errors and its description."""

import re
from datetime import date

import pytest
import sqlalchemy as sa

from careapp.extensions import db
from careapp.models import CareType, ClassKind, EventType, FilingEvent, Nature, TownshipKind

SUMMARY_KEYS = {
    "id",
    "name",
    "township",
    "address",
    "nature",
    "price_regime",
    "care_types",
    "min_age_months",
    "max_age_months",
    "filing_number",
    "filed_on",
}
LIST_KEYS = {"items", "total", "page", "per_page"}
#: Lists paged by cursor too say whether the total is exact and where the next page starts.
KEYSET_LIST_KEYS = LIST_KEYS | {"total_is_exact", "next"}
EVENT_KEYS = {"institution_id", "institution_name", "type", "date", "summary"}
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def add_event(app):
    """Factory: a filing event of ``institution_id``."""

    def make(
        institution_id: int,
        event_type: EventType,
        occurred_on: date,
        summary: str,
        summary_en: str | None = None,
    ) -> int:
        with app.app_context():
            event = FilingEvent(
                institution_id=institution_id,
                event_type=event_type,
                occurred_on=occurred_on,
                summary=summary,
                summary_en=summary_en,
            )
            db.session.add(event)
            db.session.commit()
            return event.id

    return make


def get_json(client, path: str, **query) -> dict:
    """GET ``path`` and return its JSON body, which must come with 200."""
    response = client.get(path, query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.json


def assert_error_shape(response, status: int) -> dict:
    """``response`` is the contract's error shape with ``status``; returns the inner object."""
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert set(response.json) == {"error"}
    error = response.json["error"]
    assert set(error) == {"code", "message"}
    assert isinstance(error["code"], str)
    assert error["code"]
    assert isinstance(error["message"], str)
    assert error["message"]
    return error


# /healthz --------------------------------------------------------------------------------------


def test_healthz_reports_ok_with_the_database_up(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_when_the_database_is_unreachable(client, monkeypatch):
    def unreachable(*args, **kwargs):
        raise sa.exc.OperationalError("SELECT 1", {}, ConnectionRefusedError("refused"))

    monkeypatch.setattr(db.session, "execute", unreachable)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.mimetype == "application/json"
    assert response.json == {"status": "unavailable", "database": "unreachable"}


# /api/v1/townships -----------------------------------------------------------------------------


def test_townships_list_every_township_with_its_kind_and_public_count(
    client, township, institution
):
    township("qingyang", TownshipKind.SUBDISTRICT, name="青阳街道", name_en="Qingyang")
    township("chendai", TownshipKind.TOWN, name="陈埭镇", name_en="Chendai", position=1)
    institution("第一托育园", township_code="qingyang")
    institution("第二托育园", township_code="qingyang")

    body = get_json(client, "/api/v1/townships")

    assert body == {
        "items": [
            {"code": "qingyang", "name": "青阳街道", "kind": "subdistrict", "institution_count": 2},
            {"code": "chendai", "name": "陈埭镇", "kind": "town", "institution_count": 0},
        ],
        "total": 2,
        "page": 1,
        "per_page": 2,
    }


def test_township_names_follow_the_language_with_chinese_fallback(client, township):
    township("qingyang", name="青阳街道", name_en="Qingyang Sub-district")
    township("chendai", TownshipKind.TOWN, name="陈埭镇", name_en=None, position=1)

    english = get_json(client, "/api/v1/townships", lang="en")
    chinese = get_json(client, "/api/v1/townships", lang="zh_CN")

    assert [item["name"] for item in english["items"]] == ["Qingyang Sub-district", "陈埭镇"]
    assert [item["name"] for item in chinese["items"]] == ["青阳街道", "陈埭镇"]


# /api/v1/institutions --------------------------------------------------------------------------


@pytest.fixture
def little_oak(institution, township):
    """A filed institution with two offers, two classes and a public history."""
    township("chendai", TownshipKind.TOWN, name="陈埭镇", name_en="Chendai Town")
    return institution(
        "晋江市小橡树托育中心",
        name_en="Little Oak Nursery",
        township_code="chendai",
        address="陈埭镇 江头路 12 号",
        address_en="12 Jiangtou Road, Chendai",
        nature=Nature.PUBLIC,
        filing_number="JJ-TY-2024-0099",
        filed_on=date(2024, 3, 1),
        offers={CareType.HOURLY: (6, 24, 45), CareType.FULL_DAY: (12, 36, 2800)},
        classes=((ClassKind.TODDLER, 15, 3), (ClassKind.OLDER_TODDLER, 14, 2)),
        cctv_covers_all_areas=True,
        cctv_retention_days=90,
        fire_acceptance_on=date(2024, 1, 10),
        health_evaluation_on=date(2024, 1, 20),
        staff_count=10,
        certified_staff_count=8,
    )


def test_institution_list_item_has_exactly_the_contract_keys(client, little_oak):
    body = get_json(client, "/api/v1/institutions")

    assert set(body) == KEYSET_LIST_KEYS
    assert (body["total"], body["page"], body["per_page"]) == (1, 1, 20)
    [item] = body["items"]
    assert set(item) == SUMMARY_KEYS
    assert item == {
        "id": little_oak,
        "name": "晋江市小橡树托育中心",
        "township": {"code": "chendai", "name": "陈埭镇"},
        "address": "陈埭镇 江头路 12 号",
        "nature": "public",
        "price_regime": "government_guided",
        "care_types": ["full_day", "hourly"],
        "min_age_months": 6,
        "max_age_months": 36,
        "filing_number": "JJ-TY-2024-0099",
        "filed_on": "2024-03-01",
    }


def test_institution_list_follows_the_language(client, little_oak):
    [item] = get_json(client, "/api/v1/institutions", lang="en")["items"]

    assert item["name"] == "Little Oak Nursery"
    assert item["township"] == {"code": "chendai", "name": "Chendai Town"}
    assert item["address"] == "12 Jiangtou Road, Chendai"


def test_institution_without_english_name_falls_back_to_chinese(client, institution, township):
    township("qingyang", name="青阳街道", name_en=None)
    institution("阳光托育园", address="青阳街道 世纪大道 1 号")

    [item] = get_json(client, "/api/v1/institutions", lang="en")["items"]

    assert item["name"] == "阳光托育园"
    assert item["address"] == "青阳街道 世纪大道 1 号"
    assert item["township"]["name"] == "青阳街道"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param({"township": "chendai"}, {"陈埭全日托"}, id="township"),
        pytest.param({"care_type": "hourly"}, {"青阳计时托"}, id="care-type"),
        pytest.param({"age_months": "8"}, {"青阳计时托"}, id="age"),
        pytest.param({"age_months": "36"}, set(), id="age-36"),
        pytest.param({"nature": "private"}, {"陈埭全日托"}, id="nature"),
        pytest.param({"q": "计时"}, {"青阳计时托"}, id="text"),
        pytest.param({"township": "qingyang", "care_type": "full_day"}, set(), id="combined"),
    ],
)
def test_institution_list_filters(client, institution, open_places, query, expected):
    hourly = institution(
        "青阳计时托",
        township_code="qingyang",
        nature=Nature.PUBLIC,
        offers={CareType.HOURLY: (6, 36, 40)},
        classes=((ClassKind.INFANT, 9, 3), (ClassKind.TODDLER, 15, 3)),
    )
    full_day = institution(
        "陈埭全日托",
        township_code="chendai",
        nature=Nature.PRIVATE,
        offers={CareType.FULL_DAY: (12, 36, 2800)},
    )
    open_places(hourly)
    open_places(full_day)

    body = get_json(client, "/api/v1/institutions", **query)

    assert {item["name"] for item in body["items"]} == expected
    assert body["total"] == len(expected)


def test_institution_list_pages_with_page_and_per_page(client, institution):
    ids = {institution(f"托育园{number}") for number in range(3)}

    first = get_json(client, "/api/v1/institutions", per_page="2")
    second = get_json(client, "/api/v1/institutions", per_page="2", page="2")

    assert (first["total"], first["page"], first["per_page"], len(first["items"])) == (3, 1, 2, 2)
    assert (second["total"], second["page"], second["per_page"], len(second["items"])) == (
        3,
        2,
        2,
        1,
    )
    assert {item["id"] for item in first["items"] + second["items"]} == ids


def test_institution_list_accepts_per_page_up_to_100(client, institution):
    institution()

    body = get_json(client, "/api/v1/institutions", per_page="100")

    assert body["per_page"] == 100


# /api/v1/institutions/<id> ---------------------------------------------------------------------


def test_institution_detail_has_the_summary_plus_classes_offers_safety_and_history(
    client, little_oak, add_event
):
    add_event(little_oak, EventType.CHANGED, date(2025, 1, 15), "变更地址", "Address changed")

    body = get_json(client, f"/api/v1/institutions/{little_oak}")
    listed = get_json(client, "/api/v1/institutions")["items"][0]

    assert {"classes", "offers", "safety", "history"} <= set(body)
    assert {key: body[key] for key in SUMMARY_KEYS} == listed
    assert body["offers"] == [
        {
            "care_type": "hourly",
            "opens_at": "08:00",
            "closes_at": "17:30",
            "price_yuan": 45,
            "price_unit": "hour",
            "min_age_months": 6,
            "max_age_months": 24,
        },
        {
            "care_type": "full_day",
            "opens_at": "08:00",
            "closes_at": "17:30",
            "price_yuan": 2800,
            "price_unit": "month",
            "min_age_months": 12,
            "max_age_months": 36,
        },
    ]
    assert [
        {key: value for key, value in care_class.items() if key != "id"}
        for care_class in body["classes"]
    ] == [
        {
            "kind": "toddler",
            "name": "toddler",
            "min_age_months": 12,
            "max_age_months": 24,
            "capacity": 15,
            "carers": 3,
        },
        {
            "kind": "older_toddler",
            "name": "older_toddler",
            "min_age_months": 24,
            "max_age_months": 36,
            "capacity": 14,
            "carers": 2,
        },
    ]
    assert all(isinstance(care_class["id"], int) for care_class in body["classes"])
    assert body["capacity"] == 29
    assert body["safety"] == {
        "cctv_covers_all_areas": True,
        "cctv_retention_days": 90,
        "fire_acceptance_on": "2024-01-10",
        "health_evaluation_on": "2024-01-20",
        "staff_health_checked_on": None,
        "staff_count": 10,
        "certified_staff_count": 8,
    }
    assert body["history"] == [
        {"type": "changed", "date": "2025-01-15", "summary": "变更地址"},
        {"type": "filed", "date": "2024-03-01", "summary": "准予备案"},
    ]


def test_institution_detail_follows_the_language(client, little_oak, add_event):
    add_event(little_oak, EventType.CHANGED, date(2025, 1, 15), "变更地址", "Address changed")
    add_event(little_oak, EventType.CHANGED, date(2025, 2, 1), "变更电话")

    body = get_json(client, f"/api/v1/institutions/{little_oak}", lang="en")

    assert body["name"] == "Little Oak Nursery"
    assert body["township"]["name"] == "Chendai Town"
    assert [event["summary"] for event in body["history"]] == [
        "变更电话",
        "Address changed",
        "Filed",
    ]


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/api/v1/institutions/999", id="unknown-id"),
        pytest.param("/api/v1/institutions/0", id="zero"),
        pytest.param("/api/v1/institutions/abc", id="not-a-number"),
        pytest.param("/api/v1/institutions/2147483648", id="above-32-bit"),
        pytest.param("/api/v1/institutions/9223372036854775808", id="above-64-bit"),
        pytest.param("/api/v1/no-such-endpoint", id="unknown-endpoint"),
    ],
)
def test_anything_not_public_answers_404_with_the_error_shape(client, institution, path):
    institution()

    response = client.get(path)

    assert_error_shape(response, 404)


def test_not_found_message_follows_the_language(client):
    english = client.get("/api/v1/institutions/999?lang=en")
    chinese = client.get("/api/v1/institutions/999?lang=zh_CN")

    assert not CJK.search(assert_error_shape(english, 404)["message"])
    assert CJK.search(assert_error_shape(chinese, 404)["message"])


# /api/v1/registry/events -----------------------------------------------------------------------


@pytest.fixture
def history(institution, add_event):
    """Two filed institutions and a change: events on 2024-03-01, 2024-06-01 and 2025-01-15."""
    oak = institution("小橡树托育", name_en="Little Oak", township_code="qingyang")
    sun = institution("阳光托育", township_code="chendai", filed_on=date(2024, 6, 1))
    add_event(oak, EventType.CHANGED, date(2025, 1, 15), "变更地址", "Address changed")
    return oak, sun


def test_registry_events_are_listed_newest_first_with_the_contract_keys(client, history):
    oak, sun = history

    body = get_json(client, "/api/v1/registry/events")

    assert set(body) == KEYSET_LIST_KEYS
    assert (body["total"], body["page"], body["per_page"]) == (3, 1, 20)
    assert all(set(item) == EVENT_KEYS for item in body["items"])
    assert body["items"] == [
        {
            "institution_id": oak,
            "institution_name": "小橡树托育",
            "type": "changed",
            "date": "2025-01-15",
            "summary": "变更地址",
        },
        {
            "institution_id": sun,
            "institution_name": "阳光托育",
            "type": "filed",
            "date": "2024-06-01",
            "summary": "准予备案",
        },
        {
            "institution_id": oak,
            "institution_name": "小橡树托育",
            "type": "filed",
            "date": "2024-03-01",
            "summary": "准予备案",
        },
    ]


@pytest.mark.parametrize(
    ("since", "dates"),
    [
        pytest.param("2024-06-01", ["2025-01-15", "2024-06-01"], id="includes-the-day"),
        pytest.param("2024-06-02", ["2025-01-15"], id="excludes-the-day-before"),
        pytest.param("2026-01-01", [], id="nothing-since"),
    ],
)
def test_registry_events_since_keeps_events_on_or_after_the_date(client, history, since, dates):
    body = get_json(client, "/api/v1/registry/events", since=since)

    assert [item["date"] for item in body["items"]] == dates
    assert body["total"] == len(dates)


def test_registry_events_filter_by_type_and_township(client, history):
    oak, sun = history

    changed = get_json(client, "/api/v1/registry/events", type="changed")
    chendai = get_json(client, "/api/v1/registry/events", township="chendai")

    assert [(item["institution_id"], item["type"]) for item in changed["items"]] == [
        (oak, "changed")
    ]
    assert [(item["institution_id"], item["type"]) for item in chendai["items"]] == [(sun, "filed")]


def test_registry_events_page(client, history):
    body = get_json(client, "/api/v1/registry/events", per_page="1", page="2")

    assert (body["total"], body["page"], body["per_page"]) == (3, 2, 1)
    assert [item["date"] for item in body["items"]] == ["2024-06-01"]


def test_registry_events_follow_the_language_with_chinese_fallback(client, history):
    body = get_json(client, "/api/v1/registry/events", lang="en")

    assert [(item["institution_name"], item["summary"]) for item in body["items"]] == [
        ("Little Oak", "Address changed"),
        ("阳光托育", "Filed"),
        ("Little Oak", "Filed"),
    ]


# Bad parameters --------------------------------------------------------------------------------

BAD_PARAMETERS = [
    pytest.param(
        "/api/v1/institutions",
        {"township": "atlantis"},
        "There is no such township.",
        id="institutions-unknown-township",
    ),
    pytest.param(
        "/api/v1/institutions",
        {"care_type": "boarding"},
        "There is no such care type.",
        id="institutions-unknown-care-type",
    ),
    pytest.param(
        "/api/v1/institutions",
        {"nature": "charity"},
        "There is no such kind of institution.",
        id="institutions-unknown-nature",
    ),
    pytest.param(
        "/api/v1/institutions",
        {"age_months": "-1"},
        "Please enter a number from 0 to 600.",
        id="institutions-negative-age",
    ),
    pytest.param(
        "/api/v1/institutions",
        {"age_months": "abc"},
        "Please enter a whole number.",
        id="institutions-age-not-a-number",
    ),
    pytest.param(
        "/api/v1/institutions",
        {"birth_date": "2099-01-01"},
        "The birth date cannot be in the future.",
        id="institutions-future-birth-date",
    ),
    pytest.param(
        "/api/v1/institutions",
        {"birth_date": "2024-02-30"},
        "Please enter a date as YYYY-MM-DD, for example 2024-05-01.",
        id="institutions-impossible-birth-date",
    ),
    pytest.param(
        "/api/v1/institutions",
        {"q": "x" * 101},
        "Please use at most 100 characters.",
        id="institutions-text-too-long",
    ),
    pytest.param(
        "/api/v1/institutions",
        {"page": "0"},
        "Please enter a number from 1 to 100000.",
        id="institutions-page-0",
    ),
    pytest.param(
        "/api/v1/institutions",
        {"per_page": "1000"},
        "Please enter a number from 1 to 100.",
        id="institutions-per-page-1000",
    ),
    pytest.param(
        "/api/v1/institutions",
        {"per_page": "0"},
        "Please enter a number from 1 to 100.",
        id="institutions-per-page-0",
    ),
    pytest.param(
        "/api/v1/registry/events",
        {"since": "2024-13-01"},
        "Please enter a date as YYYY-MM-DD, for example 2024-05-01.",
        id="events-since-month-13",
    ),
    pytest.param(
        "/api/v1/registry/events",
        {"since": "yesterday"},
        "Please enter a date as YYYY-MM-DD, for example 2024-05-01.",
        id="events-since-yesterday",
    ),
    pytest.param(
        "/api/v1/registry/events",
        {"type": "unknown"},
        "There is no such event type.",
        id="events-unknown-type",
    ),
    pytest.param(
        "/api/v1/registry/events",
        {"township": "atlantis"},
        "There is no such township.",
        id="events-unknown-township",
    ),
    pytest.param(
        "/api/v1/registry/events",
        {"page": "0"},
        "Please enter a number from 1 to 100000.",
        id="events-page-0",
    ),
    pytest.param(
        "/api/v1/registry/events",
        {"per_page": "1000"},
        "Please enter a number from 1 to 100.",
        id="events-per-page-1000",
    ),
]


@pytest.mark.parametrize(("path", "query", "message"), BAD_PARAMETERS)
def test_bad_parameter_answers_400_with_the_error_shape(client, institution, path, query, message):
    institution()

    response = client.get(path, query_string={**query, "lang": "en"})

    assert_error_shape(response, 400)
    assert response.json == {"error": {"code": "invalid_parameter", "message": message}}


def test_bad_parameter_message_is_in_chinese_by_default(client):
    response = client.get("/api/v1/institutions?township=atlantis")

    assert_error_shape(response, 400)
    assert response.json["error"]["message"] == "所选镇（街道）不存在。"


@pytest.mark.parametrize(
    "query",
    [
        pytest.param({"q": "\x00"}, id="nul-in-text"),
        pytest.param({"q": "%\x00"}, id="nul-after-wildcard"),
        pytest.param({"q": "阳光\x00托育"}, id="nul-inside-text"),
    ],
)
def test_a_nul_character_in_the_text_is_refused_or_matches_nothing_never_a_crash(
    client, institution, query
):
    institution("阳光托育")

    response = client.get("/api/v1/institutions", query_string=query)

    # No name or address holds a NUL: either refuse the parameter or find nothing.
    if response.status_code == 400:
        assert_error_shape(response, 400)
    else:
        assert response.status_code == 200
        assert response.json == {"items": [], "total": 0, "page": 1, "per_page": 20}


# /api/v1/openapi.json --------------------------------------------------------------------------


def served_operations(app) -> dict[str, set[str]]:
    """Methods of every path the app serves under /api/v1 and /healthz, in OpenAPI syntax."""
    operations: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if not (rule.rule.startswith("/api/v1/") or rule.rule == "/healthz"):
            continue
        methods = {method.lower() for method in rule.methods - {"HEAD", "OPTIONS"}}
        for path in _expanded(rule.rule):
            operations.setdefault(path, set()).update(methods)
    return operations


def _expanded(rule: str) -> list[str]:
    """A rule's paths in OpenAPI syntax: one per choice of an ``any(…)`` part, whose paths
    the document lists one by one; other variables as ``{name}``."""
    choices = re.search(r"<any\(([^)]*)\):[^<>]+>", rule)
    if choices:
        options = [option.strip() for option in choices[1].split(",")]
        return [path for option in options for path in _expanded(rule.replace(choices[0], option))]
    return [re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)]


def resolve(document: dict, reference: str) -> dict:
    """The object a local ``$ref`` points at."""
    assert reference.startswith("#/"), reference
    target = document
    for part in reference[2:].split("/"):
        target = target[part]
    return target


def references(node) -> list[str]:
    """Every ``$ref`` inside ``node``."""
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [ref for value in node.values() for ref in references(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in references(value)]
    return []


@pytest.fixture
def openapi(client) -> dict:
    """The served OpenAPI document."""
    return get_json(client, "/api/v1/openapi.json")


def test_openapi_document_is_version_3_1(openapi):
    assert openapi["openapi"].startswith("3.1.")
    assert openapi["info"]["title"]
    assert openapi["info"]["version"]


def test_openapi_lists_exactly_the_paths_and_methods_the_app_serves(app, openapi):
    documented = {
        path: {method for method in item if method in {"get", "post", "put", "patch", "delete"}}
        for path, item in openapi["paths"].items()
    }

    assert documented == served_operations(app)


def test_openapi_references_all_resolve(openapi):
    for reference in references(openapi):
        assert resolve(openapi, reference), reference


def test_openapi_documents_the_contract_query_parameters(openapi):
    def parameter_names(path: str) -> set[str]:
        operation = openapi["paths"][path]["get"]
        parameters = operation.get("parameters", []) + openapi["paths"][path].get("parameters", [])
        return {
            resolve(openapi, p["$ref"])["name"] if "$ref" in p else p["name"] for p in parameters
        }

    assert {"township", "care_type", "age_months", "q", "page", "per_page", "lang"} <= (
        parameter_names("/api/v1/institutions")
    )
    assert {"since", "lang"} <= parameter_names("/api/v1/registry/events")


def test_responses_have_the_documented_properties(client, openapi, little_oak, add_event):
    schemas = openapi["components"]["schemas"]

    def documented(name: str) -> set[str]:
        return set(schemas[name]["properties"])

    listed = get_json(client, "/api/v1/institutions")
    detail = get_json(client, f"/api/v1/institutions/{little_oak}")
    townships = get_json(client, "/api/v1/townships")
    events = get_json(client, "/api/v1/registry/events")

    assert set(listed) == documented("InstitutionList")
    # distance_km is documented but only sent with a position (tests/test_near_me.py).
    assert set(listed["items"][0]) == set(schemas["InstitutionSummary"]["required"])
    assert documented("InstitutionSummary") - set(listed["items"][0]) == {"distance_km"}
    assert set(detail) == documented("InstitutionDetail")
    assert set(detail["offers"][0]) == documented("Offer")
    assert set(detail["classes"][0]) == documented("CareClass")
    assert set(detail["safety"]) == documented("Safety")
    assert set(detail["history"][0]) == documented("HistoryItem")
    assert set(townships["items"][0]) == documented("Township")
    assert set(events["items"][0]) == documented("RegistryEvent")
    assert set(get_json(client, "/healthz")) == documented("Health")
