"""Demo institutions as records: contact details, classes, offers, safety facts and events."""

import random
from collections import Counter
from collections.abc import Callable
from datetime import date, time, timedelta
from decimal import Decimal

import sqlalchemy as sa

from careapp.demo.catalog import (
    CARE_TYPE_WORDS,
    DEREGISTRATION_SUMMARIES,
    FEATURES,
    FILED_SUMMARY,
    NATURE_BLURBS,
    REPRESENTATIVE_CHANGED,
    Bilingual,
    care_types_phrase,
)
from careapp.demo.identities import Identity, plan_identities, rng_for
from careapp.demo.regions import RegionData, TownshipData
from careapp.extensions import db
from careapp.models import (
    CLASS_STANDARDS,
    CareClass,
    CareOffer,
    CareType,
    ClassKind,
    EventType,
    FilingEvent,
    Institution,
    Nature,
    PriceRegime,
    Status,
    Township,
)
from careapp.models.institution import default_price_regime
from careapp.services.filing import registration_summary
from careapp.services.locations import public_address

MOBILE_PREFIXES = ("135", "136", "138", "139", "158", "159", "186", "188")
#: How far (in degrees) an institution may lie from its township's centre.
COORDINATE_SPREAD = 0.012
NO_ENGLISH_ADDRESS_SHARE = 0.1
NO_ENGLISH_DESCRIPTION_SHARE = 0.12

#: Class kinds an institution of each nature runs, and how many classes (fewest, most).
CLASS_KINDS: dict[Nature, tuple[ClassKind, ...]] = {
    Nature.HOME_BASED: (ClassKind.HOME_GROUP,),
    Nature.KINDERGARTEN_CLASS: (ClassKind.OLDER_TODDLER,),
}
GENERAL_CLASS_KINDS = (
    ClassKind.INFANT,
    ClassKind.TODDLER,
    ClassKind.OLDER_TODDLER,
    ClassKind.MIXED,
)
CLASS_COUNTS: dict[Nature, tuple[int, int]] = {
    Nature.PUBLIC: (2, 4),
    Nature.INCLUSIVE: (1, 4),
    Nature.PRIVATE: (1, 4),
    Nature.EMPLOYER: (1, 3),
    Nature.KINDERGARTEN_CLASS: (1, 3),
    Nature.HOME_BASED: (1, 1),
}
#: Class names; ``{}`` takes a numeral when an institution has several of a kind.
CLASS_NAMES: dict[ClassKind, str] = {
    ClassKind.INFANT: "乳儿{}班",
    ClassKind.TODDLER: "托小{}班",
    ClassKind.OLDER_TODDLER: "托大{}班",
    ClassKind.MIXED: "混龄{}班",
    ClassKind.HOME_GROUP: "家庭托育{}组",
}
NUMERALS = "一二三四"

