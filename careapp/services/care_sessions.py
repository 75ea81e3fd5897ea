"""Sessions of the day (上午 08:00–12:00, 下午 14:00–18:00) of hourly and temporary care.

An institution names the parts of the day a class offers; each session's slots are dated
places of those hours. Capacity stays with the class: the booking counts every child present
at each moment the session covers (``careapp.services.occupancy``), so a morning and an
afternoon session may each use all the class's places, while a whole-day place overlaps both.
"""

from datetime import date, time, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from careapp.extensions import db
from careapp.models import CareClass, CareSession, CareType, ClosedDate, Institution, Slot
from careapp.models.provision import SESSION_CARE_TYPES
from careapp.services.booking import BookingError, _check_slot_fits, _new_slot

#: Slots of a session are made for at most this many days at once.
MAX_SESSION_DAYS = 31


def sessions_of(institution: Institution) -> list[CareSession]:
    """The institution's sessions, by class, care type and start."""
    return list(
        db.session.scalars(
            sa.select(CareSession)
            .where(CareSession.institution_id == institution.id)
            .order_by(
                CareSession.care_class_id,
                CareSession.care_type,
                CareSession.starts_at,
                CareSession.id,
            )
        )
    )


def own_session(institution: Institution, session_id: int) -> CareSession | None:
    """The institution's session with this id, or None (also another institution's)."""
    return db.session.scalar(
        sa.select(CareSession).where(
            CareSession.id == session_id, CareSession.institution_id == institution.id
        )
    )


def add_session(
    care_class: CareClass, care_type: CareType, name: str, starts_at: time, ends_at: time
) -> CareSession:
    """A named session of a class's hourly or temporary care, within the offer's hours and
    unlike the class's other sessions of that care type (by name and by hours)."""
    name = name.strip()
    if CareType(care_type) not in SESSION_CARE_TYPES:
        raise BookingError(_l("Sessions are for hourly and temporary care."))
    if ends_at <= starts_at:
        raise BookingError(_l("The end must be after the start."))
    _check_slot_fits(care_class, CareType(care_type), 1, (starts_at, ends_at))
    for other in _sessions_of_class(care_class, care_type):
        if other.name == name:
            raise BookingError(_l("This class already has a session called %(name)s.", name=name))
        if (other.starts_at, other.ends_at) == (starts_at, ends_at):
            raise BookingError(
                _l("This class already has a session at these hours: %(name)s.", name=other.name)
            )
    session = CareSession(
        institution_id=care_class.institution_id,
        care_class_id=care_class.id,
        care_type=care_type,
        name=name,
        starts_at=starts_at,
        ends_at=ends_at,
    )
    db.session.add(session)
    db.session.flush()
    return session


def _sessions_of_class(care_class: CareClass, care_type: CareType) -> list[CareSession]:
    return list(
        db.session.scalars(
            sa.select(CareSession).where(
                CareSession.care_class_id == care_class.id, CareSession.care_type == care_type
            )
        )
    )


def delete_session(session: CareSession) -> None:
    """Stop offering a session; slots made from it stay, with their bookings."""
    db.session.delete(session)
    db.session.flush()


def add_session_slots(
    session: CareSession, first: date, last: date, places: int, today: date
) -> int:
    """Slots of ``session`` on each day from ``first`` to ``last`` the class runs and the
    institution is open, ``places`` each; days that have one already are skipped.
    Returns how many were made."""
    if first < today:
        raise BookingError(_l("The date has passed."))
    if last < first:
        raise BookingError(_l("The last day must not be before the first day."))
    if (last - first).days >= MAX_SESSION_DAYS:
        raise BookingError(
            _l("Please make the slots of at most %(days)d days at once.", days=MAX_SESSION_DAYS)
        )
    care_class = session.care_class
    care_type = CareType(session.care_type)
    _check_slot_fits(care_class, care_type, places, (session.starts_at, session.ends_at))
    taken_days = _days_with_slot(session, first, last)
    made = 0
    day = first
    while day <= last:
        if care_class.runs_on(day) and day not in taken_days:
            slot = _new_slot(care_class, care_type, day, session.starts_at, session.ends_at, places)
            slot.session_id, slot.session_name = session.id, session.name
            made += 1
        day += timedelta(days=1)
    db.session.flush()
    return made


def _days_with_slot(session: CareSession, first: date, last: date) -> set[date]:
    """Days the session cannot have a new slot: closed, or a slot of the class and care type
    starts at the session's start already (one query each)."""
    closed = db.session.scalars(
        sa.select(ClosedDate.on_date).where(
            ClosedDate.institution_id == session.institution_id,
            ClosedDate.on_date.between(first, last),
        )
    )
    existing = db.session.scalars(
        sa.select(Slot.on_date).where(
            Slot.care_class_id == session.care_class_id,
            Slot.care_type == session.care_type,
            Slot.on_date.between(first, last),
            Slot.starts_at == session.starts_at,
        )
    )
    return set(closed) | set(existing)
