"""The region map: a server-rendered SVG of townships and filed institutions."""

from flask import render_template, request

from careapp.public import bp
from careapp.services import region_map, regions


@bp.get("/map")
def map_page():
    """The chosen region's townships and filed institutions as a drawing and as a list."""
    every_region = regions.all_regions()
    region = regions.chosen_region(every_region, request.args.get("region"), None)
    drawn = region_map.build(region) if region is not None else None
    return render_template(
        "public/map.html",
        regions=every_region,
        region=region,
        drawn=drawn,
        dot_limit=region_map.DOT_LIMIT,
    )
