"""Open data: the HSDS 3.0 document and the institutions spreadsheet.

Both list filed institutions only, validate against the Open Referral schemas, keep their ids
from one export to the next, follow the request language and never carry personal data.
"""

import csv
import io
import json
import uuid
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from careapp.extensions import db
from careapp.models import (
    CareClass,
    CareType,
    ClassKind,
    EventType,
    FilingEvent,
    Institution,
    Role,
    Status,
    User,
)
from careapp.services import booking

HSDS_PATH = "/api/v1/open-data/hsds.json"
CSV_PATH = "/open-data/institutions.csv"
SCHEMA_DIR = Path(__file__).parent / "data" / "hsds"

#: Which HSDS 3.0 schema each array of the document is checked against.
ARRAY_SCHEMAS = {
    "organizations": "organization.json",
    "organization_identifiers": "organization_identifier.json",
    "locations": "location.json",
    "addresses": "address.json",
    "phones": "phone.json",
    "services": "service.json",
    "service_at_locations": "service_at_location.json",
    "schedules": "schedule.json",
    "cost_options": "cost_option.json",
    "taxonomies": "taxonomy.json",
    "taxonomy_terms": "taxonomy_term.json",
    "attributes": "attribute.json",
    "metadata": "metadata.json",
}
UUID_STRING = {"type": "string", "format": "uuid"}
#: HSDS 3.0 has no unit object; these are the fields and requirements of HSDS 3.1's.
UNIT_SCHEMA = {
    "type": "object",
    "properties": {"id": UUID_STRING, "name": {"type": "string", "minLength": 1}},
    "required": ["id", "name"],
}
#: HSDS 3.0 has no service_capacity object; these are the fields careapp writes, as in HSDS 3.1.
CAPACITY_SCHEMA = {
    "type": "object",
    "properties": {
        "id": UUID_STRING,
        "service_id": UUID_STRING,
        "unit_id": UUID_STRING,
        "unit": UNIT_SCHEMA,
        "available": {"type": "number", "minimum": 0},
        "maximum": {"type": "number", "minimum": 0},
        "description": {"type": "string"},
        "updated": {"type": "string", "format": "date-time"},
    },
    "required": ["id", "service_id", "unit_id", "unit", "available", "updated"],
    "additionalProperties": False,
}

OAK = "晋江市小橡树托育中心"
PINE = "晋江市松树托育园"
UNLISTED = {
    Status.DRAFT: "草稿里的托育中心",
    Status.UNDER_REVIEW: "正在审核的托育中心",
    Status.DEREGISTERED: "已经注销的托育中心",
}
CHILD_NAME = "欧阳秘密"
PARENT_EMAIL = "private.family@example.com"
PARENT_PHONE = "13912345678"
PARENT_NAME = "欧阳家长"


