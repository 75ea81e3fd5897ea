"""Places and bookings: slots, availability, booking, waitlist offers, cancellation, roster.

Every change of places goes through ``careapp.services.capacity``. Times of care are local
(naive, the site's time zone); times of records are aware UTC.
"""

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app, has_request_context, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import contains_eager, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from careapp import clock
from careapp.extensions import db
from careapp.labels import CARE_TYPE_LABELS
from careapp.models import (
    ACTIVE_BOOKING_STATUSES,
    ACTIVE_WAIT_STATUSES,
    BOOKING_STATES,
    CONSENT_POLICY_VERSION,
    SLOT_STATES,
    Attendance,
    Booking,
    BookingStatus,
    CalendarFeed,
    CareClass,
    CareType,
    Child,
    ClosedDate,
    ConsentCapacity,
    GuardianConsent,
    Institution,
    Inventory,
    Schedule,
    Slot,
    SlotStatus,
    Status,
    User,
    WaitlistEntry,
    WaitStatus,
)
from careapp.models.booking import STANDING_CARE_TYPES
from careapp.models.provision import AGE_LIMIT_MONTHS
from careapp.services import capacity, courses, family
from careapp.services.availability import Opening, Wanted, openings
from careapp.services.errors import CareappError, InvalidParameters
from careapp.services.mail import N_
from careapp.services.notices import notify
from careapp.services.occupancy import (
    in_room,
    load_rooms,
    lock_child_and_room,
    lock_room,
    rooms_of_class,
)
from careapp.services.params import ParamReader
from careapp.services.privacy import given_name
from careapp.services.search import months_between
from careapp.services.sms import short_date, short_moment
from careapp.services.transitions import AlreadyMoved, change_state

#: How long a waitlist offer is held before it passes on.
OFFER_HOLD = {
    CareType.HOURLY: timedelta(hours=12),
    CareType.TEMPORARY: timedelta(hours=12),
    CareType.FULL_DAY: timedelta(hours=48),
    CareType.HALF_DAY: timedelta(hours=48),
}
#: Slots are generated from schedules this many days ahead.
GENERATE_DAYS_AHEAD = 30
#: The availability API and pages show at most this many days at once.
MAX_AVAILABILITY_DAYS = 62


class BookingError(CareappError):
    """A booking step that is not allowed; ``message`` says why, translated."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class NotYourChild(BookingError):
    """The child chosen is not one the account may book for."""

    def __init__(self):
        super().__init__(_l("This child is not on your account."))


class SlotFull(BookingError):
    """No place is free; the parent may join the waitlist."""

    def __init__(self):
        super().__init__(_l("This slot is full. You can join the waiting list."))


class Settled(BookingError):
    """Another request (or an earlier tap) did this already; ``message`` says how it ended."""


class FormExpired(BookingError):
    """The form's one-time key names another family's booking: nothing was booked, and the
    form is to be sent again with a fresh key."""

    def __init__(self):
        super().__init__(
            _l("This form has expired. Nothing was booked: please check it and send it again.")
        )


#: How a booking ended up, told to whoever arrives second.
BOOKING_OUTCOMES = {
    BookingStatus.APPLIED: _l("This application is waiting for the institution's answer."),
    BookingStatus.CONFIRMED: _l("This place is confirmed."),
    BookingStatus.DECLINED: _l("This application has been declined."),
    BookingStatus.CANCELLED: _l("This booking has been cancelled."),
    BookingStatus.CANCELLED_BY_INSTITUTION: _l("The institution has cancelled this booking."),
}
#: How an application ended up, told to the institution when it decides second.
DECISION_OUTCOMES = {
    BookingStatus.CONFIRMED: _l("This application has been decided already: it is accepted."),
    BookingStatus.DECLINED: _l("This application has been decided already: it is declined."),
    BookingStatus.CANCELLED: _l("The parent has cancelled this application."),
    BookingStatus.CANCELLED_BY_INSTITUTION: _l("This application was cancelled with its slot."),
}
#: How a waiting-list entry ended up, told to whoever arrives second.
WAITLIST_OUTCOMES = {
    WaitStatus.WAITING: _l("You are on the waiting list."),
    WaitStatus.OFFERED: _l("A place is held for you."),
    WaitStatus.ACCEPTED: _l("You have taken this place."),
    WaitStatus.EXPIRED: _l("This offer has expired."),
    WaitStatus.LEFT: _l("You are no longer on this waiting list."),
}


def settled(moved: AlreadyMoved, outcomes: dict) -> Settled:
    """The answer for the request that lost a race: the state the winner left."""
    return Settled(outcomes[moved.state])


def new_request_key() -> str:
    """A one-time key for a booking form."""
    return secrets.token_urlsafe(24)


# --- children ------------------------------------------------------------------------------


def add_child(
    parent: User,
    *,
    name: str,
    birth_date: date,
    notes: str,
    consent: bool,
    capacity: ConsentCapacity = ConsentCapacity.GUARDIAN,
) -> Child:
    """Record a child with consent (required, versioned, timestamped), given by the account
    as the child's guardian or as family acting with the guardian's consent (``capacity``)."""
    if not consent:
        raise BookingError(_l("Please give your consent to record your child's details."))
    child = Child(
        parent_id=parent.id,
        name=name.strip(),
        birth_date=birth_date,
        notes=notes or "",
        consent_capacity=capacity,
    )
    child.consents.append(
        GuardianConsent(
            guardian_id=parent.id, policy_version=CONSENT_POLICY_VERSION, capacity=capacity
        )
    )
    db.session.add(child)
    db.session.flush()
    return child


def children_of(parent: User, include_erased: bool = False) -> list[Child]:
    """A parent's children, oldest first (those erased by retention only when asked)."""
    query = sa.select(Child).where(Child.parent_id == parent.id).order_by(Child.birth_date)
    if not include_erased:
        query = query.where(Child.erased_at.is_(None))
    return list(db.session.scalars(query))


def own_child(parent: User, child_id: int) -> Child | None:
    """The parent's own child with this id, or None (also for another parent's, and for a
    child the parent only books for as a family member: only the guardian edits or deletes)."""
    return db.session.scalar(
        sa.select(Child).where(
            Child.id == child_id, Child.parent_id == parent.id, Child.erased_at.is_(None)
        )
    )


def children_for(user: User) -> list[Child]:
    """The children ``user`` may book for: its own first, then those of the guardians who
    made it a family member; each group oldest first."""
    query = (
        sa.select(Child)
        .where(family.acts_for(user, Child.parent_id), Child.erased_at.is_(None))
        .order_by((Child.parent_id != user.id), Child.birth_date, Child.id)
    )
    return list(db.session.scalars(query))