#: Chance that an institution of each nature offers each care type.
CARE_TYPE_CHANCES: dict[Nature, dict[CareType, float]] = {
    Nature.PUBLIC: {
        CareType.FULL_DAY: 0.95,
        CareType.HALF_DAY: 0.5,
        CareType.HOURLY: 0.25,
        CareType.TEMPORARY: 0.35,
    },
    Nature.INCLUSIVE: {
        CareType.FULL_DAY: 0.9,
        CareType.HALF_DAY: 0.45,
        CareType.HOURLY: 0.45,
        CareType.TEMPORARY: 0.4,
    },
    Nature.PRIVATE: {
        CareType.FULL_DAY: 0.85,
        CareType.HALF_DAY: 0.45,
        CareType.HOURLY: 0.6,
        CareType.TEMPORARY: 0.5,
    },
    Nature.EMPLOYER: {
        CareType.FULL_DAY: 0.95,
        CareType.HALF_DAY: 0.2,
        CareType.HOURLY: 0.4,
        CareType.TEMPORARY: 0.5,
    },
    Nature.KINDERGARTEN_CLASS: {
        CareType.FULL_DAY: 1.0,
        CareType.HALF_DAY: 0.35,
        CareType.HOURLY: 0.1,
        CareType.TEMPORARY: 0.1,
    },
    Nature.HOME_BASED: {
        CareType.FULL_DAY: 0.7,
        CareType.HALF_DAY: 0.3,
        CareType.HOURLY: 0.6,
        CareType.TEMPORARY: 0.6,
    },
}
#: Opening hours to choose from, by care type.
HOURS: dict[CareType, tuple[tuple[time, time], ...]] = {
    CareType.FULL_DAY: (
        (time(7, 30), time(17, 30)),
        (time(7, 45), time(17, 45)),
        (time(8), time(17)),
    ),
    CareType.HALF_DAY: ((time(8), time(12)), (time(8, 30), time(11, 30)), (time(14), time(17, 30))),
    CareType.HOURLY: ((time(8), time(18)), (time(8, 30), time(20)), (time(9), time(17))),
    CareType.TEMPORARY: ((time(8), time(17, 30)), (time(7, 30), time(18))),
}
#: Prices in yuan (lowest, highest, rounding step), per month, hour or day by care type.
PRICE_BANDS: dict[CareType, tuple[int, int, int]] = {
    CareType.FULL_DAY: (1800, 4500, 100),
    CareType.HALF_DAY: (1000, 2500, 50),
    CareType.HOURLY: (25, 60, 5),
    CareType.TEMPORARY: (100, 220, 10),
}
#: Where in the price bands each nature sits: public care charges guided prices, inclusive
#: care affordable ones.
PRICE_LEVELS: dict[Nature, tuple[float, float]] = {
    Nature.PUBLIC: (0.0, 0.15),
    Nature.INCLUSIVE: (0.05, 0.3),
    Nature.EMPLOYER: (0.0, 0.25),
    Nature.KINDERGARTEN_CLASS: (0.05, 0.35),
    Nature.HOME_BASED: (0.2, 0.5),
    Nature.PRIVATE: (0.4, 1.0),
}
#: Care types that take no infants: their youngest age is raised to this many months.
YOUNGEST_BY_CARE_TYPE: dict[CareType, int] = {CareType.HOURLY: 12, CareType.TEMPORARY: 12}

#: A kindergarten toddler class's price regime by the first character of its credit code.
KINDERGARTEN_PRICE_REGIMES = {
    "1": PriceRegime.GOVERNMENT_GUIDED,
    "5": PriceRegime.INCLUSIVE_KINDERGARTEN,
}
#: Chance that an institution of each nature serves meals and owns its premises.
MEALS_CHANCE: dict[Nature, float] = {Nature.HOME_BASED: 0.4}
DEFAULT_MEALS_CHANCE = 0.9
OWNED_PREMISES_CHANCE: dict[Nature, float] = {
    Nature.PUBLIC: 0.8,
    Nature.KINDERGARTEN_CLASS: 0.7,
    Nature.EMPLOYER: 0.6,
    Nature.HOME_BASED: 0.5,
}
DEFAULT_OWNED_PREMISES_CHANCE = 0.1
#: Staff besides carers (director, health worker, cook), fewest and most.
EXTRA_STAFF: dict[Nature, tuple[int, int]] = {Nature.HOME_BASED: (0, 1)}
DEFAULT_EXTRA_STAFF = (2, 5)
CERTIFIED_TARGET_CHANCE = 0.9
CCTV_ALL_AREAS_CHANCE = 0.95
CCTV_RETENTION_CHOICES = (90, 90, 90, 90, 90, 120, 120, 180, 180, 60)
STALE_HEALTH_CHECK_CHANCE = 0.05
#: Chance that a filed institution has had one change (and, of those, a second one).
CHANGE_CHANCE = 0.35
SECOND_CHANGE_CHANCE = 0.25

COUNTED = ("institutions", "classes", "offers", "events")


def seed_institutions(
    region: RegionData, townships: dict[str, Township], today: date
) -> Counter[str]:
    """Add the demo institutions of ``region`` missing from the session; count what was added."""
    identities = plan_identities(region)
    existing = set(
        db.session.scalars(
            sa.select(Institution.uscc).where(Institution.uscc.in_([i.uscc for i in identities]))
        )
    )
    counts: Counter[str] = Counter({key: 0 for key in COUNTED})
    for identity in identities:
        if identity.uscc in existing:
            continue
        institution = build_institution(region, identity, townships[identity.township.code], today)
        db.session.add(institution)
        counts.update(
            institutions=1,
            classes=len(institution.classes),
            offers=len(institution.offers),
            events=len(institution.events),
        )
    return counts


