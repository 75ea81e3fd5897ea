"""Open data: filed institutions as Open Referral HSDS 3.0 records and as spreadsheet rows.

Everything here starts from ``publicly_listed()`` and ``disclosed_events()``: nothing that is not
filed, and no account, child or booking data, ever reaches an export.
"""

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from careapp.extensions import db
from careapp.labels import label
from careapp.models import (
    Authority,
    CareClass,
    CareOffer,
    CareType,
    ClassKind,
    EventType,
    FilingEvent,
    Institution,
    Nature,
    PriceRegime,
    PriceUnit,
    Region,
    Role,
    Township,
    disclosed_events,
    publicly_listed,
)
from careapp.models.base import as_utc, localized
from careapp.models.provision import CLASS_STANDARDS, PRICE_UNITS
from careapp.services.locations import public_address, public_coordinates
from careapp.services.params import Page

#: HSDS ids must be UUIDs: each is ``uuid5(ID_NAMESPACE, "careapp:…")`` of a careapp name such
#: as ``careapp:institution:7``, so a record keeps its id from one export to the next.
ID_NAMESPACE = uuid.NAMESPACE_URL
#: Opening hours are local times in Asia/Shanghai, which has no daylight saving time.
UTC_OFFSET_HOURS = 8
CURRENCY = "CNY"
COUNTRY = "CN"
#: The arrays of the HSDS document (written in key order, as ``jsonify`` sorts keys).
HSDS_ARRAYS = (
    "organizations",
    "organization_identifiers",
    "locations",
    "addresses",
    "phones",
    "services",
    "service_at_locations",
    "schedules",
    "service_capacities",
    "units",
    "cost_options",
    "taxonomies",
    "taxonomy_terms",
    "attributes",
    "metadata",
)
#: Institutions (or events) read from the database at a time by a download.
BATCH_SIZE = 1000
#: How the document links to an institution's public page: its id → the page's address.
PageUrl = Callable[[int], str]
#: Which field of the register each kind of disclosure event changed.
EVENT_FIELDS = {
    EventType.FILED: "status",
    EventType.CHANGED: "registered_facts",
    EventType.DEREGISTERED: "status",
    # --- follow-up: the 登记 (its authority and date) and the bureau's 撤销备案.
    EventType.REGISTERED: "registration",
    EventType.REVOKED: "status",
}
#: The careapp enumerations published as HSDS taxonomies: label kind → (enum, description).
TAXONOMIES = {
    "nature": (Nature, _l("What kind of provider a childcare institution is.")),
    "price_regime": (
        PriceRegime,
        _l("How a childcare institution's prices are set, separate from its nature."),
    ),
    "care_type": (CareType, _l("The four care types of the childcare policies.")),
}


_ID_NAMESPACE_HASH = hashlib.sha1(ID_NAMESPACE.bytes)  # noqa: S324 (UUID 5 is SHA-1 by definition)


def hsds_id(*parts) -> str:
    """The stable HSDS UUID of the careapp record named by ``parts``: ``uuid5`` of its name,
    hashed from a copy of the namespace's state (a download makes millions)."""
    digest = _ID_NAMESPACE_HASH.copy()
    digest.update(":".join(["careapp", *map(str, parts)]).encode())
    raw = bytearray(digest.digest()[:16])
    raw[6] = (raw[6] & 0x0F) | 0x50  # version 5
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


#: One record as compact JSON, exactly as ``jsonify`` writes it (sorted keys, UTF-8 text).
dumps_record = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), check_circular=False
).encode


def _compact(record: dict) -> dict:
    """``record`` without its empty optional fields (HSDS types admit no null)."""
    return {key: value for key, value in record.items() if value is not None}


def _years(months: int) -> float:
    """An age in months as years, the unit of HSDS ages."""
    return round(months / 12, 2)


def _local_time(moment) -> str:
    """A time of day with the site's UTC offset, as HSDS asks: ``08:00+08:00``."""
    return f"{moment.strftime('%H:%M')}+{UTC_OFFSET_HOURS:02d}:00"


def _iso_utc(moment) -> str | None:
    """A timestamp as aware ISO 8601 text (SQLite hands back naive UTC times)."""
    updated = as_utc(moment)
    return updated.isoformat() if updated else None


