"""Links that open an institution's address in the phone's map app (no map script here)."""

from urllib.parse import quote

from flask import Flask

from careapp.services.locations import public_address, public_location

#: A Chinese map's public search page; linked to only, nothing is loaded from it.
MAP_SEARCH_URL = "https://uri.amap.com/search?keyword={keyword}"
#: The same map's marker page; ``coordinate=wgs84`` makes it convert the stored point itself.
MAP_MARKER_URL = (
    "https://uri.amap.com/marker?position={longitude},{latitude}&name={name}&coordinate=wgs84"
)


def _place_text(institution, language: str) -> str:
    return f"{public_address(institution, language)} {institution.name_for(language)}".strip()


def geo_uri(institution, language: str = "zh_CN") -> str:
    """A ``geo:`` URI (RFC 5870) the phone's map app opens: at the institution's public point
    (a home-based point's is only its 200 m cell) when known, else a search for its address."""
    point = public_location(institution)
    if point is not None:
        return exact_geo_uri(*point, institution.name_for(language))
    return f"geo:0,0?q={quote(_place_text(institution, language), safe='')}"


def exact_geo_uri(latitude, longitude, label: str) -> str:
    """A ``geo:`` URI of a WGS-84 point with a label; for the public, pass a public point."""
    position = f"{latitude:f},{longitude:f}"
    return f"geo:{position}?q={position}({quote(label, safe='')})"


def map_marker_url(latitude, longitude, label: str) -> str:
    """The map website's marker at a WGS-84 point (for the regulator: the exact point)."""
    return MAP_MARKER_URL.format(
        latitude=f"{latitude:f}", longitude=f"{longitude:f}", name=quote(label, safe="")
    )


def map_search_url(institution, language: str = "zh_CN") -> str:
    """The map website's search for the institution's address and name."""
    return MAP_SEARCH_URL.format(keyword=quote(_place_text(institution, language), safe=""))


def tel_uri(phone: str) -> str:
    """A ``tel:`` URI of a telephone number as written (spaces and dashes dropped)."""
    return "tel:" + "".join(c for c in phone if c.isdigit() or c == "+")


def init_app(app: Flask) -> None:
    """Expose the link helpers to templates."""
    app.jinja_env.globals.update(
        geo_uri=geo_uri,
        exact_geo_uri=exact_geo_uri,
        map_marker_url=map_marker_url,
        map_search_url=map_search_url,
        tel_uri=tel_uri,
        public_location=public_location,
        public_address=public_address,
    )
