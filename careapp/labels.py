"""Translated names of the domain's enumerations, for templates and the API."""

from flask_babel import lazy_gettext as _l

from careapp.models import CareType, ClassKind, EventType, Nature, PriceUnit, Status, TownshipKind

CARE_TYPE_LABELS = {
    CareType.FULL_DAY: _l("Full-day care"),
    CareType.HALF_DAY: _l("Half-day care"),
    CareType.HOURLY: _l("Hourly care"),
    CareType.TEMPORARY: _l("Temporary care"),
}

NATURE_LABELS = {
    Nature.INCLUSIVE: _l("Inclusive (government-guided price)"),
    Nature.PUBLIC: _l("Public"),
    Nature.PRIVATE: _l("Private"),
    Nature.EMPLOYER: _l("Employer-run"),
    Nature.KINDERGARTEN_CLASS: _l("Kindergarten toddler class"),
    Nature.HOME_BASED: _l("Home-based care point"),
}

AUTHORITY_LABELS = {
    "staffing_office": _l("Staffing office (public institution)"),
    "civil_affairs": _l("Civil affairs (non-profit)"),
    "market_regulation": _l("Market regulation (for-profit)"),
    "education": _l("Education bureau"),
}

STATUS_LABELS = {
    Status.DRAFT: _l("Draft"),
    Status.UNDER_REVIEW: _l("Under review"),
    Status.RETURNED: _l("Returned for correction"),
    Status.REJECTED: _l("Rejected"),
    Status.FILED: _l("Filed"),
    Status.DEREGISTERED: _l("Deregistered"),
}

EVENT_TYPE_LABELS = {
    EventType.FILED: _l("Filed"),
    EventType.CHANGED: _l("Change approved"),
    EventType.DEREGISTERED: _l("Deregistered"),
}

CLASS_KIND_LABELS = {
    ClassKind.INFANT: _l("Infant class (6–12 months)"),
    ClassKind.TODDLER: _l("Toddler class (12–24 months)"),
    ClassKind.OLDER_TODDLER: _l("Older toddler class (24–36 months)"),
    ClassKind.MIXED: _l("Mixed-age class (18–36 months)"),
    ClassKind.HOME_GROUP: _l("Home-based group (6–36 months)"),
}

PRICE_UNIT_LABELS = {
    PriceUnit.MONTH: _l("per month"),
    PriceUnit.HOUR: _l("per hour"),
    PriceUnit.DAY: _l("per day"),
}

TOWNSHIP_KIND_LABELS = {
    TownshipKind.SUBDISTRICT: _l("Sub-districts"),
    TownshipKind.TOWN: _l("Towns"),
}

ALL_LABELS = {
    "care_type": CARE_TYPE_LABELS,
    "nature": NATURE_LABELS,
    "authority": AUTHORITY_LABELS,
    "status": STATUS_LABELS,
    "event_type": EVENT_TYPE_LABELS,
    "class_kind": CLASS_KIND_LABELS,
    "price_unit": PRICE_UNIT_LABELS,
    "township_kind": TOWNSHIP_KIND_LABELS,
}


def label(kind: str, value) -> str:
    """The translated label of ``value`` in the enumeration named ``kind``."""
    return str(ALL_LABELS[kind].get(value, value))
