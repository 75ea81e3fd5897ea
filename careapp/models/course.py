"""Parenting courses (父母课堂) of verified guidance providers, their sessions and registrations."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from careapp.extensions import db
from careapp.models.base import StrEnum, created_at_column, enum_type, localized, one_of
from careapp.models.capacity import Inventory
from careapp.models.region import Township
from careapp.models.states import Effect, StateTable, move
from careapp.models.user import User


class OrganisationType(StrEnum):
    """What kind of organisation a guidance provider is."""

    MCH_HOSPITAL = "mch_hospital"  # 妇幼保健院
    COMMUNITY_HEALTH = "community_health"  # 社区卫生服务中心
    WOMENS_FEDERATION = "womens_federation"  # 妇联
    FAMILY_PLANNING = "family_planning"  # 计生协会
    INSTITUTION = "institution"  # a filed childcare institution
    OTHER = "other"


class ProviderStatus(StrEnum):
    """Whether the regulator lets a provider's courses be public."""

    PENDING = "pending"
    VERIFIED = "verified"
    SUSPENDED = "suspended"


class Topic(StrEnum):
    """The guidance topics of the plans."""

    NUTRITION = "nutrition"
    GROWTH = "growth"
    VACCINATION = "vaccination"
    SAFETY = "safety"
    DISEASE_PREVENTION = "disease_prevention"
    EARLY_DEVELOPMENT = "early_development"
    PARENT_CHILD = "parent_child"
    OTHER = "other"


class CourseFormat(StrEnum):
    """How a course is given."""

    IN_PERSON = "in_person"
    LIVE_ONLINE = "live_online"
    RECORDED = "recorded"


