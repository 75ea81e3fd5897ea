"""Pages anybody may open: search, institution pages and the public disclosure list."""

from flask import Blueprint

bp = Blueprint("public", __name__)

from careapp.public import (  # noqa: E402, F401
    open_data,
    privacy,
    region_map,
    reports,
    shortlist,
    statistics,
    views,
)
