"""Erasing children's data: when a parent deletes a child or the account, and when the
retention period after a child's last booking has passed.

PIPL Art. 47: personal information is deleted when its purpose is served, the retention
period has passed or the individual withdraws consent; Art. 31 makes a child's data
sensitive. What stays after erasure is counts: a child erased by retention keeps a row with
no name, no notes, no consents and its birth date cut to the month, so that its bookings
still count in the statistics but name nobody.
"""

from datetime import date, datetime, time

import sqlalchemy as sa

from careapp import clock
from careapp.extensions import db
from careapp.models import (
    ACTIVE_BOOKING_STATUSES,
    ACTIVE_WAIT_STATUSES,
    Booking,
    Child,
    FamilyMember,
    GuardianConsent,
    Institution,
    OutboxMessage,
    Slot,
    User,
    WaitlistEntry,
)
from careapp.models.booking import STANDING_CARE_TYPES
from careapp.services import booking, courses
from careapp.services.privacy import given_name, months_before, retention_months
from careapp.services.transitions import AlreadyMoved

#: What a sent message reads once the child it named is erased (stored data, not a page).
REDACTED_BODY = "[removed: this message named a child whose details have been erased]"
REDACTED_SUBJECT = "[removed]"


# --- messages ------------------------------------------------------------------------------


def _naming(text: str) -> sa.ColumnElement[bool]:
    """SQL: the message's subject or body contains ``text``."""
    return sa.or_(
        OutboxMessage.subject.contains(text, autoescape=True),
        OutboxMessage.body.contains(text, autoescape=True),
    )


def addresses_of(user: User) -> list[str]:
    """Where messages to ``user`` went: its e-mail address and mobile number."""
    return [address for address in (user.email, user.phone) if address]


def told_about(child: Child) -> list[str]:
    """Where messages naming ``child`` by its given name went: its guardian, the guardian's
    family members and the accounts of the institutions it was booked with."""
    guardian_id = sa.select(Child.parent_id).where(Child.id == child.id).scalar_subquery()
    members = sa.select(FamilyMember.member_id).where(FamilyMember.guardian_id == guardian_id)
    owners = (
        sa.select(Institution.owner_id)
        .join(Slot, Slot.institution_id == Institution.id)
        .join(Booking, Booking.slot_id == Slot.id)
        .where(Booking.child_id == child.id)
    )
    told = db.session.scalars(
        sa.select(User).where(
            sa.or_(User.id == guardian_id, User.id.in_(members), User.id.in_(owners))
        )
    )
    return [address for user in told for address in addresses_of(user)]


def redact_messages_naming(name: str, since: datetime, told: list[str]) -> int:
    """Erase every message written since the child ``name`` was added (``since``) that names
    it: unsent ones are dropped, sent ones lose their subject and body. Messages to those
    ``told`` about the child use its given name, so theirs are searched for it too; returns
    how many."""
    name = name.strip()
    if not name:
        return 0
    naming = _naming(name)
    given = given_name(name)
    if told and given and given != name:
        naming = sa.or_(naming, sa.and_(OutboxMessage.recipient.in_(told), _naming(given)))
    return _redact(sa.and_(naming, OutboxMessage.created_at >= since))


def _redact(where: sa.ColumnElement[bool]) -> int:
    """Drop unsent messages and blank sent ones that match ``where``."""
    dropped = db.session.execute(
        sa.delete(OutboxMessage).where(where, OutboxMessage.sent_at.is_(None))
    ).rowcount
    blanked = db.session.execute(
        sa.update(OutboxMessage)
        .where(where, OutboxMessage.sent_at.is_not(None))
        .values(subject=REDACTED_SUBJECT, body=REDACTED_BODY)
    ).rowcount
    return dropped + blanked


# --- a parent deletes ----------------------------------------------------------------------


def erase_child(child: Child, now: datetime) -> None:
    """Delete a child, its bookings, notes and consents, and every message naming it
    (``now`` local); places still held are given back first."""
    name, since, told = child.name, child.created_at, told_about(child)
    booking.delete_child(child, now)
    db.session.flush()
    redact_messages_naming(name, since, told)


def erase_account(user: User, now: datetime) -> None:
    """Delete a parent's account with its children, bookings, registrations, waiting-list
    entries, invitations and every message sent to it (``now`` local)."""
    for child in booking.children_of(user, include_erased=True):
        erase_child(child, now)
    _give_back_course_seats(user, clock.to_utc(now))
    _leave_waiting_lists(user, clock.to_utc(now))
    db.session.execute(
        sa.delete(OutboxMessage).where(OutboxMessage.recipient.in_(addresses_of(user)))
    )
    db.session.delete(user)
    db.session.flush()


