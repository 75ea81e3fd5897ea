"""Family members: who may act for whose children, and the invitations that grant it.

A guardian (the parent account a child belongs to) invites another parent account by its
mainland mobile number. Once that account accepts, it may book, cancel and see bookings and
waiting-list entries of the guardian's children, and nothing else of the guardian's, until the
guardian revokes the invitation. ``acts_for`` is the one rule every page and service asks.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from careapp import clock
from careapp.extensions import db
from careapp.models import (
    FAMILY_STATES,
    OPEN_INVITATION_STATUSES,
    Booking,
    Child,
    ConsentCapacity,
    FamilyMember,
    InvitationStatus,
    Role,
    Slot,
    User,
)
from careapp.models.base import as_utc
from careapp.services.errors import CareappError
from careapp.services.mail import N_
from careapp.services.notices import notify
from careapp.services.privacy import mask_name
from careapp.services.sms import queue_sms
from careapp.services.transitions import AlreadyMoved, change_state
from careapp.validators import china_mobile_e164

#: A guardian has at most this many members and unanswered invitations at once.
MAX_OPEN_INVITATIONS = 10
#: ... and sends at most this many invitations a day (each may mail the invitee).
MAX_INVITATIONS_PER_DAY = 20


class FamilyError(CareappError):
    """An invitation step that is not allowed; ``message`` says why, translated."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class InvitationSettled(FamilyError):
    """Another request answered or revoked the invitation first; ``message`` says how."""


#: How an invitation ended up, told to whoever arrives second.
INVITATION_OUTCOMES = {
    InvitationStatus.PENDING: _l("This invitation is waiting for an answer."),
    InvitationStatus.ACCEPTED: _l("This invitation has been accepted."),
    InvitationStatus.DECLINED: _l("This invitation has been declined."),
    InvitationStatus.REVOKED: _l("The guardian has withdrawn this invitation."),
}


# --- who may act for whom ------------------------------------------------------------------


def _guardians_of_member(user: User) -> sa.Select:
    """The guardians whose invitation ``user`` accepted and who have not revoked it."""
    return sa.select(FamilyMember.guardian_id).where(
        FamilyMember.member_id == user.id, FamilyMember.status == InvitationStatus.ACCEPTED
    )


def acts_for(user: User, guardian_id: sa.ColumnElement) -> sa.ColumnElement[bool]:
    """SQL: the guardian in ``guardian_id`` (a child's, a booking's or an entry's account) is
    ``user`` or a guardian who made ``user`` a family member: the children this account may
    act for. Read on every request, so a revoked member loses access at once."""
    return sa.or_(guardian_id == user.id, guardian_id.in_(_guardians_of_member(user)))


def may_act_for(user: User, guardian_id: int) -> bool:
    """Whether ``user`` may book, cancel and see bookings for ``guardian_id``'s children."""
    if guardian_id == user.id:
        return True
    return (
        db.session.scalar(
            sa.select(sa.literal(True)).where(
                sa.literal(guardian_id).in_(_guardians_of_member(user))
            )
        )
        is not None
    )


def national_number(phone: str) -> str:
    """An E.164 mainland mobile number as people write it: ``138 1234 5678``."""
    return phonenumbers.format_number(
        phonenumbers.parse(phone), phonenumbers.PhoneNumberFormat.NATIONAL
    )


def consent_capacity(actor: User, child: Child) -> ConsentCapacity:
    """In which capacity ``actor`` consents to share ``child``'s details for a booking: as the
    child was recorded on its own account, and as family for a guardian who invited it."""
    if child.parent_id == actor.id:
        return ConsentCapacity(child.consent_capacity)
    return ConsentCapacity.FAMILY_MEMBER


#: How a child erased after the retention period shows in its family's old bookings.
ERASED_CHILD = _l("A child whose details were erased")


def child_name_for(child: Child, viewer: User) -> str:
    """The child's name as ``viewer`` sees it in a list: in full for the guardian, masked for
    a family member."""
    if child.erased_at is not None:
        return str(ERASED_CHILD)
    return child.name if child.parent_id == viewer.id else mask_name(child.name)


# --- which account may accept ----------------------------------------------------------------


def _may_accept_as(phone: sa.ColumnElement | str) -> sa.ColumnElement[bool]:
    """SQL on ``User``: the account may accept an invitation sent to ``phone``: a parent
    account that has verified that mobile number with an SMS code."""
    return sa.and_(
        User.role == Role.PARENT, User.phone == phone, User.phone_verified_at.is_not(None)
    )


