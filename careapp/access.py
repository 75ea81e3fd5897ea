"""Who may open what: role guards for audience blueprints and safe redirect targets."""

import re
from urllib.parse import unquote, urlsplit

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user

from careapp.models import Role

#: Where each role lands after signing in.
ROLE_HOMES = {
    Role.PARENT: "parents.home",
    Role.INSTITUTION: "institutions.home",
    Role.PROVIDER: "providers.home",
    Role.REGULATOR: "regulator.home",
}

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site, else None.

    Refuses scheme and protocol-relative URLs (``//host``, ``/\\host``, ``\\\\host``),
    backslashes and control characters, also when they are percent-encoded.
    """
    if not target:
        return None
    decoded = target
    for _ in range(3):
        decoded = unquote(decoded)
    for candidate in (target, decoded):
        if not candidate.startswith("/") or candidate.startswith("//"):
            return None
        if "\\" in candidate or _CONTROL_CHARACTERS.search(candidate):
            return None
        parts = urlsplit(candidate)
        if parts.scheme or parts.netloc:
            return None
    return target


def or_404(found):
    """``found``, or a 404 answer when it is None (not there, or not the user's)."""
    if found is None:
        abort(404)
    return found


def home_for(user) -> str:
    """The URL of ``user``'s own start page."""
    return url_for(ROLE_HOMES[Role(user.role)])


def guard_blueprint(blueprint: Blueprint, role: Role) -> None:
    """Let only signed-in accounts of ``role`` into every view of ``blueprint``."""

    @blueprint.before_request
    def require_role():
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if current_user.role != role:
            abort(403)
        return None
