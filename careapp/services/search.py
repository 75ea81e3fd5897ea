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
    Nature,
    Slot,
    SlotStatus,
    Township,
    publicly_listed,
)
from careapp.services.errors import InvalidParameters
from careapp.services.params import Page, ParamReader

#: Ages above this are typing mistakes rather than children.
MAX_AGE_MONTHS = 600


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
    args: Mapping[str, str], today: date, township_codes: set[str] | None = None
) -> SearchCriteria:
    """Search criteria from query parameters; raises InvalidParameters with a message per field.

    A ``birth_date`` is turned into the child's age in months on ``today``. ``township_codes``
    spares a query when the caller has the townships already.
    """
    reader = ParamReader(args)
    codes = known_township_codes() if township_codes is None else township_codes
    township = reader.choice("township", codes, _l("There is no such township."))
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
    return SearchCriteria(township, care_type, age_months, nature, q, today)


def _matching(criteria: SearchCriteria) -> sa.Select:
    """Public institutions matching ``criteria``, unordered."""
    query = publicly_listed()
    if criteria.township:
        query = query.join(Institution.township).where(Township.code == criteria.township)
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
        pattern = f"%{_escape_like(criteria.q)}%"
        query = query.where(
            sa.or_(
                *(
                    column.ilike(pattern, escape="\\")
                    for column in (
                        Institution.name,
                        Institution.name_en,
                        Institution.address,
                        Institution.address_en,
                    )
                )
            )
        )
    return query


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
    """How many public institutions match ``criteria``."""
    subquery = _matching(criteria).with_only_columns(Institution.id).subquery()
    return db.session.scalar(sa.select(sa.func.count()).select_from(subquery))


def search_institutions(criteria: SearchCriteria, page: int, per_page: int) -> Page:
    """One page of public institutions matching ``criteria``, with township and offers loaded."""
    total = count_matching(criteria)
    query = (
        _matching(criteria)
        .options(joinedload(Institution.township), joinedload(Institution.offers))
        .order_by(Institution.is_demonstration.desc(), Institution.name, Institution.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    items = list(db.session.scalars(query).unique()) if total else []
    return Page(items, total, page, per_page)


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


def townships_with_counts() -> list[tuple[Township, int]]:
    """Every township in register order with its number of public institutions."""
    listed = publicly_listed().with_only_columns(Institution.township_id).subquery()
    count = sa.func.count(listed.c.township_id)
    query = (
        sa.select(Township, count)
        .outerjoin(listed, listed.c.township_id == Township.id)
        .group_by(Township.id)
        .order_by(Township.region_id, Township.position, Township.id)
    )
    return [(township, total) for township, total in db.session.execute(query)]
