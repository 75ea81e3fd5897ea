"""Demo denominators of the indicators: region targets, families per township, and the
registration authorities' list of operators (most have applied here, some have not)."""

import random
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from careapp.demo.identities import make_uscc
from careapp.demo.regions import CENSUS_DAY, RegionData
from careapp.extensions import db
from careapp.models import (
    Authority,
    Institution,
    Region,
    RegionTargets,
    RegisteredOperator,
    Status,
    Township,
    TownshipFamilies,
)

#: Families with a child under 3, and newborn families, per resident (about 1% births a year).
FAMILIES_PER_RESIDENT = Decimal("0.028")
NEWBORN_FAMILIES_PER_RESIDENT = Decimal("0.0095")
#: Yong'an's own targets (001 一: 覆盖面 90%, 科学育儿指导率 95%).
REGION_TARGETS = {"yongan": {"covered_share": Decimal("0.9"), "guidance_share": Decimal("0.95")}}
#: Operators on the list that have not applied, for each four that have.
NOT_APPLIED_PER_FOUR = 1
OPERATOR_NAMES = ("%s童心托育服务有限公司", "%s小太阳婴幼儿照护中心", "%s启蒙托育服务部")


def seed_indicators(region: Region, data: RegionData, townships: dict[str, Township]) -> int:
    """Add the region's targets, families and operators list where missing; rows added."""
    db.session.flush()
    added = _seed_targets(region) + _seed_families(townships.values())
    return added + _seed_operators(region, data, list(townships.values()))


def _seed_targets(region: Region) -> int:
    if db.session.get(RegionTargets, region.id) is not None:
        return 0
    targets = RegionTargets.defaults_for(region)
    for name, value in REGION_TARGETS.get(region.code, {}).items():
        setattr(targets, name, value)
    db.session.add(targets)
    return 1


def _seed_families(townships) -> int:
    added = 0
    for township in townships:
        if db.session.get(TownshipFamilies, township.id) is not None:
            continue
        population = Decimal(township.population)
        db.session.add(
            TownshipFamilies(
                township_id=township.id,
                families_under_3=int(population * FAMILIES_PER_RESIDENT),
                newborn_families=int(population * NEWBORN_FAMILIES_PER_RESIDENT),
                as_of=CENSUS_DAY,
            )
        )
        added += 1
    return added


def _seed_operators(region: Region, data: RegionData, townships: list[Township]) -> int:
    """The authorities' list: every institution that applied, and some that did not."""
    exists = sa.select(RegisteredOperator.id).where(RegisteredOperator.region_id == region.id)
    if db.session.scalar(exists.limit(1)) is not None:
        return 0
    applied = db.session.scalars(
        sa.select(Institution)
        .where(Institution.township_id.in_([township.id for township in townships]))
        .where(Institution.status.not_in((Status.DRAFT,)))
    ).all()
    rng = random.Random(f"operators-{region.code}")
    # One operator may run several institutions: the list holds it once.
    by_code = {institution.uscc: institution for institution in applied}
    rows = [
        RegisteredOperator(
            region_id=region.id,
            uscc=institution.uscc,
            name=institution.name,
            authority=institution.authority,
            registered_on=institution.registered_on or CENSUS_DAY,
        )
        for institution in by_code.values()
    ]
    for number in range(len(applied) * NOT_APPLIED_PER_FOUR // 4):
        township = townships[number % len(townships)]
        rows.append(
            RegisteredOperator(
                region_id=region.id,
                uscc=make_uscc("92", data.division_code, rng),
                name=OPERATOR_NAMES[number % len(OPERATOR_NAMES)] % township.name,
                authority=Authority.MARKET_REGULATION,
                registered_on=date(2023, 1, 1) + timedelta(days=rng.randrange(700)),
            )
        )
    db.session.add_all(rows)
    return len(rows)
