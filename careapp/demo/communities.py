"""Demo communities and villages (社区/村): made-up names at plausible points near each
township's centre, marked ``is_demo``; a real deployment loads the official list instead."""

import random
from collections import Counter
from decimal import Decimal

import sqlalchemy as sa

from careapp.demo.regions import RegionData, TownshipData
from careapp.extensions import db
from careapp.models import Community, CommunityKind, Region, Township, TownshipKind

#: Name stems (Chinese, pinyin) of the demo communities and villages.
STEMS = (
    ("东华", "Donghua"),
    ("南山", "Nanshan"),
    ("西林", "Xilin"),
    ("北岭", "Beiling"),
    ("新华", "Xinhua"),
    ("和平", "Heping"),
    ("光明", "Guangming"),
    ("文化", "Wenhua"),
    ("繁荣", "Fanrong"),
    ("阳光", "Yangguang"),
    ("桂花", "Guihua"),
    ("湖滨", "Hubin"),
    ("后埔", "Houpu"),
    ("前坑", "Qiankeng"),
    ("上郭", "Shangguo"),
    ("洋埭", "Yangdai"),
    ("塘头", "Tangtou"),
    ("溪边", "Xibian"),
    ("石龟", "Shigui"),
    ("埔锦", "Pujin"),
    ("梧林", "Wulin"),
    ("蔡厝", "Caicuo"),
    ("大埔", "Dapu"),
    ("仑上", "Lunshang"),
)
#: Communities per sub-district; a town has one community (its seat) and villages.
PER_TOWNSHIP = 4
#: How far from the township's centre a community lies, in degrees (about 2 km at most).
SPREAD = 0.018
#: Margin of a demo region's box around its townships' centres, in degrees (about 9 km):
#: townships reach well beyond their centres, and their institutions a little beyond that.
REGION_MARGIN = Decimal("0.08")


def region_bounds(data: RegionData) -> dict[str, Decimal]:
    """The demo region's box: its townships' centres with ``REGION_MARGIN`` around them."""
    latitudes = [Decimal(str(t.latitude)) for t in data.townships]
    longitudes = [Decimal(str(t.longitude)) for t in data.townships]
    return {
        "min_latitude": min(latitudes) - REGION_MARGIN,
        "max_latitude": max(latitudes) + REGION_MARGIN,
        "min_longitude": min(longitudes) - REGION_MARGIN,
        "max_longitude": max(longitudes) + REGION_MARGIN,
    }


def fill_region_bounds(region: Region, data: RegionData) -> None:
    """Give the demo region its box when it has none yet."""
    if region.has_bounds:
        return
    for name, value in region_bounds(data).items():
        setattr(region, name, value)


def _kinds(township: TownshipData) -> list[CommunityKind]:
    if township.kind == TownshipKind.SUBDISTRICT:
        return [CommunityKind.COMMUNITY] * PER_TOWNSHIP
    return [CommunityKind.COMMUNITY] + [CommunityKind.VILLAGE] * (PER_TOWNSHIP - 1)


def _code(region: RegionData, position: int, kind: CommunityKind, number: int) -> str:
    """A 12-digit code shaped like the statistical one: division, township, then 0xx for a
    community and 2xx for a village."""
    first = 1 if kind == CommunityKind.COMMUNITY else 201
    return f"{region.division_code}{position + 1:03d}{first + number:03d}"


def demo_communities(region: RegionData, position: int, township: TownshipData) -> list[dict]:
    """The demo communities of one township as model values (the same on every run)."""
    rng = random.Random(f"communities-{township.code}")
    stems = rng.sample(STEMS, PER_TOWNSHIP)
    rows, numbers = [], Counter()
    for index, (kind, (stem, stem_en)) in enumerate(zip(_kinds(township), stems, strict=True)):
        suffix, suffix_en = (
            ("社区", "Community") if kind == CommunityKind.COMMUNITY else ("村", "Village")
        )
        rows.append(
            {
                "code": _code(region, position, kind, numbers[kind]),
                "name": stem + suffix,
                "name_en": f"{stem_en} {suffix_en}",
                "kind": kind,
                "latitude": Decimal(f"{township.latitude + rng.uniform(-SPREAD, SPREAD):.6f}"),
                "longitude": Decimal(f"{township.longitude + rng.uniform(-SPREAD, SPREAD):.6f}"),
                "position": index,
                "is_demo": True,
            }
        )
        numbers[kind] += 1
    return rows


def seed_communities(region: Region, data: RegionData, townships: dict[str, Township]) -> Counter:
    """Add the demo communities missing from the region; returns how many were created."""
    existing = set(
        db.session.scalars(
            sa.select(Community.code).where(Community.code.like(f"{data.division_code}%"))
        )
    )
    counts: Counter[str] = Counter(communities=0)
    for position, township in enumerate(data.townships):
        for row in demo_communities(data, position, township):
            if row["code"] in existing:
                continue
            db.session.add(Community(region=region, township=townships[township.code], **row))
            counts["communities"] += 1
    return counts
