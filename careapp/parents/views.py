"""Views of the parents blueprint: children, booking, my bookings, waitlist and calendar."""

import json

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from careapp import clock
from careapp.access import or_404, safe_next
from careapp.database import run_in_transaction
from careapp.extensions import db
from careapp.institutions.forms import ConfirmForm
from careapp.models import BookingStatus, ConsentCapacity
from careapp.parents import bp
from careapp.parents.forms import BookingForm, ChildForm, OfferForm, WaitlistForm
from careapp.services import availability, booking, capacity, courses, erasure, family, pricing


def child_name(child) -> str:
    """How the signed-in account sees a child's name in a list (masked unless its own)."""
    return family.child_name_for(child, current_user)


@bp.get("/")
def home():
    """A parent's start page: invitations, children, upcoming bookings and open offers."""
    now = clock.local_now()
    upcoming = [b for b in booking.bookings_of(current_user) if _is_current(b, now)]
    reachable = booking.children_for(current_user)
    children = [child for child in reachable if child.parent_id == current_user.id]
    ages = [booking.age_at(child, now.date()) for child in children]
    entries = [(e, booking.slot_of_entry(e)) for e in booking.waitlist_of(current_user)]
    course_entries = courses.waitlist_entries_of(current_user)
    return render_template(
        "parents/home.html",
        next=safe_next(request.args.get("next")),
        children=children,
        helped=[child for child in reachable if child.parent_id != current_user.id],
        child_name=child_name,
        invitations=family.invitations_for(current_user),
        form=ConfirmForm(),
        suggestions=courses.suggestions_for(ages, now),
        upcoming=upcoming[:5],
        offers=[(e, slot) for e, slot in entries if e.status == "offered"],
        course_offers=[(e, session) for e, session in course_entries if e.status == "offered"],
        waiting=[(e, slot, capacity.position(e)) for e, slot in entries if e.status == "waiting"],
        course_waiting=[
            (e, session, capacity.position(e))
            for e, session in course_entries
            if e.status == "waiting"
        ],
    )


def _is_current(made, now) -> bool:
    """Whether a booking is still to come, or a standing place (applied for or admitted) that
    runs from its first day on: it is an enrolment, not one day of care."""
    return made.is_active and (made.is_application or made.slot.starts > now)


# --- children ------------------------------------------------------------------------------


@bp.route("/children/new", methods=["GET", "POST"])
def new_child():
    """Add a child, with the guardian's consent."""
    form = ChildForm()
    if form.validate_on_submit():
        if form.birth_date.data > clock.today():
            form.birth_date.errors.append(_("The birth date cannot be in the future."))
        else:
            booking.add_child(
                current_user,
                name=form.name.data,
                birth_date=form.birth_date.data,
                notes=form.notes.data or "",
                consent=True,
                capacity=ConsentCapacity(form.consent.data),
            )
            db.session.commit()
            flash(_("%(name)s has been added.", name=form.name.data.strip()), "success")
            return redirect(safe_next(request.args.get("next")) or url_for("parents.home"))
    return render_template("parents/child_form.html", form=form)


def _load_child(child_id: int):
    return or_404(booking.own_child(current_user, child_id))