def delete_child(child: Child, now: datetime) -> None:
    """Delete a child and every booking of it, giving back places still held."""
    _lock_child(child)
    # Classes are locked in one order everywhere a request needs more than one.
    for held in sorted(_active_bookings_of_child(child), key=lambda b: b.slot.care_class_id):
        _lock_class(held.slot)
        change_state(held, BOOKING_STATES, "cancel", cancelled_at=clock.now())
        _free(held, now)
    for entry in _active_entries_for(f"child:{child.id}"):
        _leave_slot_line(entry, slot_of_entry(entry), clock.to_utc(now))
    db.session.delete(child)


def _active_bookings_of_child(child: Child) -> list[Booking]:
    return list(
        db.session.scalars(
            sa.select(Booking).where(
                Booking.child_id == child.id, Booking.status.in_(ACTIVE_BOOKING_STATUSES)
            )
        )
    )


def _active_entries_for(subject: str) -> list[WaitlistEntry]:
    return list(
        db.session.scalars(
            sa.select(WaitlistEntry).where(
                WaitlistEntry.subject == subject, WaitlistEntry.status.in_(ACTIVE_WAIT_STATUSES)
            )
        )
    )


def _lock_child(child: Child) -> None:
    """Serialise bookings of one child: two at once can neither overlap nor double up."""
    db.session.execute(sa.select(Child.id).where(Child.id == child.id).with_for_update())


def _lock_class(slot: Slot) -> None:
    """Serialise every change of places in the slot's class, then read the slot afresh."""
    lock_room(slot.care_class)
    db.session.refresh(slot, ["status"])


# --- slots ---------------------------------------------------------------------------------


def _check_slot_fits(
    care_class: CareClass, care_type: CareType, places: int, hours: tuple | None = None
) -> None:
    """Raise BookingError unless the care type is offered, ``hours`` (start, end) lie within
    its opening hours and ``places`` fit the class."""
    offer = care_class.institution.offer_for(care_type)
    if offer is None:
        raise BookingError(_l("Your institution does not offer this care type."))
    if hours is not None and not (offer.opens_at <= hours[0] and hours[1] <= offer.closes_at):
        raise BookingError(
            _l(
                "Slots of this care type must lie within its opening hours, %(opens)s to"
                " %(closes)s.",
                opens=offer.opens_at.strftime("%H:%M"),
                closes=offer.closes_at.strftime("%H:%M"),
            )
        )
    if not 1 <= places <= care_class.capacity:
        raise BookingError(
            _l(
                "A slot of this class may have from 1 to %(count)d places (the class capacity).",
                count=care_class.capacity,
            )
        )


def _new_slot(care_class, care_type, on_date, starts_at, ends_at, places, schedule=None) -> Slot:
    slot = Slot(
        institution_id=care_class.institution_id,
        care_class=care_class,
        care_type=care_type,
        on_date=on_date,
        starts_at=starts_at,
        ends_at=ends_at,
        inventory=Inventory(capacity=places),
        schedule_id=schedule.id if schedule else None,
    )
    db.session.add(slot)
    return slot


def _slot_exists(care_class: CareClass, care_type, on_date: date, starts_at: time) -> bool:
    return (
        db.session.scalar(
            sa.select(Slot.id).where(
                Slot.care_class_id == care_class.id,
                Slot.care_type == care_type,
                Slot.on_date == on_date,
                Slot.starts_at == starts_at,
            )
        )
        is not None
    )


def _is_closed(institution_id: int, on_date: date) -> bool:
    return (
        db.session.scalar(
            sa.select(ClosedDate.id).where(
                ClosedDate.institution_id == institution_id, ClosedDate.on_date == on_date
            )
        )
        is not None
    )


def add_slot(
    care_class: CareClass,
    care_type: CareType,
    on_date: date,
    starts_at: time,
    ends_at: time,
    places: int,
    today: date,
) -> Slot:
    """One dated slot (or the start of standing places) of a class."""
    if ends_at <= starts_at:
        raise BookingError(_l("Closing time must be after opening time."))
    _check_slot_fits(care_class, care_type, places, (starts_at, ends_at))
    if on_date < today:
        raise BookingError(_l("The date has passed."))
    if _is_closed(care_class.institution_id, on_date):
        raise BookingError(_l("Your institution is closed on that day."))
    if _slot_exists(care_class, care_type, on_date, starts_at):
        raise BookingError(_l("This class already has a slot of this care type at that time."))
    slot = _new_slot(care_class, care_type, on_date, starts_at, ends_at, places)
    db.session.flush()
    return slot


def add_schedule(care_class: CareClass, **fields) -> Schedule:
    """A weekly pattern of slots for a class."""
    if fields["ends_at"] <= fields["starts_at"]:
        raise BookingError(_l("Closing time must be after opening time."))
    _check_slot_fits(
        care_class,
        fields["care_type"],
        fields["capacity"],
        (fields["starts_at"], fields["ends_at"]),
    )
    if CareType(fields["care_type"]) in STANDING_CARE_TYPES:
        raise BookingError(
            _l("Full-day and half-day places start on a date; add them as single slots.")
        )
    schedule = Schedule(
        institution_id=care_class.institution_id, care_class_id=care_class.id, **fields
    )
    db.session.add(schedule)
    db.session.flush()
    return schedule


def _blocks(schedule: Schedule) -> list[tuple[time, time]]:
    """The start and end of each slot a schedule makes on one day."""
    if schedule.care_type != CareType.HOURLY or not schedule.block_minutes:
        return [(schedule.starts_at, schedule.ends_at)]
    blocks = []
    start = datetime.combine(date.min, schedule.starts_at)
    end_of_day = datetime.combine(date.min, schedule.ends_at)
    step = timedelta(minutes=schedule.block_minutes)
    while start + step <= end_of_day:
        blocks.append((start.time(), (start + step).time()))
        start += step
    return blocks


def generate_slots(schedule: Schedule, first: date, last: date) -> int:
    """Create the schedule's missing slots from ``first`` to ``last``; returns how many."""
    created = 0
    day = first
    while day <= last:
        if schedule.runs_on(day) and not _is_closed(schedule.institution_id, day):
            for starts_at, ends_at in _blocks(schedule):
                if not _slot_exists(schedule.care_class, schedule.care_type, day, starts_at):
                    _new_slot(
                        schedule.care_class,
                        schedule.care_type,
                        day,
                        starts_at,
                        ends_at,
                        min(schedule.capacity, schedule.care_class.capacity),
                        schedule,
                    )
                    created += 1
        day += timedelta(days=1)
    db.session.flush()
    return created


def generate_all_slots(today: date) -> int:
    """Run every active schedule of a filed institution for the days ahead (idempotent)."""
    # Each schedule is generated by one run at a time: another run skips it.
    schedules = db.session.scalars(
        sa.select(Schedule)
        .join(Institution, Institution.id == Schedule.institution_id)
        .where(Schedule.active.is_(True), Institution.status == Status.FILED)
        .with_for_update(skip_locked=True, of=Schedule)
    ).all()
    last = today + timedelta(days=GENERATE_DAYS_AHEAD)
    return sum(generate_slots(schedule, today, last) for schedule in schedules)