def hsds_id(name: str) -> str:
    """The documented id formula: uuid5 of the URL namespace and a careapp name."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


@pytest.fixture(scope="module")
def registry() -> Registry:
    """Every copied HSDS schema under its file name, so their relative $refs resolve."""
    resources = [
        (path.name, Resource.from_contents(json.loads(path.read_text()), DRAFT202012))
        for path in SCHEMA_DIR.glob("*.json")
    ]
    return Registry().with_resources(resources)


def validator_for(schema: dict, registry: Registry) -> Draft202012Validator:
    """A validator of ``schema`` that also checks formats such as uuid."""
    return Draft202012Validator(
        schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


@pytest.fixture
def world(app, institution, user) -> dict:
    """Two filed institutions, one of each unlisted state, and a family with a booking."""
    oak = institution(
        OAK,
        name_en="Little Oak Childcare",
        address="青阳街道世纪大道 1 号",
        address_en="1 Century Avenue, Qingyang",
        offers={CareType.FULL_DAY: (12, 36, 2800), CareType.HOURLY: (6, 36, 40)},
        classes=((ClassKind.INFANT, 10, 4),),
        latitude=Decimal("24.781"),
        longitude=Decimal("118.552"),
        description="普惠托育",
        description_en="Inclusive childcare",
    )
    pine = institution(
        PINE,
        name_en="Pine Tree Nursery",
        township_code="chendai",
        offers={CareType.HALF_DAY: (18, 36, 1800), CareType.HOURLY: (12, 36, 35)},
        classes=((ClassKind.TODDLER, 15, 3),),
    )
    unlisted = {status: institution(name, status=status) for status, name in UNLISTED.items()}
    with app.app_context():
        db.session.add_all(
            [
                FilingEvent(
                    institution_id=oak,
                    event_type=EventType.CHANGED,
                    occurred_on=date(2025, 6, 2),
                    summary="地址变更",
                    summary_en="Address changed",
                ),
                FilingEvent(
                    institution_id=unlisted[Status.DEREGISTERED],
                    event_type=EventType.DEREGISTERED,
                    occurred_on=date(2025, 9, 1),
                    summary="已经注销的托育中心注销",
                    summary_en="Deregistered",
                ),
            ]
        )
        db.session.commit()
    return {"oak": oak, "pine": pine, **unlisted}


@pytest.fixture
def family_booking(app, user, world) -> int:
    """A parent with a phone, a child and a booking at the pine nursery; the booking's id."""
    parent_id = user(Role.PARENT, email=PARENT_EMAIL, phone=PARENT_PHONE, display_name=PARENT_NAME)
    with app.app_context():
        parent = db.session.get(User, parent_id)
        child = booking.add_child(
            parent, name=CHILD_NAME, birth_date=date(2028, 9, 11), notes="", consent=True
        )
        care_class = db.session.scalar(
            db.select(CareClass).where(CareClass.institution_id == world["pine"])
        )
        slot = booking.add_slot(
            care_class, CareType.HOURLY, date(2030, 3, 11), time(9), time(10), 3, date(2030, 3, 1)
        )
        made = booking.book(parent, child.id, slot, "open-data", datetime(2030, 3, 1, 8))
        db.session.commit()
        return made.id


def get_hsds(client, **query) -> dict:
    """The HSDS document, which must come with 200 as JSON."""
    response = client.get(HSDS_PATH, query_string=query)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.json


def get_csv(client, **query) -> tuple[str, list[list[str]]]:
    """The spreadsheet's text (with its BOM) and its rows."""
    response = client.get(CSV_PATH, query_string=query)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    text = response.get_data().decode("utf-8")
    return text, list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def by_id(records: list[dict]) -> dict[str, dict]:
    """Records keyed by their id."""
    return {record["id"]: record for record in records}


# --- HSDS: shape ---------------------------------------------------------------------------------


def test_every_hsds_record_validates_against_its_hsds_schema(client, world, registry):
    document = get_hsds(client)

    for array, schema_file in ARRAY_SCHEMAS.items():
        validator = validator_for({"$ref": schema_file}, registry)
        assert document[array], array
        for record in document[array]:
            validator.validate(record)
    for record in document["service_capacities"]:
        validator_for(CAPACITY_SCHEMA, registry).validate(record)
    for record in document["units"]:
        validator_for(UNIT_SCHEMA, registry).validate(record)


def test_schema_check_catches_a_broken_record(registry):
    organization = validator_for({"$ref": "organization.json"}, registry)

    assert not organization.is_valid({"id": "not-a-uuid", "name": "x", "description": ""})
    assert not organization.is_valid({"id": hsds_id("careapp:institution:1"), "name": "x"})


def test_hsds_ids_are_unique_and_the_same_in_every_export_and_language(client, world):
    first = get_hsds(client)
    again = get_hsds(client)
    english = get_hsds(client, lang="en")

    ids = [record["id"] for array in first.values() for record in array]
    assert len(ids) == len(set(ids))
    for array in first:
        assert [r["id"] for r in first[array]] == [r["id"] for r in again[array]]
        assert [r["id"] for r in first[array]] == [r["id"] for r in english[array]]


# --- HSDS: content -------------------------------------------------------------------------------


