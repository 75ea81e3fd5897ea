"""Who the demo institutions are: township, nature, status, name and USCC, the same on every run.

Everything here is independent of the day the demo is loaded; ``institutions`` turns the
identities into dated records.
"""

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from stdnum.cn import uscc as uscc_check

from careapp.demo.catalog import (
    BRANDS,
    CENTRE_SUFFIXES,
    PRIVATE_KINDERGARTENS,
    PUBLIC_CENTRES,
    PUBLIC_KINDERGARTENS,
    Bilingual,
)
from careapp.demo.regions import RegionData, TownshipData
from careapp.models import Authority, Nature, Status
from careapp.validators import organisation_code_check

SEED = "careapp-demo"

#: Relative share of each nature among a region's institutions.
NATURE_WEIGHTS: dict[Nature, int] = {
    Nature.PUBLIC: 12,
    Nature.INCLUSIVE: 25,
    Nature.PRIVATE: 20,
    Nature.EMPLOYER: 10,
    Nature.KINDERGARTEN_CLASS: 16,
    Nature.HOME_BASED: 17,
}

#: How many institutions of a region are in each state that is never public.
UNFILED_COUNTS: dict[Status, int] = {
    Status.DRAFT: 2,
    Status.UNDER_REVIEW: 3,
    Status.RETURNED: 2,
    Status.REJECTED: 2,
}
DEREGISTERED_COUNT = 3
#: Filed institutions per demonstration institution.
INSTITUTIONS_PER_DEMONSTRATION = 14
#: Natures that get recognised as demonstration institutions.
DEMONSTRATION_NATURES = (Nature.PUBLIC, Nature.INCLUSIVE, Nature.KINDERGARTEN_CLASS)
#: Filings are spread over this many days before the demo is loaded, oldest first.
FILING_WINDOW_DAYS = (60, 3 * 365)
#: Share of institutions without an English name, to exercise the Chinese fallback.
NO_ENGLISH_NAME_SHARE = 0.15
MAX_NAMING_ATTEMPTS = 200

#: USCC registration prefixes (authority digit, entity type digit) by nature.
USCC_PREFIXES: dict[Nature, tuple[str, ...]] = {
    Nature.PUBLIC: ("12",),
    Nature.INCLUSIVE: ("52", "52", "91"),
    Nature.PRIVATE: ("91", "91", "52"),
    Nature.EMPLOYER: ("52", "91"),
    Nature.KINDERGARTEN_CLASS: ("52", "12"),
    Nature.HOME_BASED: ("92",),
}
#: The authority a USCC's first character stands for.
AUTHORITIES: dict[str, Authority] = {
    "1": Authority.STAFFING_OFFICE,
    "5": Authority.CIVIL_AFFAIRS,
    "9": Authority.MARKET_REGULATION,
}
#: How recent organisation codes start, by authority digit (MA: market, MJ: civil affairs).
ORG_CODE_PREFIXES: dict[str, str] = {"1": "", "5": "MJ", "9": "MA"}
ORG_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@dataclass(frozen=True)
class Naming:
    """An institution's names and who runs it."""

    name: str
    name_en: str
    #: The brand, company or kindergarten behind it, as descriptions mention it.
    sponsor: Bilingual
    #: What must not repeat within a region: the name, or for staff nurseries the company.
    unique_key: str


@dataclass(frozen=True)
class Identity:
    """The day-independent facts of one demo institution."""

    index: int
    township: TownshipData
    nature: Nature
    status: Status
    #: Running number of its filing, for institutions filed at some time.
    filing_sequence: int | None
    filed_days_ago: int | None
    is_demonstration: bool
    name: str
    name_en: str | None
    sponsor: Bilingual
    uscc: str
    authority: Authority


def rng_for(region_code: str, *parts: object) -> random.Random:
    """A random generator seeded by the demo, the region and ``parts``; stable across runs."""
    return random.Random(":".join([SEED, region_code, *map(str, parts)]))


def apportion(total: int, weights: Sequence[float], minimum: int = 0) -> list[int]:
    """Split ``total`` into whole shares in proportion to ``weights``, each at least ``minimum``."""
    rest = total - minimum * len(weights)
    quotas = [rest * weight / sum(weights) for weight in weights]
    shares = [int(quota) for quota in quotas]
    by_remainder = sorted(range(len(weights)), key=lambda i: shares[i] - quotas[i])
    for i in by_remainder[: rest - sum(shares)]:
        shares[i] += 1
    return [minimum + share for share in shares]


