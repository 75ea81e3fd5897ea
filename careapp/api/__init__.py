"""The JSON API for other programs (``/api/v1``) and the health check (``/healthz``)."""

from flask import Blueprint

from careapp.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
health_bp = Blueprint("health", __name__)
csrf.exempt(bp)

from careapp.api import open_data, views  # noqa: E402, F401
