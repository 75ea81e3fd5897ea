"""The figures the bureau watches against its targets, per township and for a region.

Institutions and places count filed institutions only (``publicly_listed``), so the same
numbers can be published; the fill rate counts every slot of the region, because the care was
given even when an institution has since left the register. Filed institutions and places per
township are kept with the register (``careapp.models.listing``); every other figure is one
grouped query, whatever the size of the register.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from careapp.extensions import db
from careapp.models import (
    CareClass,
    CareType,
    Child,
    CourseRegistration,
    CourseSession,
    Institution,
    Inventory,
    Nature,
    Region,
    RegionTargets,
    RegisteredOperator,
    RegistrationStatus,
    Slot,
    SlotStatus,
    Status,
    Township,
    TownshipFamilies,
    publicly_listed,
)
from careapp.services import filing
from careapp.services.params import Page

#: The fill rate looks back over this many days, today included.
FILL_RATE_DAYS = 30
#: Families count as reached by a course attended within this many days.
REACH_DAYS = 365
#: Institutions that have applied for filing and are not deregistered.
APPLIED_STATUSES = (Status.UNDER_REVIEW, Status.RETURNED, Status.REJECTED, Status.FILED)
#: A newborn family has a child born within this many days.
NEWBORN_DAYS = 365

HUNDREDTH = Decimal("0.01")


def ratio(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    """``part / whole`` rounded half up to 4 places; ``None`` when there is no whole."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


class PlacesPer1000:
    """Places per 1,000 residents against a target, for a township or the whole region (the
    class that mixes it in has ``places``, ``population`` and ``target_places_per_1000``)."""

    @property
    def places_per_1000(self) -> Decimal | None:
        """Places per 1,000 residents, to two decimals; ``None`` without a population."""
        if not self.population:
            return None
        value = Decimal(self.places) * 1000 / Decimal(self.population)
        return value.quantize(HUNDREDTH, rounding=ROUND_HALF_UP)

    @property
    def meets_places_target(self) -> bool | None:
        """Whether the places reach the target; ``None`` without a population."""
        per_1000 = self.places_per_1000
        return None if per_1000 is None else per_1000 >= self.target_places_per_1000


@dataclass(frozen=True)
class TownshipFigures(PlacesPer1000):
    """One township's filed institutions and places against its targets."""

    township: Township
    filed_institutions: int
    places: int

    @property
    def population(self) -> int:
        """Residents, as the bureau last entered them."""
        return self.township.population

    @property
    def target_places_per_1000(self) -> Decimal:
        """The township's target of places per 1,000 residents."""
        return self.township.target_places_per_1000

    @property
    def min_institutions(self) -> int:
        """How many filed institutions the township should have at least."""
        return self.township.min_institutions

    @property
    def meets_minimum(self) -> bool:
        """Whether the township has its minimum of filed institutions."""
        return self.filed_institutions >= self.min_institutions

    @property
    def covered(self) -> bool:
        """Whether at least one filed institution serves the township."""
        return self.filed_institutions > 0


@dataclass(frozen=True)
class Measure:
    """A share with what it counts and, where one is set, the target it must reach."""

    part: int
    whole: int
    target: Decimal | None = None

    @property
    def share(self) -> Decimal | None:
        """``part / whole``; ``None`` when there is nothing to divide by."""
        return ratio(self.part, self.whole)

    @property
    def meets_target(self) -> bool | None:
        """Whether the share reaches the target; ``None`` without a target or a share."""
        if self.target is None or self.share is None:
            return None
        return self.share >= self.target


@dataclass(frozen=True)
class WaitingApplications:
    """Applications waiting for the bureau, against the answer limit."""

    count: int
    oldest_working_days: int
    overdue: int
    limit: int = filing.REVIEW_LIMIT_WORKING_DAYS


@dataclass(frozen=True)
class FillRate:
    """Places taken out of places offered in one care type's slots of the last 30 days."""

    care_type: CareType
    taken: int
    offered: int

    @property
    def share(self) -> Decimal | None:
        """The fill rate; ``None`` when nothing was offered."""
        return ratio(self.taken, self.offered)


@dataclass(frozen=True)
class RegionTotals(PlacesPer1000):
    """The region-wide figures the policies set targets for, read before any township's."""

    places: int
    population: int
    townships: int
    covered: int
    targets: RegionTargets

    @property
    def target_places_per_1000(self) -> Decimal:
        """The region's target (001 一, 002 一: 4.5 city-wide by 2025)."""
        return self.targets.places_per_1000

    @property
    def covered_townships(self) -> Measure:
        """Townships with a filed institution against the region's coverage target (000: 80%)."""
        return Measure(self.covered, self.townships, self.targets.covered_share)