def plan_identities(region: RegionData) -> list[Identity]:
    """Every demo institution of ``region``, in township order."""
    rng = rng_for(region.code, "register")
    townships = _township_slots(region)
    natures = _nature_slots(region.institution_count, rng)
    statuses, sequences = _status_slots(townships, rng)
    demonstrations = _demonstration_slots(natures, statuses, rng)
    days_ago = _filing_days_ago(sequences, rng)
    used: set[str] = set()
    identities = []
    for i, township in enumerate(townships):
        # Each institution draws from its own generator, and its USCC first, so that the
        # USCC (the natural key) stays put whatever happens to the names of the others.
        own_rng = rng_for(region.code, i, "identity")
        prefix = own_rng.choice(USCC_PREFIXES[natures[i]])
        uscc = make_uscc(prefix, region.division_code, own_rng)
        has_english_name = own_rng.random() >= NO_ENGLISH_NAME_SHARE
        naming = _unused_naming(region, township, natures[i], prefix, own_rng, used)
        identities.append(
            Identity(
                index=i,
                township=township,
                nature=natures[i],
                status=statuses[i],
                filing_sequence=sequences[i],
                filed_days_ago=days_ago[i],
                is_demonstration=i in demonstrations,
                name=naming.name,
                name_en=naming.name_en if has_english_name else None,
                sponsor=naming.sponsor,
                uscc=uscc,
                # The kindergarten's own registrar; the education bureau supervises, it does
                # not register (003 item 20).
                authority=AUTHORITIES[prefix[0]],
            )
        )
    return identities


def _township_slots(region: RegionData) -> list[TownshipData]:
    """The township of each institution: at least one each, the rest by population."""
    counts = apportion(
        region.institution_count, [t.population for t in region.townships], minimum=1
    )
    return [t for t, count in zip(region.townships, counts, strict=True) for _ in range(count)]


def _nature_slots(total: int, rng: random.Random) -> list[Nature]:
    """The nature of each institution, in the shares of NATURE_WEIGHTS, shuffled."""
    counts = apportion(total, list(NATURE_WEIGHTS.values()))
    natures = [n for n, count in zip(NATURE_WEIGHTS, counts, strict=True) for _ in range(count)]
    rng.shuffle(natures)
    return natures


