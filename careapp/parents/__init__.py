"""Pages for parents and other family members."""

from flask import Blueprint

from careapp.access import guard_blueprint
from careapp.models import Role

bp = Blueprint("parents", __name__, url_prefix="/parents")
guard_blueprint(bp, Role.PARENT)

from careapp.parents import courses, family, privacy, views  # noqa: E402, F401
