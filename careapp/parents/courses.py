"""Views of the parents blueprint for parenting courses: register, wait, cancel."""

import sqlalchemy as sa
from babel.lists import format_list
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from careapp import clock
from careapp.database import run_in_transaction
from careapp.i18n import when
from careapp.institutions.forms import ConfirmForm
from careapp.parents import bp
from careapp.parents.forms import CourseRegistrationForm, OfferForm
from careapp.services import booking, capacity, courses


def _load_session(session_id: int):
    session = courses.public_session(session_id)
    if session is None:
        abort(404)
    return session


def _render_session(session, form, status=200):
    return (
        render_template(
            "parents/course_session.html",
            session=session,
            course=session.course,
            form=form,
            registration=courses.registration_of(current_user, session),
            confirm_form=ConfirmForm(),
            now=clock.local_now(),
        ),
        status,
    )


@bp.route("/courses/sessions/<id:session_id>", methods=["GET", "POST"])
def course_session(session_id: int):
    """Register the family for a course session (one seat, or two where allowed)."""
    session = _load_session(session_id)
    form = CourseRegistrationForm()
    form.set_seat_choices(session.course.allow_second_seat)
    if not form.validate_on_submit():
        return _render_session(session, form)
    try:
        run_in_transaction(
            lambda: courses.register(
                current_user, session, form.seats.data, form.request_key.data, clock.local_now()
            )
        )
    except courses.CourseError as error:
        flash(str(error.message), "error")
        _renew_if_expired(error, form)
        conflict = isinstance(error, courses.SessionFull | courses.FormExpired)
        return _render_session(session, form, 409 if conflict else 400)
    except sa.exc.IntegrityError:
        flash(_("Your family is registered for this session already."), "error")
        return _render_session(session, form, 409)
    flash(_("Your family is registered."), "success")
    return redirect(url_for("parents.course_session", session_id=session.id))


def _renew_if_expired(error: courses.CourseError, form: CourseRegistrationForm) -> None:
    """A form whose key another family used gets a fresh key: sent again, it goes through."""
    if isinstance(error, courses.FormExpired):
        form.request_key.renew()


def _load_course(course_id: int):
    course = courses.public_course(course_id)
    if course is None:
        abort(404)
    return course


def _render_series(course, form, status=200):
    now = clock.local_now()
    return (
        render_template(
            "parents/course_series.html",
            course=course,
            form=form,
            sessions=courses.coming_sessions(course, now),
            registered=courses.sessions_registered(current_user, course),
            now=now,
        ),
        status,
    )


@bp.route("/courses/<id:course_id>/series", methods=["GET", "POST"])
def course_series(course_id: int):
    """Register the family for every coming session of a weekly course at once."""
    course = _load_course(course_id)
    form = CourseRegistrationForm(prefix="series")
    form.set_seat_choices(course.allow_second_seat)
    if not form.validate_on_submit():
        return _render_series(course, form)
    try:
        joined, full = run_in_transaction(
            lambda: _series_outcome(
                courses.register_series(
                    current_user, course, form.seats.data, form.request_key.data, clock.local_now()
                )
            )
        )
    except courses.CourseError as error:
        flash(str(error.message), "error")
        _renew_if_expired(error, form)
        return _render_series(course, form, 409)
    except sa.exc.IntegrityError:
        flash(_("Your family is registered for these sessions already."), "error")
        return _render_series(course, form, 409)
    flash(
        ngettext(
            "Your family is registered for %(num)d session.",
            "Your family is registered for %(num)d sessions.",
            joined,
        ),
        "success",
    )
    if full:
        flash(
            _(
                "Full, so not registered: %(sessions)s. You can join the waiting list of each.",
                sessions=full,
            ),
            "info",
        )
    return redirect(url_for("parents.bookings"))


def _series_outcome(series: courses.SeriesRegistration) -> tuple[int, str]:
    """How many seats a series took, and the full sessions by day, read before the commit."""
    return len(series.joined), format_list(
        [when(s.starts_at) for s in series.full], locale=get_locale()
    )


@bp.post("/courses/sessions/<id:session_id>/waitlist")
def course_waitlist(session_id: int):
    """Join the waiting list of a full session."""
    session = _load_session(session_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        entry = run_in_transaction(
            lambda: courses.join_waitlist(current_user, session, clock.local_now())
        )
    except courses.CourseError as error:
        flash(str(error.message), "error")
    else:
        flash(
            _(
                "You are number %(position)d on the waiting list.",
                position=capacity.position(entry),
            ),
            "success",
        )
    return redirect(url_for("parents.course_session", session_id=session.id))


@bp.post("/course-registrations/<id:registration_id>/cancel")
def cancel_course_registration(registration_id: int):
    """Give the family's seats back before the session starts."""
    registration = courses.own_registration(current_user, registration_id)
    if registration is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        run_in_transaction(
            lambda: courses.cancel_registration(current_user, registration, clock.local_now())
        )
    except courses.Settled as done:
        flash(str(done.message), "info")
    except courses.CourseError as error:
        flash(str(error.message), "error")
    else:
        flash(_("Your registration is cancelled."), "success")
    return redirect(url_for("parents.course_session", session_id=registration.session_id))


@bp.post("/course-offers/<id:entry_id>/accept")
def accept_course_offer(entry_id: int):
    """Take the seat held for the family."""
    entry = booking.entry_for(current_user, entry_id)
    session = courses.session_of_entry(entry) if entry is not None else None
    if session is None or courses.public_session(session.id) is None:
        abort(404)
    form = OfferForm()
    if not form.validate_on_submit():
        abort(400)
    # One key per page and offer: a double tap accepts once, two offers stay two.
    key = f"{form.request_key.data}:{entry.id}"
    try:
        registration = run_in_transaction(lambda: courses.accept_offer(current_user, entry, key))
    except courses.CourseError as error:
        flash(str(error.message), "error")
        return redirect(url_for("parents.bookings"))
    flash(_("Your family is registered."), "success")
    return redirect(url_for("parents.course_session", session_id=registration.session_id))
