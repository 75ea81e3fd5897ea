"""Links that open an institution's address in the phone's map app (no map script here)."""

from urllib.parse import quote

from flask import Flask

#: A Chinese map's public search page; linked to only, nothing is loaded from it.
MAP_SEARCH_URL = "https://uri.amap.com/search?keyword={keyword}"


def _place_text(institution, language: str) -> str:
    return f"{institution.address_for(language)} {institution.name_for(language)}".strip()


def geo_uri(institution, language: str = "zh_CN") -> str:
    """A ``geo:`` URI (RFC 5870) the phone's map app opens: at the institution's coordinates
    when known, else a search for its address."""
    label = quote(institution.name_for(language), safe="")
    if institution.latitude is not None and institution.longitude is not None:
        position = f"{institution.latitude:f},{institution.longitude:f}"
        return f"geo:{position}?q={position}({label})"
    return f"geo:0,0?q={quote(_place_text(institution, language), safe='')}"


def map_search_url(institution, language: str = "zh_CN") -> str:
    """The map website's search for the institution's address and name."""
    return MAP_SEARCH_URL.format(keyword=quote(_place_text(institution, language), safe=""))


def tel_uri(phone: str) -> str:
    """A ``tel:`` URI of a telephone number as written (spaces and dashes dropped)."""
    return "tel:" + "".join(c for c in phone if c.isdigit() or c == "+")


def init_app(app: Flask) -> None:
    """Expose the link helpers to templates."""
    app.jinja_env.globals.update(geo_uri=geo_uri, map_search_url=map_search_url, tel_uri=tel_uri)