def build_institution(
    region: RegionData, identity: Identity, township: Township, today: date
) -> Institution:
    """The record of one demo institution, dated relative to ``today``; not yet in the session."""
    rng = rng_for(region.code, identity.index, "details")
    nature = identity.nature
    filed_on = _days_before(today, identity.filed_days_ago)
    applied_on = filed_on or today - timedelta(rng.randint(20, 300))
    institution = Institution(
        name=identity.name,
        name_en=identity.name_en,
        township=township,
        nature=nature,
        authority=identity.authority,
        uscc=identity.uscc,
        price_regime=_price_regime(identity),
        status=identity.status,
        filing_number=_filing_number(region, identity, filed_on),
        filed_on=filed_on,
        is_demonstration=identity.is_demonstration,
        registered_on=applied_on - timedelta(rng.randint(30, 200)),
        **_contact(region, identity.township, nature, rng),
    )
    institution.classes = _classes(nature, rng)
    institution.offers = _offers(nature, institution.classes, rng)
    _describe(institution, identity, rng)
    _declare_safety(institution, region, identity, rng, today)
    institution.events = _events(institution, rng, today)
    return institution


def _price_regime(identity: Identity) -> PriceRegime:
    """How the demo institution's prices are set (003 item 10): a kindergarten registered as a
    public body (code 1…) charges guided prices, a non-profit one (5…) as an inclusive
    kindergarten; otherwise the nature's usual regime."""
    if identity.nature == Nature.KINDERGARTEN_CLASS:
        return KINDERGARTEN_PRICE_REGIMES.get(identity.uscc[0], PriceRegime.MARKET_REGULATED)
    return default_price_regime(identity.nature)


def _days_before(today: date, days: int | None) -> date | None:
    """The day ``days`` before ``today``, or None without a number of days."""
    return None if days is None else today - timedelta(days)


def _filing_number(region: RegionData, identity: Identity, filed_on: date | None) -> str | None:
    """The filing number the health bureau assigned, e.g. ``JJ-TY-2024-0001``."""
    if filed_on is None or identity.filing_sequence is None:
        return None
    return f"{region.filing_prefix}-TY-{filed_on.year}-{identity.filing_sequence:04d}"


def _contact(
    region: RegionData, township: TownshipData, nature: Nature, rng: random.Random
) -> dict[str, object]:
    """Address (Chinese and English), coordinates and phone number."""
    street, street_en = rng.choice(region.streets)
    number = rng.randint(1, 400)
    address = f"{township.name}{street} {number} 号"
    address_en = f"{number} {street_en}, {township.short_name_en}"
    if nature == Nature.HOME_BASED:
        building, room = rng.randint(1, 12), rng.choice((101, 202, 301, 502, 601, 803))
        address += f" {building} 幢 {room} 室"
        address_en = f"Room {room}, Building {building}, {address_en}"
    return {
        "address": address,
        "address_en": None if rng.random() < NO_ENGLISH_ADDRESS_SHARE else address_en,
        "latitude": _near(township.latitude, rng),
        "longitude": _near(township.longitude, rng),
        **_phones(_phone(region, nature, rng), nature),
    }


def _near(degrees: float, rng: random.Random) -> Decimal:
    """A coordinate a short way from ``degrees``, to six decimals."""
    return Decimal(f"{degrees + rng.uniform(-COORDINATE_SPREAD, COORDINATE_SPREAD):.6f}")


def _phones(phone: str, nature: Nature) -> dict[str, str | None]:
    """The contact telephone, published too unless it is a home-based point's own mobile."""
    return {"phone": phone, "public_phone": None if nature == Nature.HOME_BASED else phone}


def _phone(region: RegionData, nature: Nature, rng: random.Random) -> str:
    """A landline of the region, or a mobile number (always for home-based points)."""
    if nature != Nature.HOME_BASED and rng.random() < 0.8:
        return f"{rng.choice(region.landline_prefixes)}{rng.randrange(10_000):04d}"
    return f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(100_000_000):08d}"


def _classes(nature: Nature, rng: random.Random) -> list[CareClass]:
    """1–4 classes of kinds suiting ``nature``, each within the national cap and ratio."""
    fewest, most = CLASS_COUNTS[nature]
    kinds = rng.choices(CLASS_KINDS.get(nature, GENERAL_CLASS_KINDS), k=rng.randint(fewest, most))
    kinds.sort(key=lambda kind: (CLASS_STANDARDS[kind].min_age_months, kind.value))
    classes = []
    for kind in kinds:
        capacity, carers = _class_size(kind, rng)
        name = _class_name(kind, kinds.count(kind), len([c for c in classes if c.kind == kind]))
        classes.append(CareClass(kind=kind, name=name, capacity=capacity, carers=carers))
    return classes