def set_slot_capacity(slot: Slot, places: int, now: datetime) -> None:
    """Change a slot's places: never above the class capacity nor below the places taken.

    Places added go to those waiting first, as far as the class has room.
    """
    _check_slot_fits(slot.care_class, CareType(slot.care_type), places)
    _lock_class(slot)
    try:
        capacity.set_capacity(slot.inventory_id, places)
    except capacity.CapacityError as error:
        raise BookingError(
            _l("Places already taken cannot be removed; cancel bookings first.")
        ) from error
    db.session.refresh(slot.inventory)
    _offer_room(slot, now)


def _offer_room(slot: Slot, now: datetime) -> None:
    """Offer the places the slot and its class have free to those waiting for the slot."""
    moment = clock.to_utc(now)
    room = load_rooms(slot.care_class, clock.to_local(moment).date()).free_for(slot)
    for entry in capacity.offer_free_places(slot.inventory_id, moment, _hold(slot), room):
        _notify_offer(entry, slot)


def cancel_slot(slot: Slot, reason: str, now: datetime, sms: str = "cancelled") -> int:
    """Cancel a slot, its bookings and its waitlist; every booked parent is told (``sms``
    names the text message's template). Returns count."""
    _lock_class(slot)
    try:
        change_state(slot, SLOT_STATES, "cancel", cancel_reason=reason)
    except AlreadyMoved:
        raise Settled(_l("This slot is cancelled already.")) from None
    bookings = _active_bookings_of(slot)
    for held in bookings:
        change_state(held, BOOKING_STATES, "cancel_by_institution", cancelled_at=clock.now())
        _notify(
            held,
            N_("Cancelled by the institution"),
            N_(
                "%(institution)s cancelled %(child)s's place on %(date)s."
                " The reason given: %(reason)s"
            ),
            sms=sms,
            reason=reason,
        )
    capacity.close(slot.inventory_id)
    _offer_class_room(slot.care_class, now)
    return len(bookings)


def close_day(institution: Institution, on_date: date, reason: str, now: datetime) -> int:
    """Mark a day closed and cancel its open slots; returns how many slots were cancelled."""
    if on_date < clock.local_date(now):
        raise BookingError(_l("The date has passed."))
    if _is_closed(institution.id, on_date):
        raise BookingError(_l("This day is marked closed already."))
    db.session.add(ClosedDate(institution_id=institution.id, on_date=on_date, reason=reason))
    slots = list(
        db.session.scalars(
            sa.select(Slot).where(
                Slot.institution_id == institution.id,
                Slot.on_date == on_date,
                Slot.status == SlotStatus.OPEN,
            )
        )
    )
    for slot in slots:
        cancel_slot(slot, reason, now)
    return len(slots)


def close_institution(
    institution: Institution, reason: str, now: datetime, sms: str = "deregistered"
) -> int:
    """End every place an institution still offers (it is deregistered or its filing revoked):
    each open slot of today or later, and every standing place, is cancelled with its bookings,
    applications and waiting list, and every family is told (``sms`` names the text message).
    Returns how many bookings ended."""
    today = clock.local_date(now)
    slots = db.session.scalars(
        sa.select(Slot)
        .where(
            Slot.institution_id == institution.id,
            Slot.status == SlotStatus.OPEN,
            sa.or_(Slot.on_date >= today, Slot.care_type.in_(STANDING_CARE_TYPES)),
        )
        .order_by(Slot.care_class_id, Slot.id)
    ).all()
    return sum(cancel_slot(slot, reason, now, sms=sms) for slot in slots)


def _active_bookings_of(slot: Slot) -> list[Booking]:
    return list(
        db.session.scalars(
            sa.select(Booking)
            .where(Booking.slot_id == slot.id, Booking.status.in_(ACTIVE_BOOKING_STATUSES))
            .order_by(Booking.id)  # parents are told in the order they booked
        )
    )


# --- availability --------------------------------------------------------------------------


def availability(
    institution: Institution,
    first: date,
    last: date,
    care_type: CareType | None = None,
    age_months: int | None = None,
    not_before: datetime | None = None,
) -> list[Opening]:
    """Open slots of a filed institution between two dates, with places left for one more
    child in the slot and its class (the one availability, ``careapp.services.availability``).

    ``age_months`` keeps slots whose class and offer accept such a child; ``not_before``
    drops slots that have started.
    """
    wanted = Wanted(care_type, age_months, not_before)
    return openings([institution], first, last, wanted).get(institution.id, [])


# --- booking -------------------------------------------------------------------------------


def bookable_slot(slot_id: int) -> Slot | None:
    """An open slot of a filed institution, with what booking it needs, or None."""
    return (
        db.session.execute(
            sa.select(Slot)
            .join(Slot.institution)
            .where(Slot.id == slot_id, Institution.status == Status.FILED)
            .options(
                joinedload(Slot.inventory),
                joinedload(Slot.care_class),
                contains_eager(Slot.institution).joinedload(Institution.offers),
            )
        )
        .unique()
        .scalar_one_or_none()
    )


def age_at(child: Child, on_date: date) -> int:
    """The child's age in completed months on ``on_date``."""
    return months_between(child.birth_date, on_date)


def _overlaps(a: Slot, b: Slot) -> bool:
    """Whether a child could not attend both slots."""
    if a.is_standing and b.is_standing:
        return True
    if a.is_standing or b.is_standing:
        standing, dated = (a, b) if a.is_standing else (b, a)
        same_period = standing.on_date <= dated.on_date
    else:
        same_period = a.on_date == b.on_date
    return same_period and a.starts_at < b.ends_at and b.starts_at < a.ends_at


def why_closed(slot: Slot, now: datetime):
    """Why ``slot`` takes no booking at ``now`` (local time), a translated sentence, or None
    while it does: cancelled, or already started."""
    if not slot.is_open:
        return _l("This slot has been cancelled.")
    if slot.starts <= now:
        return _l("This slot has already started.")
    return None


def _check_eligible(
    child: Child, slot: Slot, now: datetime, held: list[Slot] | None = None
) -> None:
    """Raise BookingError unless ``child`` may take a place in ``slot``; ``held``: the slots
    the child holds, when the caller has read them already."""
    if (closed := why_closed(slot, now)) is not None:
        raise BookingError(closed)
    age = age_at(child, slot.on_date)
    offer = slot.institution.offer_for(CareType(slot.care_type))
    if age >= AGE_LIMIT_MONTHS:
        raise BookingError(_l("Childcare here is for children under 3 (36 months)."))
    if offer is None or not (slot.care_class.accepts_age(age) and offer.accepts_age(age)):
        raise BookingError(_l("This place is not for a child of %(months)d months.", months=age))
    for other in _active_slots_of(child) if held is None else held:
        if other.id != slot.id and _overlaps(other, slot):
            raise BookingError(
                _l("Your child already has a booking at that time. Cancel it first.")
            )