def _status_slots(
    townships: list[TownshipData], rng: random.Random
) -> tuple[list[Status], list[int | None]]:
    """Each institution's status and filing sequence.

    The first institution of every township stays filed; deregistered ones come from the
    older half of the filings, so that they were open for a while.
    """
    firsts = {townships.index(t) for t in townships}
    statuses = [Status.FILED] * len(townships)
    others = [i for i in range(len(townships)) if i not in firsts]
    unfiled = [status for status, count in UNFILED_COUNTS.items() for _ in range(count)]
    for i, status in zip(rng.sample(others, len(unfiled)), unfiled, strict=True):
        statuses[i] = status
    ever_filed = [i for i, status in enumerate(statuses) if status == Status.FILED]
    rng.shuffle(ever_filed)
    sequences: list[int | None] = [None] * len(townships)
    for number, i in enumerate(ever_filed, start=1):
        sequences[i] = number
    older = [i for i in ever_filed[: len(ever_filed) // 2] if i not in firsts]
    for i in rng.sample(older, DEREGISTERED_COUNT):
        statuses[i] = Status.DEREGISTERED
    return statuses, sequences


def _demonstration_slots(
    natures: list[Nature], statuses: list[Status], rng: random.Random
) -> set[int]:
    """The filed institutions recognised as demonstration institutions (示范)."""
    candidates = [
        i
        for i, (nature, status) in enumerate(zip(natures, statuses, strict=True))
        if status == Status.FILED and nature in DEMONSTRATION_NATURES
    ]
    wanted = max(2, statuses.count(Status.FILED) // INSTITUTIONS_PER_DEMONSTRATION)
    return set(rng.sample(candidates, min(wanted, len(candidates))))


def _filing_days_ago(sequences: list[int | None], rng: random.Random) -> list[int | None]:
    """How long before loading each filing happened: evenly spread, in sequence order."""
    filed = max((s for s in sequences if s is not None), default=1)
    newest, oldest = FILING_WINDOW_DAYS
    step = (oldest - newest) / filed
    return [
        None if s is None else oldest - int((s - 1) * step) - rng.randrange(max(1, int(step)))
        for s in sequences
    ]


def make_uscc(prefix: str, division_code: str, rng: random.Random) -> str:
    """A valid USCC: registration prefix, division code, organisation code, check character."""
    org_prefix = ORG_CODE_PREFIXES[prefix[0]]
    chars = ORG_CODE_CHARS if org_prefix else "0123456789"
    body = org_prefix + "".join(rng.choice(chars) for _ in range(8 - len(org_prefix)))
    partial = prefix + division_code + body + organisation_code_check(body)
    return partial + uscc_check.calc_check_digit(partial)


Namer = Callable[[RegionData, TownshipData, Nature, str, random.Random], Naming]


def _unused_naming(
    region: RegionData,
    township: TownshipData,
    nature: Nature,
    prefix: str,
    rng: random.Random,
    used: set[str],
) -> Naming:
    """A naming for ``nature`` whose unique key is not in ``used`` yet; records it there."""
    for _ in range(MAX_NAMING_ATTEMPTS):
        naming = NAMERS[nature](region, township, nature, prefix, rng)
        if naming.unique_key not in used:
            used.add(naming.unique_key)
            return naming
    raise RuntimeError(f"The demo data has too few names for {nature} in {township.code}")


def _public_naming(
    region: RegionData, township: TownshipData, nature: Nature, prefix: str, rng: random.Random
) -> Naming:
    """A public centre named after its township, e.g. 晋江市青阳街道社区托育服务中心."""
    centre, centre_en = rng.choice(PUBLIC_CENTRES)
    name = f"{region.name}{township.name}{centre}"
    name_en = f"{region.name_en} {township.short_name_en} {centre_en}"
    return Naming(name, name_en, (township.name, township.name_en), name)


def _brand_naming(
    region: RegionData, township: TownshipData, nature: Nature, prefix: str, rng: random.Random
) -> Naming:
    """A private or inclusive centre with a brand, e.g. 晋江市青阳小橡树托育中心."""
    brand, brand_en = rng.choice(BRANDS)
    suffix, suffix_en = rng.choice(CENTRE_SUFFIXES[nature])
    name = f"{region.name}{township.short_name}{brand}{suffix}"
    name_en = f"{region.name_en} {township.short_name_en} {brand_en} {suffix_en}"
    return Naming(name, name_en, (brand, brand_en), name)


def _employer_naming(
    region: RegionData, township: TownshipData, nature: Nature, prefix: str, rng: random.Random
) -> Naming:
    """A staff nursery named after its company, e.g. 陈埭镇宏泰鞋业职工托育园."""
    company, company_en = rng.choice(region.employers)
    name = f"{township.name}{company}职工托育园"
    name_en = f"{company_en} Staff Nursery, {township.short_name_en}"
    return Naming(name, name_en, (company, company_en), company)


def _kindergarten_naming(
    region: RegionData, township: TownshipData, nature: Nature, prefix: str, rng: random.Random
) -> Naming:
    """A kindergarten toddler class, e.g. 安海镇爱心幼儿园托班; public ones have public names."""
    choices = PUBLIC_KINDERGARTENS if prefix.startswith("1") else PRIVATE_KINDERGARTENS
    kindergarten, kindergarten_en = rng.choice(choices)
    sponsor = (f"{township.name}{kindergarten}", f"{township.short_name_en} {kindergarten_en}")
    name = f"{sponsor[0]}幼儿园托班"
    return Naming(name, f"{sponsor[1]} Kindergarten Toddler Class", sponsor, name)


def _home_naming(
    region: RegionData, township: TownshipData, nature: Nature, prefix: str, rng: random.Random
) -> Naming:
    """A home-based care point, e.g. 磁灶镇阳光家庭托育点."""
    brand, brand_en = rng.choice(BRANDS)
    name = f"{township.name}{brand}家庭托育点"
    name_en = f"{brand_en} Home Childcare, {township.short_name_en}"
    return Naming(name, name_en, (brand, brand_en), name)


NAMERS: dict[Nature, Namer] = {
    Nature.PUBLIC: _public_naming,
    Nature.INCLUSIVE: _brand_naming,
    Nature.PRIVATE: _brand_naming,
    Nature.EMPLOYER: _employer_naming,
    Nature.KINDERGARTEN_CLASS: _kindergarten_naming,
    Nature.HOME_BASED: _home_naming,
}
