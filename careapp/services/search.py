"""Search of the public register: one place decides what matches and how it is paged."""

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from careapp import clock
from careapp.extensions import db
from careapp.models import (
    CLASS_STANDARDS,
    CareClass,
    CareOffer,
    CareType,
    ClassKind,
    Institution,
    InstitutionSearchTerm,
    Inventory,
    Nature,
    QualityGrade,
    Region,
    SearchGram,
    Slot,
    SlotStatus,
    Township,
    publicly_listed,
)
from careapp.models.base import MAX_ID
from careapp.models.institution import LISTING_PLACE, in_listing_order
from careapp.models.listing import bigrams, normalised
from careapp.services import availability, cursors, regions
from careapp.services.errors import InvalidParameters
from careapp.services.locations import community_points, names_a_door, public_distance_km
from careapp.services.params import Page, ParamReader

#: Ages above this are typing mistakes rather than children.
MAX_AGE_MONTHS = 600
#: Filtered totals are counted exactly up to here; past it a list says "more than".
COUNT_LIMIT = 200
#: A text search looks up at most this many of its bigrams: each match has all of them, and
#: the substring test that follows decides.
MAX_LOOKED_UP_GRAMS = 6
#: A text whose rarest bigram at most this many institutions hold is read from that gram's
#: institutions and sorted; a commoner one walks the list order, where its matches are dense.
#: (The order is by name, and names start with place names: a township's name is common and
#: sits in one stretch of the order, so walking the order to find it can read most of it.)
RARE_GRAM_INSTITUTIONS = 10_000
#: Mean radius of the Earth (IUGG), in kilometres, for distances on the WGS-84 ellipsoid.
EARTH_RADIUS_KM = 6371.0088
#: The radii the search page offers, in kilometres; the first is the default.
PAGE_RADII_KM = (3, 1, 5)
#: The widest radius the API takes, in kilometres.
MAX_RADIUS_KM = 50.0
#: "Free places" look this many days ahead, today included.
FREE_DAYS = 7
#: The orders a search may ask for besides the register's (by name).
SORTS = ("distance", "free")
#: A cursor of a sorted (not register-ordered) search names its sort and the next offset.
SORTED_CURSOR_TYPES = (str, int)


@dataclass(frozen=True)
class SearchCriteria:
    """What a parent asked for; every field is optional."""

    township: str | None = None
    care_type: str | None = None
    age_months: int | None = None
    nature: str | None = None
    q: str | None = None
    #: The day the search is made: with an age, only places from this day on count.
    today: date | None = field(default=None, compare=False)
    region: str | None = None
    #: The origin of a near-me search (WGS-84 degrees); with it, only institutions within
    #: ``radius_km`` match, nearest first unless ``sort`` says otherwise.
    lat: float | None = None
    lng: float | None = None
    radius_km: float | None = None
    #: Only institutions with a place free for this child within ``FREE_DAYS`` days.
    free: bool | None = None
    #: ``distance`` or ``free`` (soonest free place first); None: nearest first with an
    #: origin, else the register's order.
    sort: str | None = None
    #: Only demonstration institutions (示范).
    demonstration: bool | None = None
    #: Only institutions whose latest quality grade is this one or better.
    quality_grade: str | None = None

    def active(self) -> dict[str, object]:
        """The criteria that narrow the search, by name (the origin and order do not)."""
        return {
            name: value
            for name, value in asdict(self).items()
            if value is not None and name not in ("today", "lat", "lng", "sort")
        }

    @property
    def origin(self) -> tuple[float, float] | None:
        """Where distances are measured from, if anywhere."""
        return None if self.lat is None or self.lng is None else (self.lat, self.lng)

    @property
    def wants_free(self) -> bool:
        """Whether only institutions with a free place match (asked, or sorted by it)."""
        return bool(self.free) or self.sort == "free"

    @property
    def ordered_by(self) -> str | None:
        """``distance``, ``free`` or None (the register's order)."""
        if self.sort == "free":
            return "free"
        return "distance" if self.origin else None

    def without(self, name: str) -> "SearchCriteria":
        """The same criteria with ``name`` dropped (free places with their order)."""
        dropped = {name: None}
        if name == "free" and self.sort == "free":
            dropped["sort"] = None
        return replace(self, **dropped)


