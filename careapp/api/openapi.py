"""The OpenAPI 3.1 description of the JSON API, built from the models' enums."""

from careapp.config import LANGUAGES
from careapp.models import (
    Authority,
    CareType,
    ClassKind,
    CourseFormat,
    EventType,
    Nature,
    PriceRegime,
    PriceUnit,
    Topic,
)
from careapp.models.region import TownshipKind
from careapp.services.cursors import MAX_CURSOR_LENGTH
from careapp.services.open_data import (
    HSDS_ARRAYS,
    HSDS_MAX_PER_PAGE,
    HSDS_PER_PAGE,
    PAGED_ARRAYS,
)
from careapp.services.params import MAX_TEXT_LENGTH
from careapp.services.search import COUNT_LIMIT, MAX_AGE_MONTHS, MAX_RADIUS_KM, SORTS

API_TITLE = "careapp public register API"
API_VERSION = "1.0.0"
#: The paging limits the query parsers enforce (careapp.services.params, careapp.config).
MAX_PAGE = 100_000
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100


# Schema building blocks ------------------------------------------------------------------------


def _ref(name: str) -> dict:
    """A reference to the component schema ``name``."""
    return {"$ref": f"#/components/schemas/{name}"}


def _string(description: str | None = None, **keywords) -> dict:
    """A string schema, with optional JSON Schema keywords such as ``format``."""
    schema = {"type": "string", **keywords}
    if description:
        schema["description"] = description
    return schema


def _integer(description: str | None = None, **keywords) -> dict:
    """An integer schema, with optional keywords such as ``minimum``."""
    schema = {"type": "integer", **keywords}
    if description:
        schema["description"] = description
    return schema


def _nullable(schema: dict) -> dict:
    """``schema`` that also admits ``null`` (OpenAPI 3.1 type arrays)."""
    return {**schema, "type": [schema["type"], "null"]}


def _date(description: str | None = None) -> dict:
    """A calendar date written as YYYY-MM-DD."""
    return _string(description, format="date")


def _enum(values: list[str], description: str | None = None) -> dict:
    """A string restricted to ``values``."""
    return _string(description, enum=list(values))


def _array(items: dict, **keywords) -> dict:
    """An array of ``items``."""
    return {"type": "array", "items": items, **keywords}


def _object(properties: dict, description: str | None = None) -> dict:
    """A closed object whose every property is always present (possibly as ``null``)."""
    schema = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def _with_optional(schema: dict, properties: dict) -> dict:
    """``schema`` with ``properties`` that are present only sometimes."""
    return {**schema, "properties": {**schema["properties"], **properties}}


def _list_envelope(item_schema: str) -> dict:
    """The contract's list shape with items of ``item_schema``."""
    return _object(
        {
            "items": _array(_ref(item_schema)),
            "total": _integer("Number of matching items on all pages.", minimum=0),
            "page": _integer("This page's number, from 1.", minimum=1),
            "per_page": _integer("The page size used.", minimum=1),
        },
        f"One page of {item_schema} items.",
    )


def _township_statistics_envelope() -> dict:
    """The township statistics list, with the region-wide figures beside the page."""
    envelope = _list_envelope("TownshipStatistics")
    envelope["properties"]["region"] = _nullable_ref("RegionStatistics")
    envelope["required"].append("region")
    return envelope


def _nullable_ref(name: str) -> dict:
    """A reference to schema ``name`` that also admits ``null``."""
    return {"oneOf": [_ref(name), {"type": "null"}]}


def _keyset_list_envelope(item_schema: str) -> dict:
    """The list shape with a bounded total and a cursor to the next page."""
    envelope = _list_envelope(item_schema)
    envelope["properties"]["total"] = _integer(
        "Number of matching items on all pages, counted exactly up to"
        f" {COUNT_LIMIT:,}: when total_is_exact is false, more than this many match.",
        minimum=0,
    )
    envelope["properties"]["total_is_exact"] = {
        "type": "boolean",
        "description": "False when total is a lower bound (more than"
        f" {COUNT_LIMIT:,} items match).",
    }
    envelope["properties"]["next"] = _nullable(
        _string(
            "Opaque cursor: pass it as `after` to get the items following this page;"
            " null on the last page."
        )
    )
    return envelope


# Component schemas -----------------------------------------------------------------------------