def _give_back_course_seats(user: User, now: datetime) -> None:
    """Cancel the account's registrations for sessions still to come (seats pass on)."""
    for registration in courses.registrations_of(user):
        if registration.is_active and registration.session.starts_at > now:
            try:
                courses.cancel_registration(user, registration, now)
            except courses.CourseError:
                continue
    db.session.flush()


def _leave_waiting_lists(user: User, now: datetime) -> None:
    """Leave the account's course lines (a held seat passes on)."""
    entries = db.session.scalars(
        sa.select(WaitlistEntry).where(
            WaitlistEntry.user_id == user.id, WaitlistEntry.status.in_(ACTIVE_WAIT_STATUSES)
        )
    )
    for entry in list(entries):
        if courses.session_of_entry(entry) is None:
            continue
        try:
            courses.leave_waitlist(entry, now)
        except AlreadyMoved:
            continue


# --- retention -----------------------------------------------------------------------------


def retention_cutoff(today: date) -> date:
    """The first day still kept: data of children whose last booking ended before it goes."""
    return months_before(today, retention_months())


def _still_needed(cutoff_day: date, cutoff: datetime) -> sa.ColumnElement[bool]:
    """SQL on ``Child``: added, booked, cancelled or decided on or after the cut-off, holding
    a standing place, or waiting for a place."""
    recent_booking = (
        sa.select(Booking.id)
        .join(Slot, Slot.id == Booking.slot_id)
        .where(
            Booking.child_id == Child.id,
            sa.or_(
                sa.and_(
                    Booking.status.in_(ACTIVE_BOOKING_STATUSES),
                    Slot.care_type.in_(STANDING_CARE_TYPES),
                ),
                Slot.on_date >= cutoff_day,
                Booking.cancelled_at >= cutoff,
                Booking.decided_at >= cutoff,
            ),
        )
    )
    waiting = sa.select(WaitlistEntry.id).where(
        WaitlistEntry.subject == sa.literal("child:") + sa.cast(Child.id, sa.String),
        WaitlistEntry.status.in_(ACTIVE_WAIT_STATUSES),
    )
    return sa.or_(Child.created_at >= cutoff, recent_booking.exists(), waiting.exists())


def _expired(today: date) -> sa.ColumnElement[bool]:
    """SQL on ``Child``: not yet erased, and kept longer than the retention period."""
    cutoff_day = retention_cutoff(today)
    cutoff = clock.to_utc(datetime.combine(cutoff_day, time.min))
    return sa.and_(Child.erased_at.is_(None), sa.not_(_still_needed(cutoff_day, cutoff)))


def erase_next_expired_child(now: datetime, today: date) -> int | None:
    """Erase one child whose retention period has passed: 1 when erased, 0 when another run
    or a new booking got there first, None when no child is left to erase.

    The child is claimed with a row lock another run skips, and erased with a
    compare-and-set that re-checks the period, so two runs at once erase each child once.
    A child never booked is deleted; a booked one is anonymised so its bookings still count.
    """
    child = db.session.scalar(
        sa.select(Child)
        .where(_expired(today))
        .order_by(Child.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if child is None:
        return None
    name, since, told = child.name, child.created_at, told_about(child)
    booked = db.session.scalar(sa.select(sa.exists().where(Booking.child_id == child.id)))
    if booked:
        done = _anonymise(child, now, today)
    else:
        done = db.session.execute(
            sa.delete(Child).where(Child.id == child.id, _expired(today))
        ).rowcount
    if done:
        db.session.execute(sa.delete(GuardianConsent).where(GuardianConsent.child_id == child.id))
        redact_messages_naming(name, since, told)
    db.session.expire_all()
    return 1 if done else 0


def _anonymise(child: Child, now: datetime, today: date) -> int:
    """Blank the name and notes and keep the birth month, if still expired; 1 if done."""
    return db.session.execute(
        sa.update(Child)
        .where(Child.id == child.id, _expired(today))
        .values(name="", notes="", birth_date=child.birth_date.replace(day=1), erased_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount


def checkpoint() -> None:
    """SQLite: copy the write-ahead log into the database file and empty it, so that erased
    data is left neither in the log nor (with ``secure_delete``) in free pages."""
    if db.engine.dialect.name != "sqlite":
        return
    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        connection.close()
