"""Regions (a county-level city) and their townships (镇/街道)."""

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from careapp.extensions import db
from careapp.models.base import StrEnum, enum_type, localized, one_of
from careapp.models.provision import DEFAULT_MIXED_CHILDREN_PER_CARER

#: The registration authorities a region offers until its regulator says otherwise: the three
#: every seed names (000 (二)1, 003 item 20: 机构编制, 民政, 市场监管).
DEFAULT_AUTHORITY_CODES = "staffing_office,civil_affairs,market_regulation"
#: Places (托位) per 1,000 residents by 2025 (policies 001 and 002).
DEFAULT_PLACES_PER_1000 = Decimal("4.5")


class TownshipKind(StrEnum):
    """Whether a township is an urban sub-district (街道), a town (镇) or a rural township (乡)."""

    SUBDISTRICT = "subdistrict"
    TOWN = "town"
    #: 乡, including ethnic townships (民族乡); policy 001 addresses "各乡镇" apart from 镇.
    TOWNSHIP = "township"


class Region(db.Model):
    """A county-level city whose townships the register covers."""

    __tablename__ = "regions"
    __table_args__ = (
        sa.CheckConstraint(
            "mixed_class_children_per_carer BETWEEN 1 AND 7", name="mixed_ratio_valid"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable identifier used in configuration, e.g. ``jinjiang``.
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    name_en: Mapped[str | None] = mapped_column(sa.String(64))
    #: Start of this region's filing numbers, e.g. ``JJ`` in ``JJ-TY-2025-0001``.
    filing_prefix: Mapped[str] = mapped_column(sa.String(8), default="TY")
    #: Institutions registered (登记) as the bureau once entered them. No longer read: the
    #: applied share is over the authorities' list (``RegisteredOperator``, policy 002 (四)).
    registered_institutions: Mapped[int | None]
    registered_as_of: Mapped[date | None]
    #: The box (WGS-84 degrees) an institution's location must lie in; editable by nothing
    #: yet, filled for the demo regions from their townships with a margin.
    min_latitude: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))
    max_latitude: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))
    min_longitude: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))
    max_longitude: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))

    # --- policy rules (issue 17): the region's own registration authorities and local ratio ---
    #: The registration authorities (登记机关) the region's policy names, comma-separated
    #: Authority values; 004 item 10 adds a 行政审批服务局 where a county has one.
    registration_authorities: Mapped[str] = mapped_column(
        sa.String(120),
        default=DEFAULT_AUTHORITY_CODES,
        server_default=DEFAULT_AUTHORITY_CODES,
    )
    #: Children per carer in a mixed-age class: a local rule, set by no seed nor the national
    #: standard (托育机构设置标准（试行） sets the mixed class's size, 18, only).
    mixed_class_children_per_carer: Mapped[int] = mapped_column(
        default=DEFAULT_MIXED_CHILDREN_PER_CARER,
        server_default=str(DEFAULT_MIXED_CHILDREN_PER_CARER),
    )

    townships: Mapped[list["Township"]] = relationship(
        back_populates="region", order_by="Township.position"
    )

    def name_for(self, language: str) -> str:
        """The region's name in ``language`` where one exists."""
        return localized(self.name, self.name_en, language)

    @property
    def has_bounds(self) -> bool:
        """Whether the region's box is known."""
        return None not in (
            self.min_latitude,
            self.max_latitude,
            self.min_longitude,
            self.max_longitude,
        )

    def contains(self, latitude: Decimal, longitude: Decimal) -> bool:
        """Whether a WGS-84 point lies in the region's box (any point when it has none)."""
        if not self.has_bounds:
            return True
        return (
            self.min_latitude <= latitude <= self.max_latitude
            and self.min_longitude <= longitude <= self.max_longitude
        )

    @property
    def authority_codes(self) -> list[str]:
        """The values of the registration authorities the region offers, in their order."""
        return [code for code in (self.registration_authorities or "").split(",") if code]

    def __repr__(self) -> str:
        return f"<Region {self.code}>"


class Township(db.Model):
    """A sub-district or town; the unit parents search by and targets are set for."""

    __tablename__ = "townships"
    __table_args__ = (
        one_of("kind", TownshipKind, "kind_valid"),
        sa.CheckConstraint("population >= 0", name="population_not_negative"),
        sa.CheckConstraint("min_institutions >= 0", name="min_institutions_not_negative"),
        sa.CheckConstraint("target_places_per_1000 >= 0", name="target_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("regions.id"), index=True)
    #: Stable identifier used in URLs and the API, e.g. ``qingyang``.
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    name_en: Mapped[str | None] = mapped_column(sa.String(64))
    kind: Mapped[TownshipKind] = mapped_column(enum_type(TownshipKind))
    #: Resident population, the denominator of places per 1,000 residents.
    population: Mapped[int] = mapped_column(default=0)
    population_as_of: Mapped[date | None]
    #: Filed institutions the township should have at least; it counts as covered from there.
    min_institutions: Mapped[int] = mapped_column(default=1, server_default="1")
    #: Places per 1,000 residents the township should reach (policies 001, 002: 4.5).
    target_places_per_1000: Mapped[Decimal] = mapped_column(
        sa.Numeric(4, 1), default=DEFAULT_PLACES_PER_1000, server_default="4.5"
    )
    #: Order in the official list of the region.
    position: Mapped[int] = mapped_column(default=0)
    #: Filed institutions here and their places (sum of class capacities), kept by the
    #: register's flush (careapp.models.listing) so no public page counts the register.
    listed_institutions: Mapped[int] = mapped_column(default=0, server_default="0")
    listed_places: Mapped[int] = mapped_column(default=0, server_default="0")
    #: The township's centre (WGS-84), a place to search near without the phone's position.
    latitude: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))

    region: Mapped[Region] = relationship(back_populates="townships")

    def name_for(self, language: str) -> str:
        """The township's name in ``language`` where one exists."""
        return localized(self.name, self.name_en, language)

    def __repr__(self) -> str:
        return f"<Township {self.code}>"


class CommunityKind(StrEnum):
    """Whether a community is an urban residents' community (社区) or a village (村)."""

    COMMUNITY = "community"
    VILLAGE = "village"


class Community(db.Model):
    """A residents' community or village of a township, with a WGS-84 point parents may
    measure distances from when their phone does not say where they are."""

    __tablename__ = "communities"
    __table_args__ = (
        one_of("kind", CommunityKind, "kind_valid"),
        sa.CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_valid"),
        sa.CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_valid"),
        sa.Index("ix_communities_region_position", "region_id", "township_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("regions.id"))
    township_id: Mapped[int] = mapped_column(sa.ForeignKey("townships.id"), index=True)
    #: The 12-digit statistical division code (统计用区划代码), stable in URLs.
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    name_en: Mapped[str | None] = mapped_column(sa.String(96))
    kind: Mapped[CommunityKind] = mapped_column(enum_type(CommunityKind))
    latitude: Mapped[Decimal] = mapped_column(sa.Numeric(9, 6))
    longitude: Mapped[Decimal] = mapped_column(sa.Numeric(9, 6))
    #: Order within its township in the official list.
    position: Mapped[int] = mapped_column(default=0)
    #: Made up by the demo seed, not an official record.
    is_demo: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    region: Mapped[Region] = relationship()
    township: Mapped[Township] = relationship()

    def name_for(self, language: str) -> str:
        """The community's name in ``language`` where one exists."""
        return localized(self.name, self.name_en, language)

    def __repr__(self) -> str:
        return f"<Community {self.code}>"