def months_between(birth_date: date, on: date) -> int:
    """Completed months of age on ``on`` for a child born on ``birth_date``."""
    months = (on.year - birth_date.year) * 12 + (on.month - birth_date.month)
    if on.day < birth_date.day:
        months -= 1
    return months


def known_township_codes() -> set[str]:
    """Codes of every township on the register."""
    return set(db.session.scalars(sa.select(Township.code)))


def parse_criteria(
    args: Mapping[str, str],
    today: date,
    region_codes: set[str] | None = None,
    any_radius: bool = False,
) -> SearchCriteria:
    """Search criteria from query parameters; raises InvalidParameters with a message per field.

    A ``birth_date`` is turned into the child's age in months on ``today``. ``region_codes``
    spares a query when the caller has the regions already. ``any_radius``: a radius up to
    50 km (the API) rather than the page's 1, 3 or 5 km.
    """
    reader = ParamReader(args)
    codes = regions.region_codes() if region_codes is None else region_codes
    region = reader.choice("region", codes, _l("There is no such region."))
    township = reader.choice("township", regions.TownshipCodes(), _l("There is no such township."))
    care_type = reader.choice("care_type", CareType.values(), _l("There is no such care type."))
    nature = reader.choice("nature", Nature.values(), _l("There is no such kind of institution."))
    age_months = reader.integer("age_months", 0, MAX_AGE_MONTHS)
    birth_date = reader.iso_date("birth_date")
    if birth_date is not None:
        if birth_date > today:
            reader.errors["birth_date"] = _l("The birth date cannot be in the future.")
        else:
            age_months = months_between(birth_date, today)
    q = reader.text("q")
    lat, lng, radius_km = _origin(reader, any_radius)
    free = _free(reader)
    sort = reader.choice("sort", SORTS, _l("There is no such order."))
    if sort == "distance" and lat is None and not reader.errors:
        reader.errors["sort"] = _l(
            "To sort by distance, use your location or choose a place near you."
        )
    demonstration = _yes(reader, "demonstration")
    grade = reader.choice(
        "quality_grade", QualityGrade.values(), _l("There is no such quality grade.")
    )
    if reader.errors:
        raise InvalidParameters(reader.errors)
    return SearchCriteria(
        township,
        care_type,
        age_months,
        nature,
        q,
        today,
        region,
        lat,
        lng,
        radius_km,
        free,
        sort,
        demonstration,
        grade,
    )


def _yes(reader: ParamReader, name: str) -> bool | None:
    """A yes/no filter asked with ``1``/``true``; None when not asked (or answered no)."""
    value = reader.raw(name).lower()
    if not value:
        return None
    if value not in ("1", "true", "0", "false"):
        reader.errors[name] = _l("Please answer true or false.")
        return None
    return True if value in ("1", "true") else None


def _coordinate(reader: ParamReader, name: str, limit: float) -> float | None:
    """A decimal number of degrees from ``-limit`` to ``limit``."""
    value = reader.raw(name)
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and -limit <= number <= limit):
        reader.errors[name] = _l(
            "Please enter degrees from %(minimum)d to %(maximum)d.", minimum=-limit, maximum=limit
        )
        return None
    return number


def _origin(
    reader: ParamReader, any_radius: bool
) -> tuple[float | None, float | None, float | None]:
    """Latitude, longitude and radius of a near-me search; both coordinates or neither."""
    lat = _coordinate(reader, "lat", 90)
    lng = _coordinate(reader, "lng", 180)
    radius = _radius(reader, any_radius)
    if (lat is None) != (lng is None) and not reader.errors:
        missing = "lng" if lng is None else "lat"
        reader.errors[missing] = _l("Please give both the latitude and the longitude.")
    if lat is None or lng is None:
        return None, None, None
    return lat, lng, float(PAGE_RADII_KM[0]) if radius is None else radius


def _radius(reader: ParamReader, any_radius: bool) -> float | None:
    """The radius in km: one the page offers, or (``any_radius``, the API) up to 50."""
    value = reader.raw("radius_km")
    if not value:
        return None
    try:
        radius = float(value)
    except ValueError:
        radius = math.nan
    allowed = (
        0 < radius <= MAX_RADIUS_KM if any_radius else radius in PAGE_RADII_KM
    ) and math.isfinite(radius)
    if not allowed:
        if any_radius:
            message = _l("Please enter a distance above 0 and at most %(km)d km.", km=50)
        else:
            message = _l("Please choose 1, 3 or 5 km.")
        reader.errors["radius_km"] = message
        return None
    return radius