def _active_slots_of(child: Child) -> list[Slot]:
    return list(
        db.session.scalars(
            sa.select(Slot)
            .join(Booking, Booking.slot_id == Slot.id)
            .where(Booking.child_id == child.id, Booking.status.in_(ACTIVE_BOOKING_STATUSES))
        )
    )


def existing_booking(request_key: str) -> Booking | None:
    """The booking a form with this one-time key made already, if any."""
    return db.session.scalar(sa.select(Booking).where(Booking.request_key == request_key))


def _made_by_this_form(guardian_id: int, request_key: str) -> Booking | None:
    """The booking for the guardian's children made with this one-time key already, if any."""
    earlier = existing_booking(request_key)
    return earlier if earlier is not None and earlier.parent_id == guardian_id else None


@dataclass(frozen=True)
class SeenUnderLock:
    """What a booking reads once the child and the class are locked."""

    #: The booking for the guardian's children made with this form's key already, if any.
    earlier: Booking | None
    #: Whether the form's key names another family's booking.
    key_of_another_family: bool
    #: The slots the child holds a place in.
    held: list[Slot]
    #: The slots holding children in the class's rooms (``occupancy.in_room``).
    in_room: list[Slot]


def _seen_under_lock(child: Child, slot: Slot, request_key: str, today: date) -> SeenUnderLock:
    """In one query, after the locks: the booking this form made already, the slots the
    child holds, and the slots counted in the class's rooms, with ``slot`` read afresh."""
    mine = sa.or_(
        Booking.request_key == request_key,
        sa.and_(Booking.child_id == child.id, Booking.status.in_(ACTIVE_BOOKING_STATUSES)),
    )
    counted = in_room(slot.care_class, today)
    # One list of ids, not an OR of the conditions: an OR makes the database scan every slot.
    slot_ids = sa.union_all(
        sa.select(Slot.id).join(Slot.inventory).where(counted),
        sa.select(sa.literal(slot.id)),
        sa.select(Booking.slot_id).where(mine),
    )
    rows = db.session.execute(
        sa.select(Slot, Booking, counted)
        .join(Slot.inventory)
        .outerjoin(Booking, sa.and_(Booking.slot_id == Slot.id, mine))
        .where(Slot.id.in_(slot_ids))
        .options(contains_eager(Slot.inventory), joinedload(Slot.care_class))
        # Counts read before the lock may sit in the session: the fresh ones must win.
        .execution_options(populate_existing=True)
    ).all()
    made_here = [(held, made) for held, made, _ in rows if made is not None]
    with_key = [made for _, made in made_here if made.request_key == request_key]
    return SeenUnderLock(
        earlier=next((made for made in with_key if made.parent_id == child.parent_id), None),
        key_of_another_family=any(made.parent_id != child.parent_id for made in with_key),
        held=[
            held
            for held, made in made_here
            if made.child_id == child.id and made.status in ACTIVE_BOOKING_STATUSES
        ],
        in_room=list({present.id: present for present, _, is_in in rows if is_in}.values()),
    )


def _already_booked(child: Child, slot: Slot) -> bool:
    return (
        db.session.scalar(
            sa.select(Booking.id).where(
                Booking.child_id == child.id,
                Booking.slot_id == slot.id,
                Booking.status.in_(ACTIVE_BOOKING_STATUSES),
            )
        )
        is not None
    )


def _booking_values(
    actor: User, child: Child, slot: Slot, request_key: str, starts_on: date | None = None
) -> dict:
    """The columns of a new booking: confirmed at once, or an application for a standing place
    (from ``starts_on``, the slot's first day unless given); it belongs to the child's guardian
    and records who booked, and in which capacity."""
    action = "apply" if slot.is_standing else "book"
    return {
        "slot_id": slot.id,
        "child_id": child.id,
        "parent_id": child.parent_id,
        "status": BOOKING_STATES[action].target,
        "request_key": request_key,
        "created_at": clock.now(),
        "booked_by_id": actor.id,
        "consent_capacity": family.consent_capacity(actor, child),
        "starts_on": starts_on if slot.is_standing else None,
    }


#: How far after a standing place's first day a family may ask to start.
LATEST_START_AFTER_FIRST_DAY = timedelta(days=366)


def earliest_start(slot: Slot, today: date) -> date:
    """The first day a standing place of ``slot`` could start: after today, on or after the
    place's first day, on a day the class runs (closed days aside, looking two weeks ahead)."""
    day = max(slot.on_date, today + timedelta(days=1))
    for candidate in (day + timedelta(days=n) for n in range(14)):
        if slot.care_class.runs_on(candidate) and not _is_closed(slot.institution_id, candidate):
            return candidate
    return day


def start_date_problem(slot: Slot, starts_on: date, today: date):
    """Why a standing place of ``slot`` cannot start on ``starts_on`` (a translated sentence),
    or None when it can: on or after the place's first day, after today, within a year, on a
    day the class runs and the institution is open."""
    if starts_on < slot.on_date:
        return _l("Care can start on %(date)s at the earliest.", date=slot.on_date.isoformat())
    if starts_on <= today:
        return _l("Please choose a day after today.")
    if starts_on > slot.on_date + LATEST_START_AFTER_FIRST_DAY:
        return _l("Please choose a day within a year of %(date)s.", date=slot.on_date.isoformat())
    if not slot.care_class.runs_on(starts_on):
        return _l("The class does not run on that day of the week. Please choose another day.")
    if _is_closed(slot.institution_id, starts_on):
        return _l("The institution is closed on that day. Please choose another day.")
    return None


def _create_booking(
    actor: User, child: Child, slot: Slot, request_key: str, starts_on: date | None = None
) -> Booking:
    booking = Booking(**_booking_values(actor, child, slot, request_key, starts_on))
    db.session.add(booking)
    db.session.flush()
    _notify_booked(booking)
    return booking


def _notify_booked(booking: Booking) -> None:
    """Tell the parent the place is booked, or the application received; tell the
    institution of the new booking or application."""
    notify_institution_of_application(booking)
    if booking.slot.is_standing:
        _notify(
            booking,
            N_("Application received"),
            N_(
                "%(institution)s received your application for %(child)s from %(date)s. "
                "You will hear when it is accepted or declined."
            ),
            sms="application_received",
        )
    else:
        _notify(
            booking,
            N_("Booking confirmed"),
            N_(
                "%(child)s's place at %(institution)s on %(date)s from %(start)s to %(end)s "
                "is confirmed."
            ),
            sms="booking_confirmed",
        )