AGE_MONTHS = _integer("Age in months.", minimum=0)
HOURS_MINUTES = _string("Time of day as HH:MM.", pattern="^([01][0-9]|2[0-3]):[0-5][0-9]$")

TOWNSHIP_REF = {
    "code": _string("Stable identifier used in URLs and the API."),
    "name": _string("Name in the request language."),
}

HISTORY_ITEM = {
    "type": _enum(EventType.values(), "What happened on the register."),
    "date": _date("When it happened."),
    "summary": _string("Public summary in the request language."),
}

INSTITUTION_SUMMARY = {
    "id": _integer(minimum=1),
    "name": _string("Name in the request language."),
    "township": _ref("TownshipRef"),
    "address": _string(
        "Address in the request language; a home-based point's only to its road or community."
    ),
    "nature": _enum(Nature.values(), "What kind of provider the institution is."),
    "price_regime": _enum(
        PriceRegime.values(),
        "How its prices are set (policy 003 item 10), separate from the nature: 普惠 is not"
        " government_guided.",
    ),
    "care_types": _array(
        _enum(CareType.values()), uniqueItems=True, description="Care types offered."
    ),
    "min_age_months": _nullable(
        _integer("Youngest accepted age in months; null without offers.", minimum=0)
    ),
    "max_age_months": _nullable(
        _integer("Age in months from which no offer accepts a child; null without offers.")
    ),
    # Only filed institutions are public, and a filed one always has both.
    "filing_number": _string("Number assigned by the health bureau on filing."),
    "filed_on": _date("Date the institution was filed."),
}

INSTITUTION_DETAIL = {
    **INSTITUTION_SUMMARY,
    "phone": _nullable(
        _string("The public service telephone the institution chose; null when it chose none.")
    ),
    "description": _string("Description in the request language; may be empty."),
    "latitude": _nullable({"type": "number", "minimum": -90, "maximum": 90}),
    "longitude": _nullable({"type": "number", "minimum": -180, "maximum": 180}),
    "registration_authority": _enum(Authority.values(), "Authority it is registered with."),
    "uscc": _string("Unified Social Credit Code.", maxLength=18),
    "is_demonstration": {"type": "boolean", "description": "Recognised as a demonstration."},
    "quality_grade": {
        "type": ["string", "null"],
        "enum": ["excellent", "good", "qualified", "unqualified", None],
        "description": "Grade of the latest quality assessment, if any.",
    },
    "meals": _ref("Meals"),
    "offers": _array(_ref("Offer")),
    "classes": _array(_ref("CareClass")),
    "capacity": _integer("Places: the sum of the classes' capacities.", minimum=0),
    "safety": _ref("Safety"),
    "history": _array(_ref("HistoryItem"), description="Public filing events, newest first."),
}


