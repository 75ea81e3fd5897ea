"""Parenting courses: providers and their verification, courses, seats and attendance.

Seats go through the same capacity engine as booking places (``careapp.services.capacity``).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from careapp import clock
from careapp.extensions import db
from careapp.models import (
    ACTIVE_REGISTRATION_STATUSES,
    REGISTRATION_STATES,
    SESSION_STATES,
    Course,
    CourseFormat,
    CourseRegistration,
    CourseSession,
    Inventory,
    Provider,
    ProviderStatus,
    Region,
    RegistrationStatus,
    SessionStatus,
    Topic,
    Township,
    User,
    WaitlistEntry,
    WaitStatus,
    publicly_listed_courses,
)
from careapp.services import capacity, regions
from careapp.services.errors import CareappError, InvalidParameters
from careapp.services.mail import N_
from careapp.services.notices import notify
from careapp.services.params import Page, ParamReader
from careapp.services.transitions import AlreadyMoved, change_state

#: How long a freed seat is held for the first family in line.
OFFER_HOLD = timedelta(hours=24)
#: Weekly series are at most this long.
MAX_SERIES_WEEKS = 26


class CourseError(CareappError):
    """A course step that is not allowed; ``message`` says why, translated."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class SessionFull(CourseError):
    """No seat is free; the family may join the waiting list."""

    def __init__(self):
        super().__init__(_l("This session is full. You can join the waiting list."))


class Settled(CourseError):
    """Another request (or an earlier tap) did this already; ``message`` says how it ended."""


class FormExpired(CourseError):
    """The form's one-time key was used already, by another family or on another form:
    nothing was registered, and the form is to be sent again with a fresh key."""

    def __init__(self):
        super().__init__(
            _l("This form has expired. Nothing was registered: please check it and send it again.")
        )


#: How a registration ended up, told to whoever arrives second.
REGISTRATION_OUTCOMES = {
    RegistrationStatus.REGISTERED: _l("Your family is registered for this session."),
    RegistrationStatus.ATTENDED: _l("The provider has marked your family as attended."),
    RegistrationStatus.NO_SHOW: _l("The provider has marked your family as absent."),
    RegistrationStatus.CANCELLED: _l("This registration has been cancelled."),
    RegistrationStatus.CANCELLED_BY_PROVIDER: _l("The provider has cancelled this session."),
}


# --- providers -----------------------------------------------------------------------------


def provider_of(user: User) -> Provider | None:
    """The provider organisation of a provider account, if registered."""
    return db.session.scalar(sa.select(Provider).where(Provider.user_id == user.id))


def save_provider(user: User, **fields) -> Provider:
    """Create or update the account's organisation; a change of name needs new verification."""
    provider = provider_of(user)
    if provider is None:
        provider = Provider(user_id=user.id, status=ProviderStatus.PENDING, **fields)
        db.session.add(provider)
    else:
        renamed = fields.get("name") != provider.name
        for name, value in fields.items():
            setattr(provider, name, value)
        if renamed and provider.status == ProviderStatus.VERIFIED:
            provider.status = ProviderStatus.PENDING
    db.session.flush()
    return provider


def providers_by_status(status: ProviderStatus | None = None) -> list[Provider]:
    """Providers for the regulator, pending first."""
    query = (
        sa.select(Provider)
        .options(joinedload(Provider.user))
        .order_by(Provider.status, Provider.created_at)
    )
    if status is not None:
        query = query.where(Provider.status == status)
    return list(db.session.scalars(query))


def verify_provider(provider: Provider) -> None:
    """Let the provider's courses be public."""
    provider.status = ProviderStatus.VERIFIED
    provider.status_reason = ""
    provider.decided_at = clock.now()


def suspend_provider(provider: Provider, reason: str) -> None:
    """Unlist every course of the provider at once."""
    if not reason.strip():
        raise CourseError(_l("Please give the reason; the provider will read it."))
    provider.status = ProviderStatus.SUSPENDED
    provider.status_reason = reason.strip()
    provider.decided_at = clock.now()


