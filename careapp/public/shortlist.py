"""The shortlist (starred institutions) and the side-by-side comparison.

The star button also sits on pages kept for anonymous visitors (search, institution pages),
where no per-visitor CSRF token may be rendered: a kept page is served to everyone. Its POST is
therefore accepted either with a valid CSRF token or as a same-origin submission (the browser's
``Origin`` / ``Sec-Fetch-Site`` headers, which a foreign site cannot forge); anything else is
shown a confirmation form carrying a fresh token.
"""

from datetime import timedelta
from decimal import Decimal

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf

from careapp import clock
from careapp.access import safe_next
from careapp.extensions import csrf, db
from careapp.public import bp
from careapp.services import availability, search
from careapp.services import shortlist as shortlist_service
from careapp.services.locations import public_distance_km

#: Institutions compared side by side at most.
MAX_COMPARED = 4
#: Days ahead the comparison looks for a free place.
COMPARE_DAYS = 7


def _private(response_body, status: int = 200):
    """A page about this visitor's own list: never stored by browsers or proxies."""
    return response_body, status, {"Cache-Control": "no-store", "Vary": "Cookie"}


def _same_origin() -> bool:
    """Whether the browser says the form was submitted from this site."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site != "same-origin":
        return False
    origin = request.headers.get("Origin")
    return origin is not None and origin.rstrip("/") == request.host_url.rstrip("/")


def _token_valid() -> bool:
    if not current_app.config["WTF_CSRF_ENABLED"]:
        return True
    try:
        validate_csrf(request.form.get("csrf_token"))
    except (CSRFError, ValueError, Exception):  # noqa: BLE001 - any refusal means "not valid"
        return False
    return True


@bp.get("/shortlist")
def shortlist_page():
    """The visitor's starred filed institutions, to open or choose for comparison."""
    institutions = shortlist_service.shortlisted_institutions(shortlist_service.starred_ids())
    body = render_template(
        "public/shortlist.html",
        institutions=institutions,
        most=shortlist_service.MAX_ENTRIES,
        max_compared=MAX_COMPARED,
    )
    return _private(body)


@bp.post("/shortlist/<id:institution_id>")
@csrf.exempt
def shortlist_star(institution_id: int):
    """Star (``action=add``) or unstar (``action=remove``) an institution, then go back."""
    action = request.form.get("action", "add")
    target = safe_next(request.form.get("next")) or url_for("public.shortlist_page")
    found = search.get_public_institution(institution_id)
    if action not in ("add", "remove") or (found is None and action == "add"):
        abort(404)
    if not (_token_valid() or _same_origin()):
        body = render_template(
            "public/shortlist_confirm.html", institution=found, action=action, target=target
        )
        return _private(body, 400)
    if action == "remove":
        shortlist_service.remove(institution_id)
        flash(_("Removed from your shortlist."), "success")
    else:
        try:
            shortlist_service.add(institution_id)
            flash(_("Saved to your shortlist."), "success")
        except shortlist_service.ShortlistFull:
            db.session.rollback()
            message = _(
                "Your shortlist holds %(num)d institutions at most. Remove one first.",
                num=shortlist_service.MAX_ENTRIES,
            )
            flash(message, "error")
    db.session.commit()
    return redirect(target)


def _origin() -> tuple[float, float] | None:
    """The search's position (``lat``, ``lng``) when the query carries a valid one."""
    try:
        lat, lng = float(request.args["lat"]), float(request.args["lng"])
    except (KeyError, ValueError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180) or lat != lat or lng != lng:
        return None
    return lat, lng


def _distance_km(origin, institution) -> float | None:
    """Kilometres (to 0.1) from ``origin`` to the institution's public point."""
    if origin is None:
        return None
    distance = public_distance_km(origin, institution)
    return None if distance is None else round(distance, 1)


def _compared_ids() -> list[int]:
    """The first ``MAX_COMPARED`` distinct whole-number ids of ``ids`` (comma-separated or
    repeated); anything else is ignored."""
    raw = ",".join(request.args.getlist("ids"))
    ids: list[int] = []
    for part in raw.split(","):
        part = part.strip()
        if part.isascii() and part.isdigit() and len(part) < 10 and int(part) not in ids:
            ids.append(int(part))
    return ids


@bp.get("/compare")
def compare():
    """Up to four filed institutions side by side; ids that are not public are ignored."""
    institutions = shortlist_service.shortlisted_institutions(_compared_ids())[:MAX_COMPARED]
    today = clock.local_now().date()
    wanted = availability.Wanted(not_before=clock.local_now())
    free = availability.next_free_places(institutions, today, wanted, days=COMPARE_DAYS)
    origin = _origin()
    body = render_template(
        "public/compare.html",
        institutions=institutions,
        free=free,
        distances={i.id: _distance_km(origin, i) for i in institutions},
        starred=set(shortlist_service.starred_ids()),
        compare_days=COMPARE_DAYS,
        today=today,
        last_day=today + timedelta(days=COMPARE_DAYS - 1),
        max_compared=MAX_COMPARED,
        Decimal=Decimal,
    )
    return _private(body)


@bp.app_template_global()
def shortlist_state() -> set[int] | None:
    """The signed-in visitor's starred ids, for star buttons; None for anonymous visitors,
    whose pages may be kept and served to others and so show a neutral button."""
    if not current_user.is_authenticated:
        return None
    if "shortlist_state" not in g:
        g.shortlist_state = set(shortlist_service.starred_ids())
    return g.shortlist_state