def _free(reader: ParamReader) -> bool | None:
    """``free=1`` (the page) or ``has_free_place=true`` (the API); None when not asked."""
    answers = {"1": True, "true": True, "0": False, "false": False}
    for name in ("free", "has_free_place"):
        value = reader.raw(name).lower()
        if not value:
            continue
        if value not in answers:
            reader.errors[name] = _l("Please answer true or false.")
            return None
        if answers[value]:
            return True
    return None


def _township_id(code: str) -> sa.ScalarSelect:
    """The id of the township with ``code``, as a subquery (an index bound for the planner)."""
    return sa.select(Township.id).where(Township.code == code).scalar_subquery()


def _matching(
    criteria: SearchCriteria, grams: list[str] | None = None, rare: bool = False
) -> sa.Select:
    """Public institutions matching ``criteria``, unordered; ``grams``: the text's bigrams to
    look up (by default some spread over the text), the first a ``rare`` one to start from."""
    query = publicly_listed()
    if criteria.township:
        query = query.where(Institution.township_id == _township_id(criteria.township))
    if criteria.region:
        query = query.where(Institution.township_id.in_(regions.townships_in(criteria.region)))
    if criteria.nature:
        query = query.where(Institution.nature == criteria.nature)
    if criteria.demonstration:
        query = query.where(Institution.is_demonstration.is_(True))
    if criteria.quality_grade:
        grades = [grade.value for grade in QualityGrade.at_least(criteria.quality_grade)]
        query = query.where(Institution.quality_grade.in_(grades))
    if criteria.origin:
        query = query.where(*_within(criteria))
    if criteria.wants_free:
        query = query.where(_free_candidate(criteria).exists())
    elif criteria.age_months is not None:
        query = query.where(_bookable_for(criteria).exists())
    elif criteria.care_type:
        offer = sa.select(CareOffer.id).where(
            CareOffer.institution_id == Institution.id, CareOffer.care_type == criteria.care_type
        )
        query = query.where(offer.exists())
    if criteria.q:
        query = query.where(*_text_matches(criteria.q, grams, rare), *_no_flat_matches(criteria.q))
    return query


def _no_flat_matches(text: str) -> list:
    """A condition when ``text`` reads like a door, building or flat (digits, 幢, 室, Room…):
    a home-based point is then found by its name only, so that a search cannot confirm the
    flat its public address leaves out (``locations.community_address``)."""
    if not names_a_door(text):
        return []
    pattern = f"%{_escape_like(text)}%"
    by_name = (
        column.ilike(pattern, escape="\\") for column in (Institution.name, Institution.name_en)
    )
    return [sa.or_(Institution.nature != Nature.HOME_BASED, *by_name)]


def _text_matches(text: str, grams: list[str] | None, rare: bool) -> list:
    """Conditions: ``text`` is a substring of the name or address, in either language, compared
    lower-cased (as ``careapp.models.listing.normalised``).

    Grams are kept for filed institutions only and per column, so a two-character text is
    found exactly by its one bigram in ``institution_search_terms`` (an index lookup). A longer
    text needs its ``grams`` there (the rarest ones, see ``_text_plan``), then the substring
    test decides, on those candidates only. When the first gram is ``rare`` the database
    starts from its few holders. A one-character text has no bigram: the substring test runs
    on the rows in list order, which stops after a page's worth when the character is common
    and reads the whole register when it is rare (correct, slower).
    """
    if grams is None:
        grams = _spread(sorted(bigrams(normalised(text))), MAX_LOOKED_UP_GRAMS)
    if rare and grams:
        lookups = [_held_by_few(grams)]
    else:
        lookups = [_held(gram) for gram in grams]
    if len(text) == 2:
        return lookups
    pattern = f"%{_escape_like(text)}%"
    columns = (Institution.name, Institution.name_en, Institution.address, Institution.address_en)
    return [*lookups, sa.or_(*(column.ilike(pattern, escape="\\") for column in columns))]


def _held(gram: str):
    """A condition: the institution holds ``gram``."""
    return (
        sa.select(InstitutionSearchTerm.institution_id)
        .where(
            InstitutionSearchTerm.gram == gram,
            InstitutionSearchTerm.institution_id == Institution.id,
        )
        .exists()
    )


