"""Family members: a guardian lets another parent account book care for their children."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from careapp.extensions import db
from careapp.models.base import StrEnum, created_at_column, enum_type, one_of
from careapp.models.states import Effect, StateTable, move
from careapp.models.user import User


class InvitationStatus(StrEnum):
    """Where an invitation to act for a guardian's children stands."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    REVOKED = "revoked"


_PENDING, _ACCEPTED = InvitationStatus.PENDING, InvitationStatus.ACCEPTED

#: Every move of an invitation; none holds a place.
FAMILY_STATES = StateTable(
    "family invitation",
    {
        "invite": move(set(), _PENDING, Effect.NONE),
        "accept": move({_PENDING}, _ACCEPTED, Effect.NONE),
        "decline": move({_PENDING}, InvitationStatus.DECLINED, Effect.NONE),
        # The guardian withdraws an unanswered invitation ...
        "withdraw": move({_PENDING}, InvitationStatus.REVOKED, Effect.NONE),
        # ... or ends an accepted one: the member loses access at once.
        "revoke": move({_ACCEPTED}, InvitationStatus.REVOKED, Effect.NONE),
    },
)
#: Invitations that still count: waiting for an answer, or accepted.
OPEN_INVITATION_STATUSES = (_PENDING, _ACCEPTED)
_OPEN_SQL = "status IN ('pending', 'accepted')"


class FamilyMember(db.Model):
    """A guardian's invitation, by mobile number, to help book care for their children.

    Accepted, it lets ``member`` book, cancel and see bookings and waiting-list entries of
    ``guardian``'s children, and nothing else of the guardian's, until it is revoked.
    """

    __tablename__ = "family_members"
    __table_args__ = (
        one_of("status", InvitationStatus, "status_valid"),
        sa.CheckConstraint(
            "status <> 'accepted' OR member_id IS NOT NULL", name="accepted_has_member"
        ),
        sa.CheckConstraint(
            "member_id IS NULL OR member_id <> guardian_id", name="member_not_guardian"
        ),
        sa.Index(
            "uq_family_members_open_phone",
            "guardian_id",
            "phone",
            unique=True,
            sqlite_where=sa.text(_OPEN_SQL),
            postgresql_where=sa.text(_OPEN_SQL),
        ),
        sa.Index("ix_family_members_phone_status", "phone", "status"),
        sa.Index("ix_family_members_member_status", "member_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The parent account whose children the member may act for.
    guardian_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    #: The invited mainland mobile number, E.164 (``+8613812345678``).
    phone: Mapped[str] = mapped_column(sa.String(20))
    #: The account that accepted (or declined); empty while pending.
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[InvitationStatus] = mapped_column(
        enum_type(InvitationStatus), default=InvitationStatus.PENDING
    )
    created_at: Mapped[datetime] = created_at_column()
    decided_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    guardian: Mapped[User] = relationship(foreign_keys=[guardian_id])
    member: Mapped[User | None] = relationship(foreign_keys=[member_id])

    @property
    def is_open(self) -> bool:
        """Pending or accepted: it can still be revoked."""
        return self.status in OPEN_INVITATION_STATUSES

    def __repr__(self) -> str:
        return f"<FamilyMember {self.id} {self.status}>"