def _schemas() -> dict:
    """Every component schema, by name."""
    return {
        "Error": _object(
            {
                "error": _object(
                    {
                        "code": _string("Machine-readable code, e.g. invalid_parameter."),
                        "message": _string("Explanation in the request language."),
                    }
                )
            },
            "An error response.",
        ),
        "Health": _object(
            {
                "status": _enum(["ok", "unavailable"]),
                "database": _enum(["ok", "unreachable"]),
            },
            "Liveness and database reachability.",
        ),
        "TownshipRef": _object(TOWNSHIP_REF, "A township as referenced from other objects."),
        "Township": _object(
            {
                **TOWNSHIP_REF,
                "kind": _enum(TownshipKind.values()),
                "institution_count": _integer("Public institutions in it.", minimum=0),
            },
            "A township with its number of public institutions.",
        ),
        "TownshipList": _list_envelope("Township"),
        "TownshipStatistics": _object(
            {
                **TOWNSHIP_REF,
                "filed_institutions": _integer("Filed institutions in it.", minimum=0),
                "places": _integer("Sum of the class capacities of those.", minimum=0),
                "population": _integer("Residents, as the bureau last entered them.", minimum=0),
                "places_per_1000": _nullable(
                    {"type": "number", "description": "Places per 1,000 residents (2 decimals)."}
                ),
                "target_places_per_1000": {"type": "number", "minimum": 0},
            },
            "A township's filed institutions and places against its target; aggregates only.",
        ),
        "RegionStatistics": _object(
            {
                "code": _string("The region's code."),
                "name": _string("The region's name in the request language."),
                "places": _integer("Places of every filed institution in it.", minimum=0),
                "population": _integer("Residents of its townships.", minimum=0),
                "places_per_1000": _nullable(
                    {"type": "number", "description": "Places per 1,000 residents (2 decimals)."}
                ),
                "target_places_per_1000": {
                    "type": "number",
                    "minimum": 0,
                    "description": "The region's own target (policies 001, 002: 4.5 by 2025).",
                },
                "covered_share": _nullable(
                    {"type": "number", "description": "Share of townships with a filed one."}
                ),
                "target_covered_share": _nullable(
                    {"type": "number", "description": "The region's coverage target (000: 0.8)."}
                ),
            },
            "Region-wide figures the policies set targets for; aggregates only.",
        ),
        "TownshipStatisticsList": _township_statistics_envelope(),
        "InstitutionSummary": _with_optional(
            _object(INSTITUTION_SUMMARY, "A filed institution in a list."),
            {
                "distance_km": {
                    "type": "number",
                    "minimum": 0,
                    "description": "Distance from lat/lng in km, to 0.1; only with a position.",
                }
            },
        ),
        "InstitutionList": _keyset_list_envelope("InstitutionSummary"),
        "InstitutionDetail": _object(INSTITUTION_DETAIL, "Everything public about a filed one."),
        "Offer": _object(
            {
                "care_type": _enum(CareType.values()),
                "opens_at": HOURS_MINUTES,
                "closes_at": HOURS_MINUTES,
                "price_yuan": _integer("Price in whole yuan per price_unit.", minimum=0),
                "price_unit": _enum(PriceUnit.values()),
                "min_age_months": AGE_MONTHS,
                "max_age_months": _integer("Accepted up to, not including, this age.", minimum=0),
            },
            "One care type offered, with its hours, price and accepted ages.",
        ),
        "CareClass": _object(
            {
                "id": _integer(minimum=1),
                "kind": _enum(ClassKind.values()),
                "name": _string(),
                "min_age_months": AGE_MONTHS,
                "max_age_months": AGE_MONTHS,
                "capacity": _integer("Advertised places.", minimum=1),
                "carers": _integer(minimum=1),
            },
            "A class of children of one age band.",
        ),
        "Safety": _object(
            {
                "cctv_covers_all_areas": {"type": "boolean"},
                "cctv_retention_days": _integer(minimum=0),
                "fire_acceptance_on": _nullable(_date()),
                "health_evaluation_on": _nullable(_date()),
                "staff_health_checked_on": _nullable(_date()),
                "staff_count": _integer(minimum=0),
                "certified_staff_count": _integer(minimum=0),
            },
            "Safety declarations.",
        ),
        "Meals": _object(
            {
                "served": {"type": "boolean"},
                "food_licence_number": _nullable(_string()),
                "food_licence_expires_on": _nullable(_date()),
            },
            "Whether meals are served, and the food licence.",
        ),
        "HistoryItem": _object(HISTORY_ITEM, "A filing event in an institution's history."),
        "RegistryEvent": _object(
            {
                "institution_id": _integer(minimum=1),
                "institution_name": _string("Name in the request language."),
                **HISTORY_ITEM,
            },
            "A filing event in the public disclosure list.",
        ),
        "RegistryEventList": _keyset_list_envelope("RegistryEvent"),
        "Opening": _object(
            {
                "slot_id": _integer(minimum=1),
                "care_type": _enum(CareType.values()),
                "date": _date("The day of care; for full-day and half-day, the first day."),
                "start": _string("Start time, HH:MM."),
                "end": _string("End time, HH:MM."),
                "capacity": _integer("Places of the slot.", minimum=0),
                "remaining": _integer("Places still free.", minimum=0),
            },
            "A slot and how many places are left.",
        ),
        "OpeningList": _list_envelope("Opening"),
        "Course": _object(
            {
                "id": _integer(minimum=1),
                "title": _string(),
                "topic": _enum(Topic.values()),
                "format": _enum(CourseFormat.values()),
                "starts_at": _nullable(_string("Start of the next session, local time.")),
                "ends_at": _nullable(_string("End of the last session, local time.")),
                "township": {"oneOf": [_ref("TownshipRef"), {"type": "null"}]},
                "seats": _integer("Seats of each session.", minimum=1),
                "remaining": _integer("Seats left in the next session.", minimum=0),
                "min_age_months": _integer(minimum=0, maximum=36),
                "max_age_months": _integer(minimum=1, maximum=36),
                "provider": _string("The verified provider, in the request language."),
            },
            "An upcoming parenting course.",
        ),
        "CourseList": _list_envelope("Course"),
        "HsdsDocument": _object(
            {
                name: _array({"type": "object"}, description=f"HSDS {name} records.")
                for name in HSDS_ARRAYS
            },
            "Filed institutions in the Open Referral HSDS 3.0 structure: every array holds"
            " records of the HSDS object of its name, linked by deterministic UUIDs.",
        ),
        "HsdsPage": _object(
            {
                "total_items": _integer("Records on all pages.", minimum=0),
                "total_pages": _integer("Pages of this size (at least one).", minimum=1),
                "page_number": _integer("This page's number, from 1.", minimum=1),
                "size": _integer("Records on this page.", minimum=0),
                "first_page": {"type": "boolean", "description": "Whether this is page 1."},
                "last_page": {"type": "boolean", "description": "Whether no page follows."},
                "empty": {"type": "boolean", "description": "Whether this page has no records."},
                "contents": _array({"type": "object"}, description="The page's HSDS records."),
            },
            "One page of HSDS records, in the page envelope of the HSDS 3.0 API.",
        ),
    }