def _held_by_few(grams: list[str]):
    """A condition: the institution holds every one of ``grams``, the first of which few
    institutions hold.

    The grams' lists are intersected in the index of ``institution_search_terms`` (each is
    in id order), and on PostgreSQL the institutions left are read by primary key
    (``id = ANY(ARRAY(...))``): joined instead, it would read the whole register to hash it.
    """
    first, *others = grams
    holders = sa.select(InstitutionSearchTerm.institution_id).where(
        InstitutionSearchTerm.gram == first
    )
    for gram in others:
        other = sa.orm.aliased(InstitutionSearchTerm)
        holders = holders.join(
            other,
            sa.and_(
                other.institution_id == InstitutionSearchTerm.institution_id, other.gram == gram
            ),
        )
    if db.session.get_bind().dialect.name == "postgresql":
        return Institution.id == sa.any_(sa.func.array(holders.scalar_subquery()))
    return Institution.id.in_(holders)


def _text_plan(text: str) -> tuple[list[str], bool]:
    """The text's two rarest bigrams, and whether the rarest is rare enough to start from:
    held by at most ``RARE_GRAM_INSTITUTIONS`` and at most a fifth of the filed institutions
    (a commoner gram's holders are dense in the list order, where a walk finds a page soon).

    One small statement: ``search_grams`` keeps how many institutions hold each gram.
    """
    grams = bigrams(normalised(text))
    if not grams:
        return [], False
    filed = sa.select(sa.func.sum(Township.listed_institutions)).scalar_subquery()
    query = sa.select(SearchGram.gram, SearchGram.institutions, filed).where(
        SearchGram.gram.in_(grams)
    )
    rows = db.session.execute(query).all()
    held = {gram: count for gram, count, _filed in rows}
    register = int(rows[0][2] or 0) if rows else 0
    rarest = sorted(grams, key=lambda gram: (held.get(gram, 0), gram))
    fewest = held.get(rarest[0], 0)
    return rarest[:2], fewest <= min(RARE_GRAM_INSTITUTIONS, register // 5)


def _spread(items: list, most: int) -> list:
    """At most ``most`` of ``items``, first and last included, evenly spaced."""
    if len(items) <= most:
        return items
    step = (len(items) - 1) / (most - 1)
    return [items[round(index * step)] for index in range(most)]


def _bookable_for(criteria: SearchCriteria) -> sa.Select:
    """An open slot from today on, in a class whose national age band fits the child, of a
    care type whose offer takes the child: a place this family could actually book."""
    age = criteria.age_months
    fitting = [kind for kind in ClassKind if CLASS_STANDARDS[kind].accepts_age(age)]
    query = (
        sa.select(Slot.id)
        .join(CareClass, CareClass.id == Slot.care_class_id)
        .join(
            CareOffer,
            sa.and_(
                CareOffer.institution_id == Slot.institution_id,
                CareOffer.care_type == Slot.care_type,
            ),
        )
        .where(
            Slot.institution_id == Institution.id,
            Slot.status == SlotStatus.OPEN,
            CareClass.kind.in_(fitting),
            CareOffer.min_age_months <= age,
            CareOffer.max_age_months > age,
        )
    )
    if criteria.today is not None:
        query = query.where(Slot.on_date >= criteria.today)
    if criteria.care_type:
        query = query.where(Slot.care_type == criteria.care_type)
    return query


def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """The great-circle distance between two WGS-84 points, in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(lng2 - lng1) / 2
    a = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))


def _distance_km(lat: float, lng: float):
    """The institution's distance from (``lat``, ``lng``) as SQL: the same haversine."""
    half_dphi = sa.func.radians(Institution.latitude - _degrees(lat)) / 2
    half_dlambda = sa.func.radians(Institution.longitude - _degrees(lng)) / 2
    a = sa.func.sin(half_dphi) * sa.func.sin(half_dphi) + sa.func.cos(
        sa.func.radians(Institution.latitude)
    ) * math.cos(math.radians(lat)) * sa.func.sin(half_dlambda) * sa.func.sin(half_dlambda)
    return 2 * EARTH_RADIUS_KM * sa.func.asin(sa.func.sqrt(a))


def _degrees(value: float, rounding: str = "ROUND_HALF_EVEN"):
    """``value`` as a literal of the coordinates' type (Numeric(9, 6)), so that PostgreSQL
    compares the indexed column as it is instead of casting every row to float."""
    number = Decimal(repr(value)).quantize(Decimal("0.000001"), rounding=rounding)
    return sa.literal(number, Institution.latitude.type)


def bounding_box(lat: float, lng: float, radius_km: float) -> tuple[float, float, float, float]:
    """South, north, west and east edges (degrees) of a box holding every point within
    ``radius_km`` of (``lat``, ``lng``); generous near the poles (the whole longitude range)."""
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM) * 1.001
    south, north = max(-90.0, lat - dlat), min(90.0, lat + dlat)
    widest = max(abs(south), abs(north))
    if widest >= 89.9:
        return south, north, -180.0, 180.0
    dlng = math.degrees(radius_km / (EARTH_RADIUS_KM * math.cos(math.radians(widest)))) * 1.001
    return south, north, max(-180.0, lng - dlng), min(180.0, lng + dlng)