class Lookups:
    """What every record of one download in one language shares, looked up once: labels,
    the sentences made of ages or class names, and the HSDS ids of an institution."""

    def __init__(self, language: str, page_url: PageUrl):
        self.language = language
        self.other_language = "zh_CN" if language.startswith("en") else "en"
        self.page_url = page_url
        self.care_types = {member: label("care_type", member) for member in CareType}
        self.price_units = {member: label("price_unit", member) for member in PriceUnit}
        self.authorities = {member: label("authority", member) for member in Authority}
        self.regulator = label("role", Role.REGULATOR)
        self.unit_id = hsds_id("unit", "place")
        self.unit = {"id": self.unit_id, "name": _("Places")}
        self._eligibility: dict[tuple[int, int], str] = {}
        self._class_descriptions: dict[tuple[str, str], str] = {}

    def eligibility(self, min_age: int, max_age: int) -> str:
        """The sentence that says which ages a service takes."""
        key = (min_age, max_age)
        if key not in self._eligibility:
            self._eligibility[key] = _(
                "For children from %(min)d to %(max)d months", min=min_age, max=max_age
            )
        return self._eligibility[key]

    def class_description(self, name: str, kind) -> str:
        """A class's name and kind, as its capacity describes it."""
        key = (name, kind)
        if key not in self._class_descriptions:
            if len(self._class_descriptions) > 10_000:  # names are free text: keep it bounded
                self._class_descriptions.clear()
            self._class_descriptions[key] = _(
                "%(name)s — %(kind)s", name=name, kind=label("class_kind", kind)
            )
        return self._class_descriptions[key]


def _organization(row, lookups: Lookups) -> dict:
    """The HSDS organization of a filed institution."""
    name = localized(row.name, row.name_en, lookups.language)
    other = localized(row.name, row.name_en, lookups.other_language)
    return _compact(
        {
            "id": hsds_id("institution", row.id),
            "name": name,
            "alternate_name": other if other != name else None,
            "description": localized(row.description, row.description_en, lookups.language),
            "legal_status": lookups.authorities[row.authority],
            "uri": lookups.page_url(row.id),
        }
    )


def _identifiers(row, _lookups: Lookups) -> list[dict]:
    """The filing number and the USCC as HSDS organization identifiers."""
    organization_id = hsds_id("institution", row.id)
    known = (
        ("filing_number", "county_health_bureau_filing", row.filing_number),
        ("uscc", "GB 32100-2015", row.uscc),
    )
    return [
        {
            "id": hsds_id("institution", row.id, "identifier", kind),
            "organization_id": organization_id,
            "identifier_scheme": scheme,
            "identifier_type": kind,
            "identifier": value,
        }
        for kind, scheme, value in known
    ]


def _location(row, lookups: Lookups) -> dict:
    """The premises of an institution as an HSDS physical location; a home-based point only at
    community precision (never the flat)."""
    latitude, longitude = public_coordinates(row)
    return _compact(
        {
            "id": hsds_id("institution", row.id, "location"),
            "location_type": "physical",
            "organization_id": hsds_id("institution", row.id),
            "name": localized(row.name, row.name_en, lookups.language),
            "latitude": latitude,
            "longitude": longitude,
        }
    )


def _address(row, lookups: Lookups) -> dict:
    """The institution's address; the register keeps no province or postal code."""
    language = lookups.language
    return {
        "id": hsds_id("institution", row.id, "address"),
        "location_id": hsds_id("institution", row.id, "location"),
        "address_1": public_address(row, language),
        "city": localized(row.region_name, row.region_name_en, language),
        "region": localized(row.township_name, row.township_name_en, language),
        "state_province": "",
        "postal_code": "",
        "country": COUNTRY,
        "address_type": "physical",
    }


def _phones(row, _lookups: Lookups) -> tuple[dict, ...]:
    """The public service telephone shown on the institution's page, if it chose one (never
    the contact telephone, often a home-based operator's own mobile)."""
    if not row.public_phone:
        return ()
    phone = {
        "id": hsds_id("institution", row.id, "phone"),
        "organization_id": hsds_id("institution", row.id),
        "location_id": hsds_id("institution", row.id, "location"),
        "number": row.public_phone,
        "type": "voice",
    }
    return (phone,)


def _care_types_of(bits: int | None) -> list[CareType]:
    """The care types of an ``_offered()`` bit set, in canonical order."""
    return [care_type for position, care_type in enumerate(CareType) if (bits or 0) >> position & 1]


def _attributes(row, _lookups: Lookups) -> list[dict]:
    """The institution's nature, then each service's care type, as taxonomy tags."""
    return [
        _attribute(hsds_id("institution", row.id), "organization", "nature", row.nature),
        _attribute(
            hsds_id("institution", row.id), "organization", "price_regime", row.price_regime
        ),
        *(
            _attribute(_service_id(row.id, care_type), "service", "care_type", care_type)
            for care_type in _care_types_of(row.care_types)
        ),
    ]