def _take_place_or_offer(
    actor: User,
    child: Child,
    slot: Slot,
    request_key: str,
    now: datetime,
    room: int,
    starts_on: date | None = None,
) -> Booking:
    """Book a free place, or the one held for this child; a child waiting stops waiting.

    A free place is taken only if the class has ``room`` at every moment the slot covers,
    and never ahead of families waiting for this slot.
    """
    values = _booking_values(actor, child, slot, request_key, starts_on)
    if room >= 1:
        # Mostly nobody is in the slot's line: one statement then takes the place and books.
        booking = capacity.take_place_for(slot.inventory_id, Booking, values, nobody_in_line=True)
        if booking is not None:
            _notify_booked(booking)
            return booking
    line = capacity.line_for(slot.inventory_id, f"child:{child.id}")
    entry = line.entry
    if entry is not None and capacity.offer_is_open(entry, clock.to_utc(now)):
        capacity.accept_offer(entry)
        return _create_booking(actor, child, slot, request_key, starts_on)
    if line.waiting_ahead or room < 1:
        raise SlotFull()
    booking = capacity.take_place_for(slot.inventory_id, Booking, values)
    if booking is None:
        raise SlotFull()
    _notify_booked(booking)
    if entry is not None:
        capacity.leave(entry, clock.to_utc(now), _hold(slot))
    return booking


def _booked_once(actor: User, child: Child, slot: Slot, request_key: str, take) -> Booking:
    """Take the place and record the booking in one savepoint (all or nothing)."""
    try:
        with db.session.begin_nested():
            take()
            return _create_booking(actor, child, slot, request_key)
    except sa.exc.IntegrityError:
        if (earlier := existing_booking(request_key)) is None:
            raise BookingError(_l("Your child already has this place.")) from None
        if earlier.parent_id != child.parent_id:
            raise FormExpired() from None
        return earlier


def book(
    actor: User,
    child_id: int,
    slot: Slot,
    request_key: str,
    now: datetime,
    starts_on: date | None = None,
) -> Booking:
    """Take a place for the child ``child_id``: confirmed at once for hourly and temporary
    care, an application for full-day and half-day care (from ``starts_on``, the slot's first
    day unless given; see ``start_date_problem``). ``now`` is local time. ``actor`` is the
    child's guardian or a family member of theirs; the booking is the guardian's.

    Raises SlotFull, NotYourChild, FormExpired (the key is another family's) or BookingError.
    A repeated ``request_key`` returns the first booking. The child, then the class, are
    locked first: two bookings of one child cannot overlap, and the class's count is the one
    the decision relies on. No savepoint: a key used at this moment for another child fails
    the insert with IntegrityError, and the caller's rollback gives the place back.
    """
    # Counting the class reloads the slot afresh and lets go of its institution; held here,
    # the institution stays in the session, and the notice names it without a query.
    _institution = slot.institution
    today = now.date()
    child, closed = lock_child_and_room(_bookable_by(actor, child_id), slot.care_class, today)
    if child is None:
        raise NotYourChild()
    seen = _seen_under_lock(child, slot, request_key, today)
    if seen.earlier is not None:
        return seen.earlier  # an earlier tap of this form committed, perhaps while this waited
    if seen.key_of_another_family:
        raise FormExpired()
    if any(other.id == slot.id for other in seen.held):
        raise BookingError(_l("Your child already has this place."))
    rooms = rooms_of_class(slot.care_class, seen.in_room, closed, today)
    _check_eligible(child, slot, now, seen.held)
    if slot.is_standing and starts_on is not None:
        if (problem := start_date_problem(slot, starts_on, today)) is not None:
            raise BookingError(problem)
    return _take_place_or_offer(
        actor, child, slot, request_key, now, rooms.free_for(slot), starts_on
    )


def _bookable_by(actor: User, child_id: int) -> sa.ColumnElement[bool]:
    """SQL: the child is ``child_id``, not erased, and ``actor`` may book for it."""
    return sa.and_(
        Child.id == child_id, family.acts_for(actor, Child.parent_id), Child.erased_at.is_(None)
    )


def join_waitlist(actor: User, child: Child, slot: Slot, now: datetime) -> WaitlistEntry:
    """Queue ``child`` for a full slot; returns the entry (its position via capacity). The
    entry is the guardian's, whether the guardian or a family member of theirs queued it.

    Decided under the class's and the line's locks: a place freed at this moment is either
    bookable (and the family is told to book it) or offered to this family in turn.
    """
    if not family.may_act_for(actor, child.parent_id):
        raise BookingError(_l("This child is not on your account."))
    _lock_child(child)
    _lock_class(slot)
    if _already_booked(child, slot):
        raise BookingError(_l("Your child already has this place."))
    _check_eligible(child, slot, now)
    room = load_rooms(slot.care_class, now.date()).free_for(slot)
    entry = capacity.join_waitlist(slot.inventory_id, child.parent_id, f"child:{child.id}", room)
    if entry is None:
        raise BookingError(_l("A place is free: you can book it now."))
    return entry


def child_of_entry(entry: WaitlistEntry) -> Child | None:
    """The child a waitlist entry is for."""
    kind, _, identifier = entry.subject.partition(":")
    return db.session.get(Child, int(identifier)) if kind == "child" else None


def slot_of_entry(entry: WaitlistEntry) -> Slot | None:
    """The slot whose places a waitlist entry waits for (None for a course session)."""
    return db.session.scalar(sa.select(Slot).where(Slot.inventory_id == entry.inventory_id))


def accept_offer(actor: User, entry: WaitlistEntry, request_key: str, now: datetime) -> Booking:
    """Turn a held place into the child's booking (``now`` is local time); ``actor`` is the
    guardian or a family member of theirs.

    A repeated ``request_key`` returns the first booking; of an accept and a turn-down at
    once, one happens and the other is told how the offer ended.
    """
    if not family.may_act_for(actor, entry.user_id):
        raise BookingError(_l("This offer is not yours."))
    if (earlier := _made_by_this_form(entry.user_id, request_key)) is not None:
        return earlier
    slot = slot_of_entry(entry)
    if slot is None:
        raise BookingError(_l("This offer is not for a place in a slot."))
    child = child_of_entry(entry)
    _lock_child(child)
    _lock_class(slot)
    if (earlier := _made_by_this_form(entry.user_id, request_key)) is not None:
        return earlier
    db.session.refresh(entry, ["status", "offer_expires_at"])
    if entry.status != WaitStatus.OFFERED:
        raise Settled(WAITLIST_OUTCOMES[entry.status])
    if not capacity.offer_is_open(entry, clock.to_utc(now)):
        raise BookingError(_l("This offer has expired."))
    if _already_booked(child, slot):
        raise BookingError(_l("Your child already has this place."))
    _check_eligible(child, slot, now)
    return _booked_once(actor, child, slot, request_key, lambda: capacity.accept_offer(entry))


