"""Demo data: the townships of a region and a register of plausible institutions.

``seed_demo`` is idempotent: regions, townships and institutions are found by their natural
keys (codes and USCCs), and whatever already exists is left alone.
"""

from collections import Counter
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from careapp.demo.communities import fill_region_bounds, seed_communities
from careapp.demo.indicators import seed_indicators
from careapp.demo.institutions import seed_institutions
from careapp.demo.regions import CENSUS_DAY, REGIONS, RegionData
from careapp.extensions import db
from careapp.models import Region, Township

__all__ = ["REGIONS", "seed_demo"]


def seed_demo(region_code: str, today: date) -> dict[str, int]:
    """Add the demo data of ``region_code`` missing from the session; flush, never commit.

    Dates are relative to ``today``. Returns how many records of each kind were created.
    """
    data = REGIONS.get(region_code)
    if data is None:
        known = ", ".join(sorted(REGIONS))
        raise ValueError(f"There is no demo region {region_code!r}; known regions: {known}")
    counts: Counter[str] = Counter(regions=0, townships=0)
    region = _seed_region(data, counts)
    fill_region_bounds(region, data)
    townships = _seed_townships(region, data, counts)
    counts.update(seed_communities(region, data, townships))
    counts.update(seed_institutions(data, townships, today))
    counts["indicator rows"] += seed_indicators(region, data, townships)
    db.session.flush()
    return dict(counts)


def _seed_region(data: RegionData, counts: Counter[str]) -> Region:
    """The region with ``data.code``, added to the session if it is missing."""
    region = db.session.scalar(sa.select(Region).where(Region.code == data.code))
    if region is None:
        region = Region(
            code=data.code, name=data.name, name_en=data.name_en, filing_prefix=data.filing_prefix
        )
        db.session.add(region)
        counts["regions"] += 1
    return region


def _seed_townships(region: Region, data: RegionData, counts: Counter[str]) -> dict[str, Township]:
    """The region's townships by code, adding the missing ones in official order."""
    codes = [township.code for township in data.townships]
    existing = {
        township.code: township
        for township in db.session.scalars(sa.select(Township).where(Township.code.in_(codes)))
    }
    for position, township in enumerate(data.townships):
        if township.code in existing:
            continue
        existing[township.code] = new = Township(
            region=region,
            code=township.code,
            name=township.name,
            name_en=township.name_en,
            kind=township.kind,
            population=township.population,
            population_as_of=CENSUS_DAY,
            min_institutions=township.min_institutions,
            position=position,
            latitude=Decimal(f"{township.latitude:.6f}"),
            longitude=Decimal(f"{township.longitude:.6f}"),
        )
        db.session.add(new)
        counts["townships"] += 1
    return existing