def accounts_for_mobile(phone: str) -> list[User]:
    """The accounts that may accept an invitation sent to ``phone`` (E.164)."""
    return list(db.session.scalars(sa.select(User).where(_may_accept_as(phone))))


def may_accept(invitation: FamilyMember, user: User) -> bool:
    """Whether ``user`` may accept or decline ``invitation``: its mobile number is the one
    invited, and it is not the guardian's own account."""
    if user.id == invitation.guardian_id:
        return False
    return (
        db.session.scalar(
            sa.select(User.id).where(User.id == user.id, _may_accept_as(invitation.phone))
        )
        is not None
    )


def invitations_for(user: User) -> list[FamilyMember]:
    """The pending invitations ``user`` may answer, oldest first, with their guardians."""
    return list(
        db.session.scalars(
            sa.select(FamilyMember)
            .join(User, _may_accept_as(FamilyMember.phone))
            .where(
                User.id == user.id,
                FamilyMember.status == InvitationStatus.PENDING,
                FamilyMember.guardian_id != user.id,
            )
            .options(joinedload(FamilyMember.guardian))
            .order_by(FamilyMember.id)
        )
    )


# --- the guardian's side -------------------------------------------------------------------


def invite(guardian: User, number: str) -> FamilyMember:
    """Invite the holder of mobile ``number`` to act for ``guardian``'s children.

    The invitation waits until an account with that number accepts it; every such account
    that has an e-mail address is told (without any child's name). Raises FamilyError.
    """
    phone = china_mobile_e164(number or "")
    if phone is None:
        raise FamilyError(_l("Please enter an 11-digit mainland China mobile number."))
    if phone == guardian.phone:
        raise FamilyError(_l("This is your own mobile number."))
    db.session.execute(  # one guardian's invitations are counted and made one at a time
        sa.select(User.id).where(User.id == guardian.id).with_for_update()
    )
    _check_room_for_invitation(guardian, phone)
    invitation = FamilyMember(guardian_id=guardian.id, phone=phone)
    invitation.status = FAMILY_STATES["invite"].target
    db.session.add(invitation)
    db.session.flush()
    accounts = [a for a in accounts_for_mobile(phone) if a.id != guardian.id]
    for account in accounts:
        _notify_invitee(account, guardian)
    if not accounts:
        # Nobody has the number yet: the text tells them to sign up with it.
        queue_sms(phone, "family_invitation")
    return invitation


def _check_room_for_invitation(guardian: User, phone: str) -> None:
    """Raise FamilyError when the number is invited already or the guardian has too many."""
    since = clock.now() - timedelta(days=1)
    rows = db.session.execute(
        sa.select(FamilyMember.phone, FamilyMember.status, FamilyMember.created_at).where(
            FamilyMember.guardian_id == guardian.id,
            sa.or_(
                FamilyMember.status.in_(OPEN_INVITATION_STATUSES),
                FamilyMember.created_at >= since,
            ),
        )
    ).all()
    open_rows = [row for row in rows if row.status in OPEN_INVITATION_STATUSES]
    if any(row.phone == phone for row in open_rows):
        raise FamilyError(_l("This number is invited already."))
    if len(open_rows) >= MAX_OPEN_INVITATIONS:
        raise FamilyError(
            _l(
                "You can have at most %(count)d family members. Withdraw one first.",
                count=MAX_OPEN_INVITATIONS,
            )
        )
    if sum(1 for row in rows if as_utc(row.created_at) >= since) >= MAX_INVITATIONS_PER_DAY:
        raise FamilyError(_l("You have sent many invitations today. Please try again tomorrow."))


def members_of(guardian: User) -> list[FamilyMember]:
    """The guardian's invitations, open ones first, newest first, with their members."""
    rows = db.session.scalars(
        sa.select(FamilyMember)
        .where(FamilyMember.guardian_id == guardian.id)
        .options(joinedload(FamilyMember.member))
        .order_by(FamilyMember.id.desc())
    ).all()
    return sorted(rows, key=lambda row: not row.is_open)


def guardian_invitation(guardian: User, invitation_id: int) -> FamilyMember | None:
    """The guardian's own invitation with this id, or None."""
    return db.session.scalar(
        sa.select(FamilyMember).where(
            FamilyMember.id == invitation_id, FamilyMember.guardian_id == guardian.id
        )
    )