class Provider(db.Model):
    """A guidance provider's organisation, verified by the regulator before anything is public."""

    __tablename__ = "providers"
    __table_args__ = (
        one_of("organisation_type", OrganisationType, "organisation_type_valid"),
        one_of("status", ProviderStatus, "status_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    name_en: Mapped[str | None] = mapped_column(sa.String(160))
    organisation_type: Mapped[OrganisationType] = mapped_column(enum_type(OrganisationType))
    township_id: Mapped[int | None] = mapped_column(sa.ForeignKey("townships.id"))
    phone: Mapped[str] = mapped_column(sa.String(32))
    status: Mapped[ProviderStatus] = mapped_column(
        enum_type(ProviderStatus), default=ProviderStatus.PENDING, index=True
    )
    status_reason: Mapped[str] = mapped_column(sa.Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()

    user: Mapped[User] = relationship()
    township: Mapped[Township | None] = relationship()

    @property
    def is_verified(self) -> bool:
        """Whether its courses may be public."""
        return self.status == ProviderStatus.VERIFIED

    def name_for(self, language: str) -> str:
        """The organisation's name in ``language`` where one exists."""
        return localized(self.name, self.name_en, language)

    def __repr__(self) -> str:
        return f"<Provider {self.id} {self.status}>"


class Course(db.Model):
    """A parenting course: one session or a weekly series."""

    __tablename__ = "courses"
    __table_args__ = (
        one_of("topic", Topic, "topic_valid"),
        one_of("format", CourseFormat, "format_valid"),
        sa.CheckConstraint(
            "min_age_months >= 0 AND max_age_months <= 36 AND min_age_months < max_age_months",
            name="age_range_valid",
        ),
        sa.CheckConstraint("seats >= 1", name="seats_positive"),
        sa.CheckConstraint(
            "format <> 'in_person' OR (township_id IS NOT NULL AND address IS NOT NULL)",
            name="in_person_has_place",
        ),
        sa.CheckConstraint("format = 'in_person' OR link IS NOT NULL", name="online_has_link"),
        sa.Index("ix_courses_listing", "cancelled", "topic", "township_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        sa.ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    topic: Mapped[Topic] = mapped_column(enum_type(Topic))
    format: Mapped[CourseFormat] = mapped_column(enum_type(CourseFormat))
    township_id: Mapped[int | None] = mapped_column(sa.ForeignKey("townships.id"))
    address: Mapped[str | None] = mapped_column(sa.String(200))
    #: Live or recorded link; the live link is shown only to registered families.
    link: Mapped[str | None] = mapped_column(sa.String(300))
    #: Target ages of the children, months: from ``min`` up to, not including, ``max``.
    min_age_months: Mapped[int] = mapped_column(default=0)
    max_age_months: Mapped[int] = mapped_column(default=36)
    #: Seats of each session.
    seats: Mapped[int]
    #: A family may take a second seat for another carer.
    allow_second_seat: Mapped[bool] = mapped_column(default=False)
    registration_opens_at: Mapped[datetime]
    registration_closes_at: Mapped[datetime]
    cancelled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = created_at_column()

    provider: Mapped[Provider] = relationship()
    township: Mapped[Township | None] = relationship()
    sessions: Mapped[list["CourseSession"]] = relationship(
        back_populates="course", order_by="CourseSession.starts_at", cascade="all, delete-orphan"
    )

    def accepts_age(self, age_months: int) -> bool:
        """Whether the course is meant for a child of ``age_months``."""
        return self.min_age_months <= age_months < self.max_age_months

    def registration_open(self, now: datetime) -> bool:
        """Whether families may register at ``now`` (local time)."""
        return self.registration_opens_at <= now < self.registration_closes_at

    def __repr__(self) -> str:
        return f"<Course {self.id}>"


class SessionStatus(StrEnum):
    """Whether a session takes place."""

    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


#: A session is cancelled once; its registrations and waiting list end with it.
SESSION_STATES = StateTable(
    "course session",
    {"cancel": move({SessionStatus.SCHEDULED}, SessionStatus.CANCELLED, Effect.CLOSE)},
)


class CourseSession(db.Model):
    """One meeting of a course; its seats are an ``Inventory``."""

    __tablename__ = "course_sessions"
    __table_args__ = (
        one_of("status", SessionStatus, "status_valid"),
        sa.CheckConstraint("starts_at < ends_at", name="times_valid"),
        sa.Index("ix_course_sessions_course_start", "course_id", "starts_at"),
        sa.Index("ix_course_sessions_start", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id", ondelete="CASCADE"))
    inventory_id: Mapped[int] = mapped_column(sa.ForeignKey("inventories.id"), unique=True)
    #: Local times of the site.
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[SessionStatus] = mapped_column(
        enum_type(SessionStatus), default=SessionStatus.SCHEDULED
    )

    course: Mapped[Course] = relationship(back_populates="sessions")
    inventory: Mapped[Inventory] = relationship()

    @property
    def is_scheduled(self) -> bool:
        """Not cancelled."""
        return self.status == SessionStatus.SCHEDULED

    def __repr__(self) -> str:
        return f"<CourseSession {self.id} {self.starts_at}>"


class RegistrationStatus(StrEnum):
    """Where a family's registration stands."""

    REGISTERED = "registered"
    ATTENDED = "attended"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    CANCELLED_BY_PROVIDER = "cancelled_by_provider"


ACTIVE_REGISTRATION_STATUSES = (
    RegistrationStatus.REGISTERED,
    RegistrationStatus.ATTENDED,
    RegistrationStatus.NO_SHOW,
)
_MARKABLE = set(ACTIVE_REGISTRATION_STATUSES)

#: Every move of a course registration and what it does to the session's seats.
REGISTRATION_STATES = StateTable(
    "course registration",
    {
        "register": move(set(), RegistrationStatus.REGISTERED, Effect.TAKE),
        "cancel": move(
            {RegistrationStatus.REGISTERED}, RegistrationStatus.CANCELLED, Effect.RELEASE
        ),
        "cancel_by_provider": move(
            _MARKABLE, RegistrationStatus.CANCELLED_BY_PROVIDER, Effect.CLOSE
        ),
        "attend": move(_MARKABLE, RegistrationStatus.ATTENDED, Effect.KEEP),
        "no_show": move(_MARKABLE, RegistrationStatus.NO_SHOW, Effect.KEEP),
    },
)
_ACTIVE_SQL = "status IN ('registered', 'attended', 'no_show')"


class CourseRegistration(db.Model):
    """A family's seats in one session."""

    __tablename__ = "course_registrations"
    __table_args__ = (
        one_of("status", RegistrationStatus, "status_valid"),
        sa.CheckConstraint("seats IN (1, 2)", name="seats_valid"),
        sa.Index(
            "uq_course_registrations_active_family",
            "session_id",
            "parent_id",
            unique=True,
            sqlite_where=sa.text(_ACTIVE_SQL),
            postgresql_where=sa.text(_ACTIVE_SQL),
        ),
        sa.Index("ix_course_registrations_parent", "parent_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("course_sessions.id", ondelete="CASCADE"), index=True
    )
    parent_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    seats: Mapped[int] = mapped_column(default=1)
    status: Mapped[RegistrationStatus] = mapped_column(
        enum_type(RegistrationStatus), default=RegistrationStatus.REGISTERED
    )
    request_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = created_at_column()

    session: Mapped[CourseSession] = relationship()
    parent: Mapped[User] = relationship()

    @property
    def is_active(self) -> bool:
        """Whether the registration holds seats."""
        return self.status in ACTIVE_REGISTRATION_STATUSES

    def __repr__(self) -> str:
        return f"<CourseRegistration {self.id} {self.status}>"


def publicly_listed_courses() -> sa.Select:
    """Courses anybody may see: not cancelled, of a verified provider. Every public path
    starts from this query."""
    return (
        sa.select(Course)
        .join(Course.provider)
        .where(Provider.status == ProviderStatus.VERIFIED, Course.cancelled.is_(False))
    )
