"""Institutions' locations: what is typed, what is stored, what is public; and communities.

Locations are stored in WGS-84. A point copied from a Chinese map app is GCJ-02 and is
converted on the way in (careapp.geo). A home-based care point (家庭托育点) is somebody's
flat: everything public shows it only at community precision (``public_location``).
"""

import re
from decimal import ROUND_HALF_EVEN, Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from careapp import geo
from careapp.extensions import db
from careapp.i18n import current_language
from careapp.models import Community, Nature, Region, Township
from careapp.models.base import StrEnum, localized

#: A home-based point is published in the middle of its cell of a grid this many metres wide.
HOME_BASED_PRECISION_M = 200
#: Stored coordinates keep six decimals (about 0.1 m).
STORED = Decimal("0.000001")
#: Public coordinates of a snapped point keep five decimals (about 1 m), enough for a cell.
SNAPPED = Decimal("0.00001")


class CoordinateSystem(StrEnum):
    """How the typed coordinates were measured."""

    WGS84 = "wgs84"  # a GPS receiver, the phone's own position
    GCJ02 = "gcj02"  # copied from 高德 or 腾讯 maps


COORDINATE_SYSTEM_LABELS = {
    CoordinateSystem.GCJ02: _l("GCJ-02 (copied from a Chinese map app: 高德/腾讯)"),
    CoordinateSystem.WGS84: _l("WGS-84 (GPS)"),
}


def stored_coordinate(degrees: float | Decimal) -> Decimal:
    """A coordinate as the register stores it: six decimals."""
    return Decimal(str(degrees)).quantize(STORED, rounding=ROUND_HALF_EVEN)


def to_wgs84(latitude: Decimal, longitude: Decimal, system: str) -> tuple[Decimal, Decimal]:
    """The stored WGS-84 point of typed coordinates in ``system``."""
    if system == CoordinateSystem.GCJ02:
        latitude, longitude = geo.gcj02_to_wgs84(float(latitude), float(longitude))
    return stored_coordinate(latitude), stored_coordinate(longitude)


def region_of_township(township_id: int | None) -> Region | None:
    """The region a township belongs to, or None for an unknown township."""
    if township_id is None:
        return None
    return db.session.scalar(
        sa.select(Region)
        .join(Township, Township.region_id == Region.id)
        .where(Township.id == township_id)
    )


def outside_region_message(region: Region, latitude: Decimal, longitude: Decimal) -> str | None:
    """Why a WGS-84 point cannot be the location of an institution in ``region``, or None."""
    if region.contains(latitude, longitude):
        return None
    return _l(
        "This point lies outside %(region)s. Check the numbers, the order (latitude first) and"
        " the coordinate system.",
        region=region.name_for(current_language()),
    )


def public_location(institution) -> tuple[Decimal, Decimal] | None:
    """The point anybody may see: exact, except a home-based point's, which is snapped to the
    centre of its 200 m grid cell (never the flat). ``institution`` may be a plain row."""
    latitude, longitude = institution.latitude, institution.longitude
    if latitude is None or longitude is None:
        return None
    if institution.nature != Nature.HOME_BASED:
        return Decimal(latitude), Decimal(longitude)
    snapped = geo.snap_to_grid(float(latitude), float(longitude), HOME_BASED_PRECISION_M)
    return tuple(Decimal(str(value)).quantize(SNAPPED) for value in snapped)


def public_point(institution) -> tuple[float, float] | None:
    """``public_location`` as two floats, or None: for drawing and measuring."""
    point = public_location(institution)
    return None if point is None else (float(point[0]), float(point[1]))


def public_coordinates(institution) -> tuple[float | None, float | None]:
    """``public_location`` as two floats (or two Nones), for JSON and CSV."""
    return public_point(institution) or (None, None)


def public_distance_km(origin: tuple[float, float], institution) -> float | None:
    """Kilometres from ``origin`` to the institution's public point: a distance shown to
    anybody must not measure the flat of a home-based point."""
    point = public_point(institution)
    if point is None:
        return None
    return geo.distance_m(*origin, *point) / 1000


# --- communities and villages (社区/村) ----------------------------------------------------