def _within(criteria: SearchCriteria) -> list:
    """Conditions: inside the bounding box (the location index serves it), then within the
    radius by the exact distance. A box across the antimeridian is clipped: no institution
    on the register lies there."""
    lat, lng = criteria.origin
    south, north, west, east = bounding_box(lat, lng, criteria.radius_km)
    return [
        Institution.latitude.between(_degrees(south, ROUND_FLOOR), _degrees(north, ROUND_CEILING)),
        Institution.longitude.between(_degrees(west, ROUND_FLOOR), _degrees(east, ROUND_CEILING)),
        _distance_km(lat, lng) <= criteria.radius_km,
    ]


def _free_window(criteria: SearchCriteria) -> tuple[date, date]:
    """The days a free place counts on: ``FREE_DAYS`` from the search's day."""
    first = criteria.today or clock.today()
    return first, first + timedelta(days=FREE_DAYS - 1)


def _free_candidate(criteria: SearchCriteria) -> sa.Select:
    """An open slot in the next ``FREE_DAYS`` days with places left in its inventory, of the
    care type and for the child's age when given: what a free place needs at least (the
    rooms' count, ``availability.next_free_places``, then decides)."""
    first, last = _free_window(criteria)
    if criteria.age_months is not None:
        query = _bookable_for(criteria)
    else:
        offered = sa.select(CareOffer.id).where(
            CareOffer.institution_id == Slot.institution_id,
            CareOffer.care_type == Slot.care_type,
        )
        query = sa.select(Slot.id).where(
            Slot.institution_id == Institution.id,
            Slot.status == SlotStatus.OPEN,
            offered.exists(),
        )
        if criteria.care_type:
            query = query.where(Slot.care_type == criteria.care_type)
    return query.join(Inventory, Inventory.id == Slot.inventory_id).where(
        Slot.on_date.between(first, last), Inventory.taken < Inventory.capacity
    )


def _soonest_free(criteria: SearchCriteria):
    """The first day with a free-place candidate, as SQL (the order of ``sort=free``)."""
    candidate = _free_candidate(criteria).with_only_columns(sa.func.min(Slot.on_date))
    return candidate.scalar_subquery()


def _escape_like(text: str) -> str:
    """``text`` with LIKE wildcards taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def count_matching(criteria: SearchCriteria) -> int:
    """How many public institutions match ``criteria``, exactly up to ``COUNT_LIMIT``; one
    more than the limit means more than that. One statement whatever the register's size."""
    return _total(criteria)[0]


def _total(
    criteria: SearchCriteria, grams: list[str] | None = None, rare: bool = False
) -> tuple[int, bool]:
    """The number of matches and whether it is exact (else more than ``COUNT_LIMIT`` matched).

    With no filter, or a township only, the townships' maintained counts answer exactly;
    any other filter counts the first ``COUNT_LIMIT + 1`` matches.
    """
    if set(criteria.active()) <= {"township", "region"}:
        listed = sa.select(sa.func.coalesce(sa.func.sum(Township.listed_institutions), 0))
        if criteria.township:
            listed = listed.where(Township.code == criteria.township)
        if criteria.region:
            listed = listed.where(Township.region_id == regions.region_id(criteria.region))
        return int(db.session.scalar(listed)), True
    matching = _matching(criteria, grams, rare)
    first = matching.with_only_columns(Institution.id).limit(COUNT_LIMIT + 1)
    counted = db.session.scalar(sa.select(sa.func.count()).select_from(first.subquery()))
    return counted, counted <= COUNT_LIMIT


