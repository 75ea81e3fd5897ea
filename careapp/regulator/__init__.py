"""Pages for the county health bureau: the review queue, decisions and the register."""

from flask import Blueprint

from careapp.access import guard_blueprint
from careapp.models import Role

bp = Blueprint("regulator", __name__, url_prefix="/regulator")
guard_blueprint(bp, Role.REGULATOR)

from careapp.regulator import (  # noqa: E402, F401
    audit,
    bans,
    dashboard,
    inspections,
    providers,
    quality,
    reports,
    views,
)
