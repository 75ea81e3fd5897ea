"""The region map: filed institutions and township centres projected onto a plain SVG drawing.

No tiles and nothing from another host: each township is a labelled circle around the centre
of its public institutions, each institution a dot linking to its page. Past ``DOT_LIMIT``
institutions the map draws each township's count instead of every dot, so the page stays small.
"""

import math
from dataclasses import dataclass

import sqlalchemy as sa

from careapp.extensions import db
from careapp.models import Institution, Nature, Region, Township, publicly_listed
from careapp.services.locations import public_point

#: Above this many public institutions in a region, townships show counts instead of dots.
DOT_LIMIT = 150
#: Drawing width in SVG units; the height follows the region's shape within these bounds.
WIDTH = 640
MIN_HEIGHT, MAX_HEIGHT = 320, 720
MARGIN = 40


@dataclass(frozen=True)
class Dot:
    """An institution on the map."""

    institution: Institution
    x: float
    y: float


@dataclass(frozen=True)
class Area:
    """A township on the map: its circle and how many public institutions it holds."""

    township: Township
    count: int
    x: float | None
    y: float | None
    r: float


@dataclass(frozen=True)
class RegionMap:
    """Everything ``/map`` draws for one region."""

    width: int
    height: int
    areas: list[Area]
    dots: list[Dot]
    #: Institutions by township id, for the list under the map (empty when counts are drawn).
    listed: dict[int, list[Institution]]
    counts_only: bool


class _Projection:
    """Equirectangular projection of a bounding box onto the drawing."""

    def __init__(self, points: list[tuple[float, float]]):
        lats = [lat for lat, _ in points] or [0.0]
        lngs = [lng for _, lng in points] or [0.0]
        self.south, north = min(lats), max(lats)
        self.west, east = min(lngs), max(lngs)
        self.x_scale = math.cos(math.radians((self.south + north) / 2))
        span_x = max((east - self.west) * self.x_scale, 1e-3)
        span_y = max(north - self.south, 1e-3)
        inner = WIDTH - 2 * MARGIN
        self.scale = min(inner / span_x, (MAX_HEIGHT - 2 * MARGIN) / span_y)
        self.height = int(min(MAX_HEIGHT, max(MIN_HEIGHT, span_y * self.scale + 2 * MARGIN)))
        self.x_offset = (WIDTH - span_x * self.scale) / 2
        self.y_offset = (self.height - span_y * self.scale) / 2

    def xy(self, lat: float, lng: float) -> tuple[float, float]:
        """Drawing coordinates of a point, north up."""
        x = self.x_offset + (lng - self.west) * self.x_scale * self.scale
        y = self.height - self.y_offset - (lat - self.south) * self.scale
        return round(x, 1), round(y, 1)


def _townships(region: Region) -> list[Township]:
    query = sa.select(Township).where(Township.region_id == region.id)
    return list(db.session.scalars(query.order_by(Township.position, Township.id)))


def _public_points(region: Region) -> list[Institution]:
    """The region's public institutions, with what the map and its list show."""
    query = (
        publicly_listed()
        .join(Township, Township.id == Institution.township_id)
        .where(Township.region_id == region.id)
        .order_by(Institution.name, Institution.id)
    )
    return list(db.session.scalars(query))


def _centres(region: Region) -> dict[int, tuple[float, float]]:
    """Each township's centre: the mean shown point of its public institutions (one query)."""
    home = Institution.nature == Nature.HOME_BASED

    def shown(column):
        return sa.case((home, sa.func.round(column * 500) / 500), else_=column)

    query = (
        publicly_listed()
        .with_only_columns(
            Institution.township_id,
            sa.func.avg(shown(Institution.latitude)),
            sa.func.avg(shown(Institution.longitude)),
        )
        .join(Township, Township.id == Institution.township_id)
        .where(Township.region_id == region.id, Institution.latitude.is_not(None))
        .where(Institution.longitude.is_not(None))
        .group_by(Institution.township_id)
    )
    return {row[0]: (float(row[1]), float(row[2])) for row in db.session.execute(query)}


def build(region: Region) -> RegionMap:
    """The map of ``region``: dots up to ``DOT_LIMIT`` public institutions, counts beyond."""
    townships = _townships(region)
    counts_only = sum(township.listed_institutions for township in townships) > DOT_LIMIT
    institutions = [] if counts_only else _public_points(region)
    if counts_only:
        centres = _centres(region)
    else:
        centres = _mean_points(institutions)
    points = {i.id: p for i in institutions if (p := public_point(i)) is not None}
    projection = _Projection([*points.values(), *centres.values()])
    listed: dict[int, list[Institution]] = {}
    for institution in institutions:
        listed.setdefault(institution.township_id, []).append(institution)
    areas = [_area(t, centres.get(t.id), projection, counts_only, listed) for t in townships]
    dots = [Dot(i, *projection.xy(*points[i.id])) for i in institutions if i.id in points]
    return RegionMap(WIDTH, projection.height, areas, dots, listed, counts_only)


def _mean_points(institutions: list[Institution]) -> dict[int, tuple[float, float]]:
    """Each township's centre from the shown points of its institutions."""
    sums: dict[int, list[float]] = {}
    for institution in institutions:
        point = public_point(institution)
        if point is not None:
            total = sums.setdefault(institution.township_id, [0.0, 0.0, 0])
            total[0], total[1], total[2] = total[0] + point[0], total[1] + point[1], total[2] + 1
    return {tid: (lat / n, lng / n) for tid, (lat, lng, n) in sums.items()}


def _area(township, centre, projection, counts_only, listed) -> Area:
    """A township's circle: larger with more institutions; no circle without a located one."""
    count = township.listed_institutions if counts_only else len(listed.get(township.id, []))
    if centre is None:
        return Area(township, count, None, None, 0)
    x, y = projection.xy(*centre)
    return Area(township, count, x, y, round(min(60, 18 + 6 * math.sqrt(count)), 1))
