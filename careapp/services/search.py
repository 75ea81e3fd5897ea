"""Search of the public register: one place decides what matches and how it is paged."""

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from careapp.extensions import db
from careapp.models import CareOffer, CareType, Institution, Nature, Township, publicly_listed
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

    def active(self) -> dict[str, object]:
        """The criteria that narrow the search, by name."""
        return {name: value for name, value in asdict(self).items() if value is not None}

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


def parse_criteria(args: Mapping[str, str], today: date) -> SearchCriteria:
    """Search criteria from query parameters; raises InvalidParameters with a message per field.

    A ``birth_date`` is turned into the child's age in months on ``today``.
    """
    reader = ParamReader(args)
    township = reader.choice("township", known_township_codes(), _l("There is no such township."))
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
    return SearchCriteria(township, care_type, age_months, nature, q)


def _matching(criteria: SearchCriteria) -> sa.Select:
    """Public institutions matching ``criteria``, unordered."""
    query = publicly_listed()
    if criteria.township:
        query = query.join(Institution.township).where(Township.code == criteria.township)
    if criteria.nature:
        query = query.where(Institution.nature == criteria.nature)
    if criteria.care_type or criteria.age_months is not None:
        offer = sa.select(CareOffer.id).where(CareOffer.institution_id == Institution.id)
        if criteria.care_type:
            offer = offer.where(CareOffer.care_type == criteria.care_type)
        if criteria.age_months is not None:
            offer = offer.where(
                CareOffer.min_age_months <= criteria.age_months,
                CareOffer.max_age_months > criteria.age_months,
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
        .options(joinedload(Institution.township), selectinload(Institution.offers))
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