def leave_waitlist(actor: User, entry: WaitlistEntry, now: datetime) -> None:
    """Leave the line or turn down an offer, of a slot or a course (the place passes on);
    ``now`` is local time. A family member may do so for a slot, never for a course."""
    slot = slot_of_entry(entry)
    allowed = entry.user_id == actor.id or (
        slot is not None and family.may_act_for(actor, entry.user_id)
    )
    if not allowed:
        raise BookingError(_l("You are not on this waiting list."))
    try:
        if slot is None:
            courses.leave_waitlist(entry, clock.to_utc(now))
        else:
            _lock_class(slot)
            _leave_slot_line(entry, slot, clock.to_utc(now))
    except AlreadyMoved as moved:
        raise settled(moved, WAITLIST_OUTCOMES) from None


def _leave_slot_line(entry: WaitlistEntry, slot: Slot, moment: datetime) -> None:
    """Leave a slot's line; a held place passes on with the slot's hold."""
    _pass_on(capacity.leave(entry, moment, _hold(slot)), slot, moment)


def _pass_on(handover: capacity.Handover, slot: Slot, now: datetime) -> None:
    """Tell the family a place passed to; a place given back makes room in the class, which
    may let families waiting for another slot of the class take a place there."""
    if handover.offered_to is not None:
        _notify_offer(handover.offered_to, slot)
    if handover.given_back:
        _offer_class_room(slot.care_class, now)


def _hold(slot: Slot) -> timedelta:
    return OFFER_HOLD[CareType(slot.care_type)]


def _free(booking: Booking, now: datetime) -> capacity.Handover:
    """Give a booking's place back (to the next in line first); ``now`` is local time."""
    slot = booking.slot
    handover = capacity.release_place(slot.inventory_id, clock.to_utc(now), _hold(slot))
    _pass_on(handover, slot, now)
    return handover


def _offer_class_room(care_class: CareClass, now: datetime) -> None:
    """Offer room freed in a class to families waiting for its other upcoming slots."""
    today = clock.local_date(now)
    waited_for = db.session.scalars(
        sa.select(Slot)
        .join(WaitlistEntry, WaitlistEntry.inventory_id == Slot.inventory_id)
        .where(
            Slot.care_class_id == care_class.id,
            Slot.status == SlotStatus.OPEN,
            Slot.on_date >= today,
            WaitlistEntry.status == WaitStatus.WAITING,
        )
        .distinct()
        .order_by(Slot.on_date, Slot.starts_at, Slot.id)
    ).all()
    for slot in waited_for:
        _offer_room(slot, now)


def cancel_deadline(booking: Booking) -> datetime:
    """Until when the parent may cancel (the institution's cut-off before the start)."""
    hours = booking.slot.institution.cancel_cutoff_hours
    return booking.slot.starts - timedelta(hours=hours)


def can_cancel(booking: Booking, now: datetime) -> bool:
    """Whether the parent may still cancel."""
    return booking.is_active and now < cancel_deadline(booking)


def someone_waits_for(booking: Booking) -> bool:
    """Whether a family waits for the booking's slot (its place would be offered to them)."""
    return capacity.has_waiting(booking.slot.inventory_id)


def cancel_by_parent(actor: User, booking: Booking, now: datetime) -> bool:
    """Cancel before the cut-off; the place is free (or offered on) at once. ``actor`` is the
    guardian or a family member of theirs, and is recorded as who cancelled. Returns whether
    the place went to a family waiting for it.

    Of two cancels at once, one frees the place; the other is told it is cancelled already.
    """
    if not family.may_act_for(actor, booking.parent_id):
        raise BookingError(_l("This booking is not yours."))
    _lock_class(booking.slot)
    if booking.is_active and not can_cancel(booking, now):
        raise BookingError(_l("It is too late to cancel online. Please call the institution."))
    try:
        change_state(
            booking, BOOKING_STATES, "cancel", cancelled_at=clock.now(), cancelled_by_id=actor.id
        )
    except AlreadyMoved as moved:
        raise settled(moved, BOOKING_OUTCOMES) from None
    return _free(booking, now).offered_to is not None


def decide_application(booking: Booking, accept: bool, reason: str, now: datetime) -> None:
    """The institution accepts or declines a full-day or half-day application.

    Of two decisions at once (or a decision and the parent's cancel), one is made; the other
    is told how the application ended.
    """
    if not accept and not reason.strip():
        raise BookingError(_l("Please give the reason; the parent will read it."))
    _lock_class(booking.slot)
    values = {"decided_at": clock.now()}
    if not accept:
        values["decline_reason"] = reason.strip()
    try:
        change_state(booking, BOOKING_STATES, "accept" if accept else "decline", **values)
    except AlreadyMoved as moved:
        raise settled(moved, DECISION_OUTCOMES) from None
    if accept:
        _notify(
            booking,
            N_("Application accepted"),
            N_("%(institution)s accepted %(child)s from %(date)s."),
            sms="accepted",
        )
        return
    _notify(
        booking,
        N_("Application declined"),
        N_(
            "%(institution)s could not accept %(child)s from %(date)s. The reason given: %(reason)s"
        ),
        sms="declined",
        reason=booking.decline_reason,
    )
    _free(booking, now)


# --- the day roster and attendance ---------------------------------------------------------


def is_expected_on(booking: Booking, day: date, closed: frozenset[date] = frozenset()) -> bool:
    """Whether the booked child is expected on ``day``: the day of an hourly or temporary
    place; every day the class runs from the start of a standing place, closed days aside."""
    slot = booking.slot
    if not slot.is_standing:
        return slot.on_date == day
    return booking.first_day <= day and slot.care_class.runs_on(day) and day not in closed


def roster(institution: Institution, day: date, care_class_id: int | None = None):
    """Every child expected on ``day`` with that day's attendance (or None), by time."""
    query = (
        sa.select(Booking, Attendance)
        .join(Booking.slot)
        .outerjoin(
            Attendance, sa.and_(Attendance.booking_id == Booking.id, Attendance.on_date == day)
        )
        .where(
            Slot.institution_id == institution.id,
            Booking.status == BookingStatus.CONFIRMED,
            sa.or_(
                Slot.on_date == day,
                sa.and_(Slot.care_type.in_(STANDING_CARE_TYPES), Slot.on_date <= day),
            ),
        )
        .options(
            contains_eager(Booking.slot).joinedload(Slot.care_class), joinedload(Booking.child)
        )
        .order_by(Slot.starts_at, Booking.id)
    )
    if care_class_id is not None:
        query = query.where(Slot.care_class_id == care_class_id)
    closed = frozenset({day}) if _is_closed(institution.id, day) else frozenset()
    return [
        (booking, attendance)
        for booking, attendance in db.session.execute(query).unique()
        if is_expected_on(booking, day, closed)
    ]


