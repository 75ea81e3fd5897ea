"""Views of the institution staff blueprint for places: slots, schedules, roster, applications."""

from collections.abc import Callable
from datetime import date, datetime, timedelta
from itertools import groupby
from operator import attrgetter
from typing import NoReturn

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from careapp import clock
from careapp.csv_export import csv_response
from careapp.database import run_in_transaction
from careapp.errors import ERROR_TITLES
from careapp.extensions import db
from careapp.institutions import bp
from careapp.institutions.forms import ConfirmForm
from careapp.institutions.places_forms import (
    AttendanceForm,
    CancelSlotForm,
    CloseDayForm,
    DecisionForm,
    ScheduleForm,
    SessionForm,
    SessionSlotsForm,
    SlotForm,
    SlotPlacesForm,
)
from careapp.institutions.views import _load_own
from careapp.labels import label, status_kind
from careapp.models import Booking, CareClass, CareType, Institution, Slot, Status
from careapp.models.booking import STANDING_CARE_TYPES
from careapp.models.provision import SESSION_CARE_TYPES
from careapp.services import audit, booking, care_sessions
from careapp.services.booking import BookingError
from careapp.services.privacy import mask_name, staff_see_child_in_full

#: The places page shows one week, Monday to Sunday.
PLACES_DAYS = 7
#: The export covers 30 days after its first day unless told otherwise, and at most a year.
EXPORT_DEFAULT_DAYS = 30
EXPORT_MAX_DAYS = 366
#: Dates in links and forms are accepted in this range only (keeps date arithmetic safe).
FIRST_YEAR, LAST_YEAR = 2000, 2100
CLASHED = _l("Someone changed these places at the same moment. Please check them and try again.")


# --- loading and checking ------------------------------------------------------------------


def _load_filed(institution_id: int) -> Institution:
    """The signed-in account's filed institution, or 404 (other accounts', other states)."""
    institution = _load_own(institution_id)
    if institution.status != Status.FILED:
        abort(404)
    return institution


def _load_slot(institution: Institution, slot_id: int) -> Slot:
    """A slot of ``institution``, or 404."""
    slot = booking.institution_slot(institution, slot_id)
    if slot is None:
        abort(404)
    return slot


def _load_booking(institution: Institution, booking_id: int) -> Booking:
    """A booking of one of ``institution``'s slots, or 404."""
    found = booking.institution_booking(institution, booking_id)
    if found is None:
        abort(404)
    return found


def _class_of(institution: Institution, class_id: int | None) -> CareClass | None:
    """The institution's class with this id (None for None), or 404."""
    if class_id is None:
        return None
    care_class = next((c for c in institution.classes if c.id == class_id), None)
    if care_class is None:
        abort(404)
    return care_class


def _bad_request(message: str) -> NoReturn:
    """Stop with the 400 page, explaining ``message``."""
    page = render_template(
        "errors/error.html", status=400, title=ERROR_TITLES[400], explanation=message
    )
    abort(Response(page, status=400))


def _date_arg(name: str, default: date) -> date:
    """The query parameter ``name`` as a date (YYYY-MM-DD), ``default`` when absent."""
    value = request.args.get(name, "")
    if not value:
        return default
    try:
        parsed = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        parsed = None
    if parsed is None or not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        _bad_request(
            _(
                "%(value)s is not a date we can show. Please give a date from %(first)d to"
                " %(last)d in the form YYYY-MM-DD.",
                value=value,
                first=FIRST_YEAR,
                last=LAST_YEAR,
            )
        )
    return parsed


def _today() -> date:
    """Today at the site."""
    return clock.today()


def _change(work: Callable[[], object]) -> object:
    """Run a change of places in one transaction; a clash with a concurrent one is refused."""
    try:
        return run_in_transaction(work)
    except sa.exc.IntegrityError as clash:
        raise BookingError(CLASHED) from clash


# --- places --------------------------------------------------------------------------------


def _slot_form(institution: Institution, **options) -> SlotForm:
    """The add-slot form with the institution's classes and care types."""
    form = SlotForm(prefix="slot", **options)
    form.set_choices(institution.classes, institution.care_types)
    return form


def _scheduled_care_types(institution: Institution) -> list[CareType]:
    """The care types a weekly schedule can make slots of (standing places start on a date)."""
    return [t for t in institution.care_types if t not in STANDING_CARE_TYPES]


