"""The public statistics page: filed institutions and places per township, aggregates only."""

from flask import abort, render_template, request

from careapp.labels import label
from careapp.models import Region
from careapp.public import bp
from careapp.services import regions, statistics


def current_region() -> Region:
    """The region named by ``?region=``, else the first; 404 when there is none."""
    region = statistics.find_region(request.args.get("region"))
    if region is None:
        abort(404)
    return region


def township_sort() -> tuple[str, bool]:
    """The township table's sort column and direction from the query string."""
    sort = request.args.get("sort", "")
    if sort not in statistics.TOWNSHIP_SORTS:
        sort = "township"
    return sort, request.args.get("order") == "desc"


@bp.get("/statistics")
def statistics_page():
    """Every township's filed institutions and places against the places target."""
    region = current_region()
    rows = statistics.township_figures(region)
    sort, descending = township_sort()
    return render_template(
        "public/statistics.html",
        region=region,
        regions=regions.all_regions(),
        rows=rows,
        totals=statistics.region_totals(region, rows),
        townships=statistics.sorted_townships(rows, sort, descending),
        covered=sum(1 for row in rows if row.covered),
        chart_target=statistics.shared_target(rows),
        sort=sort,
        descending=descending,
    )


@bp.app_template_filter("percent")
def percent(share) -> str:
    """A share such as 0.8814 written as a percentage with one decimal: 88.1%."""
    return f"{share * 100:.1f}%"


@bp.app_template_filter("chart_row")
def chart_row(row: statistics.TownshipFigures, language: str) -> tuple:
    """A township as a bar of the places chart: name, places per 1,000, target met."""
    value = None if row.places_per_1000 is None else float(row.places_per_1000)
    return row.township.name_for(language), value, row.meets_places_target


@bp.app_template_filter("fill_rate_row")
def fill_rate_row(rate: statistics.FillRate) -> tuple:
    """A care type as a bar of the fill-rate chart: name, per cent taken (none if nothing
    was offered), and no target."""
    value = None if rate.share is None else round(float(rate.share) * 100, 1)
    return label("care_type", rate.care_type), value, None
