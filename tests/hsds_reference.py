"""The HSDS document as careapp wrote it before the fast path (ORM objects per row), kept to
check byte for byte that the fast path writes the same document."""

import uuid
from collections.abc import Callable, Iterable, Iterator

from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from careapp.extensions import db
from careapp.labels import label
from careapp.models import (
    CareClass,
    CareOffer,
    CareType,
    EventType,
    FilingEvent,
    Institution,
    Role,
    Township,
    disclosed_events,
    publicly_listed,
)
from careapp.models.base import as_utc

# The constants are the fast path's own: what is compared is how records are made.
from careapp.services.locations import public_address, public_coordinates  # noqa: E402
from careapp.services.open_data import (  # noqa: E402
    COUNTRY,
    CURRENCY,
    EVENT_FIELDS,
    HSDS_ARRAYS,
    ID_NAMESPACE,
    TAXONOMIES,
    UTC_OFFSET_HOURS,
    PageUrl,
)


def hsds_id(*parts) -> str:
    """The stable HSDS UUID of the careapp record named by ``parts``."""
    return str(uuid.uuid5(ID_NAMESPACE, ":".join(["careapp", *map(str, parts)])))


def listed_in_batches(batch_size: int, *loaders) -> Iterator[Institution]:
    """Every filed institution in id order, read ``batch_size`` at a time from a server-side
    cursor, with what the ``loaders`` options load (selectinload: once per batch)."""
    query = (
        publicly_listed()
        .options(*loaders)
        .order_by(Institution.id)
        .execution_options(yield_per=batch_size)
    )
    # The session's identity map holds its objects weakly: a batch is freed once done with.
    # ``with``: a client that goes away closes the server-side cursor too.
    with db.session.scalars(query) as result:
        for batch in result.partitions():
            yield from batch


def listed_events(batch_size: int) -> Iterator[FilingEvent]:
    """The public disclosure events of institutions that are filed now, oldest first."""
    listed_ids = publicly_listed().with_only_columns(Institution.id)
    query = (
        disclosed_events()
        .where(FilingEvent.institution_id.in_(listed_ids))
        .order_by(None)
        .order_by(FilingEvent.institution_id, FilingEvent.occurred_on, FilingEvent.id)
        .execution_options(yield_per=batch_size)
    )
    with db.session.scalars(query) as result:
        yield from result


def _compact(record: dict) -> dict:
    """``record`` without its empty optional fields (HSDS types admit no null)."""
    return {key: value for key, value in record.items() if value is not None}


def _years(months: int) -> float:
    """An age in months as years, the unit of HSDS ages."""
    return round(months / 12, 2)


def _local_time(moment) -> str:
    """A time of day with the site's UTC offset, as HSDS asks: ``08:00+08:00``."""
    return f"{moment.strftime('%H:%M')}+{UTC_OFFSET_HOURS:02d}:00"


def _other_name(institution: Institution, language: str) -> str | None:
    """The institution's name in the other language, when it has one that differs."""
    other = "zh_CN" if language.startswith("en") else "en"
    name = institution.name_for(other)
    return name if name != institution.name_for(language) else None


def _organization(institution: Institution, language: str, page_url: str) -> dict:
    """The HSDS organization of a filed institution."""
    return _compact(
        {
            "id": hsds_id("institution", institution.id),
            "name": institution.name_for(language),
            "alternate_name": _other_name(institution, language),
            "description": institution.description_for(language),
            "legal_status": label("authority", institution.authority),
            "uri": page_url,
        }
    )


def _identifiers(institution: Institution) -> list[dict]:
    """The filing number and the USCC as HSDS organization identifiers."""
    organization_id = hsds_id("institution", institution.id)
    known = (
        ("filing_number", "county_health_bureau_filing", institution.filing_number),
        ("uscc", "GB 32100-2015", institution.uscc),
    )
    return [
        {
            "id": hsds_id("institution", institution.id, "identifier", kind),
            "organization_id": organization_id,
            "identifier_scheme": scheme,
            "identifier_type": kind,
            "identifier": value,
        }
        for kind, scheme, value in known
    ]


def _location(institution: Institution, language: str) -> dict:
    """The premises of an institution as an HSDS physical location (its public point)."""
    coordinates = public_coordinates(institution)
    return _compact(
        {
            "id": hsds_id("institution", institution.id, "location"),
            "location_type": "physical",
            "organization_id": hsds_id("institution", institution.id),
            "name": institution.name_for(language),
            "latitude": coordinates[0],
            "longitude": coordinates[1],
        }
    )


