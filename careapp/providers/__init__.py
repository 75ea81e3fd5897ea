"""Pages for parenting guidance providers."""

from flask import Blueprint

from careapp.access import guard_blueprint
from careapp.models import Role

bp = Blueprint("providers", __name__, url_prefix="/providers")
guard_blueprint(bp, Role.PROVIDER)

from careapp.providers import views  # noqa: E402, F401