def _service_id(institution_id: int, care_type) -> str:
    """The HSDS id of the service of ``care_type`` at institution ``institution_id``."""
    return hsds_id("institution", institution_id, "service", care_type)


def _service(offer, lookups: Lookups) -> dict:
    """One care type an institution offers, as an HSDS service (``offer`` carries its
    institution's ``updated_at``)."""
    return _compact(
        {
            "id": _service_id(offer.institution_id, offer.care_type),
            "organization_id": hsds_id("institution", offer.institution_id),
            "name": lookups.care_types[offer.care_type],
            "status": "active",
            "url": lookups.page_url(offer.institution_id),
            "eligibility_description": lookups.eligibility(
                offer.min_age_months, offer.max_age_months
            ),
            "minimum_age": _years(offer.min_age_months),
            "maximum_age": _years(offer.max_age_months),
            "last_modified": _iso_utc(offer.updated_at),
        }
    )


def _service_at_location(offer, _lookups: Lookups) -> dict:
    """Where a service is given: the institution's own premises."""
    institution_id, care_type = offer.institution_id, offer.care_type
    return {
        "id": hsds_id("institution", institution_id, "service", care_type, "location"),
        "service_id": _service_id(institution_id, care_type),
        "location_id": hsds_id("institution", institution_id, "location"),
    }


def _schedule(offer, _lookups: Lookups) -> dict:
    """The opening hours of a care type."""
    institution_id, care_type = offer.institution_id, offer.care_type
    return {
        "id": hsds_id("institution", institution_id, "service", care_type, "schedule"),
        "service_id": _service_id(institution_id, care_type),
        "opens_at": _local_time(offer.opens_at),
        "closes_at": _local_time(offer.closes_at),
        "timezone": UTC_OFFSET_HOURS,
    }


def _cost_option(offer, lookups: Lookups) -> dict:
    """The price of a care type, in yuan per month, hour or day."""
    institution_id, care_type = offer.institution_id, offer.care_type
    return {
        "id": hsds_id("institution", institution_id, "service", care_type, "cost"),
        "service_id": _service_id(institution_id, care_type),
        "currency": CURRENCY,
        "amount": offer.price_yuan,
        "amount_description": lookups.price_units[PRICE_UNITS[CareType(care_type)]],
    }


def _capacity(care_class, lookups: Lookups) -> dict:
    """A class's advertised places under its institution's first care type; ``maximum`` is
    the national cap of its kind (``care_class`` carries both and ``updated_at``)."""
    first = _care_types_of(care_class.care_types)[0]
    return _compact(
        {
            "id": hsds_id("care_class", care_class.id),
            "service_id": _service_id(care_class.institution_id, first),
            "unit_id": lookups.unit_id,
            "unit": lookups.unit,
            "available": care_class.capacity,
            "maximum": CLASS_STANDARDS[ClassKind(care_class.kind)].max_children,
            "description": lookups.class_description(care_class.name, care_class.kind),
            "updated": _iso_utc(care_class.updated_at),
        }
    )


def _taxonomy_records() -> tuple[list[dict], list[dict]]:
    """careapp's natures and care types as HSDS taxonomies with their terms."""
    taxonomies, terms = [], []
    for kind, (enumeration, description) in TAXONOMIES.items():
        taxonomy_id = hsds_id("taxonomy", kind)
        taxonomies.append(
            {"id": taxonomy_id, "name": f"careapp:{kind}", "description": str(description)}
        )
        terms.extend(
            {
                "id": hsds_id("taxonomy", kind, member),
                "code": str(member),
                "name": label(kind, member),
                "description": label(kind, member),
                "taxonomy": f"careapp:{kind}",
                "taxonomy_id": taxonomy_id,
            }
            for member in enumeration
        )
    return taxonomies, terms


def _attribute(link_id: str, link_entity: str, kind: str, value) -> dict:
    """An HSDS attribute tagging ``link_id`` with the taxonomy term ``kind``/``value``."""
    return {
        "id": hsds_id("attribute", link_id, kind),
        "link_id": link_id,
        "link_type": kind,
        "link_entity": link_entity,
        "taxonomy_term_id": hsds_id("taxonomy", kind, value),
        "value": str(value),
    }