def _address(institution: Institution, language: str) -> dict:
    """The institution's address; the register keeps no province or postal code."""
    township = institution.township
    return {
        "id": hsds_id("institution", institution.id, "address"),
        "location_id": hsds_id("institution", institution.id, "location"),
        "address_1": public_address(institution, language),
        "city": township.region.name_for(language),
        "region": township.name_for(language),
        "state_province": "",
        "postal_code": "",
        "country": COUNTRY,
        "address_type": "physical",
    }


def _phone(institution: Institution) -> dict:
    """The public contact telephone shown on the institution's page."""
    return {
        "id": hsds_id("institution", institution.id, "phone"),
        "organization_id": hsds_id("institution", institution.id),
        "location_id": hsds_id("institution", institution.id, "location"),
        "number": institution.public_phone,
        "type": "voice",
    }


def _service_id(institution: Institution, care_type: CareType) -> str:
    """The HSDS id of the service of ``care_type`` at ``institution``."""
    return hsds_id("institution", institution.id, "service", care_type)


def _service(institution: Institution, offer: CareOffer, language: str, page_url: str) -> dict:
    """One care type an institution offers, as an HSDS service."""
    updated = as_utc(institution.updated_at)
    return _compact(
        {
            "id": _service_id(institution, offer.care_type),
            "organization_id": hsds_id("institution", institution.id),
            "name": label("care_type", offer.care_type),
            "status": "active",
            "url": page_url,
            "eligibility_description": _(
                "For children from %(min)d to %(max)d months",
                min=offer.min_age_months,
                max=offer.max_age_months,
            ),
            "minimum_age": _years(offer.min_age_months),
            "maximum_age": _years(offer.max_age_months),
            "last_modified": updated.isoformat() if updated else None,
        }
    )


def _service_at_location(institution: Institution, offer: CareOffer) -> dict:
    """Where a service is given: the institution's own premises."""
    return {
        "id": hsds_id("institution", institution.id, "service", offer.care_type, "location"),
        "service_id": _service_id(institution, offer.care_type),
        "location_id": hsds_id("institution", institution.id, "location"),
    }


def _schedule(institution: Institution, offer: CareOffer) -> dict:
    """The opening hours of a care type."""
    return {
        "id": hsds_id("institution", institution.id, "service", offer.care_type, "schedule"),
        "service_id": _service_id(institution, offer.care_type),
        "opens_at": _local_time(offer.opens_at),
        "closes_at": _local_time(offer.closes_at),
        "timezone": UTC_OFFSET_HOURS,
    }


def _cost_option(institution: Institution, offer: CareOffer) -> dict:
    """The price of a care type, in yuan per month, hour or day."""
    return {
        "id": hsds_id("institution", institution.id, "service", offer.care_type, "cost"),
        "service_id": _service_id(institution, offer.care_type),
        "currency": CURRENCY,
        "amount": offer.price_yuan,
        "amount_description": label("price_unit", offer.price_unit),
    }


def _unit() -> dict:
    """The unit of every capacity: a childcare place (托位)."""
    return {"id": hsds_id("unit", "place"), "name": _("Places")}