def mark_attendance(booking: Booking, present: bool, today: date) -> Attendance:
    """Record on the day whether the booked child came (one record per child and day)."""
    if today > clock.today():
        raise BookingError(_l("A child is checked in on the day of care, not before it."))
    if booking.status != BookingStatus.CONFIRMED:
        raise BookingError(_l("Only confirmed bookings can be checked in."))
    closed = frozenset({today}) if _is_closed(booking.slot.institution_id, today) else frozenset()
    if not is_expected_on(booking, today, closed):
        raise BookingError(_l("Attendance is recorded on the day of care only."))
    statement = sa.select(Attendance).where(
        Attendance.booking_id == booking.id, Attendance.on_date == today
    )
    record = db.session.scalar(statement.with_for_update())
    if record is None:
        try:
            with db.session.begin_nested():
                record = Attendance(booking_id=booking.id, on_date=today, present=present)
                db.session.add(record)
            return record
        except sa.exc.IntegrityError:
            record = db.session.scalar(statement.with_for_update())
    record.present = present
    record.recorded_at = clock.now()
    return record


# --- periodic jobs -------------------------------------------------------------------------


def expire_next_offer(now: datetime) -> bool:
    """Close one unanswered offer of a slot or course session and pass its place on; False
    when none is left. Safe with two runs of the job at once: each offer is expired once."""
    for entry in capacity.expired_offers(now):
        slot = slot_of_entry(entry)
        try:
            if slot is None:
                courses.expire_offer(entry, now)
                return True
            _lock_class(slot)
            handover = capacity.expire(entry, now, _hold(slot))
        except AlreadyMoved:
            continue  # answered, or expired by the other run, at this moment
        _pass_on(handover, slot, now)
        return True
    return False


def expire_offers(now: datetime) -> int:
    """Close every unanswered offer (each in its own savepoint) and pass its place on."""
    expired = 0
    while expire_next_offer(now):
        expired += 1
    return expired


def send_reminders(today: date) -> int:
    """Remind parents the day before; each booking is reminded once, whichever run claims it."""
    bookings = list(
        db.session.scalars(
            sa.select(Booking)
            .join(Booking.slot)
            .where(
                Slot.on_date == today + timedelta(days=1),
                Slot.status == SlotStatus.OPEN,
                Booking.status == BookingStatus.CONFIRMED,
                Booking.reminder_sent_at.is_(None),
            )
            .with_for_update(skip_locked=True, of=Booking)
        )
    )
    reminded = 0
    for booking in bookings:
        if not _claim_reminder(booking):
            continue
        reminded += 1
        _notify(
            booking,
            N_("Reminder: care tomorrow"),
            N_(
                "A reminder: %(child)s has a place at %(institution)s tomorrow, %(date)s, "
                "from %(start)s to %(end)s."
            ),
            sms="reminder",
        )
    return reminded