def listing_key(institution: Institution) -> tuple[bool, str, int]:
    """An institution's place in the public order, as a cursor holds it."""
    return (institution.is_demonstration, institution.name, institution.id)


def parse_after(cursor: str | None, criteria: SearchCriteria | None = None) -> tuple | None:
    """The key of an ``after`` cursor; raises InvalidParameters for a bad one.

    In the register's order the key is a listing key; a search sorted by distance or free
    place is paged by position, and its cursor holds the sort and the next offset.
    """
    if not cursor:
        return None
    ordered_by = criteria.ordered_by if criteria is not None else None
    if ordered_by is not None:
        sort, offset = cursors.decode(cursor, SORTED_CURSOR_TYPES)
        if sort != ordered_by or not 0 <= offset <= MAX_ID:
            raise InvalidParameters({"after": cursors.BAD_CURSOR_MESSAGE})
        return sort, offset
    demonstration, name, institution_id = cursors.decode(cursor, (bool, str, int))
    if not 0 < institution_id <= MAX_ID or len(name) > 200:
        raise InvalidParameters({"after": cursors.BAD_CURSOR_MESSAGE})
    return demonstration, name, institution_id


def _after(key: tuple[bool, str, int], place: tuple = LISTING_PLACE):
    """A condition: the institution comes after ``key`` in the public order; ``place``: the
    columns holding its place (demonstration, name, id)."""
    demonstration, name, institution_id = key
    is_demonstration, by_name, by_id = place
    later = sa.tuple_(by_name, by_id) > sa.tuple_(
        sa.literal(name, Institution.name.type), sa.literal(institution_id)
    )
    if demonstration:
        return sa.or_(sa.and_(is_demonstration.is_(True), later), is_demonstration.is_(False))
    return sa.and_(is_demonstration.is_(False), later)


def search_institutions(
    criteria: SearchCriteria,
    page: int,
    per_page: int,
    after: tuple | None = None,
) -> Page:
    """One page of public institutions matching ``criteria``, with township and offers loaded.

    ``after`` (a key from ``parse_after``) continues after that institution instead of
    counting pages: in the register's order the database then reads only the page's rows
    however deep it is. Two statements; two more with ``free`` (the availability check).
    """
    grams, rare = _text_plan(criteria.q) if criteria.q else (None, False)
    total, exact = _total(criteria, grams, rare)
    if criteria.ordered_by is not None:
        offset = after[1] if after is not None else (page - 1) * per_page
        rows, distances = ([], {})
        if total:
            rows, distances = _sorted_rows(criteria, grams, rare, offset, per_page)
        items, more = rows[:per_page], len(rows) > per_page
        following = cursors.encode((criteria.ordered_by, offset + per_page)) if more else None
    else:
        rows = _listed_rows(criteria, grams, rare, page, per_page, after) if total else []
        items, more, distances = rows[:per_page], len(rows) > per_page, {}
        following = cursors.encode(listing_key(items[-1])) if more else None
    free_places = None
    if criteria.wants_free:
        items, free_places = _confirm_free(criteria, items)
        if exact and page == 1 and after is None and not more:
            total = len(items)
    return Page(
        items,
        min(total, COUNT_LIMIT) if not exact else total,
        page,
        per_page,
        exact,
        more,
        following,
        distances if criteria.origin else None,
        free_places,
    )


def _listed_rows(criteria, grams, rare, page: int, per_page: int, after) -> list[Institution]:
    """A page and one more of the matches in the register's order (by listing key or page).

    A text whose rarest gram is ``rare`` walks that gram's holders in the public order (their
    terms keep it) and stops after the page: it never reads every holder to sort them. The
    text itself decides, not the other grams: looked up too, they would make the database
    expect few matches and read them all to sort them.
    """
    if rare and grams:
        holder = sa.orm.aliased(InstitutionSearchTerm)
        held = sa.and_(holder.institution_id == Institution.id, holder.gram == grams[0])
        query = _matching(criteria, grams=[]).join(holder, held)
        place = (holder.is_demonstration, holder.name, holder.institution_id)
    else:
        query, place = _matching(criteria, grams, rare), LISTING_PLACE
    if after is not None:
        query = query.where(_after(after, place))
    else:
        query = query.offset((page - 1) * per_page)
    query = (
        query.options(joinedload(Institution.township), joinedload(Institution.offers))
        .order_by(*in_listing_order(place))
        .limit(per_page + 1)
    )
    return list(db.session.scalars(query).unique())


