"""Bookable slots, their weekly schedules, children, consent and bookings."""

from datetime import date, datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from careapp.extensions import db
from careapp.models.base import StrEnum, created_at_column, enum_type, one_of
from careapp.models.capacity import Inventory
from careapp.models.provision import CareClass, CareType
from careapp.models.states import Effect, StateTable, move

#: Version of the privacy notice a guardian agrees to when adding a child.
CONSENT_POLICY_VERSION = "2026-11"
#: Care types booked as standing places from a start date (applications).
STANDING_CARE_TYPES = frozenset({CareType.FULL_DAY, CareType.HALF_DAY})


class SlotStatus(StrEnum):
    """Whether a slot can be booked."""

    OPEN = "open"
    CANCELLED = "cancelled"


#: A slot is cancelled once; its bookings and waiting list end with it.
SLOT_STATES = StateTable(
    "slot", {"cancel": move({SlotStatus.OPEN}, SlotStatus.CANCELLED, Effect.CLOSE)}
)


class Slot(db.Model):
    """Places of one class and care type on a date (a standing place starts on that date)."""

    __tablename__ = "slots"
    __table_args__ = (
        one_of("care_type", CareType, "care_type_valid"),
        one_of("status", SlotStatus, "status_valid"),
        sa.CheckConstraint("starts_at < ends_at", name="times_valid"),
        sa.UniqueConstraint(
            "care_class_id", "care_type", "on_date", "starts_at", name="uq_slots_class_time"
        ),
        sa.Index("ix_slots_availability", "institution_id", "status", "on_date", "care_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        sa.ForeignKey("institutions.id", ondelete="CASCADE")
    )
    care_class_id: Mapped[int] = mapped_column(
        sa.ForeignKey("care_classes.id", ondelete="CASCADE"), index=True
    )
    inventory_id: Mapped[int] = mapped_column(sa.ForeignKey("inventories.id"), unique=True)
    schedule_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("schedules.id", ondelete="SET NULL"), index=True
    )
    #: The session of the day this slot offers, if it was made from one.
    session_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("care_sessions.id", ondelete="SET NULL"), index=True
    )
    #: The session's name (上午), kept with the slot so lists show it without another query.
    session_name: Mapped[str | None] = mapped_column(sa.String(40))
    care_type: Mapped[CareType] = mapped_column(enum_type(CareType))
    #: The day of care; for full-day and half-day places, the first day.
    on_date: Mapped[date]
    starts_at: Mapped[time]
    ends_at: Mapped[time]
    status: Mapped[SlotStatus] = mapped_column(enum_type(SlotStatus), default=SlotStatus.OPEN)
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(300))

    inventory: Mapped[Inventory] = relationship()
    care_class: Mapped[CareClass] = relationship()
    institution: Mapped["Institution"] = relationship()  # noqa: F821

    @property
    def is_standing(self) -> bool:
        """Full-day or half-day: an application for a standing place."""
        return CareType(self.care_type) in STANDING_CARE_TYPES

    @property
    def is_open(self) -> bool:
        """Not cancelled."""
        return self.status == SlotStatus.OPEN

    @property
    def starts(self) -> datetime:
        """The local start of the slot (naive; the site's time zone)."""
        return datetime.combine(self.on_date, self.starts_at)

    def __repr__(self) -> str:
        return f"<Slot {self.id} {self.care_type} {self.on_date} {self.starts_at}>"