def _metadata(event, lookups: Lookups) -> dict:
    """A public disclosure event as an HSDS metadata record of its organization."""
    return {
        "id": hsds_id("filing_event", event.id),
        "resource_id": hsds_id("institution", event.institution_id),
        "resource_type": "organization",
        "last_action_date": event.occurred_on.isoformat(),
        "last_action_type": str(event.event_type),
        "field_name": EVENT_FIELDS[EventType(event.event_type)],
        "previous_value": "",
        "replacement_value": localized(event.summary, event.summary_en, lookups.language),
        "updated_by": lookups.regulator,
    }


def _offered() -> sa.Subquery:
    """Per institution with offers, its care types as a bit per type in canonical order."""
    care_type_bit = sa.case(
        {care_type.value: 1 << position for position, care_type in enumerate(CareType)},
        value=CareOffer.care_type,
    )
    return (
        sa.select(CareOffer.institution_id, sa.func.sum(care_type_bit).label("care_types"))
        .group_by(CareOffer.institution_id)
        .subquery()
    )


def _care_type_order():
    """Care types in canonical order, as a sort key of offers."""
    return sa.case(
        {care_type.value: position for position, care_type in enumerate(CareType)},
        value=CareOffer.care_type,
    )


def listed_institution_rows() -> sa.Select:
    """Plain rows of the filed institutions, in id order, with what their records show."""
    offered = _offered()
    return (
        publicly_listed()
        .with_only_columns(
            Institution.id,
            Institution.name,
            Institution.name_en,
            Institution.description,
            Institution.description_en,
            Institution.authority,
            Institution.nature,
            Institution.price_regime,
            Institution.address,
            Institution.address_en,
            Institution.public_phone,
            Institution.latitude,
            Institution.longitude,
            Institution.filing_number,
            Institution.uscc,
            Township.name.label("township_name"),
            Township.name_en.label("township_name_en"),
            Region.name.label("region_name"),
            Region.name_en.label("region_name_en"),
            offered.c.care_types,
        )
        .join(Township, Township.id == Institution.township_id)
        .join(Region, Region.id == Township.region_id)
        .outerjoin(offered, offered.c.institution_id == Institution.id)
        .order_by(Institution.id)
    )


def listed_offer_rows() -> sa.Select:
    """Plain rows of the filed institutions' offers, by institution then care type, each with
    its institution's ``updated_at``."""
    return (
        publicly_listed()
        .with_only_columns(
            CareOffer.institution_id,
            CareOffer.care_type,
            CareOffer.opens_at,
            CareOffer.closes_at,
            CareOffer.price_yuan,
            CareOffer.min_age_months,
            CareOffer.max_age_months,
            Institution.updated_at,
        )
        .join(CareOffer, CareOffer.institution_id == Institution.id)
        .order_by(CareOffer.institution_id, _care_type_order())
    )


def listed_class_rows() -> sa.Select:
    """Plain rows of the classes of filed institutions that offer care, in id order, each with
    its institution's care types and ``updated_at``."""
    offered = _offered()
    return (
        publicly_listed()
        .with_only_columns(
            CareClass.id,
            CareClass.institution_id,
            CareClass.kind,
            CareClass.name,
            CareClass.capacity,
            offered.c.care_types,
            Institution.updated_at,
        )
        .join(offered, offered.c.institution_id == Institution.id)
        .join(CareClass, CareClass.institution_id == Institution.id)
        .order_by(CareClass.institution_id, CareClass.id)
    )


def listed_event_rows() -> sa.Select:
    """Plain rows of the public disclosure events of institutions filed now, oldest first."""
    listed_ids = publicly_listed().with_only_columns(Institution.id)
    return (
        disclosed_events()
        .with_only_columns(
            FilingEvent.id,
            FilingEvent.institution_id,
            FilingEvent.event_type,
            FilingEvent.occurred_on,
            FilingEvent.summary,
            FilingEvent.summary_en,
        )
        .where(FilingEvent.institution_id.in_(listed_ids))
        .order_by(None)
        .order_by(FilingEvent.institution_id, FilingEvent.occurred_on, FilingEvent.id)
    )


def _one_each(make: Callable[[object, Lookups], dict]):
    """A maker of one record per row as a maker of a list of records."""
    return lambda row, lookups: (make(row, lookups),)