@dataclass(frozen=True)
class GuidanceReach:
    """Families reached by guidance over every family of the area, as the bureau entered them."""

    #: Families with children under 3 reached, over all such families (001 一: 95%).
    families: Measure
    #: Newborn families reached, over all newborn families (002 (二): 50%).
    newborn_families: Measure
    #: The oldest date among the township figures; ``None`` when none is entered.
    as_of: date | None
    #: Townships with a figure entered, out of all.
    townships_entered: int


@dataclass(frozen=True)
class RegionFigures:
    """Everything on the bureau's dashboard for one region."""

    region: Region
    townships: list[TownshipFigures]
    totals: RegionTotals
    applied_share: Measure
    inclusive_places: Measure
    waiting: WaitingApplications
    fill_rates: list[FillRate]
    families_reached: Measure
    guidance: GuidanceReach
    certified_staff: Measure

    @property
    def covered_townships(self) -> Measure:
        """Townships with a filed institution against the region's coverage target."""
        return self.totals.covered_townships

    @property
    def places(self) -> int:
        """Places of every filed institution in the region."""
        return sum(row.places for row in self.townships)

    @property
    def filed_institutions(self) -> int:
        """Filed institutions in the region."""
        return sum(row.filed_institutions for row in self.townships)


def find_region(code: str | None) -> Region | None:
    """The region with ``code``; the first region when no code is given."""
    query = sa.select(Region).order_by(Region.code).limit(1)
    if code:
        query = query.where(Region.code == code)
    return db.session.scalar(query)


def _places_per_institution() -> sa.Subquery:
    """Each institution's places: the sum of its classes' capacities."""
    return (
        sa.select(CareClass.institution_id, sa.func.sum(CareClass.capacity).label("places"))
        .group_by(CareClass.institution_id)
        .subquery()
    )


def _filed_with_places() -> sa.Subquery:
    """Filed institutions with their township, nature and places (0 without classes)."""
    filed = publicly_listed().subquery()
    places = _places_per_institution()
    return (
        sa.select(
            filed.c.id,
            filed.c.township_id,
            filed.c.nature,
            sa.func.coalesce(places.c.places, 0).label("places"),
        )
        .outerjoin(places, places.c.institution_id == filed.c.id)
        .subquery()
    )


def township_figures(region: Region | None = None) -> list[TownshipFigures]:
    """Filed institutions and places of every township (of ``region``), in official order.

    Read from the counts the register keeps per township (careapp.models.listing): one small
    query whatever the register's size.
    """
    return _figures(_townships_of(region))


def township_figures_page(region: Region | None, page: int, per_page: int) -> Page:
    """One page of ``township_figures``: two small queries, however many townships."""
    townships = _townships_of(region)
    total = db.session.scalar(
        townships.with_only_columns(sa.func.count(Township.id)).order_by(None)
    )
    rows = _figures(townships.limit(per_page).offset((page - 1) * per_page))
    return Page(rows, total, page, per_page)


def _townships_of(region: Region | None) -> sa.Select:
    """The townships (of ``region``) in official order."""
    query = sa.select(Township).order_by(Township.region_id, Township.position, Township.id)
    if region is not None:
        query = query.where(Township.region_id == region.id)
    return query


def _figures(townships: sa.Select) -> list[TownshipFigures]:
    """The figures of ``townships``, from the counts the register keeps."""
    return [
        TownshipFigures(township, township.listed_institutions, township.listed_places)
        for township in db.session.scalars(townships)
    ]


def _in_region(region: Region):
    """A condition on ``Institution.township_id``: the township lies in ``region``."""
    townships = sa.select(Township.id).where(Township.region_id == region.id)
    return Institution.township_id.in_(townships)


def applied_count(region: Region) -> int:
    """Institutions of the region that have applied for filing and are not deregistered."""
    query = (
        sa.select(sa.func.count(Institution.id))
        .where(_in_region(region))
        .where(Institution.status.in_(APPLIED_STATUSES))
    )
    return int(db.session.scalar(query))


def region_targets(region: Region) -> RegionTargets:
    """The region's targets as the bureau set them, else the defaults (one small query)."""
    return db.session.get(RegionTargets, region.id) or RegionTargets.defaults_for(region)


def _applied_for_filing(uscc) -> sa.Exists:
    """An institution with code ``uscc`` has submitted an application (whatever came of it)."""
    return sa.exists().where(Institution.uscc == uscc).where(Institution.status != Status.DRAFT)