def _capacity(institution: Institution, care_class: CareClass, service_id: str) -> dict:
    """A class's advertised places; ``maximum`` is the national cap of its kind."""
    updated = as_utc(institution.updated_at)
    return _compact(
        {
            "id": hsds_id("care_class", care_class.id),
            "service_id": service_id,
            "unit_id": hsds_id("unit", "place"),
            "unit": _unit(),
            "available": care_class.capacity,
            "maximum": care_class.standard.max_children,
            "description": _(
                "%(name)s — %(kind)s",
                name=care_class.name,
                kind=label("class_kind", care_class.kind),
            ),
            "updated": updated.isoformat() if updated else None,
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


def _metadata(event: FilingEvent, language: str) -> dict:
    """A public disclosure event as an HSDS metadata record of its organization."""
    return {
        "id": hsds_id("filing_event", event.id),
        "resource_id": hsds_id("institution", event.institution_id),
        "resource_type": "organization",
        "last_action_date": event.occurred_on.isoformat(),
        "last_action_type": str(event.event_type),
        "field_name": EVENT_FIELDS[EventType(event.event_type)],
        "previous_value": "",
        "replacement_value": event.summary_for(language),
        "updated_by": label("role", Role.REGULATOR),
    }


def _offers(institution: Institution) -> list[CareOffer]:
    """The institution's offers in canonical care-type order: one HSDS service each."""
    return [institution.offer_for(care_type) for care_type in institution.care_types]


def _organizations(institution: Institution, language: str, page_url: PageUrl) -> list[dict]:
    """The institution as an organization."""
    return [_organization(institution, language, page_url(institution.id))]


def _identifiers_of(institution: Institution, _language: str, _page_url: PageUrl) -> list[dict]:
    """The institution's filing number and USCC."""
    return _identifiers(institution)


def _locations(institution: Institution, language: str, _page_url: PageUrl) -> list[dict]:
    """The institution's premises."""
    return [_location(institution, language)]


def _addresses(institution: Institution, language: str, _page_url: PageUrl) -> list[dict]:
    """The address of the institution's premises."""
    return [_address(institution, language)]


def _phones(institution: Institution, _language: str, _page_url: PageUrl) -> list[dict]:
    """The institution's public telephone, if it chose one."""
    return [_phone(institution)] if institution.public_phone else []


def _services(institution: Institution, language: str, page_url: PageUrl) -> list[dict]:
    """The institution's services in canonical care-type order."""
    url = page_url(institution.id)
    return [_service(institution, offer, language, url) for offer in _offers(institution)]


def _services_at_locations(institution: Institution, _language: str, _page_url) -> list[dict]:
    """Where each of the institution's services is given."""
    return [_service_at_location(institution, offer) for offer in _offers(institution)]


def _schedules(institution: Institution, _language: str, _page_url: PageUrl) -> list[dict]:
    """The opening hours of each of the institution's services."""
    return [_schedule(institution, offer) for offer in _offers(institution)]


def _cost_options(institution: Institution, _language: str, _page_url: PageUrl) -> list[dict]:
    """The price of each of the institution's services."""
    return [_cost_option(institution, offer) for offer in _offers(institution)]


def _capacities(institution: Institution, _language: str, _page_url: PageUrl) -> list[dict]:
    """Each class once, under the first care type: places are shared by all care types."""
    if not institution.care_types:
        return []
    service_id = _service_id(institution, institution.care_types[0])
    return [_capacity(institution, care_class, service_id) for care_class in institution.classes]


def _attributes(institution: Institution, _language: str, _page_url: PageUrl) -> list[dict]:
    """The institution's nature, then each service's care type, as taxonomy tags."""
    organization_id = hsds_id("institution", institution.id)
    return [
        _attribute(organization_id, "organization", "nature", institution.nature),
        _attribute(organization_id, "organization", "price_regime", institution.price_regime),
        *(
            _attribute(_service_id(institution, care_type), "service", "care_type", care_type)
            for care_type in institution.care_types
        ),
    ]


OFFERS = (selectinload(Institution.offers),)
#: The arrays made of each filed institution's records: how to make them, and what else of the
#: institution they read (collections loaded per batch, the township with each row).
INSTITUTION_ARRAYS: dict[str, tuple[Callable[[Institution, str, PageUrl], list[dict]], tuple]] = {
    "organizations": (_organizations, ()),
    "organization_identifiers": (_identifiers_of, ()),
    "locations": (_locations, ()),
    "addresses": (_addresses, (joinedload(Institution.township).joinedload(Township.region),)),
    "phones": (_phones, ()),
    "services": (_services, OFFERS),
    "service_at_locations": (_services_at_locations, OFFERS),
    "schedules": (_schedules, OFFERS),
    "service_capacities": (_capacities, (*OFFERS, selectinload(Institution.classes))),
    "cost_options": (_cost_options, OFFERS),
    "attributes": (_attributes, OFFERS),
}


def hsds_records(array: str, language: str, page_url: PageUrl, batch_size: int) -> Iterator[dict]:
    """The records of one array of the HSDS document, read from the database as they go."""
    if array == "units":
        yield _unit()
    elif array in ("taxonomies", "taxonomy_terms"):
        taxonomies, terms = _taxonomy_records()
        yield from taxonomies if array == "taxonomies" else terms
    elif array == "metadata":
        for event in listed_events(batch_size):
            yield _metadata(event, language)
    else:
        make, loaders = INSTITUTION_ARRAYS[array]
        for institution in listed_in_batches(batch_size, *loaders):
            yield from make(institution, language, page_url)


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


def hsds_document_text(
    language: str, page_url: PageUrl, batch_size: int, dumps: Callable[[object], str]
) -> Iterator[str]:
    """The HSDS document as JSON text in pieces, arrays in key order as ``jsonify`` sorts
    them; each array is a pass of its own over the register, so memory holds one batch.
    ``dumps`` writes one record as compact JSON."""
    yield "{"
    for position, array in enumerate(sorted(HSDS_ARRAYS)):
        yield ("," if position else "") + dumps(array) + ":["
        records = hsds_records(array, language, page_url, batch_size)
        yield from _joined(map(dumps, records), batch_size)
        yield "]"
    yield "}\n"
