"""A parent's whole account as one document (PIPL Art. 45: the right to copy and to move
one's personal information): JSON as it is, CSV as one row per field."""

from collections.abc import Iterator
from datetime import date, datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from careapp.extensions import db
from careapp.models import (
    Booking,
    Child,
    ChildRecordView,
    FamilyMember,
    Institution,
    OutboxMessage,
    Slot,
    User,
    WaitlistEntry,
)
from careapp.services import courses, family
from careapp.services.erasure import addresses_of

#: The sections of the document, in order.
SECTIONS = (
    "account",
    "children",
    "bookings",
    "waiting_list",
    "course_registrations",
    "family_members",
    "messages",
    "record_views",
)


def _text(value) -> object:
    """Dates and times as ISO text, enums as their value, the rest as it is."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, str):
        return str(value)
    return value


def _account(user: User) -> dict:
    return {
        "id": user.id,
        "email": user.email,
        "phone": user.phone,
        "display_name": user.display_name,
        "language": user.language,
        "notice_channel": user.notice_channel,
        "created_at": user.created_at,
        "last_login_at": user.last_login_at,
    }


def _children(user: User) -> list[dict]:
    children = db.session.scalars(
        sa.select(Child)
        .where(Child.parent_id == user.id)
        .options(joinedload(Child.consents))
        .order_by(Child.id)
    ).unique()
    return [
        {
            "id": child.id,
            "name": child.name,
            "birth_date": child.birth_date,
            "notes": child.notes,
            "created_at": child.created_at,
            "erased_at": child.erased_at,
            "consents": [
                {
                    "policy_version": consent.policy_version,
                    "given_at": consent.given_at,
                    "capacity": consent.capacity,
                }
                for consent in child.consents
            ],
        }
        for child in children
    ]


def _bookings(user: User) -> list[dict]:
    """Bookings of the account's children, and those it made for a family it helps (the
    other family's child masked)."""
    found = db.session.scalars(
        sa.select(Booking)
        .where(sa.or_(Booking.parent_id == user.id, Booking.booked_by_id == user.id))
        .options(joinedload(Booking.slot).joinedload(Slot.institution), joinedload(Booking.child))
        .order_by(Booking.id)
    ).unique()
    return [
        {
            "id": made.id,
            "child_id": made.child_id if made.parent_id == user.id else None,
            "child": family.child_name_for(made.child, user),
            "institution": made.slot.institution.name,
            "care_type": made.slot.care_type,
            "date": made.first_day,
            "start": made.slot.starts_at.strftime("%H:%M"),
            "end": made.slot.ends_at.strftime("%H:%M"),
            "status": made.status,
            "created_at": made.created_at,
            "cancelled_at": made.cancelled_at,
            "decided_at": made.decided_at,
            "decline_reason": made.decline_reason,
        }
        for made in found
    ]


def _waiting_list(user: User) -> list[dict]:
    entries = db.session.scalars(
        sa.select(WaitlistEntry).where(WaitlistEntry.user_id == user.id).order_by(WaitlistEntry.id)
    )
    slots = {
        slot.inventory_id: slot
        for slot in db.session.scalars(
            sa.select(Slot)
            .join(WaitlistEntry, WaitlistEntry.inventory_id == Slot.inventory_id)
            .where(WaitlistEntry.user_id == user.id)
            .options(joinedload(Slot.institution))
        )
    }
    return [_entry(entry, slots.get(entry.inventory_id)) for entry in entries]


def _entry(entry: WaitlistEntry, slot: Slot | None) -> dict:
    return {
        "id": entry.id,
        "for": entry.subject,
        "institution": slot.institution.name if slot else None,
        "date": slot.on_date if slot else None,
        "status": entry.status,
        "created_at": entry.created_at,
        "offered_at": entry.offered_at,
        "offer_expires_at": entry.offer_expires_at,
    }


def _course_registrations(user: User) -> list[dict]:
    return [
        {
            "id": registration.id,
            "course": registration.session.course.title,
            "starts_at": registration.session.starts_at,
            "seats": registration.seats,
            "status": registration.status,
            "created_at": registration.created_at,
        }
        for registration in courses.registrations_of(user)
    ]


def _family_members(user: User) -> list[dict]:
    invitations = db.session.scalars(
        sa.select(FamilyMember)
        .where(sa.or_(FamilyMember.guardian_id == user.id, FamilyMember.member_id == user.id))
        .order_by(FamilyMember.id)
    )
    return [
        {
            "id": invitation.id,
            "role": "guardian" if invitation.guardian_id == user.id else "member",
            "phone": invitation.phone,
            "status": invitation.status,
            "created_at": invitation.created_at,
            "decided_at": invitation.decided_at,
            "revoked_at": invitation.revoked_at,
        }
        for invitation in invitations
    ]


def _messages(user: User) -> list[dict]:
    messages = db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.recipient.in_(addresses_of(user)))
        .order_by(OutboxMessage.id)
    )
    return [
        {
            "id": message.id,
            "channel": message.channel,
            "to": message.recipient,
            "subject": message.subject,
            "body": message.body,
            "created_at": message.created_at,
            "sent_at": message.sent_at,
        }
        for message in messages
    ]


def _record_views(user: User) -> list[dict]:
    """When institution staff opened a booking of the account's children, and who."""
    own_bookings = sa.select(Booking.id).where(Booking.parent_id == user.id)
    rows = db.session.execute(
        sa.select(ChildRecordView, User.display_name, Institution.name)
        .join(User, User.id == ChildRecordView.viewer_id)
        .join(Institution, Institution.id == ChildRecordView.institution_id)
        .where(ChildRecordView.booking_id.in_(own_bookings))
        .order_by(ChildRecordView.viewed_at)
    )
    return [
        {
            "booking_id": view.booking_id,
            "child_id": view.child_id,
            "institution": institution,
            "staff": staff,
            "viewed_at": view.viewed_at,
        }
        for view, staff, institution in rows
    ]


def account_document(user: User) -> dict:
    """Everything careapp keeps about the parent account ``user``, section by section."""
    builders = {
        "account": _account,
        "children": _children,
        "bookings": _bookings,
        "waiting_list": _waiting_list,
        "course_registrations": _course_registrations,
        "family_members": _family_members,
        "messages": _messages,
        "record_views": _record_views,
    }
    return {section: _plain(builders[section](user)) for section in SECTIONS}


def _plain(value):
    """``value`` with dates, times and enums made JSON-ready, recursively."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return _text(value)


def csv_rows(document: dict) -> Iterator[tuple]:
    """The document as rows of (section, record, field, value); a consent's field is named
    ``consents.N.field``."""
    for section in SECTIONS:
        records = document[section]
        for number, record in enumerate(records if isinstance(records, list) else [records]):
            for field, value in _flat(record):
                yield section, number + 1, field, value


def _flat(record: dict, prefix: str = "") -> Iterator[tuple[str, object]]:
    for key, value in record.items():
        if isinstance(value, list):
            for index, item in enumerate(value, start=1):
                yield from _flat(item, f"{prefix}{key}.{index}.")
        else:
            yield f"{prefix}{key}", value