# --- courses -------------------------------------------------------------------------------


def session_times(first_start: datetime, minutes: int, weeks: int) -> list[tuple]:
    """Start and end of a single session (``weeks`` = 1) or a weekly series."""
    if not 1 <= weeks <= MAX_SERIES_WEEKS:
        raise CourseError(
            _l("A series has from 1 to %(count)d weekly sessions.", count=MAX_SERIES_WEEKS)
        )
    duration = timedelta(minutes=minutes)
    return [
        (first_start + timedelta(weeks=week), first_start + timedelta(weeks=week) + duration)
        for week in range(weeks)
    ]


def check_sessions_ahead(times: list[tuple], now: datetime) -> None:
    """Refuse sessions that start at ``now`` (local) or before: nobody could register."""
    if any(starts_at <= now for starts_at, _ends_at in times):
        raise CourseError(
            _l("A session cannot start in the past. Choose a first session after now.")
        )


def create_course(provider: Provider, times: list[tuple], **fields) -> Course:
    """A course with its sessions, each with ``seats`` places."""
    course = Course(provider_id=provider.id, **fields)
    for starts_at, ends_at in times:
        course.sessions.append(
            CourseSession(
                starts_at=starts_at, ends_at=ends_at, inventory=Inventory(capacity=course.seats)
            )
        )
    db.session.add(course)
    db.session.flush()
    return course


def courses_of(provider: Provider) -> list[Course]:
    """A provider's courses with their sessions, newest first."""
    query = (
        sa.select(Course)
        .where(Course.provider_id == provider.id)
        .options(selectinload(Course.sessions).joinedload(CourseSession.inventory))
        .order_by(Course.created_at.desc())
    )
    return list(db.session.scalars(query))


def own_course(provider: Provider, course_id: int) -> Course | None:
    """The provider's course with this id, or None."""
    return db.session.scalar(
        sa.select(Course)
        .where(Course.id == course_id, Course.provider_id == provider.id)
        .options(selectinload(Course.sessions).joinedload(CourseSession.inventory))
    )


def _active_registrations(session: CourseSession) -> list[CourseRegistration]:
    return list(
        db.session.scalars(
            sa.select(CourseRegistration)
            .where(
                CourseRegistration.session_id == session.id,
                CourseRegistration.status.in_(ACTIVE_REGISTRATION_STATUSES),
            )
            .options(joinedload(CourseRegistration.parent))
        )
    )


def _lock_session(session: CourseSession) -> None:
    """Serialise every change of a session's seats and line, then read the session afresh."""
    capacity.lock(session.inventory_id)
    db.session.refresh(session, ["status"])


def cancel_session(session: CourseSession, reason: str) -> int:
    """Cancel a session; registered families are told. Returns how many were registered."""
    _lock_session(session)
    try:
        change_state(session, SESSION_STATES, "cancel")
    except AlreadyMoved:
        raise Settled(_l("This session is cancelled already.")) from None
    registrations = _active_registrations(session)
    for registration in registrations:
        change_state(registration, REGISTRATION_STATES, "cancel_by_provider")
        _notify(
            registration.parent,
            session,
            N_("A course session was cancelled"),
            N_("The session of %(course)s on %(time)s is cancelled. The reason given: %(reason)s"),
            reason=reason,
        )
    capacity.close(session.inventory_id)
    return len(registrations)


# --- public listing ------------------------------------------------------------------------


@dataclass(frozen=True)
class CourseFilter:
    """What a parent asked for; every field is optional."""

    township: str | None = None
    topic: str | None = None
    format: str | None = None
    first: date | None = None
    last: date | None = None
    age_months: int | None = None
    region: str | None = None