def communities_of(region: Region | int) -> list[Community]:
    """The region's communities and villages in official order: by township, then position."""
    return list(db.session.scalars(_in_official_order(region, Community)))


def community_points(region: Region | int) -> list[sa.Row]:
    """Code, names and position of the region's communities and villages in official order,
    as plain rows: every search page lists them, and objects cost more to build."""
    columns = (Community.code, Community.name, Community.name_en)
    return db.session.execute(
        _in_official_order(region, *columns, Community.latitude, Community.longitude)
    ).all()


def _in_official_order(region: Region | int, *columns) -> sa.Select:
    """``columns`` of the region's communities and villages, by township, then position."""
    region_id = region if isinstance(region, int) else region.id
    return (
        sa.select(*columns)
        .join(Township, Township.id == Community.township_id)
        .where(Community.region_id == region_id)
        .order_by(Township.position, Community.position, Community.id)
    )


def community_by_code(code: str | None) -> Community | None:
    """The community or village with this statistical code, or None."""
    if not code:
        return None
    return db.session.scalar(sa.select(Community).where(Community.code == code.strip()))


# --- addresses ----------------------------------------------------------------------------

#: Where a Chinese address passes from its road or estate to a door, building or flat: a
#: number in digits, or a Chinese numeral before 号/幢/栋/座/单元/楼/层/室/户.
_CHINESE_DOOR = re.compile(
    r"[0-9０-９#＃]|[一二三四五六七八九十百零〇两]+\s*(?:号|幢|栋|座|单元|楼|层|室|户)"
)
#: A part of an English address that names a door, building or flat.
_ENGLISH_DOOR_PART = re.compile(
    r"\b(?:room|rm|flat|apt|apartment|unit|suite|building|bldg|block|blk|floor)\b", re.I
)
#: Words of a Chinese address that only a door, building or flat has.
_CHINESE_DOOR_WORD = re.compile("幢|栋|单元|室|楼|层|户|座|号")
#: Characters left dangling at the end of a cut address.
_DANGLING = " \u3000,，、;；:：-—–·()（）"


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= character <= "\u9fff" for character in text)


def _is_door_word(word: str) -> bool:
    """A house number or its sign: ``88``, ``12B``, ``#5``, ``No.``."""
    return any(c.isdigit() or c in "#＃" for c in word) or word.lower().rstrip(".") == "no"


def community_address(address: str) -> str:
    """``address`` cut to its road, estate or community: no door, building or flat number.
    ``…青阳街道阳光花园 3 幢 601 室`` → ``…青阳街道阳光花园``; ``Room 601, Building 3, 88 Xinhua
    Road, Qingyang`` → ``Xinhua Road, Qingyang``. May be empty."""
    address = (address or "").strip()
    if _has_chinese(address):
        door = _CHINESE_DOOR.search(address)
        return (address[: door.start()] if door else address).rstrip(_DANGLING)
    kept = []
    for part in address.split(","):
        if _ENGLISH_DOOR_PART.search(part):
            continue
        words = [word for word in part.split() if not _is_door_word(word)]
        if words:
            kept.append(" ".join(words))
    return ", ".join(kept)


def names_a_door(text: str) -> bool:
    """Whether ``text`` holds part of a door, building or flat (a number, 幢, Room…): what the
    public address of a home-based point leaves out."""
    text = text.strip()
    return community_address(text) != text or bool(_CHINESE_DOOR_WORD.search(text))


def public_address(institution, language: str) -> str:
    """The address anybody may see, in ``language`` where one exists: in full, except a
    home-based point's, which stops at the road or community (never the flat), in step with
    ``public_location``. ``institution`` may be a plain row with the township's names."""
    address = localized(institution.address, institution.address_en, language)
    if institution.nature != Nature.HOME_BASED:
        return address
    return community_address(address) or _township_name(institution, language)


def _township_name(institution, language: str) -> str:
    """The township's name of an institution or of a plain row carrying ``township_name``."""
    township = getattr(institution, "township", None)
    if township is not None:
        return township.name_for(language)
    return localized(institution.township_name, institution.township_name_en, language)
