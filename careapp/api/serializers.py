"""Turn models into the JSON shapes of the public contract."""

from careapp.models import CareClass, CareOffer, FilingEvent, Institution, Township
from careapp.services.locations import public_address, public_coordinates
from careapp.services.params import Page
from careapp.services.statistics import RegionTotals, TownshipFigures


def page_body(page: Page, serialize, language: str) -> dict:
    """The contract's list shape: items, total, page, per_page."""
    return {
        "items": [serialize(item, language) for item in page.items],
        "total": page.total,
        "page": page.page,
        "per_page": page.per_page,
    }


def keyset_page_body(page: Page, serialize, language: str) -> dict:
    """The list shape plus whether the total is exact and the cursor to the next page."""
    return {
        **page_body(page, serialize, language),
        "total_is_exact": page.total_is_exact,
        "next": page.next_cursor,
    }


def township_ref(township: Township, language: str) -> dict:
    """A township as referenced from other objects."""
    return {"code": township.code, "name": township.name_for(language)}


def township_item(township: Township, institution_count: int, language: str) -> dict:
    """A township in the townships list."""
    return {
        **township_ref(township, language),
        "kind": str(township.kind),
        "institution_count": institution_count,
    }


def institution_summary(institution: Institution, language: str) -> dict:
    """An institution as listed in search results."""
    return {
        "id": institution.id,
        "name": institution.name_for(language),
        "township": township_ref(institution.township, language),
        "address": public_address(institution, language),
        "nature": str(institution.nature),
        "price_regime": str(institution.price_regime),
        "care_types": [str(care_type) for care_type in institution.care_types],
        "min_age_months": institution.min_age_months,
        "max_age_months": institution.max_age_months,
        "filing_number": institution.filing_number,
        "filed_on": institution.filed_on.isoformat() if institution.filed_on else None,
    }


def institution_listed(distances: dict[int, float] | None):
    """The list item serializer: the summary, with ``distance_km`` (to 0.1) when
    ``distances`` holds a near-me search's distances."""
    if distances is None:
        return institution_summary

    def serialize(institution: Institution, language: str) -> dict:
        return {
            **institution_summary(institution, language),
            "distance_km": round(distances[institution.id], 1),
        }

    return serialize


def _offer(offer: CareOffer) -> dict:
    return {
        "care_type": str(offer.care_type),
        "opens_at": offer.opens_at.strftime("%H:%M"),
        "closes_at": offer.closes_at.strftime("%H:%M"),
        "price_yuan": offer.price_yuan,
        "price_unit": str(offer.price_unit),
        "min_age_months": offer.min_age_months,
        "max_age_months": offer.max_age_months,
    }


def _care_class(care_class: CareClass) -> dict:
    return {
        "id": care_class.id,
        "kind": str(care_class.kind),
        "name": care_class.name,
        "min_age_months": care_class.standard.min_age_months,
        "max_age_months": care_class.standard.max_age_months,
        "capacity": care_class.capacity,
        "carers": care_class.carers,
    }


def _optional_date(value) -> str | None:
    return value.isoformat() if value else None


def _safety(institution: Institution) -> dict:
    return {
        "cctv_covers_all_areas": institution.cctv_covers_all_areas,
        "cctv_retention_days": institution.cctv_retention_days,
        "fire_acceptance_on": _optional_date(institution.fire_acceptance_on),
        "health_evaluation_on": _optional_date(institution.health_evaluation_on),
        "staff_health_checked_on": _optional_date(institution.staff_health_checked_on),
        "staff_count": institution.staff_count,
        "certified_staff_count": institution.certified_staff_count,
    }


def history_item(event: FilingEvent, language: str) -> dict:
    """A filing event in an institution's public history."""
    return {
        "type": str(event.event_type),
        "date": event.occurred_on.isoformat(),
        "summary": event.summary_for(language),
    }


def institution_detail(institution: Institution, language: str) -> dict:
    """Everything public about a filed institution; a home-based point's location only at
    community precision (never the flat)."""
    latitude, longitude = public_coordinates(institution)
    return {
        **institution_summary(institution, language),
        "phone": institution.public_phone,
        "description": institution.description_for(language),
        "latitude": latitude,
        "longitude": longitude,
        "registration_authority": str(institution.authority),
        "uscc": institution.uscc,
        "is_demonstration": institution.is_demonstration,
        "quality_grade": institution.quality_grade,
        "meals": {
            "served": institution.serves_meals,
            "food_licence_number": institution.food_licence_number,
            "food_licence_expires_on": _optional_date(institution.food_licence_expires_on),
        },
        "offers": [_offer(offer) for offer in institution.offers],
        "classes": [_care_class(care_class) for care_class in institution.classes],
        "capacity": institution.total_capacity,
        "safety": _safety(institution),
        "history": [history_item(event, language) for event in institution.events],
    }


def registry_event(event: FilingEvent, language: str) -> dict:
    """A filing event in the public disclosure list."""
    return {
        "institution_id": event.institution_id,
        "institution_name": event.institution.name_for(language),
        **history_item(event, language),
    }


def opening(item) -> dict:
    """A slot with places left, for the availability API."""
    slot = item.slot
    return {
        "slot_id": slot.id,
        "care_type": str(slot.care_type),
        "date": slot.on_date.isoformat(),
        "start": slot.starts_at.strftime("%H:%M"),
        "end": slot.ends_at.strftime("%H:%M"),
        "capacity": slot.inventory.capacity,
        "remaining": item.remaining,
    }


def course(item, language: str, now) -> dict:
    """A course in the courses API: its first and last session and the seats of the next."""
    upcoming = [s for s in item.sessions if s.is_scheduled and s.ends_at > now]
    following = upcoming[0] if upcoming else None
    return {
        "id": item.id,
        "title": item.title,
        "topic": str(item.topic),
        "format": str(item.format),
        "starts_at": following.starts_at.isoformat() if following else None,
        "ends_at": upcoming[-1].ends_at.isoformat() if upcoming else None,
        "township": township_ref(item.township, language) if item.township else None,
        "seats": item.seats,
        "remaining": following.inventory.remaining if following else 0,
        "min_age_months": item.min_age_months,
        "max_age_months": item.max_age_months,
        "provider": item.provider.name_for(language),
    }


def _number(value) -> float | None:
    """A decimal figure as a JSON number (``None`` stays null)."""
    return None if value is None else float(value)


def township_statistics(row: TownshipFigures, language: str) -> dict:
    """A township's filed institutions and places against its target (aggregates only)."""
    return {
        **township_ref(row.township, language),
        "filed_institutions": row.filed_institutions,
        "places": row.places,
        "population": row.population,
        "places_per_1000": _number(row.places_per_1000),
        "target_places_per_1000": _number(row.target_places_per_1000),
    }


def region_statistics(region, totals: RegionTotals, language: str) -> dict:
    """The region-wide figures the policies set targets for (aggregates only)."""
    covered = totals.covered_townships
    return {
        "code": region.code,
        "name": region.name_for(language),
        "places": totals.places,
        "population": totals.population,
        "places_per_1000": _number(totals.places_per_1000),
        "target_places_per_1000": _number(totals.target_places_per_1000),
        "covered_share": _number(covered.share),
        "target_covered_share": _number(covered.target),
    }