# Parameters and responses ----------------------------------------------------------------------


def _query(name: str, schema: dict, description: str) -> dict:
    """An optional query parameter."""
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _param_ref(name: str) -> dict:
    """A reference to the component parameter ``name``."""
    return {"$ref": f"#/components/parameters/{name}"}


def _parameters(township_codes, region_codes) -> dict:
    """The reusable parameters, by name (``township_codes``, ``region_codes``: the
    register's townships and regions)."""
    return {
        "RegionFilter": _query(
            "region",
            _enum(sorted(region_codes)) if region_codes else _string(),
            "Only this region (its code): a deployment may serve several.",
        ),
        "Lang": _query(
            "lang",
            _enum(list(LANGUAGES)),
            "Response language; remembered in a cookie. Without it: the cookie, then"
            " Accept-Language, then zh_CN.",
        ),
        "TownshipFilter": _query(
            "township",
            _enum(sorted(township_codes)) if township_codes else _string(),
            "Only this township (its code).",
        ),
        "Page": _query("page", _integer(minimum=1, maximum=MAX_PAGE, default=1), "Page number."),
        "After": _query(
            "after",
            _string(maxLength=MAX_CURSOR_LENGTH),
            "A `next` cursor from a previous page of the same query: the items that follow"
            " it (keyset paging, as fast at any depth); `page` is then ignored.",
        ),
        "PerPage": _query(
            "per_page",
            _integer(minimum=1, maximum=MAX_PER_PAGE, default=DEFAULT_PER_PAGE),
            "Page size.",
        ),
    }