@bp.get("/children/<id:child_id>/export")
def export_child(child_id: int):
    """Everything careapp keeps about a child, as a JSON download."""
    child = _load_child(child_id)
    bookings = [b for b in booking.bookings_of(current_user) if b.child_id == child.id]
    document = {
        "name": child.name,
        "birth_date": child.birth_date.isoformat(),
        "notes": child.notes,
        "consents": [
            {
                "policy_version": c.policy_version,
                "given_at": c.given_at.isoformat(),
                "capacity": str(c.capacity),
            }
            for c in child.consents
        ],
        "bookings": [
            {
                "institution": b.slot.institution.name,
                "care_type": str(b.slot.care_type),
                "date": b.slot.on_date.isoformat(),
                "start": b.slot.starts_at.strftime("%H:%M"),
                "end": b.slot.ends_at.strftime("%H:%M"),
                "status": str(b.status),
            }
            for b in bookings
        ],
    }
    return Response(
        json.dumps(document, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={"Content-Disposition": f"attachment; filename=child-{child.id}.json"},
    )


@bp.route("/children/<id:child_id>/delete", methods=["GET", "POST"])
def delete_child(child_id: int):
    """Delete a child, its bookings and every message naming it (places held are given
    back)."""
    child = _load_child(child_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        run_in_transaction(lambda: erasure.erase_child(child, clock.local_now()))
        erasure.checkpoint()
        flash(_("The child's details and bookings have been deleted."), "success")
        return redirect(url_for("parents.home"))
    return render_template("parents/child_delete.html", child=child, form=form)


# --- booking -------------------------------------------------------------------------------


def _load_slot(slot_id: int):
    return or_404(booking.bookable_slot(slot_id))


def _render_book(slot, form, children, status=200, full=False):
    closed = booking.why_closed(slot, clock.local_now())
    left = 0 if closed else availability.places_left(slot, clock.today())
    capacities = {family.consent_capacity(current_user, child) for child in children}
    return (
        render_template(
            "parents/book.html",
            slot=slot,
            form=form,
            closed=closed,
            places_left=left,
            full=full or left == 0,
            waitlist_form=WaitlistForm(prefix="waitlist"),
            consent_capacities=sorted(capacities),
            price=pricing.price_for(slot),
        ),
        status,
    )


@bp.route("/book/<id:slot_id>", methods=["GET", "POST"])
def book(slot_id: int):
    """Book a place (hourly, temporary) or apply for one (full-day, half-day)."""
    slot = _load_slot(slot_id)
    form = BookingForm.for_slot(slot)
    if slot.is_standing and not form.starts_on.raw_data:
        form.starts_on.data = booking.earliest_start(slot, clock.today())
    # A booking sent reads the chosen child under its lock: the children are listed only
    # when the form is shown.
    if not form.is_submitted():
        return _show_book(slot, form)
    form.child_id.validate_choice = False
    if not form.validate_on_submit() or not _start_date_fits(slot, form):
        return _show_book(slot, form)
    starts_on = form.starts_on.data if slot.is_standing else None
    try:
        booking_id, message = run_in_transaction(
            lambda: _booked(
                booking.book(
                    current_user,
                    form.child_id.data,
                    slot,
                    form.request_key.data,
                    clock.local_now(),
                    starts_on=starts_on,
                )
            )
        )
    except booking.NotYourChild:
        # Not among the children offered: the form is shown again, as for any bad choice.
        form.child_id.errors.append(_("Not a valid choice."))
        return _show_book(slot, form)
    except booking.SlotFull as full:
        flash(str(full.message), "error")
        return _show_book(slot, form, 409, full=True)
    except booking.FormExpired:
        _renew_expired(form)
        return _show_book(slot, form, 409)
    except booking.BookingError as error:
        flash(str(error.message), "error")
        return _show_book(slot, form, 400)
    except sa.exc.IntegrityError:
        made = booking.existing_booking(form.request_key.data)
        if made is None:
            flash(_("Your child already has this place."), "error")
            return _show_book(slot, form, 409)
        if not family.may_act_for(current_user, made.parent_id):
            _renew_expired(form)  # another family's booking took this key at this moment
            return _show_book(slot, form, 409)
        booking_id, message = _booked(made)
    flash(message, "success")
    return redirect(url_for("parents.booking_detail", booking_id=booking_id))


def _renew_expired(form: BookingForm) -> None:
    """Say that nothing was booked with a form whose key another family used, and give the
    form a fresh key: sent again, it goes through."""
    flash(str(booking.FormExpired().message), "error")
    form.request_key.renew()


def _show_book(slot, form: BookingForm, status: int = 200, full: bool = False):
    """The booking form offering the children the account may book for; the way to add a
    child (or accept a family's invitation) first when there is none."""
    children = booking.children_for(current_user)
    if not children:
        return _before_first_booking()
    form.set_children(children, child_name)
    return _render_book(slot, form, children, status, full)


def _start_date_fits(slot, form: BookingForm) -> bool:
    """A full-day or half-day application's start date is a day care can start; the problem
    is shown on the field otherwise."""
    if not slot.is_standing:
        return True
    if form.starts_on.data is None:
        form.starts_on.errors.append(_("Please choose the day care is to start."))
        return False
    problem = booking.start_date_problem(slot, form.starts_on.data, clock.today())
    if problem is not None:
        form.starts_on.errors.append(str(problem))
    return problem is None


def _before_first_booking():
    """An account with no child to book for: a family's invitation waiting for it comes
    first (a grandparent books the guardian's child), else adding a child; either way the
    booking form follows."""
    if family.invitations_for(current_user):
        flash(
            _("Your family has invited you. Accept the invitation to book for their child."),
            "info",
        )
        return redirect(url_for("parents.home", next=request.path))
    flash(_("Please add your child first."), "info")
    return redirect(url_for("parents.new_child", next=request.path))


def _booked(made) -> tuple[int, str]:
    """What the answer needs of a booking, read before the commit expires it."""
    return made.id, _booked_message(made)


def _booked_message(made) -> str:
    if made.status == BookingStatus.APPLIED:
        return _("Your application has been sent. The institution will accept or decline it.")
    return _("Your place is booked.")


@bp.post("/book/<id:slot_id>/waitlist")
def join_waitlist(slot_id: int):
    """Join the waiting list of a full slot."""
    slot = _load_slot(slot_id)
    children = booking.children_for(current_user)
    form = WaitlistForm(prefix="waitlist")
    form.set_children(children, child_name)
    child = next((c for c in children if c.id == form.child_id.data), None)
    if not form.validate_on_submit() or child is None:
        # The page is shown again, the waiting list's form with it, saying what to do.
        flash(_("Please choose which of your children joins the waiting list."), "error")
        return _show_book(slot, BookingForm.for_slot(slot), 400, full=True)
    try:
        entry = run_in_transaction(
            lambda: booking.join_waitlist(current_user, child, slot, clock.local_now())
        )
    except booking.BookingError as error:
        flash(str(error.message), "error")
        return redirect(url_for("parents.book", slot_id=slot.id))
    flash(
        _("You are number %(position)d on the waiting list.", position=capacity.position(entry)),
        "success",
    )
    return redirect(url_for("parents.bookings"))


# --- my bookings ---------------------------------------------------------------------------


@bp.get("/bookings")
def bookings():
    """Upcoming and past bookings, waiting lists and offers."""
    now = clock.local_now()
    mine = booking.bookings_of(current_user)
    entries = booking.waitlist_of(current_user)
    return render_template(
        "parents/bookings.html",
        child_name=child_name,
        upcoming=[b for b in mine if _is_current(b, now)],
        past=[b for b in mine if not _is_current(b, now)],
        waiting=[
            (e, booking.slot_of_entry(e), capacity.position(e))
            for e in entries
            if e.status == "waiting"
        ],
        offered=[(e, booking.slot_of_entry(e)) for e in entries if e.status == "offered"],
        offer_form=OfferForm(),
        form=ConfirmForm(),
        registrations=courses.registrations_of(current_user),
        course_entries=[
            (entry, session, capacity.position(entry))
            for entry, session in courses.waitlist_entries_of(current_user)
        ],
    )


def _load_booking(booking_id: int):
    return or_404(booking.booking_for(current_user, booking_id))


@bp.get("/bookings/<id:booking_id>")
def booking_detail(booking_id: int):
    """One booking, printable as a confirmation."""
    found = _load_booking(booking_id)
    now = clock.local_now()
    return render_template(
        "parents/booking.html",
        booking=found,
        child_name=child_name,
        can_cancel=booking.can_cancel(found, now),
        deadline=booking.cancel_deadline(found),
        form=ConfirmForm(),
        price=pricing.price_for(found.slot),
    )


@bp.route("/bookings/<id:booking_id>/cancel", methods=["GET", "POST"])
def cancel_booking(booking_id: int):
    """Ask once, then cancel before the cut-off; the place is free (or offered on) at once."""
    found = _load_booking(booking_id)
    form = ConfirmForm()
    if request.method == "GET":
        if not booking.can_cancel(found, clock.local_now()):
            return redirect(url_for("parents.booking_detail", booking_id=found.id))
        return render_template(
            "parents/cancel.html",
            booking=found,
            someone_waits=booking.someone_waits_for(found),
            form=form,
        )
    if not form.validate_on_submit():
        abort(400)
    try:
        handed_on = run_in_transaction(
            lambda: booking.cancel_by_parent(current_user, found, clock.local_now())
        )
    except booking.Settled as done:
        flash(str(done.message), "info")
    except booking.BookingError as error:
        flash(str(error.message), "error")
    else:
        flash(_cancelled_message(found, handed_on), "success")
    return redirect(url_for("parents.booking_detail", booking_id=found.id))


def _cancelled_message(found, handed_on: bool) -> str:
    """What the parent reads once a booking, an application or a standing place is cancelled,
    and where the place goes."""
    if not found.is_application:
        done = _("The booking is cancelled.")
    elif found.decided_at is None:
        done = _("Your application is withdrawn.")
    else:
        done = _("You have given up the place.")
    goes = (
        _("The place goes to a family waiting for it.")
        if handed_on
        else _("The place is free for others to book.")
    )
    # Chinese runs sentences on without a space; English puts one between them.
    return _("%(done)s %(goes)s", done=done, goes=goes)


def _load_entry(entry_id: int):
    return or_404(booking.entry_for(current_user, entry_id))


@bp.post("/waitlist/<id:entry_id>/accept")
def accept_offer(entry_id: int):
    """Take the place held for you (a course seat is taken on its own page)."""
    entry = _load_entry(entry_id)
    if booking.slot_of_entry(entry) is None:
        abort(404)
    form = OfferForm()
    if not form.validate_on_submit():
        abort(400)
    # One key per page and offer: a double tap accepts once, two offers stay two.
    key = f"{form.request_key.data}:{entry.id}"
    try:
        made = run_in_transaction(
            lambda: booking.accept_offer(current_user, entry, key, clock.local_now())
        )
    except booking.Settled as done:
        flash(str(done.message), "info")
        return redirect(url_for("parents.bookings"))
    except booking.BookingError as error:
        flash(str(error.message), "error")
        return redirect(url_for("parents.bookings"))
    flash(_booked_message(made), "success")
    return redirect(url_for("parents.booking_detail", booking_id=made.id))


@bp.post("/waitlist/<id:entry_id>/leave")
def leave_waitlist(entry_id: int):
    """Leave a waiting list or turn down an offer."""
    entry = _load_entry(entry_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        run_in_transaction(lambda: booking.leave_waitlist(current_user, entry, clock.local_now()))
    except booking.Settled as done:
        flash(str(done.message), "info")
    except booking.BookingError as error:
        flash(str(error.message), "error")
    else:
        flash(_("You have left the waiting list."), "success")
    return redirect(url_for("parents.bookings"))


# --- calendar ------------------------------------------------------------------------------


@bp.get("/calendar")
def calendar():
    """The private calendar address, with buttons to renew or revoke it."""
    return render_template(
        "parents/calendar.html", feed=booking.calendar_feed(current_user), form=ConfirmForm()
    )


@bp.post("/calendar/renew")
def renew_calendar():
    """Make a new private calendar address; the old one stops working."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    booking.renew_calendar_feed(current_user)
    db.session.commit()
    flash(_("Your new calendar address is ready; the old one no longer works."), "success")
    return redirect(url_for("parents.calendar"))


@bp.post("/calendar/revoke")
def revoke_calendar():
    """Delete the private calendar address."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    booking.revoke_calendar_feed(current_user)
    db.session.commit()
    flash(_("The calendar address no longer works."), "success")
    return redirect(url_for("parents.calendar"))
