"""Places and bookings: slots, availability, booking, waitlist offers, cancellation, roster.

Every change of places goes through ``careapp.services.capacity``. Times of care are local
(naive, the site's time zone); times of records are aware UTC.
"""

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import contains_eager, joinedload

from careapp.extensions import db
from careapp.models import (
    ACTIVE_BOOKING_STATUSES,
    CONSENT_POLICY_VERSION,
    Booking,
    BookingStatus,
    CalendarFeed,
    CareClass,
    CareOffer,
    CareType,
    Child,
    ClosedDate,
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
from careapp.models.base import as_utc
from careapp.models.booking import STANDING_CARE_TYPES
from careapp.models.provision import AGE_LIMIT_MONTHS
from careapp.services import capacity, courses
from careapp.services.errors import CareappError, InvalidParameters
from careapp.services.mail import N_, queue_email
from careapp.services.params import ParamReader
from careapp.services.privacy import first_name
from careapp.services.search import months_between

SITE_TIME_ZONE = ZoneInfo("Asia/Shanghai")
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


class SlotFull(BookingError):
    """No place is free; the parent may join the waitlist."""

    def __init__(self):
        super().__init__(_l("This slot is full. You can join the waiting list."))


def local_now() -> datetime:
    """The current local time of the site, naive."""
    return datetime.now(SITE_TIME_ZONE).replace(tzinfo=None)


def utc_now() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(UTC)


def local_to_utc(moment: datetime) -> datetime:
    """A naive local time of the site as an aware UTC time (aware times pass through)."""
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    return moment.replace(tzinfo=SITE_TIME_ZONE).astimezone(UTC)


def as_local(moment: datetime) -> datetime:
    """An aware time as the site's naive local time."""
    return as_utc(moment).astimezone(SITE_TIME_ZONE).replace(tzinfo=None)


def new_request_key() -> str:
    """A one-time key for a booking form."""
    return secrets.token_urlsafe(24)


# --- children ------------------------------------------------------------------------------


def add_child(parent: User, *, name: str, birth_date: date, notes: str, consent: bool) -> Child:
    """Record a child with the guardian's consent (required, versioned, timestamped)."""
    if not consent:
        raise BookingError(_l("Please give your consent to record your child's details."))
    child = Child(parent_id=parent.id, name=name.strip(), birth_date=birth_date, notes=notes or "")
    child.consents.append(
        GuardianConsent(guardian_id=parent.id, policy_version=CONSENT_POLICY_VERSION)
    )
    db.session.add(child)
    db.session.flush()
    return child


def children_of(parent: User) -> list[Child]:
    """A parent's children, oldest first."""
    query = sa.select(Child).where(Child.parent_id == parent.id).order_by(Child.birth_date)
    return list(db.session.scalars(query))


def own_child(parent: User, child_id: int) -> Child | None:
    """The parent's child with this id, or None (also for another parent's)."""
    return db.session.scalar(
        sa.select(Child).where(Child.id == child_id, Child.parent_id == parent.id)
    )


def delete_child(child: Child, now: datetime) -> None:
    """Delete a child and every booking of it, giving back places still held."""
    for booking in db.session.scalars(sa.select(Booking).where(Booking.child_id == child.id)):
        if booking.is_active:
            _free(booking, now)
    for entry in _active_entries_for(f"child:{child.id}"):
        _leave_slot_line(entry, slot_of_entry(entry), local_to_utc(now))
    db.session.delete(child)


def _active_entries_for(subject: str) -> list[WaitlistEntry]:
    return list(
        db.session.scalars(
            sa.select(WaitlistEntry).where(
                WaitlistEntry.subject == subject,
                WaitlistEntry.status.in_((WaitStatus.WAITING, WaitStatus.OFFERED)),
            )
        )
    )


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
    schedules = db.session.scalars(
        sa.select(Schedule)
        .join(Institution, Institution.id == Schedule.institution_id)
        .where(Schedule.active.is_(True), Institution.status == Status.FILED)
    )
    last = today + timedelta(days=GENERATE_DAYS_AHEAD)
    return sum(generate_slots(schedule, today, last) for schedule in schedules)


def set_slot_capacity(slot: Slot, places: int, now: datetime) -> None:
    """Change a slot's places: never above the class capacity nor below the places taken."""
    _check_slot_fits(slot.care_class, CareType(slot.care_type), places)
    try:
        capacity.set_capacity(slot.inventory_id, places)
    except capacity.CapacityError as error:
        raise BookingError(
            _l("Places already taken cannot be removed; cancel bookings first.")
        ) from error
    db.session.refresh(slot.inventory)
    for entry in capacity.offer_free_places(slot.inventory_id, now, _hold(slot)):
        _notify_offer(entry, slot)


def cancel_slot(slot: Slot, reason: str, now: datetime) -> int:
    """Cancel a slot, its bookings and its waitlist; every booked parent is told. Returns count."""
    if not slot.is_open:
        raise BookingError(_l("This slot is cancelled already."))
    slot.status = SlotStatus.CANCELLED
    slot.cancel_reason = reason
    bookings = _active_bookings_of(slot)
    for booking in bookings:
        booking.status = BookingStatus.CANCELLED_BY_INSTITUTION
        booking.cancelled_at = now
        _notify(
            booking,
            N_("Cancelled by the institution"),
            N_(
                "%(institution)s cancelled %(child)s's place on %(date)s."
                " The reason given: %(reason)s"
            ),
            reason=reason,
        )
    capacity.close(slot.inventory_id)
    return len(bookings)


def close_day(institution: Institution, on_date: date, reason: str, now: datetime) -> int:
    """Mark a day closed and cancel its open slots; returns how many slots were cancelled."""
    if on_date < as_local(now).date():
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


def _active_bookings_of(slot: Slot) -> list[Booking]:
    return list(
        db.session.scalars(
            sa.select(Booking).where(
                Booking.slot_id == slot.id, Booking.status.in_(ACTIVE_BOOKING_STATUSES)
            )
        )
    )


# --- availability --------------------------------------------------------------------------


@dataclass(frozen=True)
class Opening:
    """A slot as parents see it: when, what and how many places are left."""

    slot: Slot
    remaining: int


def _class_accepts(care_class: CareClass, offer: CareOffer, age_months: int) -> bool:
    standard = care_class.standard
    return standard.min_age_months <= age_months < standard.max_age_months and offer.accepts_age(
        age_months
    )


def availability(
    institution: Institution,
    first: date,
    last: date,
    care_type: CareType | None = None,
    age_months: int | None = None,
    not_before: datetime | None = None,
) -> list[Opening]:
    """Open slots of a filed institution between two dates, with places left.

    ``age_months`` keeps slots whose class and offer accept such a child; ``not_before``
    drops slots that have started.
    """
    query = (
        sa.select(Slot)
        .join(Slot.inventory)
        .join(Slot.care_class)
        .where(
            Slot.institution_id == institution.id,
            Slot.status == SlotStatus.OPEN,
            Slot.on_date.between(first, last),
        )
        .options(contains_eager(Slot.inventory), contains_eager(Slot.care_class))
        .order_by(Slot.on_date, Slot.starts_at, Slot.care_type, Slot.id)
    )
    if care_type is not None:
        query = query.where(Slot.care_type == care_type)
    openings = []
    for slot in db.session.scalars(query):
        offer = institution.offer_for(CareType(slot.care_type))
        if offer is None:
            continue
        if age_months is not None and not _class_accepts(slot.care_class, offer, age_months):
            continue
        if not_before is not None and slot.starts <= not_before:
            continue
        openings.append(Opening(slot, slot.inventory.remaining))
    return openings


# --- booking -------------------------------------------------------------------------------


def bookable_slot(slot_id: int) -> Slot | None:
    """An open slot of a filed institution, with what booking it needs, or None."""
    return db.session.scalar(
        sa.select(Slot)
        .join(Slot.institution)
        .where(Slot.id == slot_id, Institution.status == Status.FILED)
        .options(
            joinedload(Slot.inventory),
            joinedload(Slot.care_class),
            contains_eager(Slot.institution),
        )
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


def _check_eligible(child: Child, slot: Slot, now: datetime) -> None:
    """Raise BookingError unless ``child`` may take a place in ``slot``."""
    if not slot.is_open:
        raise BookingError(_l("This slot has been cancelled."))
    if slot.starts <= now:
        raise BookingError(_l("This slot has already started."))
    age = age_at(child, slot.on_date)
    offer = slot.institution.offer_for(CareType(slot.care_type))
    if age >= AGE_LIMIT_MONTHS:
        raise BookingError(_l("Childcare here is for children under 3 (36 months)."))
    if offer is None or not _class_accepts(slot.care_class, offer, age):
        raise BookingError(_l("This place is not for a child of %(months)d months.", months=age))
    for other in _active_slots_of(child):
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


def _made_by_this_form(parent: User, request_key: str) -> Booking | None:
    """The parent's booking made with this one-time key already, if any."""
    earlier = existing_booking(request_key)
    return earlier if earlier is not None and earlier.parent_id == parent.id else None


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


def _create_booking(parent: User, child: Child, slot: Slot, request_key: str) -> Booking:
    status = BookingStatus.APPLIED if slot.is_standing else BookingStatus.CONFIRMED
    booking = Booking(
        slot=slot, child=child, parent_id=parent.id, status=status, request_key=request_key
    )
    db.session.add(booking)
    db.session.flush()
    if status == BookingStatus.APPLIED:
        _notify(
            booking,
            N_("Application received"),
            N_(
                "%(institution)s received your application for %(child)s from %(date)s. "
                "You will hear when it is accepted or declined."
            ),
        )
    else:
        _notify(
            booking,
            N_("Booking confirmed"),
            N_(
                "%(child)s's place at %(institution)s on %(date)s from %(start)s to %(end)s "
                "is confirmed."
            ),
        )
    return booking


def _entry_of(child: Child, slot: Slot) -> WaitlistEntry | None:
    """The child's active waitlist entry for the slot, if any."""
    return db.session.scalar(
        sa.select(WaitlistEntry).where(
            WaitlistEntry.inventory_id == slot.inventory_id,
            WaitlistEntry.subject == f"child:{child.id}",
            WaitlistEntry.status.in_((WaitStatus.WAITING, WaitStatus.OFFERED)),
        )
    )


def _take_or_use_offer(child: Child, slot: Slot, now: datetime) -> None:
    """Take a free place, or the one held for this child; a child waiting stops waiting."""
    entry = _entry_of(child, slot)
    if entry is not None and capacity.offer_is_open(entry, local_to_utc(now)):
        capacity.accept_offer(entry)
        return
    if not capacity.take_place(slot.inventory_id):
        raise SlotFull()
    if entry is not None:
        capacity.leave(entry, local_to_utc(now), _hold(slot))


def _booked_once(parent: User, child: Child, slot: Slot, request_key: str, take) -> Booking:
    """Take the place and record the booking in one savepoint.

    When a second tap of the same form commits first, the savepoint is undone (the place
    given back) and the first tap's booking is returned.
    """
    try:
        with db.session.begin_nested():
            take()
            return _create_booking(parent, child, slot, request_key)
    except sa.exc.IntegrityError:
        earlier = existing_booking(request_key)
        if earlier is not None and earlier.parent_id == parent.id:
            return earlier
        raise BookingError(_l("Your child already has this place.")) from None


def book(parent: User, child: Child, slot: Slot, request_key: str, now: datetime) -> Booking:
    """Take a place for ``child``: confirmed at once for hourly and temporary care,
    an application for full-day and half-day care. ``now`` is local time.

    Raises SlotFull or BookingError. A repeated ``request_key`` returns the first booking.
    """
    if (earlier := _made_by_this_form(parent, request_key)) is not None:
        return earlier
    if child.parent_id != parent.id:
        raise BookingError(_l("This child is not on your account."))
    if _already_booked(child, slot):
        # The first tap of this form may have committed since the check above.
        if (earlier := _made_by_this_form(parent, request_key)) is not None:
            return earlier
        raise BookingError(_l("Your child already has this place."))
    _check_eligible(child, slot, now)
    return _booked_once(
        parent, child, slot, request_key, lambda: _take_or_use_offer(child, slot, now)
    )


def join_waitlist(parent: User, child: Child, slot: Slot, now: datetime) -> WaitlistEntry:
    """Queue ``child`` for a full slot; returns the entry (its position via capacity)."""
    if child.parent_id != parent.id:
        raise BookingError(_l("This child is not on your account."))
    if _already_booked(child, slot):
        raise BookingError(_l("Your child already has this place."))
    _check_eligible(child, slot, now)
    if slot.inventory.remaining > 0:
        raise BookingError(_l("A place is free: you can book it now."))
    return capacity.join_waitlist(slot.inventory_id, parent.id, f"child:{child.id}")


def child_of_entry(entry: WaitlistEntry) -> Child | None:
    """The child a waitlist entry is for."""
    kind, _, identifier = entry.subject.partition(":")
    return db.session.get(Child, int(identifier)) if kind == "child" else None


def slot_of_entry(entry: WaitlistEntry) -> Slot:
    """The slot whose places a waitlist entry waits for."""
    return db.session.scalar(sa.select(Slot).where(Slot.inventory_id == entry.inventory_id))


def accept_offer(parent: User, entry: WaitlistEntry, request_key: str, now: datetime) -> Booking:
    """Turn a held place into the child's booking (``now`` is local time)."""
    earlier = existing_booking(request_key)
    if earlier is not None and earlier.parent_id == parent.id:
        return earlier
    if entry.user_id != parent.id:
        raise BookingError(_l("This offer is not yours."))
    if not capacity.offer_is_open(entry, local_to_utc(now)):
        raise BookingError(_l("This offer has expired."))
    slot = slot_of_entry(entry)
    child = child_of_entry(entry)
    if _already_booked(child, slot):
        raise BookingError(_l("Your child already has this place."))
    return _booked_once(parent, child, slot, request_key, lambda: capacity.accept_offer(entry))


def leave_waitlist(parent: User, entry: WaitlistEntry, now: datetime) -> None:
    """Leave the line or turn down an offer, of a slot or a course (the place passes on);
    ``now`` is local time."""
    if entry.user_id != parent.id or not entry.is_active:
        raise BookingError(_l("You are not on this waiting list."))
    slot = slot_of_entry(entry)
    if slot is None:
        passed_to = capacity.leave(entry, local_to_utc(now), courses.OFFER_HOLD)
        if passed_to is not None:
            courses.notify_offer(passed_to)
        return
    _leave_slot_line(entry, slot, local_to_utc(now))


def _leave_slot_line(entry: WaitlistEntry, slot: Slot, moment: datetime) -> None:
    """Leave a slot's line; a held place passes on with the slot's hold, and its taker is told."""
    passed_to = capacity.leave(entry, moment, _hold(slot))
    if passed_to is not None:
        _notify_offer(passed_to, slot)


def _hold(slot: Slot) -> timedelta:
    return OFFER_HOLD[CareType(slot.care_type)]


def _free(booking: Booking, now: datetime) -> None:
    """Give a booking's place back (to the next in line first); ``now`` is local time."""
    passed_to = capacity.release_place(
        booking.slot.inventory_id, local_to_utc(now), _hold(booking.slot)
    )
    if passed_to is not None:
        _notify_offer(passed_to, booking.slot)


def cancel_deadline(booking: Booking) -> datetime:
    """Until when the parent may cancel (the institution's cut-off before the start)."""
    hours = booking.slot.institution.cancel_cutoff_hours
    return booking.slot.starts - timedelta(hours=hours)


def can_cancel(booking: Booking, now: datetime) -> bool:
    """Whether the parent may still cancel."""
    return (
        booking.is_active
        and booking.status != BookingStatus.CHECKED_IN
        and (now < cancel_deadline(booking))
    )


def cancel_by_parent(parent: User, booking: Booking, now: datetime) -> None:
    """Cancel before the cut-off; the place is free (or offered on) at once."""
    if booking.parent_id != parent.id:
        raise BookingError(_l("This booking is not yours."))
    if not can_cancel(booking, now):
        raise BookingError(_l("It is too late to cancel online. Please call the institution."))
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = utc_now()
    db.session.flush()
    _free(booking, now)


def decide_application(booking: Booking, accept: bool, reason: str, now: datetime) -> None:
    """The institution accepts or declines a full-day or half-day application."""
    if booking.status != BookingStatus.APPLIED:
        raise BookingError(_l("This application has been decided already."))
    booking.decided_at = utc_now()
    if accept:
        booking.status = BookingStatus.CONFIRMED
        _notify(
            booking,
            N_("Application accepted"),
            N_("%(institution)s accepted %(child)s from %(date)s."),
        )
        return
    if not reason.strip():
        raise BookingError(_l("Please give the reason; the parent will read it."))
    booking.status = BookingStatus.DECLINED
    booking.decline_reason = reason.strip()
    db.session.flush()
    _notify(
        booking,
        N_("Application declined"),
        N_(
            "%(institution)s could not accept %(child)s from %(date)s. The reason given: %(reason)s"
        ),
        reason=booking.decline_reason,
    )
    _free(booking, now)


def mark_attendance(booking: Booking, present: bool, now: datetime) -> None:
    """Check a child in, or record a no-show, on the day of care."""
    if booking.status not in (
        BookingStatus.CONFIRMED,
        BookingStatus.CHECKED_IN,
        BookingStatus.NO_SHOW,
    ):
        raise BookingError(_l("Only confirmed bookings can be checked in."))
    booking.status = BookingStatus.CHECKED_IN if present else BookingStatus.NO_SHOW
    booking.checked_in_at = utc_now() if present else None


# --- periodic jobs -------------------------------------------------------------------------


def expire_offers(now: datetime) -> int:
    """Close unanswered offers of slots and course sessions and pass their places on.

    Safe to run every minute: an offer is expired once.
    """
    expired = capacity.expired_offers(now)
    for entry in expired:
        slot = slot_of_entry(entry)
        if slot is None:
            passed_to = capacity.expire(entry, now, courses.OFFER_HOLD)
            if passed_to is not None:
                courses.notify_offer(passed_to)
            continue
        passed_to = capacity.expire(entry, now, _hold(slot))
        if passed_to is not None:
            _notify_offer(passed_to, slot)
    return len(expired)


def send_reminders(today: date) -> int:
    """Remind parents the day before; each booking is reminded once."""
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
        )
    )
    for booking in bookings:
        booking.reminder_sent_at = utc_now()
        _notify(
            booking,
            N_("Reminder: care tomorrow"),
            N_(
                "A reminder: %(child)s has a place at %(institution)s tomorrow, %(date)s, "
                "from %(start)s to %(end)s."
            ),
        )
    return len(bookings)