def _json(schema: dict, description: str) -> dict:
    """A response with a JSON body of ``schema``."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _response_ref(name: str) -> dict:
    """A reference to the component response ``name``."""
    return {"$ref": f"#/components/responses/{name}"}


def _responses() -> dict:
    """The reusable responses, by name."""
    return {
        "BadRequest": _json(_ref("Error"), "A query parameter is malformed or unknown."),
        "NotFound": _json(_ref("Error"), "Nothing public has this id."),
        "MethodNotAllowed": {
            **_json(_ref("Error"), "Only GET (and HEAD) may be used here."),
            "headers": {
                "Allow": {
                    "description": "The methods this address answers.",
                    "schema": {"type": "string"},
                }
            },
        },
    }


# Paths -----------------------------------------------------------------------------------------


def _get(operation_id: str, summary: str, tag: str, responses: dict, parameters=()) -> dict:
    """A path item with one GET operation."""
    operation = {"operationId": operation_id, "summary": summary, "tags": [tag]}
    if parameters:
        operation["parameters"] = list(parameters)
    operation["responses"] = {**responses, "405": _response_ref("MethodNotAllowed")}
    return {"get": operation}


def _api_path(operation_id: str, summary: str, tag: str, responses: dict, parameters=()) -> dict:
    """A path item under ``/api/v1``, which every request may give a ``lang``."""
    item = _get(operation_id, summary, tag, responses, parameters)
    item["parameters"] = [_param_ref("Lang")]
    return item


def _paths() -> dict:
    """Every endpoint that exists, by path."""
    bad_request = _response_ref("BadRequest")
    return {
        "/healthz": _get(
            "healthz",
            "Liveness and database reachability",
            "monitoring",
            {
                "200": _json(_ref("Health"), "The service and its database are up."),
                "503": _json(_ref("Health"), "The database is unreachable."),
            },
        ),
        "/api/v1/townships": _api_path(
            "listTownships",
            "Every township with its number of public institutions",
            "register",
            {
                "200": _json(_ref("TownshipList"), "All townships on one page."),
                "400": bad_request,
            },
            [_param_ref("RegionFilter")],
        ),
        "/api/v1/institutions": _api_path(
            "searchInstitutions",
            "Search filed institutions",
            "register",
            {
                "200": _json(_ref("InstitutionList"), "One page of matching institutions."),
                "400": bad_request,
            },
            [
                _param_ref("RegionFilter"),
                _param_ref("TownshipFilter"),
                _query("care_type", _enum(CareType.values()), "Only those offering it."),
                _query(
                    "age_months",
                    _integer(minimum=0, maximum=MAX_AGE_MONTHS),
                    "Only those accepting a child of this age in months.",
                ),
                _query("nature", _enum(Nature.values()), "Only this kind of provider."),
                _query(
                    "demonstration",
                    _enum(["true", "false", "1", "0"]),
                    "Only demonstration institutions (示范) when true.",
                ),
                _query(
                    "quality_grade",
                    _enum(["excellent", "good", "qualified", "unqualified"]),
                    "Only institutions whose latest quality grade is this one or better.",
                ),
                _query(
                    "q",
                    _string(maxLength=MAX_TEXT_LENGTH),
                    "Text to find in the name or address.",
                ),
                _query(
                    "birth_date",
                    _date(),
                    "The child's birth date; replaces age_months with the age today.",
                ),
                _query(
                    "lat",
                    {"type": "number", "minimum": -90, "maximum": 90},
                    "Latitude (WGS-84) to search near; give lng too.",
                ),
                _query(
                    "lng",
                    {"type": "number", "minimum": -180, "maximum": 180},
                    "Longitude (WGS-84) to search near; give lat too.",
                ),
                _query(
                    "radius_km",
                    {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_RADIUS_KM},
                    "With lat/lng: only institutions within this many km (default 3); items"
                    " then carry distance_km and come nearest first.",
                ),
                _query(
                    "sort",
                    _enum(list(SORTS)),
                    "distance: nearest first (needs lat/lng); free: soonest free place first"
                    " (implies has_free_place). Sorted lists page by position: use `page` or"
                    " the `next` cursor.",
                ),
                _query(
                    "has_free_place",
                    {"type": "boolean"},
                    "Only those with a place free for the child's age and care type in the"
                    " next 7 days, counted as a booking counts it.",
                ),
                _param_ref("Page"),
                _param_ref("After"),
                _param_ref("PerPage"),
            ],
        ),
        "/api/v1/institutions/{institution_id}": _api_path(
            "getInstitution",
            "One filed institution in full",
            "register",
            {
                "200": _json(_ref("InstitutionDetail"), "The institution."),
                "404": _response_ref("NotFound"),
            },
            [
                {
                    "name": "institution_id",
                    "in": "path",
                    "required": True,
                    "schema": _integer(minimum=0),
                }
            ],
        ),
        "/api/v1/institutions/{institution_id}/availability": _api_path(
            "getAvailability",
            "Open slots of a filed institution with the places left",
            "places",
            {
                "200": _json(_ref("OpeningList"), "Every opening in the range on one page."),
                "400": bad_request,
                "404": _response_ref("NotFound"),
            },
            [
                {
                    "name": "institution_id",
                    "in": "path",
                    "required": True,
                    "schema": _integer(minimum=0),
                },
                _query("care_type", _enum(CareType.values()), "Only this care type."),
                _query("from", _date(), "First day; today when absent."),
                _query("to", _date(), "Last day; at most 62 days after the first."),
                _query(
                    "age_months",
                    _integer(minimum=0, maximum=MAX_AGE_MONTHS),
                    "Only slots whose class and offer accept a child of this age.",
                ),
            ],
        ),
        "/api/v1/registry/events": _api_path(
            "listRegistryEvents",
            "The public disclosure list, newest first",
            "register",
            {
                "200": _json(_ref("RegistryEventList"), "One page of filing events."),
                "400": bad_request,
            },
            [
                _query("since", _date(), "Only events on or after this date."),
                _param_ref("RegionFilter"),
                _param_ref("TownshipFilter"),
                _query("type", _enum(EventType.values()), "Only events of this type."),
                _param_ref("Page"),
                _param_ref("After"),
                _param_ref("PerPage"),
            ],
        ),
        "/api/v1/courses": _api_path(
            "listCourses",
            "Upcoming parenting courses of verified providers",
            "courses",
            {
                "200": _json(_ref("CourseList"), "One page of courses, soonest first."),
                "400": bad_request,
            },
            [
                _param_ref("RegionFilter"),
                _param_ref("TownshipFilter"),
                _query("topic", _enum(Topic.values()), "Only this topic."),
                _query("format", _enum(CourseFormat.values()), "Only this format."),
                _query("from", _date(), "Only courses with a session on or after this day."),
                _query("to", _date(), "Only courses with a session on or before this day."),
                _query(
                    "age_months",
                    _integer(minimum=0, maximum=MAX_AGE_MONTHS),
                    "Only courses meant for a child of this age.",
                ),
                _param_ref("Page"),
                _param_ref("PerPage"),
            ],
        ),
        "/api/v1/open-data/hsds.json": _api_path(
            "getHsdsDocument",
            "Filed institutions with services, places, hours, prices and history as HSDS",
            "open-data",
            {"200": _json(_ref("HsdsDocument"), "Every filed institution, in one document.")},
        ),
        **_hsds_page_paths(bad_request),
        "/api/v1/statistics/townships": _api_path(
            "listTownshipStatistics",
            "Filed institutions and places per township against the places target",
            "statistics",
            {
                "200": _json(_ref("TownshipStatisticsList"), "One page of townships."),
                "400": bad_request,
            },
            [
                _query(
                    "region",
                    _string(),
                    "Only the townships of the region with this code; its figures in `region` "
                    "(the first region's without one).",
                ),
                _param_ref("Page"),
                _param_ref("PerPage"),
            ],
        ),
        "/api/v1/openapi.json": _api_path(
            "getOpenapiDocument",
            "This OpenAPI document",
            "meta",
            {"200": _json({"type": "object"}, "The OpenAPI 3.1 document.")},
        ),
    }


def _hsds_page_paths(bad_request: dict) -> dict:
    """The HSDS 3.0 API's paged lists of the open data, by path."""
    paging = [
        _query("page", _integer(minimum=1, maximum=MAX_PAGE, default=1), "Page number."),
        _query(
            "per_page",
            _integer(minimum=1, maximum=HSDS_MAX_PER_PAGE, default=HSDS_PER_PAGE),
            "Records per page.",
        ),
    ]
    return {
        f"/api/v1/open-data/hsds/{array}": _api_path(
            f"listHsds{array.title().replace('_', '')}",
            f"HSDS {array} of filed institutions, one page at a time",
            "open-data",
            {"200": _json(_ref("HsdsPage"), f"One page of {array}."), "400": bad_request},
            paging,
        )
        for array in PAGED_ARRAYS
    }


def openapi_document(township_codes=(), region_codes=()) -> dict:
    """The OpenAPI 3.1 document describing every endpoint of the JSON API; the township and
    region filters list ``township_codes`` and ``region_codes``, the codes the register has."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": API_TITLE,
            "version": API_VERSION,
            "description": (
                "Filed childcare institutions, townships and the public disclosure list."
                " UTF-8 JSON in snake_case; names follow the request language."
            ),
        },
        "servers": [{"url": "/"}],
        "tags": [
            {"name": "register", "description": "The public register."},
            {"name": "places", "description": "Places free for booking."},
            {"name": "courses", "description": "Parenting courses."},
            {"name": "statistics", "description": "Township figures against the targets."},
            {"name": "open-data", "description": "The register as open data."},
            {"name": "monitoring", "description": "Health checks."},
            {"name": "meta", "description": "This description."},
        ],
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "parameters": _parameters(township_codes, region_codes),
            "responses": _responses(),
        },
    }
