"""The staff register of an institution, who changed it, and the bureau's lifetime ban list
(终身禁入).

A person is known by name and resident identity card number (居民身份证号). The number itself is
never stored: only a keyed hash (HMAC-SHA256 with the application's secret), which lets the ban
list and every staff register match the same person, and its last four characters, which let
people tell two staff of one name apart on screen.
"""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from careapp.extensions import db
from careapp.models.base import StrEnum, created_at_column, enum_type, one_of
from careapp.models.user import User


class StaffRole(StrEnum):
    """What a staff member does (托育机构设置标准: 保育人员, 保健人员 and support staff)."""

    CAREGIVER = "caregiver"  # 保育人员
    INFANT_CARER = "infant_carer"  # 育婴员
    HEALTH_WORKER = "health_worker"  # 保健人员
    MANAGER = "manager"  # 管理人员
    SECURITY = "security"  # 保安
    COOK = "cook"  # 厨师
    OTHER = "other"


#: Roles that look after children and need a qualification certificate
#: (001 (三)3: "依法逐步实行工作人员职业资格准入制度").
CARE_ROLES = frozenset({StaffRole.CAREGIVER, StaffRole.INFANT_CARER, StaffRole.HEALTH_WORKER})


class CertificateType(StrEnum):
    """The qualification a staff member holds."""

    CHILDCARE_WORKER = "childcare_worker"  # 保育师/保育员职业技能等级证书
    INFANT_CARER = "infant_carer"  # 育婴员职业技能等级证书
    TEACHER = "teacher"  # 教师资格证
    HEALTH_PROFESSIONAL = "health_professional"  # 卫生专业技术资格/执业证书
    HEALTH_TRAINING = "health_training"  # 托幼机构保健人员培训合格证
    OTHER = "other"


class StaffMember(db.Model):
    """One person working at an institution. Never public: pages show counts only."""

    __tablename__ = "staff_members"
    __table_args__ = (
        one_of("role", StaffRole, "role_valid"),
        sa.CheckConstraint(
            "certificate_type IS NULL OR certificate_type IN ("
            + ", ".join(f"'{value}'" for value in CertificateType.values())
            + ")",
            name="certificate_type_valid",
        ),
        sa.CheckConstraint(
            "(certificate_type IS NULL) = (certificate_number IS NULL)",
            name="certificate_complete",
        ),
        sa.CheckConstraint(
            "health_check_expires_on > health_checked_on", name="health_expiry_after_check"
        ),
        sa.CheckConstraint("training_hours >= 0", name="training_hours_not_negative"),
        sa.UniqueConstraint("institution_id", "id_number_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        sa.ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(40))
    role: Mapped[StaffRole] = mapped_column(enum_type(StaffRole))
    #: HMAC-SHA256 of the normalised ID card number, keyed with the application secret.
    id_number_hash: Mapped[str] = mapped_column(sa.String(64), index=True)
    #: The last four characters of the ID card number, to tell people apart on screen.
    id_number_tail: Mapped[str] = mapped_column(sa.String(4))
    certificate_type: Mapped[CertificateType | None] = mapped_column(enum_type(CertificateType))
    certificate_number: Mapped[str | None] = mapped_column(sa.String(40))
    health_checked_on: Mapped[date]
    health_check_expires_on: Mapped[date]
    training_hours: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = created_at_column()

    @property
    def is_care_staff(self) -> bool:
        """Whether the person looks after children (and so needs a certificate)."""
        return self.role in CARE_ROLES

    @property
    def is_certified(self) -> bool:
        """Whether a qualification certificate is on record."""
        return bool(self.certificate_type and self.certificate_number)

    def health_check_current(self, today: date) -> bool:
        """Whether the health certificate is still valid on ``today``."""
        return self.health_check_expires_on >= today

    @property
    def masked_id_number(self) -> str:
        """The ID number as people may see it: only its last four characters."""
        return "**************" + self.id_number_tail

    def __repr__(self) -> str:
        return f"<StaffMember {self.id} {self.role}>"


class StaffChangeKind(StrEnum):
    """What was done to a person on a register (the values are the audit log's actions)."""

    ADDED = "staff_added"
    EDITED = "staff_edited"
    REMOVED = "staff_removed"


class StaffChange(db.Model):
    """Someone added, changed or took off a person of an institution's register. Never updated.

    Keeps who did it and when, and of the person only the ID number's last four characters:
    no name, and no foreign key to the staff member, so the record outlives the removal.
    """

    __tablename__ = "staff_changes"
    __table_args__ = (
        one_of("action", StaffChangeKind, "action_valid"),
        sa.Index("ix_staff_changes_changed_at", "changed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        sa.ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[StaffChangeKind] = mapped_column(enum_type(StaffChangeKind))
    #: The last four characters of the person's ID card number, as on the register.
    id_number_tail: Mapped[str] = mapped_column(sa.String(4))
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    changed_at: Mapped[datetime] = created_at_column()

    actor: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<StaffChange {self.id} {self.action} by {self.actor_id}>"


class LifetimeBan(db.Model):
    """A person barred for life from childcare work (001 (三)3; 003 item 25:
    "对虐童等行为零容忍，对相关个人和直接管理人员实行终身禁入"). Kept by the bureau only."""

    __tablename__ = "lifetime_bans"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40))
    id_number_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    id_number_tail: Mapped[str] = mapped_column(sa.String(4))
    reason: Mapped[str] = mapped_column(sa.Text)
    decided_on: Mapped[date]
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()

    created_by: Mapped[User] = relationship()

    @property
    def masked_id_number(self) -> str:
        """The ID number as the bureau's list shows it: only its last four characters."""
        return "**************" + self.id_number_tail

    def __repr__(self) -> str:
        return f"<LifetimeBan {self.id}>"


class BanAlert(db.Model):
    """An institution tried to employ a banned person: the bureau sees it on its list."""

    __tablename__ = "ban_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    ban_id: Mapped[int] = mapped_column(
        sa.ForeignKey("lifetime_bans.id", ondelete="CASCADE"), index=True
    )
    institution_id: Mapped[int] = mapped_column(
        sa.ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    attempted_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()

    ban: Mapped[LifetimeBan] = relationship()
    institution: Mapped["Institution"] = relationship()  # noqa: F821

    def __repr__(self) -> str:
        return f"<BanAlert {self.id} ban={self.ban_id} institution={self.institution_id}>"