def applied_share(region: Region, targets: RegionTargets) -> Measure:
    """Operators on the registration authorities' list that applied for filing, out of the list.

    002 (四): "登记注册并开展托育的机构在卫生健康部门申请备案的比例不低于 70％" — the
    denominator is the authorities' list, not the applications received here.
    """
    query = sa.select(
        sa.func.count(RegisteredOperator.id),
        sa.func.count(sa.case((_applied_for_filing(RegisteredOperator.uscc), 1))),
    ).where(RegisteredOperator.region_id == region.id)
    listed, applied = db.session.execute(query).one()
    return Measure(int(applied), int(listed), targets.applied_share)


def operators_not_applied(region: Region) -> list[RegisteredOperator]:
    """Operators on the region's list with no application here, matched by USCC, by name."""
    query = (
        sa.select(RegisteredOperator)
        .where(RegisteredOperator.region_id == region.id)
        .where(~_applied_for_filing(RegisteredOperator.uscc))
        .order_by(RegisteredOperator.registered_on, RegisteredOperator.uscc)
    )
    return list(db.session.scalars(query))


def region_totals(
    region: Region, rows: list[TownshipFigures], targets: RegionTargets | None = None
) -> RegionTotals:
    """The region-wide figures from its townships' figures (no further query but the targets)."""
    return RegionTotals(
        places=sum(row.places for row in rows),
        population=sum(row.population for row in rows),
        townships=len(rows),
        covered=sum(1 for row in rows if row.covered),
        targets=targets or region_targets(region),
    )


def region_totals_of(region: Region) -> RegionTotals:
    """The region-wide figures in one grouped query over its townships' kept counts."""
    query = sa.select(
        sa.func.coalesce(sa.func.sum(Township.listed_places), 0),
        sa.func.coalesce(sa.func.sum(Township.population), 0),
        sa.func.count(Township.id),
        sa.func.count(sa.case((Township.listed_institutions > 0, 1))),
    ).where(Township.region_id == region.id)
    places, population, townships, covered = db.session.execute(query).one()
    return RegionTotals(
        int(places), int(population), int(townships), int(covered), region_targets(region)
    )


def inclusive_places(region: Region) -> Measure:
    """Places in inclusive (普惠) filed institutions out of all filed places of the region."""
    filed = _filed_with_places()
    in_region = filed.c.township_id.in_(
        sa.select(Township.id).where(Township.region_id == region.id)
    )
    query = sa.select(
        sa.func.coalesce(
            sa.func.sum(sa.case((filed.c.nature == Nature.INCLUSIVE, filed.c.places))), 0
        ),
        sa.func.coalesce(sa.func.sum(filed.c.places), 0),
    ).where(in_region)
    inclusive, total = db.session.execute(query).one()
    return Measure(int(inclusive), int(total))


def waiting_applications(region: Region, today: date) -> WaitingApplications:
    """Applications of the region under review, the longest wait and how many are overdue."""
    queue = [item for item in filing.review_queue() if item.township.region_id == region.id]
    waits = [filing.waiting_working_days(item, today) for item in queue]
    overdue = sum(1 for waited in waits if waited > filing.REVIEW_LIMIT_WORKING_DAYS)
    return WaitingApplications(len(queue), max(waits, default=0), overdue)


def fill_rates(region: Region, today: date) -> list[FillRate]:
    """Per care type, places taken out of places offered in slots of the last 30 days.

    A slot counts on its date (a standing place on its first day); cancelled slots do not count.
    """
    first = today - timedelta(days=FILL_RATE_DAYS - 1)
    query = (
        sa.select(Slot.care_type, sa.func.sum(Inventory.taken), sa.func.sum(Inventory.capacity))
        .join(Inventory, Inventory.id == Slot.inventory_id)
        .join(Institution, Institution.id == Slot.institution_id)
        .where(_in_region(region))
        .where(Slot.on_date.between(first, today))
        .where(Slot.status != SlotStatus.CANCELLED)
        .group_by(Slot.care_type)
    )
    found = {care_type: (taken, offered) for care_type, taken, offered in db.session.execute(query)}
    return [
        FillRate(care_type, *(int(value) for value in found.get(care_type, (0, 0))))
        for care_type in CareType
    ]


def families_reached(now: datetime) -> Measure:
    """Families with a course attended in the last 12 months, out of the families known here
    (those with a child registered, and those reached). ``now`` is the site's local time, the
    frame course sessions are stored in."""
    since = now - timedelta(days=REACH_DAYS)
    attended = (
        sa.select(CourseRegistration.parent_id.label("parent_id"))
        .join(CourseSession, CourseSession.id == CourseRegistration.session_id)
        .where(CourseRegistration.status == RegistrationStatus.ATTENDED)
        .where(CourseSession.starts_at.between(since, now))
    )
    known = sa.union(sa.select(Child.parent_id.label("parent_id")), attended).subquery()
    reached = attended.subquery()
    part = db.session.scalar(sa.select(sa.func.count(sa.distinct(reached.c.parent_id))))
    whole = db.session.scalar(sa.select(sa.func.count()).select_from(known))
    return Measure(int(part), int(whole))