#: The arrays read from the register: which rows (one statement each), and the records of a row.
ROW_ARRAYS: dict[str, tuple[Callable[[], sa.Select], Callable[[object, Lookups], Iterable]]] = {
    "organizations": (listed_institution_rows, _one_each(_organization)),
    "organization_identifiers": (listed_institution_rows, _identifiers),
    "locations": (listed_institution_rows, _one_each(_location)),
    "addresses": (listed_institution_rows, _one_each(_address)),
    "phones": (listed_institution_rows, _phones),
    "attributes": (listed_institution_rows, _attributes),
    "services": (listed_offer_rows, _one_each(_service)),
    "service_at_locations": (listed_offer_rows, _one_each(_service_at_location)),
    "schedules": (listed_offer_rows, _one_each(_schedule)),
    "cost_options": (listed_offer_rows, _one_each(_cost_option)),
    "service_capacities": (listed_class_rows, _one_each(_capacity)),
    "metadata": (listed_event_rows, _one_each(_metadata)),
}


def hsds_records(array: str, lookups: Lookups, batch_size: int) -> Iterator[dict]:
    """The records of one array of the HSDS document, read as plain rows from a server-side
    cursor, ``batch_size`` at a time (one statement per array)."""
    if array == "units":
        yield lookups.unit
        return
    if array in ("taxonomies", "taxonomy_terms"):
        taxonomies, terms = _taxonomy_records()
        yield from taxonomies if array == "taxonomies" else terms
        return
    query, make = ROW_ARRAYS[array]
    # ``with``: a client that goes away closes the server-side cursor too.
    with db.session.execute(query().execution_options(yield_per=batch_size)) as result:
        for row in result:
            yield from make(row, lookups)


def _joined(texts: Iterable[str], per_chunk: int) -> Iterator[str]:
    """Comma-separated ``texts`` in pieces of ``per_chunk`` items."""
    chunk: list[str] = []
    separator = ""
    for text in texts:
        chunk.append(text)
        if len(chunk) == per_chunk:
            yield separator + ",".join(chunk)
            chunk, separator = [], ","
    if chunk:
        yield separator + ",".join(chunk)


def hsds_document_text(language: str, page_url: PageUrl, batch_size: int) -> Iterator[str]:
    """The HSDS document as JSON text in pieces, arrays in key order as ``jsonify`` sorts
    them; each array is a pass of its own over the register, so memory holds one batch."""
    lookups = Lookups(language, page_url)
    yield "{"
    for position, array in enumerate(sorted(HSDS_ARRAYS)):
        yield ("," if position else "") + dumps_record(array) + ":["
        records = hsds_records(array, lookups, batch_size)
        yield from _joined(map(dumps_record, records), batch_size)
        yield "]"
    yield "}\n"


def csv_header() -> list[str]:
    """The column titles of the institutions spreadsheet, in the request language."""
    return [
        _("ID"),
        _("Name"),
        _("Township code"),
        _("Township"),
        _("Address"),
        _("Nature"),
        _("Care types"),
        _("From age (months)"),
        _("Up to age (months, not included)"),
        _("Places"),
        _("Filing number"),
        _("Filing date"),
        _("Registration authority"),
        _("Unified social credit code"),
        _("Telephone"),
        _("How prices are set"),
    ]


def _csv_query() -> sa.Select:
    """One row per filed institution with what the spreadsheet shows, its offers and classes
    summed up by the database: care types as a bit per type in canonical order."""
    care_type_bit = sa.case(
        {care_type.value: 1 << position for position, care_type in enumerate(CareType)},
        value=CareOffer.care_type,
    )
    offers = (
        sa.select(
            CareOffer.institution_id,
            sa.func.min(CareOffer.min_age_months).label("min_age_months"),
            sa.func.max(CareOffer.max_age_months).label("max_age_months"),
            sa.func.sum(care_type_bit).label("care_types"),
        )
        .group_by(CareOffer.institution_id)
        .subquery()
    )
    classes = (
        sa.select(CareClass.institution_id, sa.func.sum(CareClass.capacity).label("places"))
        .group_by(CareClass.institution_id)
        .subquery()
    )
    return (
        publicly_listed()
        .with_only_columns(
            Institution.id,
            Institution.name,
            Institution.name_en,
            Township.code.label("township_code"),
            Township.name.label("township_name"),
            Township.name_en.label("township_name_en"),
            Institution.address,
            Institution.address_en,
            Institution.nature,
            offers.c.care_types,
            offers.c.min_age_months,
            offers.c.max_age_months,
            classes.c.places,
            Institution.filing_number,
            Institution.filed_on,
            Institution.authority,
            Institution.uscc,
            Institution.public_phone,
            Institution.price_regime,
        )
        .join(Township, Township.id == Institution.township_id)
        .outerjoin(offers, offers.c.institution_id == Institution.id)
        .outerjoin(classes, classes.c.institution_id == Institution.id)
        .order_by(Institution.id)
    )