def parse_course_filter(args) -> CourseFilter:
    """A course filter from query parameters; raises InvalidParameters."""
    reader = ParamReader(args)
    region = reader.choice("region", regions.region_codes(), _l("There is no such region."))
    township = reader.choice("township", regions.TownshipCodes(), _l("There is no such township."))
    topic = reader.choice("topic", Topic.values(), _l("There is no such topic."))
    course_format = reader.choice("format", CourseFormat.values(), _l("There is no such format."))
    first = reader.iso_date("from")
    last = reader.iso_date("to")
    age = reader.integer("age_months", 0, 600)
    if first and last and last < first:
        reader.errors["to"] = _l("The end date must not be before the start date.")
    if reader.errors:
        raise InvalidParameters(reader.errors)
    return CourseFilter(township, topic, course_format, first, last, age, region)


def _matching(course_filter: CourseFilter, now: datetime) -> sa.Select:
    upcoming = sa.select(CourseSession.course_id).where(
        CourseSession.status == SessionStatus.SCHEDULED, CourseSession.ends_at > now
    )
    if course_filter.first:
        upcoming = upcoming.where(
            CourseSession.starts_at >= datetime.combine(course_filter.first, time.min)
        )
    if course_filter.last:
        upcoming = upcoming.where(
            CourseSession.starts_at
            < datetime.combine(course_filter.last + timedelta(days=1), time.min)
        )
    query = publicly_listed_courses().where(Course.id.in_(upcoming))
    if course_filter.township:
        # A course online or recorded is for anyone anywhere: it stays under every township.
        in_township = Course.township_id.in_(
            sa.select(Township.id).where(Township.code == course_filter.township)
        )
        query = query.where(sa.or_(_open_to_all(), in_township))
    if course_filter.region:
        # Online courses have no township: they are open to every region.
        in_region = Course.township_id.in_(regions.townships_in(course_filter.region))
        query = query.where(sa.or_(Course.township_id.is_(None), _open_to_all(), in_region))
    if course_filter.topic:
        query = query.where(Course.topic == course_filter.topic)
    if course_filter.format:
        query = query.where(Course.format == course_filter.format)
    if course_filter.age_months is not None:
        query = query.where(
            Course.min_age_months <= course_filter.age_months,
            Course.max_age_months > course_filter.age_months,
        )
    return query


def _open_to_all():
    """Courses followed from anywhere (live online, recorded): every place filter keeps them."""
    return Course.format != CourseFormat.IN_PERSON


def townships_with_course_counts(
    region: Region | None, now: datetime
) -> list[tuple[Township, int]]:
    """Every township (of ``region``) with the number of upcoming public courses its filter
    lists: those held there, plus those online or recorded that anyone can follow."""
    matching = _matching(CourseFilter(region=region.code if region else None), now).subquery()
    in_person = dict(
        db.session.execute(
            sa.select(matching.c.township_id, sa.func.count())
            .where(matching.c.format == CourseFormat.IN_PERSON)
            .group_by(matching.c.township_id)
        ).all()
    )
    anywhere = db.session.scalar(
        sa.select(sa.func.count()).where(matching.c.format != CourseFormat.IN_PERSON)
    )
    query = sa.select(Township).order_by(Township.region_id, Township.position, Township.id)
    if region is not None:
        query = query.where(Township.region_id == region.id)
    return [
        (township, in_person.get(township.id, 0) + anywhere)
        for township in db.session.scalars(query)
    ]


