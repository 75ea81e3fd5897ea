"""Views of the providers blueprint: load → check → act → commit → redirect."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from careapp import clock
from careapp.csv_export import csv_response
from careapp.database import run_in_transaction
from careapp.extensions import db
from careapp.forms import choices
from careapp.i18n import current_language
from careapp.labels import label
from careapp.models import Course, CourseRegistration, CourseSession, Provider
from careapp.providers import bp
from careapp.providers.forms import (
    AttendanceForm,
    CancelSessionForm,
    CourseForm,
    OrganisationForm,
)
from careapp.services import courses
from careapp.services.courses import CourseError
from careapp.services.search import townships_with_counts

#: Characters that make a spreadsheet read a cell as a formula.


# --- loading and checking ------------------------------------------------------------------


def _own_provider() -> Provider:
    """The signed-in account's organisation, or 404 when none is registered yet."""
    provider = courses.provider_of(current_user)
    if provider is None:
        abort(404)
    return provider


def _load_course(course_id: int) -> Course:
    """A course of the signed-in account's organisation, or 404 (also for other providers')."""
    course = courses.own_course(_own_provider(), course_id)
    if course is None:
        abort(404)
    return course


def _load_session(course: Course, session_id: int) -> CourseSession:
    """A session of ``course``, or 404."""
    session = db.session.get(CourseSession, session_id)
    if session is None or session.course_id != course.id:
        abort(404)
    return session


def _load_registration(course: Course, registration_id: int) -> CourseRegistration:
    """A registration for a session of ``course``, or 404."""
    registration = db.session.get(CourseRegistration, registration_id)
    if registration is None or registration.session.course_id != course.id:
        abort(404)
    return registration


def _township_choices(blank) -> list:
    """The townships as select options, after an empty option labelled ``blank``."""
    townships = [
        (township.id, township.name_for(current_language()))
        for township, _count in townships_with_counts()
    ]
    return choices([("", blank), *townships])


def _course_url(course: Course, anchor: str = "") -> str:
    """The course's page, optionally at an element of it."""
    target = url_for("providers.course", course_id=course.id)
    return f"{target}#{anchor}" if anchor else target


def _when(session: CourseSession) -> str:
    """A session's start as families read it in messages and the export."""
    return session.starts_at.strftime("%Y-%m-%d %H:%M")


# --- home and organisation -----------------------------------------------------------------


@bp.get("/")
def home():
    """The organisation's status and its courses with their sessions and seats."""
    provider = courses.provider_of(current_user)
    return render_template(
        "providers/home.html",
        provider=provider,
        courses=courses.courses_of(provider) if provider else [],
    )


def _organisation_form(provider: Provider | None) -> OrganisationForm:
    """The organisation form, filled from ``provider`` on a GET, with township choices."""
    data = None
    if provider is not None:
        data = {
            "name": provider.name,
            "name_en": provider.name_en,
            "organisation_type": str(provider.organisation_type),
            "township_id": provider.township_id,
            "phone": provider.phone,
        }
    form = OrganisationForm(data=data)
    form.township_id.choices = _township_choices(_l("The whole city"))
    return form


@bp.route("/organisation", methods=["GET", "POST"])
def organisation():
    """Register the organisation, or change its details."""
    provider = courses.provider_of(current_user)
    form = _organisation_form(provider)
    if not form.validate_on_submit():
        return render_template("providers/organisation.html", form=form, provider=provider)
    was_verified = provider is not None and provider.is_verified
    saved = courses.save_provider(current_user, **form.provider_fields())
    db.session.commit()
    if provider is None:
        flash(
            _(
                "Your organisation is registered. The county health bureau will verify it;"
                " until then nothing you post is public."
            ),
            "success",
        )
    elif was_verified and not saved.is_verified:
        flash(
            _(
                "The name changed, so the county health bureau must verify your organisation"
                " again. Your courses are not public until then."
            ),
            "success",
        )
    else:
        flash(_("The details of your organisation are saved."), "success")
    return redirect(url_for("providers.home"))


# --- courses -------------------------------------------------------------------------------


def _course_form() -> CourseForm:
    """The new-course form with township choices."""
    form = CourseForm()
    form.township_id.choices = _township_choices(_l("Choose a township"))
    return form