# --- messages ------------------------------------------------------------------------------


def _notify(booking: Booking, subject: str, body: str, **values) -> None:
    """Tell the parent, in their language, with no child detail beyond the first name."""
    parent = db.session.get(User, booking.parent_id)
    slot = booking.slot
    with force_locale(parent.language):
        values.update(
            child=first_name(booking.child.name),
            institution=slot.institution.name_for(parent.language),
            date=slot.on_date.isoformat(),
            start=slot.starts_at.strftime("%H:%M"),
            end=slot.ends_at.strftime("%H:%M"),
        )
        queue_email(parent.email, _(subject), _(body, **values))


def _notify_offer(entry: WaitlistEntry, slot: Slot) -> None:
    parent = db.session.get(User, entry.user_id)
    child = child_of_entry(entry)
    with force_locale(parent.language):
        queue_email(
            parent.email,
            _("A place is free for you"),
            _(
                "A place at %(institution)s on %(date)s is held for %(child)s until %(until)s. "
                "Sign in and open My bookings to take it.",
                institution=slot.institution.name_for(parent.language),
                date=slot.on_date.isoformat(),
                child=first_name(child.name) if child else "",
                until=as_local(entry.offer_expires_at).strftime("%Y-%m-%d %H:%M"),
            ),
        )