def _class_size(kind: ClassKind, rng: random.Random) -> tuple[int, int]:
    """Capacity and carers of a class: enough carers for most of the cap, a fairly full class."""
    standard = CLASS_STANDARDS[kind]
    full_staff = -(-standard.max_children // standard.children_per_carer)
    carers = rng.randint(max(1, full_staff - 1), full_staff)
    limit = standard.max_capacity_for(carers)
    return rng.randint(-(-limit * 6 // 10), limit), carers


def _class_name(kind: ClassKind, of_kind: int, earlier: int) -> str:
    """The class's name, numbered when the institution has several of its kind."""
    return CLASS_NAMES[kind].format(NUMERALS[earlier] if of_kind > 1 else "")


def _offers(nature: Nature, classes: list[CareClass], rng: random.Random) -> list[CareOffer]:
    """The care types offered, for the ages the classes take, at prices suiting ``nature``."""
    chances = CARE_TYPE_CHANCES[nature]
    care_types = [care_type for care_type in CareType if rng.random() < chances[care_type]]
    if not care_types:
        care_types = [max(chances, key=chances.__getitem__)]
    youngest = min(CLASS_STANDARDS[c.kind].min_age_months for c in classes)
    oldest = max(CLASS_STANDARDS[c.kind].max_age_months for c in classes)
    level = rng.uniform(*PRICE_LEVELS[nature])
    offers = []
    for care_type in care_types:
        opens_at, closes_at = rng.choice(HOURS[care_type])
        min_age = max(youngest, YOUNGEST_BY_CARE_TYPE.get(care_type, youngest))
        offers.append(
            CareOffer(
                care_type=care_type,
                opens_at=opens_at,
                closes_at=closes_at,
                price_yuan=_price(care_type, level),
                min_age_months=min_age if min_age < oldest else youngest,
                max_age_months=oldest,
            )
        )
    return offers


def _price(care_type: CareType, level: float) -> int:
    """The price at ``level`` (0 cheapest, 1 dearest) of the care type's band, rounded."""
    lowest, highest, step = PRICE_BANDS[care_type]
    return lowest + round(level * (highest - lowest) / step) * step


def _describe(institution: Institution, identity: Identity, rng: random.Random) -> None:
    """A short description in Chinese and English: what it is, what it offers, a feature."""
    blurb, blurb_en = NATURE_BLURBS[identity.nature]
    sponsor, sponsor_en = identity.sponsor
    care, care_en = care_types_phrase(institution.care_types)
    feature, feature_en = rng.choice(FEATURES)
    institution.description = f"{blurb.format(sponsor=sponsor)}，提供{care}服务。{feature}"
    description_en = f"{blurb_en.format(sponsor=sponsor_en)}, offering {care_en}. {feature_en}"
    if rng.random() >= NO_ENGLISH_DESCRIPTION_SHARE:
        institution.description_en = description_en.strip()


def _declare_safety(
    institution: Institution,
    region: RegionData,
    identity: Identity,
    rng: random.Random,
    today: date,
) -> None:
    """The safety and filing declarations: meals, premises, inspections, staff and CCTV."""
    nature = identity.nature
    reference = institution.filed_on or today
    if rng.random() < MEALS_CHANCE.get(nature, DEFAULT_MEALS_CHANCE):
        institution.serves_meals = True
        serial = f"{rng.randrange(1_000_000):06d}{rng.randrange(10)}"
        institution.food_licence_number = f"JY3{region.division_code}{serial}"
        institution.food_licence_expires_on = today + timedelta(rng.randint(30, 1800))
    if rng.random() < OWNED_PREMISES_CHANCE.get(nature, DEFAULT_OWNED_PREMISES_CHANCE):
        institution.premises_owned = True
    else:
        # A filing needs a lease of three years or more; leases still run today.
        earliest_end = max(reference + timedelta(3 * 365), today + timedelta(90))
        institution.lease_ends_on = earliest_end + timedelta(rng.randint(0, 3 * 365))
    if identity.status != Status.DRAFT:
        institution.health_evaluation_on = reference - timedelta(rng.randint(15, 90))
        institution.fire_acceptance_on = reference - timedelta(rng.randint(30, 150))
    stale = rng.random() < STALE_HEALTH_CHECK_CHANCE
    institution.staff_health_checked_on = today - timedelta(
        rng.randint(370, 450) if stale else rng.randint(10, 330)
    )
    _declare_staff(institution, nature, rng)
    institution.cctv_covers_all_areas = rng.random() < CCTV_ALL_AREAS_CHANCE
    institution.cctv_retention_days = rng.choice(CCTV_RETENTION_CHOICES)


def _declare_staff(institution: Institution, nature: Nature, rng: random.Random) -> None:
    """Staff and certified staff: most reach the 80% target, a few fall short."""
    carers = sum(care_class.carers for care_class in institution.classes)
    staff = carers + rng.randint(*EXTRA_STAFF.get(nature, DEFAULT_EXTRA_STAFF))
    on_target = -(-4 * staff // 5)
    if rng.random() < CERTIFIED_TARGET_CHANCE:
        certified = rng.randint(on_target, staff)
    else:
        certified = rng.randint(min(staff // 2, on_target - 1), on_target - 1)
    institution.staff_count = staff
    institution.certified_staff_count = certified


def _events(institution: Institution, rng: random.Random, today: date) -> list[FilingEvent]:
    """The public filing events: registered, filed, perhaps changed, perhaps deregistered."""
    filed_on = institution.filed_on
    if filed_on is None:
        return []
    events = [_event(EventType.FILED, filed_on, FILED_SUMMARY)]
    if institution.registered_on is not None:  # 登记 is disclosed too (policy 002 (四))
        registered = registration_summary(institution.authority)
        events.append(_event(EventType.REGISTERED, institution.registered_on, registered))
    end = today
    if institution.status == Status.DEREGISTERED:
        end = filed_on + timedelta(int((today - filed_on).days * rng.uniform(0.5, 0.9)))
        events.append(_event(EventType.DEREGISTERED, end, rng.choice(DEREGISTRATION_SUMMARIES)))
    if rng.random() < CHANGE_CHANCE:
        changes = 2 if rng.random() < SECOND_CHANGE_CHANCE else 1
        days = sorted(rng.sample(range(30, (end - filed_on).days - 7), changes))
        for day, change in zip(days, rng.sample(CHANGE_KINDS, changes), strict=True):
            summary = change(institution, rng)
            events.append(_event(EventType.CHANGED, filed_on + timedelta(day), summary))
    return sorted(events, key=lambda event: event.occurred_on)


def _event(event_type: EventType, occurred_on: date, summary: Bilingual) -> FilingEvent:
    """A filing event with its Chinese and English summary."""
    return FilingEvent(
        event_type=event_type, occurred_on=occurred_on, summary=summary[0], summary_en=summary[1]
    )


def _address_changed(institution: Institution, rng: random.Random) -> Bilingual:
    """A move to the institution's current address."""
    # The summary is public: a home-based point's address only to its road or community.
    return (
        f"地址变更为{public_address(institution, 'zh_CN')}",
        f"Address changed to {public_address(institution, 'en')}",
    )


def _places_changed(institution: Institution, rng: random.Random) -> Bilingual:
    """A change of the number of places to today's capacity."""
    new = institution.total_capacity
    if institution.nature == Nature.HOME_BASED:
        old = rng.choice([places for places in range(2, 6) if places != new])
    else:
        old = max(5, new + 5 * rng.choice((-3, -2, -1, 1, 2)))
        old = new + 5 if old == new else old
    return f"托位数由 {old} 调整为 {new}", f"Places changed from {old} to {new}"


def _service_added(institution: Institution, rng: random.Random) -> Bilingual:
    """A care type added after filing, or else a new legal representative."""
    added = [c for c in institution.care_types if c != CareType.FULL_DAY]
    if not added:
        return REPRESENTATIVE_CHANGED
    words, words_en = CARE_TYPE_WORDS[rng.choice(added)]
    return f"新增{words}服务", f"Added {words_en} care"


def _representative_changed(institution: Institution, rng: random.Random) -> Bilingual:
    """A new legal representative."""
    return REPRESENTATIVE_CHANGED


CHANGE_KINDS: tuple[Callable[[Institution, random.Random], Bilingual], ...] = (
    _address_changed,
    _places_changed,
    _service_added,
    _representative_changed,
)
