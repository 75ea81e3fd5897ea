"""What an institution provides: classes (national caps and ratios) and care-type offers."""

from dataclasses import dataclass
from datetime import date, time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from careapp.extensions import db
from careapp.models.base import StrEnum, enum_type, one_of

#: Children are accepted from this age in months (no class for babies under 6 months) ...
YOUNGEST_AGE_MONTHS = 6
#: ... and up to, but not including, this age (36 months and older go to kindergarten).
AGE_LIMIT_MONTHS = 36
#: A home-based point (家庭托育点) looks after at most this many children in all.
HOME_BASED_MAX_CHILDREN = 5
#: Mixed-age classes' carer ratio is in neither the seeds nor the national standard: it is a
#: regional setting (Region.mixed_class_children_per_carer), one carer per 5 by default.
DEFAULT_MIXED_CHILDREN_PER_CARER = 5
#: Classes run Monday to Friday unless the institution says otherwise (ISO weekdays).
WORKING_WEEK = "12345"


class ClassKind(StrEnum):
    """The class types of 托育机构设置标准（试行）, plus a home-based care group."""

    INFANT = "infant"
    TODDLER = "toddler"
    OLDER_TODDLER = "older_toddler"
    MIXED = "mixed"
    HOME_GROUP = "home_group"


@dataclass(frozen=True)
class ClassStandard:
    """The national age band, size cap and carer ratio of one class kind."""

    min_age_months: int
    max_age_months: int
    max_children: int
    children_per_carer: int
    #: The ratio is a local rule (a regional setting), not the national standard's.
    ratio_is_local: bool = False

    def accepts_age(self, age_months: int) -> bool:
        """Whether a child of ``age_months`` belongs in this age band."""
        return self.min_age_months <= age_months < self.max_age_months

    def max_capacity_for(self, carers: int, children_per_carer: int | None = None) -> int:
        """The largest capacity allowed by both the cap and the ratio for ``carers`` carers;
        ``children_per_carer`` is the region's ratio where the ratio is a local rule."""
        ratio = self.ratio_with(children_per_carer)
        return max(0, min(self.max_children, carers * ratio))

    def ratio_with(self, local_children_per_carer: int | None) -> int:
        """Children per carer: the region's where the ratio is local and the region set one."""
        if self.ratio_is_local and local_children_per_carer:
            return local_children_per_carer
        return self.children_per_carer


CLASS_STANDARDS: dict[ClassKind, ClassStandard] = {
    ClassKind.INFANT: ClassStandard(6, 12, 10, 3),
    ClassKind.TODDLER: ClassStandard(12, 24, 15, 5),
    ClassKind.OLDER_TODDLER: ClassStandard(24, 36, 20, 7),
    ClassKind.MIXED: ClassStandard(
        18, 36, 18, DEFAULT_MIXED_CHILDREN_PER_CARER, ratio_is_local=True
    ),
    # 家庭托育点: at most 5 children, one carer per 3.
    ClassKind.HOME_GROUP: ClassStandard(6, 36, HOME_BASED_MAX_CHILDREN, 3),
}


def _class_standards_check() -> str:
    """SQL that holds when a class's capacity respects the cap and ratio of its kind (the
    cap alone where the ratio is a regional setting: services check that one)."""
    clauses = [
        f"(kind = '{kind.value}' AND capacity <= {s.max_children}"
        + ("" if s.ratio_is_local else f" AND capacity <= carers * {s.children_per_carer}")
        + ")"
        for kind, s in CLASS_STANDARDS.items()
    ]
    return " OR ".join(clauses)


class CareType(StrEnum):
    """The four care types every institution may offer (policy 001 section (三)2)."""

    FULL_DAY = "full_day"
    HALF_DAY = "half_day"
    HOURLY = "hourly"
    TEMPORARY = "temporary"


class PriceUnit(StrEnum):
    """What one price buys."""

    MONTH = "month"
    HOUR = "hour"
    DAY = "day"


PRICE_UNITS: dict[CareType, PriceUnit] = {
    CareType.FULL_DAY: PriceUnit.MONTH,
    CareType.HALF_DAY: PriceUnit.MONTH,
    CareType.HOURLY: PriceUnit.HOUR,
    CareType.TEMPORARY: PriceUnit.DAY,
}