def _claim_reminder(booking: Booking) -> bool:
    """Mark the booking reminded unless another run did; whether this run claimed it."""
    moment = clock.now()
    claimed = db.session.execute(
        sa.update(Booking)
        .where(Booking.id == booking.id, Booking.reminder_sent_at.is_(None))
        .values(reminder_sent_at=moment)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        return False
    set_committed_value(booking, "reminder_sent_at", moment)
    return True


# --- messages ------------------------------------------------------------------------------


def _notify(booking: Booking, subject: str, body: str, sms: str, **values) -> None:
    """Tell the parent, in their language, with no child detail beyond the first name (and
    none at all by SMS, whose template ``sms`` names)."""
    parent = db.session.get(User, booking.parent_id)
    slot = booking.slot
    start, end = slot.starts_at.strftime("%H:%M"), slot.ends_at.strftime("%H:%M")
    with force_locale(parent.language):
        values.update(
            child=given_name(booking.child.name),
            institution=slot.institution.name_for(parent.language),
            date=booking.first_day.isoformat(),
            start=start,
            end=end,
        )
        email = (_(subject), _(body, **values))
    text = {"institution": slot.institution.name, "date": short_date(slot.on_date)}
    notify(parent, email, (sms, {**text, "start": start, "end": end}))


def _site_link(endpoint: str, **values) -> str:
    """The address of ``endpoint`` on the public site, for e-mails (also outside a request,
    as in ``jobs run`` and tests)."""
    base = current_app.config["SITE_URL"].rstrip("/")
    if has_request_context():
        return base + url_for(endpoint, **values)
    with current_app.test_request_context("/"):
        return base + url_for(endpoint, **values)


def notify_institution_of_application(booking: Booking) -> None:
    """Tell the institution's account of a new booking or application, in its language, in
    the transaction that made it (the child by given name only; the page shows the rest)."""
    slot = booking.slot
    institution = slot.institution
    owner = db.session.get(User, institution.owner_id) if institution.owner_id else None
    if owner is None:
        return
    with force_locale(owner.language):
        values = {
            "child": given_name(booking.child.name),
            "care_type": str(CARE_TYPE_LABELS[CareType(slot.care_type)]),
            "date": slot.on_date.isoformat(),
            "start": slot.starts_at.strftime("%H:%M"),
            "end": slot.ends_at.strftime("%H:%M"),
            "link": _site_link(
                "institutions.booking_detail", institution_id=institution.id, booking_id=booking.id
            ),
        }
        if slot.is_standing:
            subject = _("New application: %(care_type)s from %(date)s", **values)
            body = _(
                "A family applied for %(care_type)s for %(child)s from %(date)s, %(start)s to"
                " %(end)s. Accept or decline it, and see the family's contact, here: %(link)s",
                **values,
            )
        else:
            subject = _("New booking: %(care_type)s on %(date)s", **values)
            body = _(
                "A family booked %(care_type)s for %(child)s on %(date)s, %(start)s to %(end)s."
                " The booking and the family's contact: %(link)s",
                **values,
            )
    kind = "申请" if slot.is_standing else "预约"
    notify(
        owner,
        email=(subject, body),
        sms=("new_application", {"date": short_date(slot.on_date), "kind": kind}),
    )


def _notify_offer(entry: WaitlistEntry, slot: Slot) -> None:
    parent = db.session.get(User, entry.user_id)
    child = child_of_entry(entry)
    with force_locale(parent.language):
        email = (
            _("A place is free for you"),
            _(
                "A place at %(institution)s on %(date)s is held for %(child)s until %(until)s. "
                "Sign in and open My bookings to take it.",
                institution=slot.institution.name_for(parent.language),
                date=slot.on_date.isoformat(),
                child=given_name(child.name) if child else "",
                until=clock.to_local(entry.offer_expires_at).strftime("%Y-%m-%d %H:%M"),
            ),
        )
    text = {
        "institution": slot.institution.name,
        "date": short_date(slot.on_date),
        "deadline": short_moment(entry.offer_expires_at),
    }
    notify(parent, email, ("offer", text))


# --- lists ---------------------------------------------------------------------------------


def bookings_of(user: User) -> list[Booking]:
    """Every booking of the children ``user`` may act for (its own, and as a family member),
    with slot, institution and child loaded."""
    query = (
        sa.select(Booking)
        .where(family.acts_for(user, Booking.parent_id))
        .options(
            joinedload(Booking.slot).joinedload(Slot.institution),
            joinedload(Booking.child),
        )
        .join(Booking.slot)
        .order_by(Slot.on_date, Slot.starts_at, Booking.id)
    )
    return list(db.session.scalars(query).unique())


def waitlist_of(user: User) -> list[WaitlistEntry]:
    """The active waitlist entries for booking slots of the children ``user`` may act for."""
    query = (
        sa.select(WaitlistEntry)
        .join(Slot, Slot.inventory_id == WaitlistEntry.inventory_id)
        .where(
            family.acts_for(user, WaitlistEntry.user_id),
            WaitlistEntry.status.in_((WaitStatus.WAITING, WaitStatus.OFFERED)),
        )
        .order_by(WaitlistEntry.id)
    )
    return list(db.session.scalars(query))


def booking_for(user: User, booking_id: int) -> Booking | None:
    """The booking with this id of a child ``user`` may act for, or None."""
    return db.session.scalar(
        sa.select(Booking)
        .where(Booking.id == booking_id, family.acts_for(user, Booking.parent_id))
        .options(joinedload(Booking.slot).joinedload(Slot.institution), joinedload(Booking.child))
    )


def entry_for(user: User, entry_id: int) -> WaitlistEntry | None:
    """The waitlist entry with this id: ``user``'s own (a slot's or a course's), or a slot's
    for a child ``user`` may act for as a family member; else None."""
    slot_line = WaitlistEntry.inventory_id.in_(sa.select(Slot.inventory_id))
    return db.session.scalar(
        sa.select(WaitlistEntry).where(
            WaitlistEntry.id == entry_id,
            family.acts_for(user, WaitlistEntry.user_id),
            sa.or_(WaitlistEntry.user_id == user.id, slot_line),
        )
    )


def institution_bookings(
    institution: Institution, first: date, last: date, statuses=None, care_class_id=None
) -> list[Booking]:
    """Bookings of an institution's slots between two dates, with slot and child loaded."""
    query = (
        sa.select(Booking)
        .join(Booking.slot)
        .where(Slot.institution_id == institution.id, Slot.on_date.between(first, last))
        .options(
            contains_eager(Booking.slot).joinedload(Slot.care_class), joinedload(Booking.child)
        )
        .order_by(Slot.on_date, Slot.starts_at, Booking.id)
    )
    if statuses is not None:
        query = query.where(Booking.status.in_(statuses))
    if care_class_id is not None:
        query = query.where(Slot.care_class_id == care_class_id)
    return list(db.session.scalars(query).unique())


def pending_applications(institution: Institution) -> list[Booking]:
    """Full-day and half-day applications waiting for the institution's answer."""
    query = (
        sa.select(Booking)
        .join(Booking.slot)
        .where(Slot.institution_id == institution.id, Booking.status == BookingStatus.APPLIED)
        .options(
            contains_eager(Booking.slot).joinedload(Slot.care_class),
            joinedload(Booking.child),
            joinedload(Booking.parent),
        )
        .order_by(Booking.created_at)
    )
    return list(db.session.scalars(query).unique())


def institution_booking(institution: Institution, booking_id: int) -> Booking | None:
    """A booking of one of the institution's slots, or None."""
    return db.session.scalar(
        sa.select(Booking)
        .join(Booking.slot)
        .where(Booking.id == booking_id, Slot.institution_id == institution.id)
        .options(
            contains_eager(Booking.slot), joinedload(Booking.child), joinedload(Booking.parent)
        )
    )


def institution_slot(institution: Institution, slot_id: int) -> Slot | None:
    """A slot of the institution, or None."""
    return db.session.scalar(
        sa.select(Slot)
        .where(Slot.id == slot_id, Slot.institution_id == institution.id)
        .options(joinedload(Slot.inventory), joinedload(Slot.care_class))
    )


def upcoming_slots(institution: Institution, first: date, last: date) -> list[Slot]:
    """The institution's slots between two dates, with places and classes loaded."""
    query = (
        sa.select(Slot)
        .where(Slot.institution_id == institution.id, Slot.on_date.between(first, last))
        .options(joinedload(Slot.inventory), joinedload(Slot.care_class))
        .order_by(Slot.on_date, Slot.starts_at, Slot.id)
    )
    return list(db.session.scalars(query))


# --- calendar feed -------------------------------------------------------------------------


def calendar_feed(parent: User) -> CalendarFeed | None:
    """The parent's private calendar address, if one exists."""
    return db.session.scalar(sa.select(CalendarFeed).where(CalendarFeed.user_id == parent.id))


def renew_calendar_feed(parent: User) -> CalendarFeed:
    """A new private calendar address; the old one stops working."""
    feed = calendar_feed(parent)
    if feed is None:
        feed = CalendarFeed(user_id=parent.id, token=secrets.token_urlsafe(32))
        db.session.add(feed)
    else:
        feed.token = secrets.token_urlsafe(32)
    db.session.flush()
    return feed


def revoke_calendar_feed(parent: User) -> None:
    """Delete the private calendar address."""
    feed = calendar_feed(parent)
    if feed is not None:
        db.session.delete(feed)


def feed_owner(token: str) -> User | None:
    """The parent whose calendar address carries ``token``."""
    return db.session.scalar(
        sa.select(User)
        .join(CalendarFeed, CalendarFeed.user_id == User.id)
        .where(CalendarFeed.token == token)
    )


# --- request parameters --------------------------------------------------------------------

#: Days shown when no range is asked for.
DEFAULT_AVAILABILITY_DAYS = 14


@dataclass(frozen=True)
class AvailabilityQuery:
    """Which openings to list."""

    first: date
    last: date
    care_type: CareType | None = None
    age_months: int | None = None


def parse_availability_query(args, today: date) -> AvailabilityQuery:
    """An availability query from ``from``, ``to``, ``care_type`` and ``age_months``.

    Raises InvalidParameters; the range is at most 62 days and defaults to two weeks.
    """
    reader = ParamReader(args)
    care_type = reader.choice("care_type", CareType.values(), _l("There is no such care type."))
    age_months = reader.integer("age_months", 0, 600)
    first = reader.iso_date("from") or today
    last = reader.iso_date("to") or first + timedelta(days=DEFAULT_AVAILABILITY_DAYS - 1)
    if "from" not in reader.errors and "to" not in reader.errors:
        if last < first:
            reader.errors["to"] = _l("The end date must not be before the start date.")
        elif (last - first).days >= MAX_AVAILABILITY_DAYS:
            reader.errors["to"] = _l(
                "Please ask for at most %(days)d days at once.", days=MAX_AVAILABILITY_DAYS
            )
    if reader.errors:
        raise InvalidParameters(reader.errors)
    return AvailabilityQuery(first, last, CareType(care_type) if care_type else None, age_months)