class Schedule(db.Model):
    """A weekly pattern from which dated slots are generated for the weeks ahead."""

    __tablename__ = "schedules"
    __table_args__ = (
        one_of("care_type", CareType, "care_type_valid"),
        sa.CheckConstraint("starts_at < ends_at", name="times_valid"),
        sa.CheckConstraint("capacity >= 1", name="capacity_positive"),
        sa.CheckConstraint(
            "block_minutes IS NULL OR block_minutes BETWEEN 30 AND 600", name="block_valid"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        sa.ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    care_class_id: Mapped[int] = mapped_column(sa.ForeignKey("care_classes.id", ondelete="CASCADE"))
    care_type: Mapped[CareType] = mapped_column(enum_type(CareType))
    #: ISO weekdays as digits, Monday = 1, e.g. ``"12345"``.
    weekdays: Mapped[str] = mapped_column(sa.String(7))
    starts_at: Mapped[time]
    ends_at: Mapped[time]
    #: Hourly care: the day is cut into blocks of this many minutes.
    block_minutes: Mapped[int | None]
    capacity: Mapped[int]
    valid_from: Mapped[date]
    valid_until: Mapped[date | None]
    active: Mapped[bool] = mapped_column(default=True)

    care_class: Mapped[CareClass] = relationship()

    def runs_on(self, day: date) -> bool:
        """Whether the pattern has slots on ``day``."""
        in_period = self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)
        return self.active and in_period and str(day.isoweekday()) in self.weekdays


class ClosedDate(db.Model):
    """A day an institution is closed (holiday); no slots are offered on it."""

    __tablename__ = "closed_dates"
    __table_args__ = (sa.UniqueConstraint("institution_id", "on_date", name="uq_closed_dates_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        sa.ForeignKey("institutions.id", ondelete="CASCADE")
    )
    on_date: Mapped[date]
    reason: Mapped[str] = mapped_column(sa.String(120), default="")


class ConsentCapacity(StrEnum):
    """In which capacity the person who booked agreed to share the child's details."""

    GUARDIAN = "guardian"
    #: A family member the guardian invited, acting with the guardian's consent.
    FAMILY_MEMBER = "family_member"


class Child(db.Model):
    """A parent's child: only what care needs (name, birth date, optional notes)."""

    __tablename__ = "children"
    __table_args__ = (one_of("consent_capacity", ConsentCapacity, "consent_capacity_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(40))
    birth_date: Mapped[date]
    #: Allergies and other needs the carers must know; optional.
    notes: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = created_at_column()
    #: Who on the account consented for the child: its guardian, or a family member (say a
    #: grandparent) acting with the guardian's consent; bookings consent in the same capacity.
    consent_capacity: Mapped[ConsentCapacity] = mapped_column(
        enum_type(ConsentCapacity), default=ConsentCapacity.GUARDIAN, server_default="guardian"
    )
    #: When the retention job erased the child's details (name blanked, birth date kept to
    #: the month, notes and consents gone); the row stays so bookings still count.
    erased_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True), index=True)

    consents: Mapped[list["GuardianConsent"]] = relationship(
        back_populates="child", cascade="all, delete-orphan"
    )

    @property
    def is_erased(self) -> bool:
        """Whether the retention job has erased the child's details."""
        return self.erased_at is not None

    def __repr__(self) -> str:
        return f"<Child {self.id}>"


class GuardianConsent(db.Model):
    """A guardian's consent to process a child's data, with the notice version and time."""

    __tablename__ = "guardian_consents"
    __table_args__ = (one_of("capacity", ConsentCapacity, "capacity_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(
        sa.ForeignKey("children.id", ondelete="CASCADE"), index=True
    )
    guardian_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    policy_version: Mapped[str] = mapped_column(sa.String(20))
    given_at: Mapped[datetime] = created_at_column()
    #: In which capacity ``guardian_id`` consented (the guardian, or family acting for them).
    capacity: Mapped[ConsentCapacity] = mapped_column(
        enum_type(ConsentCapacity), default=ConsentCapacity.GUARDIAN, server_default="guardian"
    )

    child: Mapped[Child] = relationship(back_populates="consents")


class BookingStatus(StrEnum):
    """Where a booking stands."""

    APPLIED = "applied"  # full-day / half-day, waiting for the institution
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    CANCELLED = "cancelled"  # by the parent
    CANCELLED_BY_INSTITUTION = "cancelled_by_institution"


#: Every move of a booking and what it does to the slot's places.
BOOKING_STATES = StateTable(
    "booking",
    {
        "book": move(set(), BookingStatus.CONFIRMED, Effect.TAKE),
        "apply": move(set(), BookingStatus.APPLIED, Effect.TAKE),
        "accept": move({BookingStatus.APPLIED}, BookingStatus.CONFIRMED, Effect.KEEP),
        "decline": move({BookingStatus.APPLIED}, BookingStatus.DECLINED, Effect.RELEASE),
        "cancel": move(
            {BookingStatus.APPLIED, BookingStatus.CONFIRMED},
            BookingStatus.CANCELLED,
            Effect.RELEASE,
        ),
        "cancel_by_institution": move(
            {BookingStatus.APPLIED, BookingStatus.CONFIRMED},
            BookingStatus.CANCELLED_BY_INSTITUTION,
            Effect.CLOSE,
        ),
    },
)

#: Bookings that hold a place.
ACTIVE_BOOKING_STATUSES = (BookingStatus.APPLIED, BookingStatus.CONFIRMED)
_ACTIVE_SQL = "status IN ('applied', 'confirmed')"


class Booking(db.Model):
    """A child's place in a slot, booked by a parent."""

    __tablename__ = "bookings"
    __table_args__ = (
        one_of("status", BookingStatus, "status_valid"),
        one_of("consent_capacity", ConsentCapacity, "consent_capacity_valid"),
        sa.Index(
            "uq_bookings_active_child_slot",
            "child_id",
            "slot_id",
            unique=True,
            sqlite_where=sa.text(_ACTIVE_SQL),
            postgresql_where=sa.text(_ACTIVE_SQL),
        ),
        sa.Index("ix_bookings_slot_status", "slot_id", "status"),
        sa.Index("ix_bookings_parent", "parent_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(sa.ForeignKey("slots.id", ondelete="CASCADE"))
    child_id: Mapped[int] = mapped_column(
        sa.ForeignKey("children.id", ondelete="CASCADE"), index=True
    )
    #: The guardian: the account the child belongs to (whoever booked), told of every change.
    parent_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[BookingStatus] = mapped_column(enum_type(BookingStatus))
    #: The one-time key of the form that made it: a double tap makes one booking.
    request_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = created_at_column()
    decided_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    decline_reason: Mapped[str | None] = mapped_column(sa.String(300))
    cancelled_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    reminder_sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    #: Who booked (the guardian or a family member), and so gave the booking's consent.
    booked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: In which capacity ``booked_by`` consented; empty for bookings made before it was kept.
    consent_capacity: Mapped[ConsentCapacity | None] = mapped_column(enum_type(ConsentCapacity))
    #: Who cancelled, when the family cancelled.
    cancelled_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    #: A standing place: the first day the family asked for (on or after the slot's first
    #: day, which is when the class counts the place from); None: the slot's first day.
    starts_on: Mapped[date | None]

    slot: Mapped[Slot] = relationship()
    child: Mapped[Child] = relationship()
    booked_by: Mapped["User"] = relationship(foreign_keys=[booked_by_id])  # noqa: F821
    cancelled_by: Mapped["User"] = relationship(foreign_keys=[cancelled_by_id])  # noqa: F821
    parent: Mapped["User"] = relationship(foreign_keys=[parent_id])  # noqa: F821

    @property
    def is_active(self) -> bool:
        """Whether the booking holds a place."""
        return self.status in ACTIVE_BOOKING_STATUSES

    @property
    def is_application(self) -> bool:
        """Full-day or half-day: an application for a standing place, not a dated booking."""
        return self.slot.is_standing

    @property
    def first_day(self) -> date:
        """The day care starts: the chosen start of a standing place, else the slot's day."""
        return self.starts_on or self.slot.on_date

    def __repr__(self) -> str:
        return f"<Booking {self.id} {self.status}>"


class Attendance(db.Model):
    """Whether a booked child came on one day (a standing place has one row per day)."""

    __tablename__ = "attendances"
    __table_args__ = (
        sa.UniqueConstraint("booking_id", "on_date", name="uq_attendances_booking_day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(sa.ForeignKey("bookings.id", ondelete="CASCADE"))
    on_date: Mapped[date] = mapped_column(index=True)
    present: Mapped[bool]
    recorded_at: Mapped[datetime] = created_at_column()

    def __repr__(self) -> str:
        return f"<Attendance {self.booking_id} {self.on_date} {self.present}>"


class CalendarFeed(db.Model):
    """A parent's private iCalendar address; revoking deletes the token."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = created_at_column()