def list_courses(course_filter: CourseFilter, now: datetime, page: int, per_page: int) -> Page:
    """One page of public upcoming courses, soonest first, with sessions and seats loaded."""
    matching = _matching(course_filter, now)
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(matching.with_only_columns(Course.id).subquery())
    )
    first_start = (
        sa.select(sa.func.min(CourseSession.starts_at))
        .where(
            CourseSession.course_id == Course.id,
            CourseSession.status == SessionStatus.SCHEDULED,
            CourseSession.ends_at > now,
        )
        .scalar_subquery()
    )
    query = (
        matching.options(
            contains_eager(Course.provider),
            joinedload(Course.township),
            selectinload(Course.sessions).joinedload(CourseSession.inventory),
        )
        .order_by(first_start, Course.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return Page(list(db.session.scalars(query).unique()), total, page, per_page)


def public_course(course_id: int) -> Course | None:
    """A public course with its sessions and seats, or None."""
    return db.session.scalar(
        publicly_listed_courses()
        .where(Course.id == course_id)
        .options(
            contains_eager(Course.provider),
            joinedload(Course.township),
            selectinload(Course.sessions).joinedload(CourseSession.inventory),
        )
    )


def suggestions_for(ages: list[int], now: datetime, limit: int = 5) -> list[Course]:
    """Upcoming public courses meant for a child of one of ``ages``."""
    found: dict[int, Course] = {}
    for age in ages:
        for course in list_courses(CourseFilter(age_months=age), now, 1, limit).items:
            found.setdefault(course.id, course)
    return list(found.values())[:limit]


# --- registration --------------------------------------------------------------------------


def public_session(session_id: int) -> CourseSession | None:
    """A session of a public course, or None."""
    return db.session.scalar(
        sa.select(CourseSession)
        .join(CourseSession.course)
        .join(Course.provider)
        .where(
            CourseSession.id == session_id,
            Provider.status == ProviderStatus.VERIFIED,
            Course.cancelled.is_(False),
        )
        .options(contains_eager(CourseSession.course), joinedload(CourseSession.inventory))
    )


def registration_of(parent: User, session: CourseSession) -> CourseRegistration | None:
    """The family's active registration for a session, if any."""
    return db.session.scalar(
        sa.select(CourseRegistration).where(
            CourseRegistration.session_id == session.id,
            CourseRegistration.parent_id == parent.id,
            CourseRegistration.status.in_(ACTIVE_REGISTRATION_STATUSES),
        )
    )


def is_registered_for(parent: User | None, course: Course) -> bool:
    """Whether the family holds a seat in any session of the course."""
    if parent is None:
        return False
    session_ids = [session.id for session in course.sessions]
    return (
        db.session.scalar(
            sa.select(CourseRegistration.id).where(
                CourseRegistration.session_id.in_(session_ids),
                CourseRegistration.parent_id == parent.id,
                CourseRegistration.status.in_(ACTIVE_REGISTRATION_STATUSES),
            )
        )
        is not None
    )


def sessions_registered(parent: User, course: Course) -> set[int]:
    """The ids of the sessions of ``course`` the family holds seats in."""
    return set(
        db.session.scalars(
            sa.select(CourseRegistration.session_id).where(
                CourseRegistration.session_id.in_([session.id for session in course.sessions]),
                CourseRegistration.parent_id == parent.id,
                CourseRegistration.status.in_(ACTIVE_REGISTRATION_STATUSES),
            )
        )
    )


def _check_can_register(session: CourseSession, seats: int, now: datetime) -> None:
    course = session.course
    if not session.is_scheduled:
        raise CourseError(_l("This session has been cancelled."))
    if session.starts_at <= now:
        raise CourseError(_l("This session has already started."))
    if not course.registration_open(now):
        raise CourseError(_l("Registration for this course is not open."))
    if seats not in (1, 2) or (seats == 2 and not course.allow_second_seat):
        raise CourseError(_l("This course has one seat per family."))


def _made_by_this_form(parent: User, request_key: str) -> CourseRegistration | None:
    """The family's registration made with this one-time key already, if any; FormExpired if
    the key is another family's."""
    earlier = db.session.scalar(
        sa.select(CourseRegistration).where(CourseRegistration.request_key == request_key)
    )
    if earlier is not None and earlier.parent_id != parent.id:
        raise FormExpired()
    return earlier


def register(
    parent: User, session: CourseSession, seats: int, request_key: str, now: datetime
) -> CourseRegistration:
    """Take one seat (or two, where allowed) for the family; raises SessionFull or CourseError.

    Decided under the session's lock: a double tap registers once, and nobody takes a seat
    ahead of families waiting for one.
    """
    if (earlier := _made_by_session_form(parent, session, request_key)) is not None:
        return earlier
    _check_can_register(session, seats, now)
    _lock_session(session)
    if (earlier := _made_by_session_form(parent, session, request_key)) is not None:
        return earlier
    _check_can_register(session, seats, now)
    if registration_of(parent, session) is not None:
        raise CourseError(_l("Your family is registered for this session already."))
    if capacity.has_waiting(session.inventory_id) or not capacity.take_place(
        session.inventory_id, seats
    ):
        raise SessionFull()
    registration = _new_registration(parent, session, seats, request_key)
    db.session.flush()
    return registration


@dataclass(frozen=True)
class SeriesRegistration:
    """What joining a weekly course did: the seats taken, and the sessions left out full."""

    joined: list[CourseRegistration]
    full: list[CourseSession]


def coming_sessions(course: Course, now: datetime) -> list[CourseSession]:
    """The sessions of ``course`` still to come and not cancelled, first first."""
    return sorted(
        (s for s in course.sessions if s.is_scheduled and s.starts_at > now),
        key=lambda s: s.starts_at,
    )


def _series_mark(request_key: str) -> str:
    """The one-time key of the first registration a series makes (in the order of session
    ids): the same for every course, so that any form finds the key used by a series."""
    return f"{request_key[:40]}:"


def _series_key(request_key: str, session: CourseSession) -> str:
    """The one-time key of each further session's registration within a series."""
    return f"{request_key[:40]}:{session.id}"


def _made_with_key(parent: User, request_key: str, course: Course) -> list[CourseRegistration]:
    """Every registration made with this one-time key: by a single-session form anywhere, by
    a series form anywhere (its mark), and each of a series of ``course``; FormExpired if one
    is another family's.

    Exact keys, not ``LIKE 'key:%'``: the key's unique index serves them under any collation.
    """
    keys = [request_key, _series_mark(request_key)]
    keys += [_series_key(request_key, session) for session in course.sessions]
    made = list(
        db.session.scalars(
            sa.select(CourseRegistration)
            .where(CourseRegistration.request_key.in_(keys))
            .order_by(CourseRegistration.id)
        )
    )
    if any(registration.parent_id != parent.id for registration in made):
        raise FormExpired()
    return made


def _made_by_session_form(
    parent: User, session: CourseSession, request_key: str
) -> CourseRegistration | None:
    """The registration this session's form made with the key already, if any; FormExpired if
    the key was used otherwise (by another family, for another session, on a series form)."""
    made = _made_with_key(parent, request_key, session.course)
    if not made:
        return None
    if len(made) == 1 and (made[0].request_key, made[0].session_id) == (request_key, session.id):
        return made[0]
    raise FormExpired()


def _made_by_series_form(
    parent: User, course: Course, request_key: str
) -> list[CourseRegistration]:
    """The registrations this course's series form made with the key already; FormExpired if
    the key was used otherwise (by another family, on a single-session form, for another
    course's series)."""
    made = _made_with_key(parent, request_key, course)
    sessions = {session.id for session in course.sessions}
    if any(r.request_key == request_key or r.session_id not in sessions for r in made):
        raise FormExpired()
    return made


def register_series(
    parent: User, course: Course, seats: int, request_key: str, now: datetime
) -> SeriesRegistration:
    """Take a seat (or two) for the family in every coming session of ``course`` that has
    one free, all in the caller's one transaction; raises CourseError when none could be taken.

    Each session is decided as a single registration is, under its own lock and with the
    same conditional update, so a series never takes a seat a single registration or another
    series holds, nor one a waiting family is owed. Sessions are locked in the order of their
    ids, so that two series at once never wait for each other in a circle. Sessions the
    family holds a seat in already are left as they are; a double tap registers once.
    """
    if earlier := _made_by_series_form(parent, course, request_key):
        return SeriesRegistration(earlier, [])
    sessions = coming_sessions(course, now)
    if not sessions:
        raise CourseError(_l("This course has no session to come."))
    joined, full = [], []
    for session in sorted(sessions, key=lambda s: s.id):
        _lock_session(session)
        _check_can_register(session, seats, now)
        if registration_of(parent, session) is not None:
            continue
        if capacity.has_waiting(session.inventory_id) or not capacity.take_place(
            session.inventory_id, seats
        ):
            full.append(session)
            continue
        key = _series_key(request_key, session) if joined else _series_mark(request_key)
        joined.append(_new_registration(parent, session, seats, key))
    db.session.flush()
    if joined:
        return SeriesRegistration(joined, sorted(full, key=lambda s: s.starts_at))
    if earlier := _made_by_series_form(parent, course, request_key):
        return SeriesRegistration(earlier, [])  # the other tap, which waited for the locks
    if full:
        raise CourseError(
            _l("Every coming session is full. You can join the waiting list of each session.")
        )
    raise CourseError(_l("Your family is registered for every coming session already."))


def _new_registration(
    parent: User, session: CourseSession, seats: int, request_key: str
) -> CourseRegistration:
    """A registration for a seat already taken."""
    registration = CourseRegistration(
        session=session,
        parent_id=parent.id,
        seats=seats,
        request_key=request_key,
        status=REGISTRATION_STATES["register"].target,
    )
    db.session.add(registration)
    return registration


def cancel_registration(parent: User, registration: CourseRegistration, now: datetime) -> None:
    """Give the seats back before the session starts (offered to the next in line).

    Of two cancels at once, one gives the seats back; the other is told it is cancelled.
    """
    if registration.parent_id != parent.id:
        raise CourseError(_l("This registration cannot be cancelled."))
    if registration.session.starts_at <= now:
        raise CourseError(_l("The session has started."))
    capacity.lock(registration.session.inventory_id)
    try:
        change_state(registration, REGISTRATION_STATES, "cancel")
    except AlreadyMoved as moved:
        raise Settled(REGISTRATION_OUTCOMES[moved.state]) from None
    for _seat in range(registration.seats):
        inventory_id = registration.session.inventory_id
        handover = capacity.release_place(inventory_id, clock.now(), OFFER_HOLD)
        if handover.offered_to is not None:
            notify_offer(handover.offered_to)


def join_waitlist(parent: User, session: CourseSession, now: datetime) -> WaitlistEntry:
    """Queue the family for a full session (decided under the session's lock)."""
    _lock_session(session)
    _check_can_register(session, 1, now)
    if registration_of(parent, session) is not None:
        raise CourseError(_l("Your family is registered for this session already."))
    entry = capacity.join_waitlist(session.inventory_id, parent.id, f"family:{parent.id}")
    if entry is None:
        raise CourseError(_l("A seat is free: you can register now."))
    return entry


def session_of_entry(entry: WaitlistEntry) -> CourseSession | None:
    """The course session whose seats a waitlist entry waits for, if it is one."""
    return db.session.scalar(
        sa.select(CourseSession).where(CourseSession.inventory_id == entry.inventory_id)
    )


def accept_offer(
    parent: User, entry: WaitlistEntry, request_key: str, now: datetime | None = None
) -> CourseRegistration:
    """Turn a held seat into the family's registration; a repeated key returns the first.

    ``now`` is aware UTC (the present by default).
    """
    now = now or clock.now()
    if (earlier := _made_by_this_form(parent, request_key)) is not None:
        return earlier
    if entry.user_id != parent.id:
        raise CourseError(_l("This offer is not yours."))
    capacity.lock(entry.inventory_id)
    db.session.refresh(entry, ["status", "offer_expires_at"])
    if not capacity.offer_is_open(entry, now):
        raise CourseError(_l("This offer has expired."))
    capacity.accept_offer(entry)
    registration = CourseRegistration(
        session=session_of_entry(entry),
        parent_id=parent.id,
        seats=1,
        request_key=request_key,
        status=REGISTRATION_STATES["register"].target,
    )
    db.session.add(registration)
    db.session.flush()
    return registration


def leave_waitlist(entry: WaitlistEntry, now: datetime) -> None:
    """Leave a session's line or turn its offer down; a held seat passes on (``now`` UTC).

    Raises AlreadyMoved when the entry left the line meanwhile.
    """
    capacity.lock(entry.inventory_id)
    handover = capacity.leave(entry, now, OFFER_HOLD)
    if handover.offered_to is not None:
        notify_offer(handover.offered_to)


def expire_offer(entry: WaitlistEntry, now: datetime) -> None:
    """Close an unanswered seat offer and pass the seat on (``now`` aware UTC).

    Raises AlreadyMoved when the offer was answered or expired meanwhile.
    """
    handover = capacity.expire(entry, now, OFFER_HOLD)
    if handover.offered_to is not None:
        notify_offer(handover.offered_to)


def registrations_of(parent: User) -> list[CourseRegistration]:
    """A family's registrations with sessions and courses loaded, soonest first."""
    query = (
        sa.select(CourseRegistration)
        .join(CourseRegistration.session)
        .where(CourseRegistration.parent_id == parent.id)
        .options(contains_eager(CourseRegistration.session).joinedload(CourseSession.course))
        .order_by(CourseSession.starts_at)
    )
    return list(db.session.scalars(query).unique())


def own_registration(parent: User, registration_id: int) -> CourseRegistration | None:
    """The family's registration with this id, or None."""
    return db.session.scalar(
        sa.select(CourseRegistration).where(
            CourseRegistration.id == registration_id, CourseRegistration.parent_id == parent.id
        )
    )


# --- provider side -------------------------------------------------------------------------


def session_registrations(session: CourseSession) -> list[CourseRegistration]:
    """Every registration of a session with the families' accounts."""
    return list(
        db.session.scalars(
            sa.select(CourseRegistration)
            .where(CourseRegistration.session_id == session.id)
            .options(joinedload(CourseRegistration.parent))
            .order_by(CourseRegistration.created_at)
        )
    )


def can_mark_attendance(session: CourseSession, now: datetime) -> bool:
    """Whether ``now`` (local) is late enough to record who came: the session has started."""
    return session.starts_at <= now


def mark_attendance(registration: CourseRegistration, attended: bool, now: datetime) -> None:
    """Record whether the family came, once the session has started (``now``, local)."""
    if not can_mark_attendance(registration.session, now):
        raise CourseError(
            _l("Attendance can be recorded once the session has started, not before.")
        )
    try:
        change_state(registration, REGISTRATION_STATES, "attend" if attended else "no_show")
    except AlreadyMoved:
        raise CourseError(_l("Only registered families can be marked.")) from None


def attendance_counts(registrations: list[CourseRegistration]) -> dict[str, int]:
    """Registered, attended and no-show families of a list of registrations."""
    active = [r for r in registrations if r.status in ACTIVE_REGISTRATION_STATUSES]
    return {
        "registered": len(active),
        "attended": sum(r.status == RegistrationStatus.ATTENDED for r in active),
        "no_show": sum(r.status == RegistrationStatus.NO_SHOW for r in active),
    }


# --- messages ------------------------------------------------------------------------------


def _notify(parent: User, session: CourseSession, subject: str, body: str, **values) -> None:
    with force_locale(parent.language):
        values.update(
            course=session.course.title, time=session.starts_at.strftime("%Y-%m-%d %H:%M")
        )
        email = (_(subject), _(body, **values))
    notify(parent, email)


def notify_offer(entry: WaitlistEntry) -> None:
    """Tell a family that a seat is held for it."""
    session = session_of_entry(entry)
    parent = db.session.get(User, entry.user_id)
    _notify(
        parent,
        session,
        N_("A seat is free for you"),
        N_(
            "A seat in %(course)s on %(time)s is held for your family for 24 hours."
            " Sign in and open My bookings to take it."
        ),
    )


def waitlist_entries_of(parent: User) -> list[tuple[WaitlistEntry, CourseSession]]:
    """The family's active course waitlist entries with their sessions."""
    rows = db.session.execute(
        sa.select(WaitlistEntry, CourseSession)
        .join(CourseSession, CourseSession.inventory_id == WaitlistEntry.inventory_id)
        .where(
            WaitlistEntry.user_id == parent.id,
            WaitlistEntry.status.in_((WaitStatus.WAITING, WaitStatus.OFFERED)),
        )
        .options(joinedload(CourseSession.course))
    )
    return [(entry, session) for entry, session in rows]
