"""Endpoints of the JSON API; they reuse the public services and never their own queries."""

import sqlalchemy as sa
from flask import current_app, jsonify, request
from flask_babel import gettext as _

from careapp import clock
from careapp.api import bp, health_bp, serializers
from careapp.api.openapi import openapi_document
from careapp.errors import json_error
from careapp.extensions import db
from careapp.i18n import current_language
from careapp.models import Region
from careapp.services import booking, courses, regions, registry, search, statistics
from careapp.services.errors import InvalidParameters
from careapp.services.params import parse_paging


@bp.errorhandler(InvalidParameters)
def invalid_parameters(error: InvalidParameters):
    """A bad query parameter answers 400 with the first problem."""
    return json_error(400, error.first_message, "invalid_parameter")


def _paging() -> tuple[int, int]:
    config = current_app.config
    return parse_paging(request.args, config["SEARCH_PER_PAGE"], config["API_MAX_PER_PAGE"])


@health_bp.get("/healthz")
def healthz():
    """Liveness and database reachability for monitoring."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        current_app.logger.exception("Health check could not reach the database")
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


def _region_filter() -> Region | None:
    """The region ``?region=`` names, None without one; 400 for an unknown code."""
    code = request.args.get("region")
    region = statistics.find_region(code) if code else None
    if code and region is None:
        raise InvalidParameters({"region": _("There is no region with this code.")})
    return region


@bp.get("/townships")
def townships():
    """Every township (of ``?region=``) with its number of public institutions."""
    region = _region_filter()
    language = current_language()
    rows = search.townships_with_counts(region)
    items = [serializers.township_item(township, count, language) for township, count in rows]
    return jsonify(items=items, total=len(items), page=1, per_page=max(len(items), 1))


def _after() -> str | None:
    """The ``after`` cursor of the query string, if any."""
    return (request.args.get("after") or "").strip() or None


@bp.get("/institutions")
def institutions():
    """Search public institutions; page by number or by the ``after`` cursor."""
    criteria = search.parse_criteria(request.args, clock.today(), any_radius=True)
    page_number, per_page = _paging()
    after = search.parse_after(_after(), criteria)
    page = search.search_institutions(criteria, page_number, per_page, after)
    body = serializers.keyset_page_body(
        page, serializers.institution_listed(page.distances), current_language()
    )
    return jsonify(body)


@bp.get("/institutions/<id:institution_id>")
def institution(institution_id: int):
    """One public institution in full; 404 unless filed."""
    found = search.get_public_institution(institution_id)
    if found is None:
        return json_error(404, _("No public institution has this id."))
    return jsonify(serializers.institution_detail(found, current_language()))


@bp.get("/institutions/<id:institution_id>/availability")
def availability(institution_id: int):
    """Open slots of a public institution with places left; 404 unless filed."""
    found = search.get_public_institution(institution_id)
    if found is None:
        return json_error(404, _("No public institution has this id."))
    query = booking.parse_availability_query(request.args, clock.today())
    openings = booking.availability(
        found, query.first, query.last, query.care_type, query.age_months, clock.local_now()
    )
    items = [serializers.opening(opening) for opening in openings]
    return jsonify(items=items, total=len(items), page=1, per_page=max(len(items), 1))


@bp.get("/registry/events")
def registry_events():
    """The public disclosure list, newest first."""
    event_filter = registry.parse_event_filter(request.args)
    page_number, per_page = _paging()
    after = registry.parse_after(_after())
    page = registry.list_events(event_filter, page_number, per_page, after)
    return jsonify(
        serializers.keyset_page_body(page, serializers.registry_event, current_language())
    )


@bp.get("/courses")
def course_list():
    """Upcoming parenting courses of verified providers."""
    course_filter = courses.parse_course_filter(request.args)
    page_number, per_page = _paging()
    now = clock.local_now()
    page = courses.list_courses(course_filter, now, page_number, per_page)
    language = current_language()
    return jsonify(
        serializers.page_body(
            page, lambda item, lang: serializers.course(item, lang, now), language
        )
    )


@bp.get("/statistics/townships")
def township_statistics():
    """Filed institutions and places per township against the places target."""
    region = _region_filter()
    page_number, per_page = _paging()
    page = statistics.township_figures_page(region, page_number, per_page)
    language = current_language()
    body = serializers.page_body(page, serializers.township_statistics, language)
    shown = region or statistics.find_region(None)
    body["region"] = shown and serializers.region_statistics(
        shown, statistics.region_totals_of(shown), language
    )
    return jsonify(body)


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API."""
    return jsonify(openapi_document(search.known_township_codes(), regions.region_codes()))