def _labels(kind: str, enumeration) -> dict:
    """The labels of every member of ``enumeration``, looked up once per download."""
    return {member: label(kind, member) for member in enumeration}


def csv_rows(language: str, batch_size: int) -> Iterator[list]:
    """Every filed institution as a spreadsheet row matching ``csv_header()``, read
    ``batch_size`` rows at a time from a server-side cursor (one statement in all)."""
    natures, authorities = _labels("nature", Nature), _labels("authority", Authority)
    regimes = _labels("price_regime", PriceRegime)
    care_types = [(1 << position, label("care_type", ct)) for position, ct in enumerate(CareType)]
    query = _csv_query().execution_options(yield_per=batch_size)
    with db.session.execute(query) as result:  # closes the cursor if the client goes away
        for row in result:
            number, name, name_en, code, township, township_en, address, address_en = row[:8]
            nature, offered, min_age, max_age, places, filing_number, filed_on = row[8:15]
            yield [
                number,
                localized(name, name_en, language),
                code,
                localized(township, township_en, language),
                _public_address_of(nature, address, address_en, township, township_en, language),
                natures[nature],
                "; ".join(title for bit, title in care_types if (offered or 0) & bit),
                min_age,
                max_age,
                places or 0,
                filing_number,
                filed_on.isoformat(),
                authorities[row.authority],
                row.uscc,
                row.public_phone or "",
                regimes[row.price_regime],
            ]


def _public_address_of(nature, address, address_en, township, township_en, language) -> str:
    """``public_address`` of a spreadsheet row's columns."""
    row = SimpleNamespace(
        nature=nature,
        address=address,
        address_en=address_en,
        township_name=township,
        township_name_en=township_en,
    )
    return public_address(row, language)


@contextmanager
def one_snapshot() -> Iterator[None]:
    """A read-only transaction of its own (repeatable read on PostgreSQL, so that every pass
    sees the same register), whose connection goes back to the pool at the end."""
    db.session.close()
    if db.engine.dialect.name == "postgresql":
        db.session.connection(
            execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        )
    try:
        yield
    finally:
        db.session.close()


def in_one_snapshot(chunks: Iterable) -> Iterator:
    """``chunks``, produced inside ``one_snapshot()``, whose connection goes back to the
    pool when they end or when the client goes away (the generator is closed)."""
    with one_snapshot():
        yield from chunks


#: Records per page of the HSDS API unless ``per_page`` says otherwise, and at most.
HSDS_PER_PAGE = 50
HSDS_MAX_PER_PAGE = 500
#: The arrays the HSDS API serves in pages, as ``/hsds/<array>``.
PAGED_ARRAYS = ("organizations", "services", "service_at_locations", "taxonomies", "taxonomy_terms")


def _count(query: sa.Select) -> int:
    """How many rows ``query`` finds."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))


def _organizations_page(language: str, page_url: PageUrl, page: int, per_page: int) -> Page:
    """One page of organizations: filed institutions in id order."""
    total = _count(publicly_listed().with_only_columns(Institution.id))
    query = listed_institution_rows().limit(per_page).offset((page - 1) * per_page)
    lookups = Lookups(language, page_url)
    items = [_organization(row, lookups) for row in db.session.execute(query)]
    return Page(items, total, page, per_page)


def _offers_page(array: str, language: str, page_url: PageUrl, page: int, per_page: int) -> Page:
    """One page of services or of where they are given, in the document's order."""
    total = _count(listed_offer_rows())
    query = listed_offer_rows().limit(per_page).offset((page - 1) * per_page)
    make = _service if array == "services" else _service_at_location
    lookups = Lookups(language, page_url)
    items = [make(row, lookups) for row in db.session.execute(query)]
    return Page(items, total, page, per_page)


def hsds_page(array: str, language: str, page_url: PageUrl, page: int, per_page: int) -> Page:
    """One page of the HSDS records of ``array`` (one of ``PAGED_ARRAYS``)."""
    if array == "organizations":
        return _organizations_page(language, page_url, page, per_page)
    if array in ("services", "service_at_locations"):
        return _offers_page(array, language, page_url, page, per_page)
    taxonomies, terms = _taxonomy_records()
    records = taxonomies if array == "taxonomies" else terms
    start = (page - 1) * per_page
    return Page(records[start : start + per_page], len(records), page, per_page)
