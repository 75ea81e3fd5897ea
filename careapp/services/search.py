"""Search of the public register: one place decides what matches and how it is paged."""

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from careapp.extensions import db
from careapp.models import (
    CLASS_STANDARDS,
    CareClass,
    CareOffer,
    CareType,
    ClassKind,
    Institution,
    InstitutionSearchTerm,
    Nature,
    Region,
    SearchGram,
    Slot,
    SlotStatus,
    Township,
    publicly_listed,
)
from careapp.models.institution import LISTING_ORDER
from careapp.models.listing import bigrams, normalised
from careapp.services import cursors, regions
from careapp.services.errors import InvalidParameters
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
#: The largest id a cursor may carry (PostgreSQL's integer).
MAX_ID = 2**31 - 1


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

    def active(self) -> dict[str, object]:
        """The criteria that narrow the search, by name."""
        return {
            name: value
            for name, value in asdict(self).items()
            if value is not None and name != "today"
        }

    def without(self, name: str) -> "SearchCriteria":
        """The same criteria with ``name`` dropped."""
        return replace(self, **{name: None})


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
    args: Mapping[str, str], today: date, region_codes: set[str] | None = None
) -> SearchCriteria:
    """Search criteria from query parameters; raises InvalidParameters with a message per field.

    A ``birth_date`` is turned into the child's age in months on ``today``. ``region_codes``
    spares a query when the caller has the regions already.
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
    if reader.errors:
        raise InvalidParameters(reader.errors)
    return SearchCriteria(township, care_type, age_months, nature, q, today, region)


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
    if criteria.age_months is not None:
        query = query.where(_bookable_for(criteria).exists())
    elif criteria.care_type:
        offer = sa.select(CareOffer.id).where(
            CareOffer.institution_id == Institution.id, CareOffer.care_type == criteria.care_type
        )
        query = query.where(offer.exists())
    if criteria.q:
        query = query.where(*_text_matches(criteria.q, grams, rare))
    return query


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


def parse_after(cursor: str | None) -> tuple[bool, str, int] | None:
    """The listing key of an ``after`` cursor; raises InvalidParameters for a bad one."""
    if not cursor:
        return None
    demonstration, name, institution_id = cursors.decode(cursor, (bool, str, int))
    if not 0 < institution_id <= MAX_ID or len(name) > 200:
        raise InvalidParameters({"after": cursors.BAD_CURSOR_MESSAGE})
    return demonstration, name, institution_id


def _after(key: tuple[bool, str, int]):
    """A condition: the institution comes after ``key`` in the public order."""
    demonstration, name, institution_id = key
    later = sa.tuple_(Institution.name, Institution.id) > sa.tuple_(
        sa.literal(name, Institution.name.type), sa.literal(institution_id)
    )
    if demonstration:
        return sa.or_(
            sa.and_(Institution.is_demonstration.is_(True), later),
            Institution.is_demonstration.is_(False),
        )
    return sa.and_(Institution.is_demonstration.is_(False), later)


def search_institutions(
    criteria: SearchCriteria,
    page: int,
    per_page: int,
    after: tuple[bool, str, int] | None = None,
) -> Page:
    """One page of public institutions matching ``criteria``, with township and offers loaded.

    ``after`` (a listing key) continues after that institution instead of counting pages:
    the database then reads only the page's rows however deep it is. Two statements.
    """
    grams, rare = _text_plan(criteria.q) if criteria.q else (None, False)
    total, exact = _total(criteria, grams, rare)
    query = _matching(criteria, grams, rare)
    if after is not None:
        query = query.where(_after(after))
    else:
        query = query.offset((page - 1) * per_page)
    # Ordering by an expression the listing index cannot serve makes the database find a rare
    # text's few institutions first and sort them, instead of walking the whole order.
    order = (
        (LISTING_ORDER[0], Institution.name.concat(""), Institution.id) if rare else LISTING_ORDER
    )
    query = (
        query.options(joinedload(Institution.township), joinedload(Institution.offers))
        .order_by(*order)
        .limit(per_page + 1)
    )
    rows = list(db.session.scalars(query).unique()) if total else []
    items, more = rows[:per_page], len(rows) > per_page
    following = cursors.encode(listing_key(items[-1])) if more else None
    return Page(
        items,
        min(total, COUNT_LIMIT) if not exact else total,
        page,
        per_page,
        exact,
        more,
        following,
    )


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
