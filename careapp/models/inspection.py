"""Supervision: random inspection draws (双随机), inspections, their checklist and findings.

Policy 000 四(二)1 asks for "相关职能部门随机抽查、各镇（街道）协调辖区相关执法机构联合检查",
and 004 item 13 for "联动巡查、违法查处、诚信评价、动态管理": the bureau draws whom to inspect
and who inspects at random, records what it found, and follows each finding to its closure.
"""

from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from careapp.extensions import db
from careapp.models.base import StrEnum, created_at_column, enum_type, one_of
from careapp.models.institution import Institution
from careapp.models.user import User

if TYPE_CHECKING:
    from careapp.models.finding import Finding

#: An inspection is done by at least two inspectors (双随机 practice: never one alone).
MIN_INSPECTORS = 2


class ChecklistItem(StrEnum):
    """What an inspection checks, each from the policies' supervision articles."""

    SAFETY = "safety"  # 003 item 22: 人防、物防、技防, closed management
    FIRE = "fire"  # 000 四(二), 004 item 11: 消防安全
    FOOD = "food"  # 003 item 23: 食品安全
    CCTV = "cctv"  # 003 item 22: 视频监控全覆盖, 录像保存 90 日以上
    STAFF_CERTIFICATES = "staff_certificates"  # 004 item 11: 职业资格准入
    STAFF_HEALTH = "staff_health"  # 004 item 12: 从业人员健康体检
    RATIOS = "ratios"  # 托育机构设置标准: class sizes and carer ratios
    DAILY_CHECKS = "daily_checks"  # 003 item 24: 晨午检, 卫生保健
    PICK_UP = "pick_up"  # 003 item 22: 封闭式管理, 接送制度
    DRILLS = "drills"  # 001 (十): 应急预案制定和开展演练


class ItemResult(StrEnum):
    """The outcome of one checklist item."""

    PASSED = "passed"
    FAILED = "failed"
    NOT_APPLICABLE = "not_applicable"


class InspectionStatus(StrEnum):
    """PLANNED by a draw (or by hand), RECORDED once the visit is written up."""

    PLANNED = "planned"
    RECORDED = "recorded"


class FollowUp:
    """How an inspection's findings were followed up, as the public page says it."""

    NONE = "none"  # nothing to put right
    IN_TIME = "in_time"  # every finding put right by its deadline
    LATE = "late"  # every finding put right, some after the deadline
    PENDING = "pending"  # findings open, none past its deadline
    OVERDUE = "overdue"  # a finding open past its deadline


class InspectionDraw(db.Model):
    """One random draw: the seed, the pool it drew from, who drew, when, and what came out."""

    __tablename__ = "inspection_draws"
    __table_args__ = (
        sa.CheckConstraint("size > 0", name="size_positive"),
        sa.CheckConstraint(f"team_size >= {MIN_INSPECTORS}", name="team_of_two_or_more"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The random seed; the same seed over the same pool draws the same list.
    seed: Mapped[int] = mapped_column(sa.BigInteger)
    #: How many institutions were asked for, and how many inspectors go to each.
    size: Mapped[int]
    team_size: Mapped[int] = mapped_column(default=MIN_INSPECTORS)
    #: The day weights were counted from (days since the last inspection or the filing).
    drawn_on: Mapped[date]
    #: The register as drawn from: ``{"institutions": [[id, weight], …], "inspectors": [id, …]}``.
    pool: Mapped[dict] = mapped_column(sa.JSON)
    #: What came out: ``[{"institution": id, "inspectors": [id, …]}, …]`` in drawn order.
    result: Mapped[list] = mapped_column(sa.JSON)
    drawn_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    drawn_at: Mapped[datetime] = created_at_column()

    drawn_by: Mapped[User] = relationship()
    inspections: Mapped[list["Inspection"]] = relationship(
        back_populates="draw", order_by="Inspection.id"
    )

    def __repr__(self) -> str:
        return f"<InspectionDraw {self.id} seed={self.seed}>"


inspection_inspectors = sa.Table(
    "inspection_inspectors",
    db.metadata,
    sa.Column(
        "inspection_id",
        sa.ForeignKey("inspections.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("user_id", sa.ForeignKey("users.id"), primary_key=True, index=True),
)


class Inspection(db.Model):
    """An inspection of one institution: planned by a draw, then recorded after the visit."""

    __tablename__ = "inspections"
    __table_args__ = (
        one_of("status", InspectionStatus, "status_valid"),
        sa.CheckConstraint(
            "status <> 'recorded' OR (inspected_on IS NOT NULL AND recorded_at IS NOT NULL)",
            name="recorded_has_date",
        ),
        # One planned inspection per institution at a time: two draws racing cannot both plan it.
        sa.Index(
            "ix_inspections_one_planned",
            "institution_id",
            unique=True,
            sqlite_where=sa.text("status = 'planned'"),
            postgresql_where=sa.text("status = 'planned'"),
        ),
        sa.Index("ix_inspections_institution_inspected", "institution_id", "inspected_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        sa.ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    draw_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("inspection_draws.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[InspectionStatus] = mapped_column(
        enum_type(InspectionStatus), default=InspectionStatus.PLANNED
    )
    inspected_on: Mapped[date | None]
    #: A short note on the visit, for the bureau and the institution only.
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()

    institution: Mapped[Institution] = relationship()
    draw: Mapped[InspectionDraw | None] = relationship(back_populates="inspections")
    inspectors: Mapped[list[User]] = relationship(secondary=inspection_inspectors, order_by=User.id)
    results: Mapped[list["InspectionResult"]] = relationship(
        back_populates="inspection", cascade="all, delete-orphan", order_by="InspectionResult.id"
    )
    findings: Mapped[list["Finding"]] = relationship(
        back_populates="inspection", cascade="all, delete-orphan", order_by="Finding.id"
    )

    @property
    def is_recorded(self) -> bool:
        """Whether the visit has been written up."""
        return self.status == InspectionStatus.RECORDED

    @property
    def passed(self) -> bool:
        """No checklist item failed (合格); otherwise findings must be put right (限期整改)."""
        return not any(result.result == ItemResult.FAILED for result in self.results)

    def __repr__(self) -> str:
        return f"<Inspection {self.id} {self.status} institution={self.institution_id}>"


class InspectionResult(db.Model):
    """One checklist item of one recorded inspection: passed, failed or not applicable."""

    __tablename__ = "inspection_results"
    __table_args__ = (
        one_of("item", ChecklistItem, "item_valid"),
        one_of("result", ItemResult, "result_valid"),
        sa.UniqueConstraint("inspection_id", "item"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(sa.ForeignKey("inspections.id", ondelete="CASCADE"))
    item: Mapped[ChecklistItem] = mapped_column(enum_type(ChecklistItem))
    result: Mapped[ItemResult] = mapped_column(enum_type(ItemResult))

    inspection: Mapped[Inspection] = relationship(back_populates="results")

    def __repr__(self) -> str:
        return f"<InspectionResult {self.item} {self.result}>"