# --- lists ---------------------------------------------------------------------------------


def bookings_of(parent: User) -> list[Booking]:
    """Every booking of a parent's children, with slot, institution and child loaded."""
    query = (
        sa.select(Booking)
        .where(Booking.parent_id == parent.id)
        .options(
            joinedload(Booking.slot).joinedload(Slot.institution),
            joinedload(Booking.child),
        )
        .join(Booking.slot)
        .order_by(Slot.on_date, Slot.starts_at, Booking.id)
    )
    return list(db.session.scalars(query).unique())


def waitlist_of(parent: User) -> list[WaitlistEntry]:
    """A parent's active waitlist entries for booking slots."""
    query = (
        sa.select(WaitlistEntry)
        .join(Slot, Slot.inventory_id == WaitlistEntry.inventory_id)
        .where(
            WaitlistEntry.user_id == parent.id,
            WaitlistEntry.status.in_((WaitStatus.WAITING, WaitStatus.OFFERED)),
        )
        .order_by(WaitlistEntry.id)
    )
    return list(db.session.scalars(query))


def own_booking(parent: User, booking_id: int) -> Booking | None:
    """The parent's booking with this id, or None."""
    return db.session.scalar(
        sa.select(Booking)
        .where(Booking.id == booking_id, Booking.parent_id == parent.id)
        .options(joinedload(Booking.slot).joinedload(Slot.institution), joinedload(Booking.child))
    )


def own_entry(parent: User, entry_id: int) -> WaitlistEntry | None:
    """The parent's waitlist entry with this id, or None."""
    return db.session.scalar(
        sa.select(WaitlistEntry).where(
            WaitlistEntry.id == entry_id, WaitlistEntry.user_id == parent.id
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
            contains_eager(Booking.slot).joinedload(Slot.care_class), joinedload(Booking.child)
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
        .options(contains_eager(Booking.slot), joinedload(Booking.child))
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