@bp.route("/courses/new", methods=["GET", "POST"])
def new_course():
    """Post a course: a single session or a weekly series."""
    provider = courses.provider_of(current_user)
    if provider is None:
        flash(_("Please register your organisation before you post a course."), "error")
        return redirect(url_for("providers.organisation"))
    form = _course_form()
    if not form.validate_on_submit():
        return render_template("providers/course_form.html", form=form, provider=provider)
    try:
        times = courses.session_times(form.first_start, form.duration_minutes.data, form.weeks.data)
        courses.check_sessions_ahead(times, clock.local_now())
        course = courses.create_course(provider, times, **form.course_fields())
    except CourseError as error:
        flash(str(error.message), "error")
        page = render_template("providers/course_form.html", form=form, provider=provider)
        return page, 400
    db.session.commit()
    if provider.is_verified:
        flash(_("The course is posted and public now."), "success")
    else:
        flash(
            _(
                "The course is saved. It becomes public once the county health bureau has"
                " verified your organisation."
            ),
            "success",
        )
    return redirect(_course_url(course))


def _cancel_form(session: CourseSession, **options) -> CancelSessionForm:
    """The cancel form of one session, prefixed so that every session's form is its own."""
    return CancelSessionForm(prefix=f"cancel-{session.id}", **options)


def _course_page(course: Course, sent: dict | None = None, status: int = 200):
    """The course page; ``sent`` holds a cancel form just sent back, by session id."""
    sent, now = sent or {}, clock.local_now()
    sessions = []
    everyone: list[CourseRegistration] = []
    for session in course.sessions:
        registrations = courses.session_registrations(session)
        everyone.extend(registrations)
        cancel_form = sent.get(session.id) or _cancel_form(session, formdata=None)
        sessions.append(
            (session, registrations, courses.attendance_counts(registrations), cancel_form)
        )
    page = render_template(
        "providers/course.html",
        course=course,
        provider=course.provider,
        sessions=sessions,
        totals=courses.attendance_counts(everyone),
        open_session_id=next(iter(sent), None),
        started={s.id for s in course.sessions if courses.can_mark_attendance(s, now)},
    )
    return page, status


@bp.get("/courses/<id:course_id>")
def course(course_id: int):
    """A course's sessions with their registered families, attendance and cancelling."""
    return _course_page(_load_course(course_id))


@bp.post("/courses/<id:course_id>/registrations/<id:registration_id>/attendance")
def attendance(course_id: int, registration_id: int):
    """Record that a registered family came, or that it did not."""
    course = _load_course(course_id)
    registration = _load_registration(course, registration_id)
    form = AttendanceForm()
    if not form.validate_on_submit():
        abort(400)
    came = form.came
    try:
        run_in_transaction(lambda: courses.mark_attendance(registration, came, clock.local_now()))
    except CourseError as error:
        flash(str(error.message), "error")
        return _course_page(course, status=400)
    family = registration.parent.display_name
    if came:
        flash(_("%(family)s is recorded as attended.", family=family), "success")
    else:
        flash(_("%(family)s is recorded as not having come.", family=family), "success")
    return redirect(_course_url(course, f"registration-{registration.id}"))


@bp.post("/courses/<id:course_id>/sessions/<id:session_id>/cancel")
def cancel_session(course_id: int, session_id: int):
    """Cancel a session with a reason; its registered families are told."""
    course = _load_course(course_id)
    session = _load_session(course, session_id)
    form = _cancel_form(session)
    if not form.validate_on_submit():
        return _course_page(course, {session.id: form})
    reason = form.reason.data
    try:
        told = run_in_transaction(lambda: courses.cancel_session(session, reason))
    except courses.Settled as done:
        flash(str(done.message), "info")
        return redirect(_course_url(course, f"session-{session.id}"))
    except CourseError as error:
        flash(str(error.message), "error")
        return _course_page(course, {session.id: form}, 400)
    flash(
        ngettext(
            "The session on %(time)s is cancelled and %(num)d registered family was told.",
            "The session on %(time)s is cancelled and %(num)d registered families were told.",
            told,
            time=_when(session),
        ),
        "success",
    )
    return redirect(_course_url(course, f"session-{session.id}"))


# --- export --------------------------------------------------------------------------------


@bp.get("/courses/<id:course_id>/registrations.csv")
def registrations_csv(course_id: int):
    """Every registration of the course as a CSV file for Excel (UTF-8 with a BOM)."""
    course = _load_course(course_id)
    header = (_("Session start"), _("Family"), _("Seats"), _("Status"))
    rows = (
        (
            _when(session),
            registration.parent.display_name,
            registration.seats,
            label("registration_status", registration.status),
        )
        for session in course.sessions
        for registration in courses.session_registrations(session)
    )
    return csv_response(f"course-{course.id}-registrations.csv", header, rows)
