"""Pages for institution staff: their profile, classes and filing."""

from flask import Blueprint

from careapp.access import guard_blueprint
from careapp.models import Role

bp = Blueprint("institutions", __name__, url_prefix="/institutions")
guard_blueprint(bp, Role.INSTITUTION)

from careapp.institutions import (  # noqa: E402, F401
    documents,
    follow_up,
    inspections,
    places,
    staff,
    views,
)