def test_hsds_organizations_are_the_filed_institutions_with_their_identifiers(client, world, app):
    document = get_hsds(client)
    oak_id = hsds_id(f"careapp:institution:{world['oak']}")
    pine_id = hsds_id(f"careapp:institution:{world['pine']}")
    with app.app_context():
        oak = db.session.get(Institution, world["oak"])
        oak_facts = (oak.filing_number, oak.uscc)

    organizations = by_id(document["organizations"])
    assert list(organizations) == [oak_id, pine_id]
    assert organizations[oak_id] == {
        "id": oak_id,
        "name": OAK,
        "alternate_name": "Little Oak Childcare",
        "description": "普惠托育",
        "legal_status": "民政部门（非营利性）",
        "uri": f"http://localhost/institutions/{world['oak']}",
    }
    identifiers = {
        (record["identifier_type"], record["identifier"])
        for record in document["organization_identifiers"]
        if record["organization_id"] == oak_id
    }
    assert identifiers == {("filing_number", oak_facts[0]), ("uscc", oak_facts[1])}


def test_hsds_has_one_service_per_care_type_with_ages_hours_and_prices(client, world):
    document = get_hsds(client, lang="en")
    pine_id = hsds_id(f"careapp:institution:{world['pine']}")
    half_day = hsds_id(f"careapp:institution:{world['pine']}:service:half_day")

    services = [s for s in document["services"] if s["organization_id"] == pine_id]
    assert [s["name"] for s in services] == ["Half-day care", "Hourly care"]
    assert services[0]["id"] == half_day
    assert (services[0]["minimum_age"], services[0]["maximum_age"]) == (1.5, 3)
    assert services[0]["eligibility_description"] == "For children from 18 to 36 months"
    assert services[0]["status"] == "active"
    schedules = [s for s in document["schedules"] if s["service_id"] == half_day]
    assert [(s["opens_at"], s["closes_at"], s["timezone"]) for s in schedules] == [
        ("08:00+08:00", "17:30+08:00", 8)
    ]
    costs = [c for c in document["cost_options"] if c["service_id"] == half_day]
    assert [(c["amount"], c["currency"], c["amount_description"]) for c in costs] == [
        (1800, "CNY", "per month")
    ]
    at_locations = [a for a in document["service_at_locations"] if a["service_id"] == half_day]
    assert [a["location_id"] for a in at_locations] == [
        hsds_id(f"careapp:institution:{world['pine']}:location")
    ]
    assert len(document["services"]) == 4


def test_hsds_capacities_are_the_class_places_counted_once(client, world):
    document = get_hsds(client)

    capacities = document["service_capacities"]
    assert [c["available"] for c in capacities] == [10, 15]
    assert sum(c["available"] for c in capacities) == 25
    # Places are shared by an institution's care types: listed under its first one only.
    assert [c["service_id"] for c in capacities] == [
        hsds_id(f"careapp:institution:{world['oak']}:service:full_day"),
        hsds_id(f"careapp:institution:{world['pine']}:service:half_day"),
    ]
    assert [c["maximum"] for c in capacities] == [10, 15]
    assert {c["unit"]["name"] for c in capacities} == {"托位"}
    assert document["units"] == [{"id": hsds_id("careapp:unit:place"), "name": "托位"}]


def test_hsds_locations_addresses_and_phones_are_the_public_page_facts(client, world):
    document = get_hsds(client, lang="en")
    oak_location = hsds_id(f"careapp:institution:{world['oak']}:location")

    location = by_id(document["locations"])[oak_location]
    assert (location["name"], location["latitude"], location["longitude"]) == (
        "Little Oak Childcare",
        24.781,
        118.552,
    )
    address = next(a for a in document["addresses"] if a["location_id"] == oak_location)
    assert (address["address_1"], address["city"], address["region"], address["country"]) == (
        "1 Century Avenue, Qingyang",
        "Jinjiang",
        "Qingyang Sub-district",
        "CN",
    )
    assert [p["number"] for p in document["phones"]] == ["0595-85661234", "0595-85661234"]
    pine_location = by_id(document["locations"])[
        hsds_id(f"careapp:institution:{world['pine']}:location")
    ]
    assert "latitude" not in pine_location