def _sorted_rows(
    criteria, grams, rare, offset: int, per_page: int
) -> tuple[list[Institution], dict[int, float]]:
    """A page and one more of the matches, nearest first or soonest free place first (then
    nearest, then by name and id), from ``offset``; with each one's distance in km."""
    query = _matching(criteria, grams, rare)
    order: list = []
    if criteria.ordered_by == "free":
        order.append(_soonest_free(criteria))
    distance = _distance_km(*criteria.origin) if criteria.origin else sa.null()
    if criteria.origin:
        order.append(distance)
    query = (
        query.add_columns(distance.label("distance_km"))
        .options(joinedload(Institution.township), joinedload(Institution.offers))
        .order_by(*order, Institution.name, Institution.id)
        .offset(offset)
        .limit(per_page + 1)
    )
    rows = db.session.execute(query).unique().all()
    distances = {
        institution.id: (
            public_distance_km(criteria.origin, institution)
            if institution.nature == Nature.HOME_BASED
            else float(distance)
        )
        for institution, distance in rows
        if distance is not None
    }
    return [row[0] for row in rows], distances


def _confirm_free(
    criteria: SearchCriteria, items: list[Institution]
) -> tuple[list[Institution], dict]:
    """The institutions that have a free place in the window by the availability the
    booking counts with (the SQL filter only knows the inventories), with that place."""
    first, last = _free_window(criteria)
    wanted = availability.Wanted(criteria.care_type, criteria.age_months, clock.local_now())
    found = availability.next_free_places(items, first, wanted, days=FREE_DAYS)
    kept = [item for item in items if found.get(item.id) is not None]
    return kept, {item.id: found[item.id] for item in kept}


def get_public_institution(institution_id: int) -> Institution | None:
    """A filed institution with everything its public page shows, or None."""
    query = (
        publicly_listed()
        .where(Institution.id == institution_id)
        .options(
            joinedload(Institution.township),
            selectinload(Institution.offers),
            selectinload(Institution.classes),
            selectinload(Institution.events),
        )
    )
    return db.session.scalars(query).first()


def townships_with_counts(region: Region | None = None) -> list[tuple[Township, int]]:
    """Every township (of ``region``) in register order with its number of public
    institutions (kept counts)."""
    query = sa.select(Township).order_by(Township.region_id, Township.position, Township.id)
    if region is not None:
        query = query.where(Township.region_id == region.id)
    return [(township, township.listed_institutions) for township in db.session.scalars(query)]


@dataclass(frozen=True)
class NearPlace:
    """A place of a region to search near without the phone's position."""

    code: str
    name: str
    name_en: str | None
    latitude: float
    longitude: float

    def name_for(self, language: str) -> str:
        """The place's name in ``language`` where one exists."""
        return self.name_en if language == "en" and self.name_en else self.name


def near_places(region: Region | None, townships: list[Township] | None = None) -> list[NearPlace]:
    """The places of ``region`` a family may search near, in the region's order: its
    communities and villages (社区/村), or, for a region that has no list of them, its
    townships with a known centre (``townships``: the region's, when the caller has read
    them; else one statement). None without a region."""
    if region is None:
        return []
    communities = community_points(region)
    if communities:
        return [
            NearPlace(code, name, name_en, float(latitude), float(longitude))
            for code, name, name_en, latitude, longitude in communities
        ]
    if townships is None:
        query = sa.select(Township).where(Township.region_id == region.id)
        townships = list(db.session.scalars(query))
    return [
        NearPlace(t.code, t.name, t.name_en, float(t.latitude), float(t.longitude))
        for t in sorted(townships, key=lambda t: (t.position, t.id))
        if t.latitude is not None and t.longitude is not None
    ]


def place_origin(places: list[NearPlace], code: str) -> tuple[float, float] | None:
    """The position of the place with ``code`` among ``places``, or None."""
    for place in places:
        if place.code == code:
            return place.latitude, place.longitude
    return None