def _schedule_form(institution: Institution, **options) -> ScheduleForm:
    """The weekly schedule form with the institution's classes and dated care types."""
    form = ScheduleForm(prefix="schedule", **options)
    scheduled = _scheduled_care_types(institution)
    form.set_choices(institution.classes, scheduled)
    return form


def _session_care_types(institution: Institution) -> list[CareType]:
    """The care types the institution may offer in sessions of the day."""
    return [t for t in institution.care_types if t in SESSION_CARE_TYPES]


def _session_form(institution: Institution, **options) -> SessionForm:
    """The add-session form with the institution's classes and session care types."""
    form = SessionForm(prefix="session", **options)
    form.set_choices(institution.classes, _session_care_types(institution))
    return form


def _session_slots_form(institution: Institution, sessions: list, **options) -> SessionSlotsForm:
    """The form that opens slots of a session, offering the institution's sessions."""
    form = SessionSlotsForm(prefix="session-slots", **options)
    form.set_choices(sessions, {c.id: c.name for c in institution.classes})
    return form


def week_of(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def _slot_forms(slot: Slot, sent: dict) -> tuple[SlotPlacesForm, CancelSlotForm]:
    """The change-places and cancel forms of one slot (the one sent, if it was this slot's)."""
    places = sent.get(f"places-{slot.id}") or SlotPlacesForm(
        formdata=None, prefix=f"places-{slot.id}", data={"places": slot.inventory.capacity}
    )
    cancel = sent.get(f"cancel-{slot.id}") or CancelSlotForm(
        formdata=None, prefix=f"cancel-{slot.id}"
    )
    return places, cancel


def _places_page(institution: Institution, sent: dict | None = None, status: int = 200):
    """The places page; ``sent`` holds the forms just sent back, by prefix, with their errors."""
    sent = sent or {}
    today = _today()
    first = week_of(_date_arg("from", today))
    last = first + timedelta(days=PLACES_DAYS - 1)
    slots = booking.upcoming_slots(institution, first, last)
    sessions = care_sessions.sessions_of(institution)
    return (
        render_template(
            "institutions/places/places.html",
            institution=institution,
            first=first,
            last=last,
            earlier=first - timedelta(days=PLACES_DAYS),
            later=last + timedelta(days=1),
            this_week=week_of(today),
            sessions=sessions,
            class_names={c.id: c.name for c in institution.classes},
            session_form=sent.get("session") or _session_form(institution, formdata=None),
            session_slots_form=sent.get("session-slots")
            or _session_slots_form(
                institution,
                sessions,
                formdata=None,
                data={"first_day": max(first, today), "last_day": max(last, today)},
            ),
            can_have_sessions=bool(_session_care_types(institution)),
            delete_session_form=ConfirmForm(),
            days=[(day, list(group)) for day, group in groupby(slots, key=attrgetter("on_date"))],
            slot_forms={slot.id: _slot_forms(slot, sent) for slot in slots if slot.is_open},
            open_slot_id=sent.get("slot_id"),
            slot_form=sent.get("slot") or _slot_form(institution, formdata=None),
            schedule_form=sent.get("schedule")
            or _schedule_form(
                institution, formdata=None, data={"valid_from": today, "weekdays": []}
            ),
            closed_form=sent.get("closed") or CloseDayForm(formdata=None, prefix="closed"),
            can_schedule=bool(_scheduled_care_types(institution)),
        ),
        status,
    )


def _back_to_places(institution: Institution):
    """Redirect to the places page the form was sent from."""
    return redirect(url_for("institutions.places", institution_id=institution.id, **_from_arg()))


def _from_arg() -> dict:
    """The page's ``from`` parameter, to keep in links and form actions."""
    value = request.args.get("from")
    return {"from": value} if value else {}


@bp.get("/<id:institution_id>/places")
def places(institution_id: int):
    """Slots of the next two weeks by date, with forms to add, change, cancel and close."""
    institution = _load_filed(institution_id)
    return _places_page(institution)


@bp.post("/<id:institution_id>/slots")
def add_slot(institution_id: int):
    """Add one dated slot, or the first day of standing full-day or half-day places."""
    institution = _load_filed(institution_id)
    form = _slot_form(institution)
    if not form.validate_on_submit():
        return _places_page(institution, {"slot": form})
    care_class = _class_of(institution, form.care_class_id.data)
    try:
        slot = _change(
            lambda: booking.add_slot(
                care_class,
                CareType(form.care_type.data),
                form.on_date.data,
                form.starts_at.data,
                form.ends_at.data,
                form.places.data,
                _today(),
            )
        )
    except BookingError as error:
        flash(str(error.message), "error")
        return _places_page(institution, {"slot": form}, 400)
    flash(_("The slot on %(date)s is added.", date=slot.on_date.isoformat()), "success")
    return _back_to_places(institution)


@bp.post("/<id:institution_id>/schedules")
def add_schedule(institution_id: int):
    """Add a weekly schedule and make its slots for the next 30 days."""
    institution = _load_filed(institution_id)
    form = _schedule_form(institution)
    if not form.validate_on_submit():
        return _places_page(institution, {"schedule": form})
    care_class = _class_of(institution, form.care_class_id.data)
    today = _today()

    def save_and_generate() -> int:
        schedule = booking.add_schedule(care_class, **form.schedule_fields())
        last = today + timedelta(days=booking.GENERATE_DAYS_AHEAD)
        return booking.generate_slots(schedule, today, last)

    try:
        created = _change(save_and_generate)
    except BookingError as error:
        flash(str(error.message), "error")
        return _places_page(institution, {"schedule": form}, 400)
    flash(
        ngettext(
            "The schedule is saved and %(num)d slot was added for the next 30 days.",
            "The schedule is saved and %(num)d slots were added for the next 30 days.",
            created,
        ),
        "success",
    )
    return _back_to_places(institution)


@bp.post("/<id:institution_id>/sessions")
def add_session(institution_id: int):
    """Name a session of the day (上午 08:00–12:00) of a class's hourly or temporary care."""
    institution = _load_filed(institution_id)
    form = _session_form(institution)
    if not form.validate_on_submit():
        return _places_page(institution, {"session": form})
    care_class = _class_of(institution, form.care_class_id.data)
    try:
        session = _change(
            lambda: care_sessions.add_session(
                care_class,
                CareType(form.care_type.data),
                form.name.data,
                form.starts_at.data,
                form.ends_at.data,
            )
        )
    except BookingError as error:
        form.name.errors.append(error.message)
        return _places_page(institution, {"session": form}, 400)
    flash(_("The session %(name)s is added. Now open its slots.", name=session.name), "success")
    return redirect(_places_url(institution, "sessions-heading"))


@bp.post("/<id:institution_id>/sessions/<id:session_id>/delete")
def delete_session(institution_id: int, session_id: int):
    """Stop offering a session; slots already open stay, with their bookings."""
    institution = _load_filed(institution_id)
    session = care_sessions.own_session(institution, session_id)
    if session is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    name = session.name
    _change(lambda: care_sessions.delete_session(session))
    flash(_("The session %(name)s is removed; its open slots stay.", name=name), "success")
    return redirect(_places_url(institution, "sessions-heading"))


@bp.post("/<id:institution_id>/sessions/slots")
def add_session_slots(institution_id: int):
    """Open slots of a session on each day of a range the class runs."""
    institution = _load_filed(institution_id)
    sessions = care_sessions.sessions_of(institution)
    form = _session_slots_form(institution, sessions)
    if not form.validate_on_submit():
        return _places_page(institution, {"session-slots": form})
    session = care_sessions.own_session(institution, form.session_id.data)
    if session is None:
        abort(404)
    first, last, places = form.first_day.data, form.last_day.data, form.places.data
    try:
        made = _change(
            lambda: care_sessions.add_session_slots(session, first, last, places, _today())
        )
    except BookingError as error:
        form.first_day.errors.append(error.message)
        return _places_page(institution, {"session-slots": form}, 400)
    flash(
        ngettext(
            "%(num)d slot of %(name)s was added.",
            "%(num)d slots of %(name)s were added.",
            made,
            name=session.name,
        ),
        "success",
    )
    return redirect(
        url_for("institutions.places", institution_id=institution.id, **{"from": first.isoformat()})
    )


def _places_url(institution: Institution, anchor: str) -> str:
    """The places page (the week it was on) at ``anchor``."""
    return url_for(
        "institutions.places", institution_id=institution.id, _anchor=anchor, **_from_arg()
    )


@bp.post("/<id:institution_id>/slots/<id:slot_id>/places")
def slot_places(institution_id: int, slot_id: int):
    """Change a slot's places (within the class capacity, never below the places taken)."""
    institution = _load_filed(institution_id)
    slot = _load_slot(institution, slot_id)
    form = SlotPlacesForm(prefix=f"places-{slot.id}")
    sent = {f"places-{slot.id}": form, "slot_id": slot.id}
    if not form.validate_on_submit():
        return _places_page(institution, sent)
    try:
        _change(lambda: booking.set_slot_capacity(slot, form.places.data, clock.now()))
    except BookingError as error:
        flash(str(error.message), "error")
        return _places_page(institution, sent, 400)
    flash(_("The slot now has %(count)d places.", count=form.places.data), "success")
    return _back_to_places(institution)


@bp.post("/<id:institution_id>/slots/<id:slot_id>/cancel")
def cancel_slot(institution_id: int, slot_id: int):
    """Cancel a slot; every booked parent is told the reason."""
    institution = _load_filed(institution_id)
    slot = _load_slot(institution, slot_id)
    form = CancelSlotForm(prefix=f"cancel-{slot.id}")
    sent = {f"cancel-{slot.id}": form, "slot_id": slot.id}
    if not form.validate_on_submit():
        return _places_page(institution, sent)
    reason = form.reason.data.strip()
    try:
        told = _change(lambda: booking.cancel_slot(slot, reason, clock.now()))
    except booking.Settled as done:
        flash(str(done.message), "info")
        return _back_to_places(institution)
    except BookingError as error:
        flash(str(error.message), "error")
        return _places_page(institution, sent, 400)
    flash(
        ngettext(
            "The slot is cancelled and %(num)d booked parent has been told.",
            "The slot is cancelled and %(num)d booked parents have been told.",
            told,
        ),
        "success",
    )
    return _back_to_places(institution)


@bp.post("/<id:institution_id>/closed-days")
def close_day(institution_id: int):
    """Mark a day closed and cancel its slots."""
    institution = _load_filed(institution_id)
    form = CloseDayForm(prefix="closed")
    if not form.validate_on_submit():
        return _places_page(institution, {"closed": form})
    on_date, reason = form.on_date.data, form.reason.data.strip()
    try:
        cancelled = _change(lambda: booking.close_day(institution, on_date, reason, clock.now()))
    except BookingError as error:
        flash(str(error.message), "error")
        return _places_page(institution, {"closed": form}, 400)
    flash(
        ngettext(
            "%(date)s is marked closed and %(num)d slot was cancelled.",
            "%(date)s is marked closed and %(num)d slots were cancelled.",
            cancelled,
            date=on_date.isoformat(),
        ),
        "success",
    )
    return _back_to_places(institution)


# --- day roster ----------------------------------------------------------------------------


def _roster_page(institution: Institution, day: date, class_id: int | None, status: int = 200):
    """The roster of ``day``, per class (or of one class): every child expected that day."""
    _class_of(institution, class_id)
    expected = booking.roster(institution, day, class_id)
    groups = [
        (care_class, [row for row in expected if row[0].slot.care_class_id == care_class.id])
        for care_class in institution.classes
        if class_id in (None, care_class.id)
    ]
    return (
        render_template(
            "institutions/places/roster.html",
            institution=institution,
            day=day,
            is_today=day == _today(),
            class_id=class_id,
            groups=groups,
            mask_name=mask_name,
        ),
        status,
    )


@bp.get("/<id:institution_id>/roster")
def roster(institution_id: int):
    """The day's expected children per class, names masked, to check them in on the day."""
    institution = _load_filed(institution_id)
    day = _date_arg("date", _today())
    return _roster_page(institution, day, request.args.get("class", type=int))


@bp.post("/<id:institution_id>/bookings/<id:booking_id>/attendance")
def attendance(institution_id: int, booking_id: int):
    """Check a child in today, or record that the child did not come."""
    institution = _load_filed(institution_id)
    found = _load_booking(institution, booking_id)
    class_id = request.args.get("class", type=int)
    form = AttendanceForm()
    if not form.validate_on_submit():
        abort(400)
    present, today = form.present.data == "1", _today()
    try:
        _change(lambda: booking.mark_attendance(found, present, today))
    except BookingError as error:
        flash(str(error.message), "error")
        return _roster_page(institution, today, class_id, 400)
    child = mask_name(found.child.name)
    if present:
        flash(_("%(child)s is checked in.", child=child), "success")
    else:
        flash(_("%(child)s is recorded as absent.", child=child), "success")
    query = {"date": today.isoformat(), "class": class_id}
    target = url_for("institutions.roster", institution_id=institution.id, **query)
    return redirect(f"{target}#booking-{found.id}")


# --- applications --------------------------------------------------------------------------


def _decision_form(booking_id: int, **options) -> DecisionForm:
    """The accept-or-decline form of one application."""
    return DecisionForm(prefix=f"decide-{booking_id}", **options)


def _applications_page(institution: Institution, sent: dict | None = None, status: int = 200):
    """Open applications; ``sent`` holds the decision form just sent back, by booking id."""
    sent = sent or {}
    waiting = booking.pending_applications(institution)
    return (
        render_template(
            "institutions/places/applications.html",
            institution=institution,
            applications=[
                (
                    application,
                    booking.age_at(application.child, application.first_day),
                    sent.get(application.id) or _decision_form(application.id, formdata=None),
                )
                for application in waiting
            ],
            mask_name=mask_name,
        ),
        status,
    )


@bp.get("/<id:institution_id>/applications")
def applications(institution_id: int):
    """Full-day and half-day applications to accept or decline."""
    institution = _load_filed(institution_id)
    return _applications_page(institution)


@bp.post("/<id:institution_id>/bookings/<id:booking_id>/decision")
def decide(institution_id: int, booking_id: int):
    """Accept an application, or decline it with a reason the parent reads."""
    institution = _load_filed(institution_id)
    found = _load_booking(institution, booking_id)
    form = _decision_form(found.id)
    if not form.validate_on_submit():
        if form.decision.errors:
            abort(400)
        return _applications_page(institution, {found.id: form})
    accept, reason = form.accepts, (form.reason.data or "").strip()
    try:
        _change(lambda: booking.decide_application(found, accept, reason, clock.now()))
    except booking.Settled as done:
        flash(str(done.message), "info")
        return redirect(url_for("institutions.applications", institution_id=institution.id))
    except BookingError as error:
        flash(str(error.message), "error")
        return _applications_page(institution, {found.id: form}, 400)
    child = mask_name(found.child.name)
    if accept:
        flash(_("%(child)s is admitted. The parent has been told.", child=child), "success")
    else:
        flash(_("%(child)s is not admitted. The parent has been told.", child=child), "success")
    return redirect(url_for("institutions.applications", institution_id=institution.id))


# --- one booking ---------------------------------------------------------------------------


@bp.get("/<id:institution_id>/bookings/<id:booking_id>")
def booking_detail(institution_id: int, booking_id: int):
    """One booking in full: the only page that shows the child's full name and notes."""
    institution = _load_filed(institution_id)
    found = _load_booking(institution, booking_id)
    page = render_template(
        "institutions/places/booking.html",
        institution=institution,
        booking=found,
        age=booking.age_at(found.child, found.first_day),
        in_full=staff_see_child_in_full(found, clock.local_now()),
        mask_name=mask_name,
    )
    # The view is logged in a writing transaction of its own; no log, no page.
    viewer, found_id = current_user.id, found.id
    db.session.rollback()
    run_in_transaction(lambda: audit.record_child_view(viewer, db.session.get(Booking, found_id)))
    return page


# --- export --------------------------------------------------------------------------------


@bp.get("/<id:institution_id>/bookings.csv")
def bookings_csv(institution_id: int):
    """Bookings of a date range as a CSV file for Excel; children's names masked."""
    institution = _load_filed(institution_id)
    first = _date_arg("from", _today())
    last = _date_arg("to", first + timedelta(days=EXPORT_DEFAULT_DAYS))
    if last < first:
        _bad_request(_("The last day of the export must not be before its first day."))
    if (last - first).days + 1 > EXPORT_MAX_DAYS:
        _bad_request(
            _(
                "An export covers at most %(days)d days. Please choose a shorter range.",
                days=EXPORT_MAX_DAYS,
            )
        )
    found = booking.institution_bookings(institution, first, last)
    header = (
        _("Booking"),
        _("Date"),
        _("Start"),
        _("End"),
        _("Care type"),
        _("Class"),
        _("Child"),
        _("Age in months"),
        _("Status"),
    )
    rows = (
        (
            row.id,
            row.slot.on_date.isoformat(),
            row.slot.starts_at.strftime("%H:%M"),
            row.slot.ends_at.strftime("%H:%M"),
            label("care_type", row.slot.care_type),
            row.slot.care_class.name,
            mask_name(row.child.name),
            booking.age_at(row.child, row.slot.on_date),
            label(status_kind(row), row.status),
        )
        for row in found
    )
    filename = f"bookings-{institution.id}-{first.isoformat()}-{last.isoformat()}.csv"
    return csv_response(filename, header, rows)