def revoke(guardian: User, invitation: FamilyMember, seen: str | None = None) -> None:
    """Withdraw an invitation, or end a membership, as the guardian saw it (``seen``, else
    its state now); the member loses access at once. Of a withdrawal and an answer at once,
    exactly one happens: a guardian who withdrew a pending invitation that was accepted at
    that moment is told so, and may then revoke it."""
    if invitation.guardian_id != guardian.id:
        raise FamilyError(_l("This invitation is not yours."))
    pending = (seen or invitation.status) == InvitationStatus.PENDING
    action = "withdraw" if pending else "revoke"
    try:
        change_state(invitation, FAMILY_STATES, action, revoked_at=clock.now())
    except AlreadyMoved as moved:
        raise InvitationSettled(INVITATION_OUTCOMES[moved.state]) from None


# --- the invitee's side --------------------------------------------------------------------


def invitation_for_invitee(user: User, invitation_id: int) -> FamilyMember | None:
    """An invitation ``user`` may answer (pending or not), or None."""
    invitation = db.session.get(FamilyMember, invitation_id)
    if invitation is None or not may_accept(invitation, user):
        return None
    return invitation


def answer(user: User, invitation: FamilyMember, accept: bool) -> None:
    """Accept or decline; of an answer and a revocation at once, exactly one happens and the
    other is told how the invitation ended."""
    if not may_accept(invitation, user):
        raise FamilyError(_l("This invitation is not for your mobile number."))
    action = "accept" if accept else "decline"
    try:
        change_state(invitation, FAMILY_STATES, action, member_id=user.id, decided_at=clock.now())
    except AlreadyMoved as moved:
        raise InvitationSettled(INVITATION_OUTCOMES[moved.state]) from None
    _notify_guardian(invitation, user, accept)


# --- who did what --------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """One thing a person did to a booking of the guardian's children."""

    at: datetime
    actor: User | None
    kind: str  # "booked", "applied" or "cancelled"
    booking: Booking


def recent_actions(guardian: User, limit: int = 20) -> list[Action]:
    """The latest bookings and cancellations of the guardian's children, newest first."""
    base = (
        sa.select(Booking)
        .where(Booking.parent_id == guardian.id)
        .options(
            joinedload(Booking.slot).joinedload(Slot.institution),
            joinedload(Booking.child),
            joinedload(Booking.booked_by),
            joinedload(Booking.cancelled_by),
        )
    )
    made = db.session.scalars(base.order_by(Booking.created_at.desc()).limit(limit)).unique()
    cancelled = db.session.scalars(
        base.where(Booking.cancelled_by_id.is_not(None))
        .order_by(Booking.cancelled_at.desc())
        .limit(limit)
    ).unique()
    actions = [
        Action(b.created_at, b.booked_by, "applied" if b.slot.is_standing else "booked", b)
        for b in made
    ] + [Action(b.cancelled_at, b.cancelled_by, "cancelled", b) for b in cancelled]
    return sorted(actions, key=lambda action: clock.to_utc(action.at), reverse=True)[:limit]


# --- messages ------------------------------------------------------------------------------


def _notify_invitee(account: User, guardian: User) -> None:
    """Tell an account with the invited number, in its language; no child is named."""
    with force_locale(account.language):
        email = (
            _("You are invited to help book childcare"),
            _(
                "%(guardian)s has invited you, as a family member, to book childcare for their"
                " children. Sign in and open My page to accept or decline.",
                guardian=guardian.display_name,
            ),
        )
    notify(account, email=email, sms=("family_invitation", {}))


def _notify_guardian(invitation: FamilyMember, member: User, accepted: bool) -> None:
    """Tell the guardian the invitation was answered; no child is named."""
    guardian = db.session.get(User, invitation.guardian_id)
    subject = N_("Your family member accepted") if accepted else N_("Your invitation was declined")
    body = (
        N_("%(member)s can now book care for your children. You can revoke this on Family members.")
        if accepted
        else N_("%(member)s declined your invitation to book care for your children.")
    )
    with force_locale(guardian.language):
        email = (_(subject), _(body, member=member.display_name))
    answer = "接受" if accepted else "谢绝"
    notify(guardian, email=email, sms=("family_answered", {"answer": answer}))