class CareClass(db.Model):
    """A class of children of one age band, its advertised capacity and its carers."""

    __tablename__ = "care_classes"
    __table_args__ = (
        one_of("kind", ClassKind, "kind_valid"),
        sa.CheckConstraint("capacity >= 1", name="capacity_positive"),
        sa.CheckConstraint("carers >= 1", name="carers_positive"),
        sa.CheckConstraint(_class_standards_check(), name="within_national_standard"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        sa.ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ClassKind] = mapped_column(enum_type(ClassKind))
    name: Mapped[str] = mapped_column(sa.String(64))
    #: Advertised places; never above the kind's cap nor what the carers allow.
    capacity: Mapped[int]
    carers: Mapped[int]
    #: ISO weekdays the class runs, Monday = 1: standing places are counted on these days.
    weekdays: Mapped[str] = mapped_column(sa.String(7), default=WORKING_WEEK)

    institution: Mapped["Institution"] = relationship(back_populates="classes")  # noqa: F821

    @property
    def standard(self) -> ClassStandard:
        """The national standard for this class's kind."""
        return CLASS_STANDARDS[ClassKind(self.kind)]

    def runs_on(self, day: date) -> bool:
        """Whether the class runs on ``day``'s weekday."""
        return str(day.isoweekday()) in self.weekdays

    def accepts_age(self, age_months: int) -> bool:
        """Whether a child of ``age_months`` belongs in this class's national age band."""
        return self.standard.accepts_age(age_months)

    def standard_violation(self, local_children_per_carer: int | None = None) -> str | None:
        """Which limit the capacity breaks (``"cap"`` or ``"ratio"``), or None;
        ``local_children_per_carer`` is the region's ratio where the ratio is a local rule."""
        standard = self.standard
        if self.capacity > standard.max_children:
            return "cap"
        if self.capacity > self.carers * standard.ratio_with(local_children_per_carer):
            return "ratio"
        return None

    def __repr__(self) -> str:
        return f"<CareClass {self.id} {self.kind} {self.capacity}/{self.carers}>"


class CareOffer(db.Model):
    """One care type an institution offers, with its hours, price and accepted ages."""

    __tablename__ = "care_offers"
    __table_args__ = (
        one_of("care_type", CareType, "care_type_valid"),
        sa.UniqueConstraint("institution_id", "care_type", name="uq_care_offers_institution_type"),
        sa.CheckConstraint(
            f"min_age_months >= {YOUNGEST_AGE_MONTHS} AND max_age_months <= {AGE_LIMIT_MONTHS}"
            " AND min_age_months < max_age_months",
            name="age_range_valid",
        ),
        sa.CheckConstraint("price_yuan >= 0", name="price_not_negative"),
        sa.CheckConstraint("opens_at < closes_at", name="hours_valid"),
        sa.Index("ix_care_offers_search", "care_type", "min_age_months", "max_age_months"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        sa.ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    care_type: Mapped[CareType] = mapped_column(enum_type(CareType))
    opens_at: Mapped[time]
    closes_at: Mapped[time]
    #: Price in whole yuan per unit (month, hour or day, by care type).
    price_yuan: Mapped[int]
    #: Accepted ages in months: from ``min_age_months`` up to, not including, ``max_age_months``.
    min_age_months: Mapped[int]
    max_age_months: Mapped[int]

    institution: Mapped["Institution"] = relationship(back_populates="offers")  # noqa: F821

    @property
    def price_unit(self) -> PriceUnit:
        """What ``price_yuan`` buys for this care type."""
        return PRICE_UNITS[CareType(self.care_type)]

    def accepts_age(self, age_months: int) -> bool:
        """Whether a child of ``age_months`` falls inside this offer's age range."""
        return self.min_age_months <= age_months < self.max_age_months

    def __repr__(self) -> str:
        return f"<CareOffer {self.institution_id} {self.care_type}>"


#: Care types an institution may offer in named sessions of a day (上午, 下午).
SESSION_CARE_TYPES = frozenset({CareType.HOURLY, CareType.TEMPORARY})


class CareSession(db.Model):
    """A named part of the day (上午 08:00–12:00) in which a class offers hourly or temporary
    care; its slots are dated places of those hours, counted in the class like any other."""

    __tablename__ = "care_sessions"
    __table_args__ = (
        sa.CheckConstraint("care_type IN ('hourly', 'temporary')", name="care_type_valid"),
        sa.CheckConstraint("starts_at < ends_at", name="times_valid"),
        sa.UniqueConstraint("care_class_id", "care_type", "name", name="uq_care_sessions_name"),
        sa.UniqueConstraint(
            "care_class_id", "care_type", "starts_at", "ends_at", name="uq_care_sessions_hours"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        sa.ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    care_class_id: Mapped[int] = mapped_column(sa.ForeignKey("care_classes.id", ondelete="CASCADE"))
    care_type: Mapped[CareType] = mapped_column(enum_type(CareType))
    name: Mapped[str] = mapped_column(sa.String(40))
    starts_at: Mapped[time]
    ends_at: Mapped[time]

    care_class: Mapped[CareClass] = relationship()

    def __repr__(self) -> str:
        return f"<CareSession {self.id} {self.name} {self.starts_at}-{self.ends_at}>"
