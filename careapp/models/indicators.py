"""What the bureau's indicators are measured against, beyond the register itself.

- the registration authorities' list of operators running care (the denominator of the
  applied-for-filing share, policy 002 (四));
- each region's targets, settings the bureau edits rather than constants;
- the families with children under 3 in each township (the denominator of guidance reach).
"""

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from careapp.extensions import db
from careapp.models.base import enum_type, one_of, utcnow
from careapp.models.institution import Authority
from careapp.models.region import DEFAULT_PLACES_PER_1000, Region, Township

#: Share of townships with a filed institution (000 三 "镇（街道）覆盖率达 80%以上").
DEFAULT_COVERED_SHARE = Decimal("0.8")
#: Share of registered operators running care that applied for filing (002 (四) "不低于 70％").
DEFAULT_APPLIED_SHARE = Decimal("0.7")
#: Newborn families reached by guidance (002 (二) "新生儿家庭科学育儿线上线下宣传服务覆盖率 50％").
DEFAULT_NEWBORN_GUIDANCE_SHARE = Decimal("0.5")

#: Authorities that register operators (the education bureau registers nobody).
REGISTERING_AUTHORITIES = (
    Authority.STAFFING_OFFICE,
    Authority.CIVIL_AFFAIRS,
    Authority.MARKET_REGULATION,
)


def _share_column() -> Mapped:
    # No column default: None means "no target", and the ORM would put a default in its place.
    return mapped_column(sa.Numeric(5, 4))


class RegionTargets(db.Model):
    """A region's targets; a region without a row has those of ``defaults_for``."""

    __tablename__ = "region_targets"
    __table_args__ = (
        sa.CheckConstraint("places_per_1000 >= 0", name="places_not_negative"),
        *(
            sa.CheckConstraint(f"{name} IS NULL OR {name} BETWEEN 0 AND 1", name=f"{name}_valid")
            for name in (
                "covered_share",
                "applied_share",
                "guidance_share",
                "newborn_guidance_share",
                "certified_staff_share",
            )
        ),
    )

    region_id: Mapped[int] = mapped_column(sa.ForeignKey("regions.id"), primary_key=True)
    #: Places per 1,000 residents, city-wide, by 2025 (001 一, 002 一: 4.5).
    places_per_1000: Mapped[Decimal] = mapped_column(
        sa.Numeric(4, 1), default=DEFAULT_PLACES_PER_1000
    )
    #: Share of townships with a filed institution (000: 80%).
    covered_share: Mapped[Decimal | None] = _share_column()
    #: Share of registered operators running care that applied for filing (002 (四): 70%).
    applied_share: Mapped[Decimal | None] = _share_column()
    #: Families with children under 3 given guidance (001 一 科学育儿指导率 95%); none by default.
    guidance_share: Mapped[Decimal | None] = _share_column()
    #: Newborn families reached (002 (二): 50%).
    newborn_guidance_share: Mapped[Decimal | None] = _share_column()
    #: Certified staff, the region's aggregate (Lucheng's 003 二 持证率 80%); none by default.
    certified_staff_share: Mapped[Decimal | None] = _share_column()
    updated_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    region: Mapped[Region] = relationship()

    @classmethod
    def defaults_for(cls, region: Region) -> "RegionTargets":
        """A row with the defaults, not yet added to the session."""
        return cls(
            region=region,
            region_id=region.id,
            places_per_1000=DEFAULT_PLACES_PER_1000,
            covered_share=DEFAULT_COVERED_SHARE,
            applied_share=DEFAULT_APPLIED_SHARE,
            guidance_share=None,
            newborn_guidance_share=DEFAULT_NEWBORN_GUIDANCE_SHARE,
            certified_staff_share=None,
        )

    def __repr__(self) -> str:
        return f"<RegionTargets {self.region_id}>"


class RegisteredOperator(db.Model):
    """An operator running care as the registration authorities list it (登记)."""

    __tablename__ = "registered_operators"
    __table_args__ = (
        sa.UniqueConstraint("region_id", "uscc"),
        one_of("authority", Authority, "authority_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("regions.id"), index=True)
    #: Unified Social Credit Code, the key an import updates by and applications match on.
    uscc: Mapped[str] = mapped_column(sa.String(18), index=True)
    name: Mapped[str] = mapped_column(sa.String(128))
    authority: Mapped[Authority] = mapped_column(enum_type(Authority))
    registered_on: Mapped[date]
    imported_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    def __repr__(self) -> str:
        return f"<RegisteredOperator {self.uscc}>"


class TownshipFamilies(db.Model):
    """Families with children under 3 in a township, as the bureau last entered them."""

    __tablename__ = "township_families"
    __table_args__ = (
        sa.CheckConstraint("families_under_3 >= 0", name="families_not_negative"),
        sa.CheckConstraint(
            "newborn_families IS NULL OR newborn_families >= 0", name="newborn_not_negative"
        ),
    )

    township_id: Mapped[int] = mapped_column(sa.ForeignKey("townships.id"), primary_key=True)
    #: Every family with a child under 3 living in the township (not only those known here).
    families_under_3: Mapped[int]
    #: Families with a child born in the last 12 months.
    newborn_families: Mapped[int | None]
    as_of: Mapped[date]

    township: Mapped[Township] = relationship()

    def __repr__(self) -> str:
        return f"<TownshipFamilies {self.township_id}>"