def certified_staff(region: Region, targets: RegionTargets) -> Measure:
    """Certified staff of the region's filed institutions, out of their staff, as declared.

    003 二 sets 持证率 80% for the district as a whole, not for each institution.
    """
    filed = publicly_listed().subquery()
    query = sa.select(
        sa.func.coalesce(sa.func.sum(filed.c.certified_staff_count), 0),
        sa.func.coalesce(sa.func.sum(filed.c.staff_count), 0),
    ).where(filed.c.township_id.in_(sa.select(Township.id).where(Township.region_id == region.id)))
    certified, staff = db.session.execute(query).one()
    return Measure(int(certified), int(staff), targets.certified_staff_share)


def newborn_families_reached(now: datetime) -> int:
    """Families with a course attended in the last 12 months and a child born in them."""
    since = now - timedelta(days=REACH_DAYS)
    born_since = (now - timedelta(days=NEWBORN_DAYS)).date()
    query = (
        sa.select(sa.func.count(sa.distinct(CourseRegistration.parent_id)))
        .join(CourseSession, CourseSession.id == CourseRegistration.session_id)
        .join(Child, Child.parent_id == CourseRegistration.parent_id)
        .where(CourseRegistration.status == RegistrationStatus.ATTENDED)
        .where(CourseSession.starts_at.between(since, now))
        .where(Child.birth_date >= born_since)
    )
    return int(db.session.scalar(query))


def guidance_reach(
    region: Region, targets: RegionTargets, reached: Measure, newborns_reached: int
) -> GuidanceReach:
    """Reach over every family of the area (001 一 科学育儿指导率, 002 (二) 新生儿家庭 50％),
    the denominators being the figures the bureau entered per township."""
    query = sa.select(
        sa.func.coalesce(sa.func.sum(TownshipFamilies.families_under_3), 0),
        sa.func.coalesce(sa.func.sum(TownshipFamilies.newborn_families), 0),
        sa.func.min(TownshipFamilies.as_of),
        sa.func.count(TownshipFamilies.township_id),
    ).where(
        TownshipFamilies.township_id.in_(
            sa.select(Township.id).where(Township.region_id == region.id)
        )
    )
    families, newborns, as_of, entered = db.session.execute(query).one()
    return GuidanceReach(
        families=Measure(reached.part, int(families), targets.guidance_share),
        newborn_families=Measure(newborns_reached, int(newborns), targets.newborn_guidance_share),
        as_of=as_of,
        townships_entered=int(entered),
    )


def region_figures(region: Region, today: date, now: datetime) -> RegionFigures:
    """The whole dashboard of ``region`` on ``today``."""
    townships = township_figures(region)
    targets = region_targets(region)
    reached = families_reached(now)
    return RegionFigures(
        region=region,
        townships=townships,
        totals=region_totals(region, townships, targets),
        applied_share=applied_share(region, targets),
        inclusive_places=inclusive_places(region),
        waiting=waiting_applications(region, today),
        fill_rates=fill_rates(region, today),
        families_reached=reached,
        guidance=guidance_reach(region, targets, reached, newborn_families_reached(now)),
        certified_staff=certified_staff(region, targets),
    )


def shared_target(rows: list[TownshipFigures]) -> Decimal | None:
    """The places target when every township has the same one, else ``None``."""
    targets = {row.target_places_per_1000 for row in rows}
    return targets.pop() if len(targets) == 1 else None


#: Township table columns a reader may sort by, and the value each sorts on.
TOWNSHIP_SORTS = {
    "township": lambda row: (row.township.region_id, row.township.position),
    "filed": lambda row: row.filed_institutions,
    "places": lambda row: row.places,
    "population": lambda row: row.population,
    "per_1000": lambda row: (row.places_per_1000 is not None, row.places_per_1000 or 0),
    "minimum": lambda row: (row.meets_minimum, row.filed_institutions - row.min_institutions),
}


def sorted_townships(
    rows: list[TownshipFigures], sort: str | None, descending: bool
) -> list[TownshipFigures]:
    """``rows`` sorted by a column of ``TOWNSHIP_SORTS`` (official order for an unknown one)."""
    key = TOWNSHIP_SORTS.get(sort or "", TOWNSHIP_SORTS["township"])
    return sorted(rows, key=key, reverse=descending)
