"""Views of the public blueprint."""

from collections.abc import Callable
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

from flask import (
    Response,
    abort,
    current_app,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from careapp import clock, fragments
from careapp.i18n import current_language
from careapp.models import CareType, CourseFormat, EventType, Nature, Role, Topic, TownshipKind
from careapp.public import bp
from careapp.services import (
    availability,
    booking,
    findings,
    inspections,
    quality,
    regions,
    registry,
    search,
)
from careapp.services import courses as courses_service
from careapp.services import staff as staff_register
from careapp.services.errors import InvalidParameters
from careapp.services.params import ParamReader, parse_paging


def _parse_or_default(parse: Callable, default, errors: dict[str, str]):
    """``parse()``, or ``default`` with its messages added to ``errors`` when it refuses."""
    try:
        return parse()
    except InvalidParameters as invalid:
        errors.update(invalid.errors)
        return default


def _paging(errors: dict[str, str]) -> tuple[int, int]:
    """Page number and size of a page listing, falling back to the first page."""
    per_page = current_app.config["SEARCH_PER_PAGE"]
    return _parse_or_default(
        lambda: parse_paging(request.args, per_page, per_page), (1, per_page), errors
    )


def _townships_by_kind(townships: list) -> dict[TownshipKind, list]:
    """Townships with their public institution counts (as ``search.townships_with_counts()``
    gives them), grouped into sub-districts and towns."""
    grouped: dict[TownshipKind, list] = {kind: [] for kind in TownshipKind}
    for township, count in townships:
        grouped[TownshipKind(township.kind)].append((township, count))
    return grouped


def _place_menus(
    region_code: str | None, township_code: str | None, every_region=None, counted=None
) -> dict:
    """The region menu (when the register holds several) and the chosen region's townships,
    for the filter forms: a region is chosen first, and only its townships are listed
    (``every_region``: the regions, read unless given; ``counted``: the townships of a region
    with what their filter lists, public institutions unless given)."""
    every_region = regions.all_regions() if every_region is None else every_region
    region = regions.chosen_region(every_region, region_code, township_code)
    counted = search.townships_with_counts if counted is None else counted
    townships = counted(region) if region is not None else []
    return {
        "regions": every_region,
        "region": region,
        "townships": _townships_by_kind(townships),
    }


def _widening_suggestions(criteria: search.SearchCriteria) -> list[tuple[str, int]]:
    """For an empty result: each active filter that could be dropped, with the count without
    it (the region stays: it is where the family lives)."""
    return [
        (name, search.count_matching(criteria.without(name)))
        for name in criteria.active()
        if name not in ("region", "radius_km")
    ]


@bp.get("/")
def index():
    """Search filed institutions by township, care type, age, nature and text."""
    errors: dict[str, str] = {}
    now = clock.local_now()
    fragments.pin_register_version()  # before the register is read: see careapp/fragments.py
    every_region = regions.all_regions()
    codes = {region.code for region in every_region}
    menus = _search_menus(every_region, codes)
    listed = [township for group in menus["townships"].values() for township, _ in group]
    places = search.near_places(menus["region"], listed)
    args = _with_place_origin(request.args, places, errors)
    criteria = _parse_or_default(
        lambda: search.parse_criteria(args, now.date(), codes),
        search.SearchCriteria(today=now.date()),
        errors,
    )
    on_day = _care_day(now.date(), errors)
    page_number, per_page = _paging(errors)
    page = search.search_institutions(criteria, page_number, per_page)
    suggestions = _widening_suggestions(criteria) if not page.total and not errors else []
    wanted = availability.Wanted(criteria.care_type, criteria.age_months, now)
    if page.free_places is not None and on_day is None:
        # The free-places check found each card's first free place already.
        next_free = page.free_places
    else:
        next_free = availability.next_free_places(page.items, on_day or now.date(), wanted)
    body = render_template(
        "public/index.html",
        criteria=criteria,
        errors=errors,
        page=page,
        on_day=on_day,
        carried=_carried_criteria(criteria, on_day),
        next_free=next_free,
        facts=fragments.card_facts(page.items, current_language()),
        card_days=availability.CARD_DAYS,
        today=now.date(),
        suggestions=suggestions,
        near_places=places,
        radii=sorted(search.PAGE_RADII_KM),
        default_radius=search.PAGE_RADII_KM[0],
        **menus,
        care_types=list(CareType),
        natures=list(Nature),
    )
    return body, 400 if errors else 200


def _search_menus(every_region: list, codes: set[str]) -> dict:
    """The place menus of the search form, from the query as sent (an unknown region or
    township falls back to the only region, as with no choice)."""
    region_code = request.args.get("region")
    menus = _place_menus(
        region_code if region_code in codes else None,
        request.args.get("township"),
        every_region,
    )
    if menus["region"] is None and len(every_region) == 1:
        menus = _place_menus(None, None, every_region)
    return menus


def _with_place_origin(args, places: list, errors: dict[str, str]):
    """The query with ``near`` (a place chosen without JavaScript) turned into ``lat`` and
    ``lng``; a chosen place wins over a position sent before."""
    code = (args.get("near") or "").strip()
    if not code:
        return args
    origin = search.place_origin(places, code)
    if origin is None:
        errors["near"] = _("There is no such place in this region.")
        return args
    merged = args.to_dict()
    merged["lat"], merged["lng"] = (f"{degrees:.6f}" for degrees in origin)
    return merged


def _care_day(today: date, errors: dict[str, str]) -> date | None:
    """The day the family needs care (``on``), if given: today or later."""
    reader = ParamReader(request.args)
    day = reader.iso_date("on")
    if day is not None and day < today:
        reader.errors["on"] = _("The date has passed.")
    errors.update(reader.errors)
    return None if reader.errors else day


def _carried_criteria(criteria: search.SearchCriteria, on_day: date | None) -> dict:
    """The search's criteria as the institution page reads them (its free places open
    filtered by them), with the township to lead back to the results."""
    carried = {
        "care_type": criteria.care_type,
        "age_months": criteria.age_months,
        "from": on_day.isoformat() if on_day else None,
        "township": criteria.township,
    }
    return {name: value for name, value in carried.items() if value not in (None, "")}


def _search_link(args) -> str | None:
    """Back to the search results the family came from, when it came with criteria."""
    carried = {
        "township": args.get("township"),
        "care_type": args.get("care_type"),
        "age_months": args.get("age_months"),
        "on": args.get("from"),
    }
    carried = {name: value for name, value in carried.items() if value}
    if not carried:
        return None
    return url_for("public.index", **carried, _anchor="results")


@bp.get("/institutions/<id:institution_id>")
def institution(institution_id: int):
    """The public page of a filed institution, with places free; 404 for anything else."""
    found = search.get_public_institution(institution_id)
    if found is None:
        abort(404)
    errors: dict[str, str] = {}
    now = clock.local_now()
    today = now.date()
    query = _parse_or_default(
        lambda: booking.parse_availability_query(request.args, today),
        booking.AvailabilityQuery(today, today + timedelta(days=13)),
        errors,
    )
    openings = booking.availability(
        found, query.first, query.last, query.care_type, query.age_months, now
    )
    body = render_template(
        "public/institution.html",
        institution=found,
        query=query,
        errors=errors,
        openings_by_day=_by_day(openings),
        back_to_search=_search_link(request.args),
        quality=quality.public_quality(found),
        public_inspections=inspections.public_summary(found, today),
        staff_facts=staff_register.public_facts(found, today),
        notices=findings.follow_up_findings_of(found),
    )
    return body, 400 if errors else 200


def _by_day(openings: list) -> list[tuple[date, list]]:
    """Openings grouped by date, in order."""
    days: dict[date, list] = {}
    for opening in openings:
        days.setdefault(opening.slot.on_date, []).append(opening)
    return list(days.items())


@bp.get("/favicon.ico")
def favicon():
    """The site's icon, where browsers and WeChat look for it."""
    return Response(
        _favicon_bytes(current_app.static_folder),
        mimetype="image/vnd.microsoft.icon",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@lru_cache(maxsize=1)
def _favicon_bytes(static_folder: str) -> bytes:
    """The icon file, read once a process."""
    return (Path(static_folder) / "favicon.ico").read_bytes()


@bp.get("/calendar/<token>.ics")
def calendar_feed(token: str):
    """A parent's private iCalendar feed; 404 for an unknown or revoked address."""
    parent = booking.feed_owner(token)
    if parent is None:
        abort(404)
    # Imported here: the icalendar library (3 MB) is loaded by the processes that serve feeds.
    from careapp.services import calendar

    feed = calendar.feed_for(parent, current_language())
    return Response(
        feed, mimetype="text/calendar", headers={"Cache-Control": "private, max-age=300"}
    )


@bp.get("/registry")
def registry_page():
    """The disclosure list (信息公示): filing, change and deregistration events."""
    errors: dict[str, str] = {}
    event_filter = _parse_or_default(
        lambda: registry.parse_event_filter(request.args), registry.EventFilter(), errors
    )
    page_number, per_page = _paging(errors)
    page = registry.list_events(event_filter, page_number, per_page)
    body = render_template(
        "public/registry.html",
        event_filter=event_filter,
        errors=errors,
        page=page,
        **_place_menus(event_filter.region, event_filter.township),
        event_types=list(EventType),
        notices=findings.public_notices(),
    )
    return body, 400 if errors else 200


@bp.get("/courses")
def courses():
    """Parenting courses of verified providers, filtered by township, topic, format, dates, age."""
    errors: dict[str, str] = {}
    course_filter = _parse_or_default(
        lambda: courses_service.parse_course_filter(request.args),
        courses_service.CourseFilter(),
        errors,
    )
    page_number, per_page = _paging(errors)
    now = clock.local_now()
    page = courses_service.list_courses(course_filter, now, page_number, per_page)
    body = render_template(
        "public/courses.html",
        course_filter=course_filter,
        errors=errors,
        page=page,
        now=now,
        **_place_menus(
            course_filter.region,
            course_filter.township,
            counted=lambda region: courses_service.townships_with_course_counts(region, now),
        ),
        topics=list(Topic),
        formats=list(CourseFormat),
        children=_own_children(),
    )
    return body, 400 if errors else 200


def _own_children() -> list[tuple]:
    """The signed-in parent's children with their ages in months (to filter by), else none."""
    if not (current_user.is_authenticated and current_user.role == Role.PARENT):
        return []
    today = clock.today()
    return [(child, booking.age_at(child, today)) for child in booking.children_of(current_user)]


@bp.get("/courses/<id:course_id>")
def course(course_id: int):
    """A public course with its sessions and seats; its link (live or recorded) only for
    registered families."""
    found = courses_service.public_course(course_id)
    if found is None:
        abort(404)
    parent = current_user if current_user.is_authenticated else None
    registered = courses_service.is_registered_for(parent, found)
    return render_template(
        "public/course.html",
        course=found,
        now=clock.local_now(),
        show_link=registered,
        registered=registered,
    )