def test_hsds_metadata_is_the_public_filing_history_of_listed_institutions(client, world):
    document = get_hsds(client, lang="en")
    oak_id = hsds_id(f"careapp:institution:{world['oak']}")
    pine_id = hsds_id(f"careapp:institution:{world['pine']}")

    history = [
        (m["resource_id"], m["last_action_date"], m["last_action_type"], m["replacement_value"])
        for m in document["metadata"]
    ]
    assert history == [
        (oak_id, "2024-03-01", "filed", "Filed"),
        (oak_id, "2025-06-02", "changed", "Address changed"),
        (pine_id, "2024-03-01", "filed", "Filed"),
    ]
    assert {m["resource_type"] for m in document["metadata"]} == {"organization"}
    assert {m["updated_by"] for m in document["metadata"]} == {"The county health bureau"}


def test_hsds_tags_natures_and_care_types_with_taxonomy_terms(client, world):
    document = get_hsds(client)
    oak_id = hsds_id(f"careapp:institution:{world['oak']}")
    terms = by_id(document["taxonomy_terms"])

    nature = next(a for a in document["attributes"] if a["link_id"] == oak_id)
    assert (nature["link_type"], nature["value"]) == ("nature", "inclusive")
    assert terms[nature["taxonomy_term_id"]]["code"] == "inclusive"
    care_types = [a["value"] for a in document["attributes"] if a["link_entity"] == "service"]
    assert care_types == ["full_day", "hourly", "half_day", "hourly"]


def test_hsds_names_follow_the_request_language(client, world):
    chinese = get_hsds(client)
    english = get_hsds(client, lang="en")

    assert [o["name"] for o in chinese["organizations"]] == [OAK, PINE]
    assert [o["name"] for o in english["organizations"]] == [
        "Little Oak Childcare",
        "Pine Tree Nursery",
    ]
    assert chinese["services"][0]["name"] == "全日托"
    assert english["services"][0]["name"] == "Full-day care"
    assert english["units"][0]["name"] == "Places"
    assert [a["city"] for a in chinese["addresses"]] == ["晋江市", "晋江市"]


# --- only filed, no personal data ----------------------------------------------------------------


def unlisted_facts(app, world) -> list[str]:
    """Names, codes and filing numbers of the draft, under-review and deregistered ones."""
    with app.app_context():
        records = [db.session.get(Institution, world[status]) for status in UNLISTED]
        facts = [record.name for record in records] + [record.uscc for record in records]
        return facts + [record.filing_number for record in records if record.filing_number]


def test_unlisted_institutions_appear_nowhere_in_the_open_data(client, app, world):
    outputs = [
        client.get(HSDS_PATH).get_data(as_text=True),
        client.get(HSDS_PATH, query_string={"lang": "en"}).get_data(as_text=True),
        client.get(CSV_PATH).get_data(as_text=True),
    ]
    facts = unlisted_facts(app, world)

    assert len(facts) == 7  # three names, three codes, the deregistered one's filing number
    for output in outputs:
        assert OAK in output or "Little Oak Childcare" in output
        for fact in facts:
            assert fact not in output
    assert len(get_hsds(client)["organizations"]) == 2


def test_open_data_carries_no_personal_data(client, family_booking):
    outputs = [
        client.get(HSDS_PATH).get_data(),
        client.get(HSDS_PATH, query_string={"lang": "en"}).get_data(),
        client.get(CSV_PATH).get_data(),
        client.get(CSV_PATH, query_string={"lang": "en"}).get_data(),
    ]

    for output in outputs:
        assert PINE.encode() in output or b"Pine Tree Nursery" in output
        for private in (CHILD_NAME, "欧*密", PARENT_EMAIL, PARENT_PHONE, PARENT_NAME):
            assert private.encode() not in output
            assert json.dumps(private).encode() not in output


def test_a_deregistered_institution_leaves_the_open_data(client, app, world):
    with app.app_context():
        db.session.get(Institution, world["pine"]).status = Status.DEREGISTERED
        db.session.commit()

    document = get_hsds(client)
    _text, rows = get_csv(client)

    assert [o["name"] for o in document["organizations"]] == [OAK]
    assert PINE not in json.dumps(document, ensure_ascii=False)
    assert [row[1] for row in rows[1:]] == [OAK]


# --- the spreadsheet -----------------------------------------------------------------------------


def test_csv_has_a_bom_a_header_and_one_row_per_filed_institution(client, app, world):
    text, rows = get_csv(client)
    response = client.get(CSV_PATH)
    with app.app_context():
        oak = db.session.get(Institution, world["oak"])
        oak_facts = (oak.filing_number, oak.uscc)

    assert text.startswith("\ufeff")
    assert response.headers["Content-Disposition"] == "attachment; filename=institutions.csv"
    assert len(rows[0]) == 16
    assert rows[0][:4] == ["编号", "名称", "镇（街道）代码", "镇（街道）"]
    assert rows[1:] == [
        [
            str(world["oak"]),
            OAK,
            "qingyang",
            "qingyang街道",
            "青阳街道世纪大道 1 号",
            "普惠性",
            "全日托; 计时托",
            "6",
            "36",
            "10",
            oak_facts[0],
            "2024-03-01",
            "民政部门（非营利性）",
            oak_facts[1],
            "0595-85661234",
            "普惠价格（通过市场形成）",
        ],
        rows[2],
    ]
    assert [row[0] for row in rows[1:]] == [str(world["oak"]), str(world["pine"])]
    assert [row[9] for row in rows[1:]] == ["10", "15"]


def test_csv_in_english_names_care_types_and_places(client, world):
    _text, rows = get_csv(client, lang="en")

    header = rows[0]
    pine = dict(zip(header, rows[2], strict=True))
    assert pine["Name"] == "Pine Tree Nursery"
    assert pine["Township code"] == "chendai"
    assert pine["Township"] == "Chendai Sub-district"
    assert pine["Nature"] == "Inclusive (affordable care)"
    assert pine["How prices are set"] == "Inclusive price formed in the market"
    assert pine["Care types"] == "Half-day care; Hourly care"
    assert (pine["From age (months)"], pine["Up to age (months, not included)"]) == ("12", "36")
    assert pine["Places"] == "15"
    assert pine["Registration authority"] == "Civil affairs (non-profit)"


def test_csv_escapes_cells_a_spreadsheet_would_run_as_formulas(client, institution):
    institution('=HYPERLINK("http://evil.invalid")', address="+1 Formula Road")

    _text, rows = get_csv(client)

    assert rows[1][1] == '\'=HYPERLINK("http://evil.invalid")'
    assert rows[1][4] == "'+1 Formula Road"


# --- cost ----------------------------------------------------------------------------------------


def _queries_for(client, count_queries, path: str) -> int:
    with count_queries() as statements:
        response = client.get(path)
        assert response.status_code == 200
        response.get_data()  # a streamed body runs its statements while it is read
    return len(statements)


#: At most: BEGIN on SQLite and one SELECT for the spreadsheet; for the document one pass per
#: array that reads the register, plus the offers and classes of its one batch.
MOST_STATEMENTS = {CSV_PATH: 2, HSDS_PATH: 20}


@pytest.mark.parametrize("path", [HSDS_PATH, CSV_PATH])
def test_open_data_costs_a_fixed_handful_of_queries(client, institution, count_queries, path):
    classes = ((ClassKind.TODDLER, 15, 3), (ClassKind.OLDER_TODDLER, 20, 3))
    offers = {CareType.FULL_DAY: (12, 36, 2800), CareType.HOURLY: (6, 36, 40)}
    institution("第一家托育中心", offers=offers, classes=classes)
    few = _queries_for(client, count_queries, path)
    for number in range(12):
        institution(
            f"托育中心{number}",
            township_code=("qingyang", "chendai")[number % 2],
            offers=offers,
            classes=classes,
        )

    many = _queries_for(client, count_queries, path)

    assert many == few
    assert many <= MOST_STATEMENTS[path]


def test_openapi_describes_the_hsds_document_as_served(client, world):
    openapi = client.get("/api/v1/openapi.json").json
    operation = openapi["paths"][HSDS_PATH]["get"]
    schema = openapi["components"]["schemas"]["HsdsDocument"]

    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/HsdsDocument"
    }
    Draft202012Validator(schema).validate(get_hsds(client))
    assert set(schema["required"]) == set(get_hsds(client))
