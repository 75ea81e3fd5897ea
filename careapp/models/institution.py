"""Institutions, their lifecycle on the register, and the public filing events."""

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from careapp.extensions import db
from careapp.models.base import StrEnum, created_at_column, enum_type, localized, one_of, utcnow
from careapp.models.provision import (
    AGE_LIMIT_MONTHS,
    YOUNGEST_AGE_MONTHS,
    CareClass,
    CareOffer,
    CareType,
    ClassKind,
)
from careapp.models.region import Township


class Nature(StrEnum):
    """What kind of provider an institution is."""

    PUBLIC = "public"
    INCLUSIVE = "inclusive"  # 普惠: its price is a PriceRegime of its own, not the nature
    PRIVATE = "private"
    EMPLOYER = "employer"
    KINDERGARTEN_CLASS = "kindergarten_class"
    HOME_BASED = "home_based"


class Authority(StrEnum):
    """The authority an institution is registered with (登记机关).

    No policy makes the education bureau one: 003 item 20 "幼儿园提供托班服务仍由区教育局负责综合
    监管" (it supervises kindergarten toddler classes), 004 item 3 "幼儿园内开设托班的需要同时向县
    卫生健康局和县教育和体育局提出申请" (they apply to both bureaus).
    """

    STAFFING_OFFICE = "staffing_office"  # 机构编制, USCC starts with 1
    CIVIL_AFFAIRS = "civil_affairs"  # 民政, USCC starts with 5
    MARKET_REGULATION = "market_regulation"  # 市场监管, USCC starts with 9
    # 004 item 10: "举办非营利性托育服务机构在所在地的机构编制或行政审批部门注册登记，举办营利性
    # 托育服务机构在所在地的行政审批或市场监管部门注册登记" — one office for both.
    ADMINISTRATIVE_APPROVAL = "administrative_approval"  # 行政审批服务局, USCC 5 or 9


#: The first character of a USCC names the registering authority (GB 32100-2015); an
#: administrative approval office issues the codes of the offices whose work it took over.
USCC_PREFIXES: dict[Authority, frozenset[str]] = {
    Authority.STAFFING_OFFICE: frozenset("1"),
    Authority.CIVIL_AFFAIRS: frozenset("5"),
    Authority.MARKET_REGULATION: frozenset("9"),
    Authority.ADMINISTRATIVE_APPROVAL: frozenset("59"),
}
#: The authorities a region offers until its regulator says otherwise.
#: 003 item 20: "幼儿园提供托班服务仍由区教育局负责综合监管" — the one nature a second
#: department supervises.
EDUCATION_SUPERVISED_NATURES = frozenset({Nature.KINDERGARTEN_CLASS})


class PriceRegime(StrEnum):
    """How an institution's prices are set, separate from its nature (003 item 10)."""

    #: "公办婴幼儿照护服务收费标准参照公办幼儿园托班收费管理，实行政府指导价管理"
    GOVERNMENT_GUIDED = "government_guided"
    #: "民办普惠性幼儿园托班幼儿照护服务收费标准参照普惠性幼儿园收费管理"
    INCLUSIVE_KINDERGARTEN = "inclusive_kindergarten"
    #: "通过市场形成普惠性婴幼儿照护服务价格"
    INCLUSIVE_MARKET = "inclusive_market"
    #: "民办婴幼儿照护服务收费标准由机构自主合理确定，实行市场调节"
    MARKET_REGULATED = "market_regulated"


#: The price regimes that fit each nature (003 item 10), the usual one first.
NATURE_PRICE_REGIMES: dict[Nature, tuple[PriceRegime, ...]] = {
    Nature.PUBLIC: (PriceRegime.GOVERNMENT_GUIDED,),
    Nature.INCLUSIVE: (PriceRegime.INCLUSIVE_MARKET,),
    Nature.PRIVATE: (PriceRegime.MARKET_REGULATED,),
    # An employer's nursery may be a public body's, inclusive, or private.
    Nature.EMPLOYER: (
        PriceRegime.MARKET_REGULATED,
        PriceRegime.GOVERNMENT_GUIDED,
        PriceRegime.INCLUSIVE_MARKET,
    ),
    # 公办 toddler classes: 政府指导价; 民办普惠性: 普惠性幼儿园 pricing; other private: 市场调节.
    Nature.KINDERGARTEN_CLASS: (
        PriceRegime.GOVERNMENT_GUIDED,
        PriceRegime.INCLUSIVE_KINDERGARTEN,
        PriceRegime.MARKET_REGULATED,
    ),
    Nature.HOME_BASED: (PriceRegime.MARKET_REGULATED, PriceRegime.INCLUSIVE_MARKET),
}


def price_regime_fits(nature: Nature, regime: PriceRegime) -> bool:
    """Whether an institution of ``nature`` may have its prices set by ``regime``."""
    return regime in NATURE_PRICE_REGIMES[Nature(nature)]


def default_price_regime(nature: Nature) -> PriceRegime:
    """The usual price regime of ``nature``."""
    return NATURE_PRICE_REGIMES[Nature(nature)][0]


def _usual_price_regime(context) -> PriceRegime:
    """The column default: the usual price regime of the row's nature."""
    return default_price_regime(context.get_current_parameters()["nature"])


#: 幼儿园托班 take 2–3-year-olds only: 000 (二)1 "招收 2-3岁幼儿", 002 "招收 2 至 3岁", 003 item 6
#: "2-3 岁幼儿托班", 004 item 3 — so an older toddler class (24–36 months) and nothing else.
KINDERGARTEN_CLASS_AGES = (24, 36)
#: The class kinds that belong to one nature only: the home-based group (6–36 months, 1:3, at
#: most 5) is a 家庭托育点's; every other institution runs the national standard's classes.
NATURE_ONLY_CLASS_KINDS: dict[ClassKind, Nature] = {ClassKind.HOME_GROUP: Nature.HOME_BASED}
#: Natures restricted to some class kinds.
NATURE_CLASS_KINDS: dict[Nature, frozenset[ClassKind]] = {
    Nature.KINDERGARTEN_CLASS: frozenset({ClassKind.OLDER_TODDLER}),
}


def class_kind_fits(nature: Nature, kind: ClassKind) -> bool:
    """Whether an institution of ``nature`` may run a class of ``kind``."""
    nature, kind = Nature(nature), ClassKind(kind)
    owner = NATURE_ONLY_CLASS_KINDS.get(kind)
    if owner is not None and owner != nature:
        return False
    return kind in NATURE_CLASS_KINDS.get(nature, frozenset(ClassKind))


def offer_ages_for(nature: Nature) -> tuple[int, int]:
    """The ages in months (from, up to but not including) ``nature`` may accept."""
    if Nature(nature) == Nature.KINDERGARTEN_CLASS:
        return KINDERGARTEN_CLASS_AGES
    return YOUNGEST_AGE_MONTHS, AGE_LIMIT_MONTHS


def uscc_matches_authority(code: str, authority: Authority) -> bool:
    """Whether ``code`` was issued by ``authority`` (checked on its first character)."""
    return bool(code) and code[0] in USCC_PREFIXES[authority]


class Status(StrEnum):
    """Where an institution stands on the register. Only FILED is ever public."""

    DRAFT = "draft"
    UNDER_REVIEW = "under_review"
    RETURNED = "returned"
    REJECTED = "rejected"
    FILED = "filed"
    DEREGISTERED = "deregistered"


class EventType(StrEnum):
    """The disclosure events of the register (信息公示)."""

    FILED = "filed"
    CHANGED = "changed"
    DEREGISTERED = "deregistered"
    # --- follow-up: 登记 and 撤销备案 are disclosed too (policy 002 (四): "及时公示托育机构
    # 登记、备案、变更、注销等情况"). DEREGISTERED is the institution's own 注销; REVOKED is the
    # bureau's 撤销/取消备案 of an institution that does not comply.
    REGISTERED = "registered"
    REVOKED = "revoked"


class Transition(StrEnum):
    """The moves of the filing lifecycle (登记 → 备案 → 注销)."""

    SUBMIT = "submit"
    APPROVE = "approve"
    RETURN = "return"
    REJECT = "reject"
    DEREGISTER = "deregister"
    # --- follow-up: the bureau's own action; DEREGISTER records the institution's 注销.
    REVOKE = "revoke"


#: For each move: the statuses it may start from and the status it leads to.
TRANSITIONS: dict[Transition, tuple[frozenset[Status], Status]] = {
    Transition.SUBMIT: (frozenset({Status.DRAFT, Status.RETURNED}), Status.UNDER_REVIEW),
    Transition.APPROVE: (frozenset({Status.UNDER_REVIEW}), Status.FILED),
    Transition.RETURN: (frozenset({Status.UNDER_REVIEW}), Status.RETURNED),
    Transition.REJECT: (frozenset({Status.UNDER_REVIEW}), Status.REJECTED),
    Transition.DEREGISTER: (frozenset({Status.FILED}), Status.DEREGISTERED),
    # --- follow-up: a revoked filing leaves the register like a deregistered one (the events
    # say which of the two it was).
    Transition.REVOKE: (frozenset({Status.FILED}), Status.DEREGISTERED),
}

#: Parents may cancel until this many hours before care starts, unless the institution says.
DEFAULT_CANCEL_CUTOFF_HOURS = 2
#: Share of staff holding a childcare certificate that the policies aim for.
CERTIFIED_STAFF_TARGET = Decimal("0.8")
#: Days CCTV recordings must be kept.
CCTV_RETENTION_DAYS = 90


class Institution(db.Model):
    """A childcare institution, whatever its state on the register."""

    __tablename__ = "institutions"
    __table_args__ = (
        one_of("nature", Nature, "nature_valid"),
        one_of("authority", Authority, "authority_valid"),
        one_of("price_regime", PriceRegime, "price_regime_valid"),
        one_of("status", Status, "status_valid"),
        sa.CheckConstraint(
            "status <> 'filed' OR (filing_number IS NOT NULL AND filed_on IS NOT NULL)",
            name="filed_has_number",
        ),
        sa.CheckConstraint("certified_staff_count <= staff_count", name="certified_within_staff"),
        sa.CheckConstraint("cctv_retention_days >= 0", name="cctv_retention_not_negative"),
        sa.CheckConstraint(
            "latitude IS NULL OR latitude BETWEEN -90 AND 90", name="latitude_valid"
        ),
        sa.CheckConstraint(
            "longitude IS NULL OR longitude BETWEEN -180 AND 180", name="longitude_valid"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    name_en: Mapped[str | None] = mapped_column(sa.String(160))
    township_id: Mapped[int] = mapped_column(sa.ForeignKey("townships.id"), index=True)
    address: Mapped[str] = mapped_column(sa.String(200))
    address_en: Mapped[str | None] = mapped_column(sa.String(240))
    latitude: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))
    #: The contact telephone for the register (the health bureau, the account): never public,
    #: since for a home-based point it is often the operator's own mobile.
    phone: Mapped[str] = mapped_column(sa.String(32))
    #: The service telephone the institution chose to publish (page, API, open data), or None.
    public_phone: Mapped[str | None] = mapped_column(sa.String(32))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    description_en: Mapped[str | None] = mapped_column(sa.Text)
    #: What parents bring for a day of care (nappies, a change of clothes), shown when booking.
    what_to_bring: Mapped[str] = mapped_column(sa.Text, default="")
    what_to_bring_en: Mapped[str | None] = mapped_column(sa.Text)

    nature: Mapped[Nature] = mapped_column(enum_type(Nature))
    authority: Mapped[Authority] = mapped_column(enum_type(Authority))
    #: Unified Social Credit Code (统一社会信用代码), 18 characters.
    uscc: Mapped[str] = mapped_column(sa.String(18), index=True)
    registered_on: Mapped[date | None]

    # --- policy rules (issue 17): how prices are set, beside the nature -------------------
    #: 003 item 10: 政府指导价, 普惠性幼儿园 pricing, 普惠 formed in the market, or 市场调节;
    #: which ones fit a nature is NATURE_PRICE_REGIMES.
    price_regime: Mapped[PriceRegime] = mapped_column(
        enum_type(PriceRegime), default=_usual_price_regime
    )

    status: Mapped[Status] = mapped_column(enum_type(Status), default=Status.DRAFT, index=True)
    #: Assigned by the health bureau when it files the institution.
    filing_number: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    filed_on: Mapped[date | None]
    #: 示范 — recognised as a demonstration institution.
    is_demonstration: Mapped[bool] = mapped_column(default=False)
    #: The grade of the latest quality assessment (careapp.models.quality), for search.
    quality_grade: Mapped[str | None] = mapped_column(sa.String(24))

    serves_meals: Mapped[bool] = mapped_column(default=False)
    food_licence_number: Mapped[str | None] = mapped_column(sa.String(32))
    food_licence_expires_on: Mapped[date | None]
    premises_owned: Mapped[bool] = mapped_column(default=False)
    lease_ends_on: Mapped[date | None]
    health_evaluation_on: Mapped[date | None]
    fire_acceptance_on: Mapped[date | None]
    staff_health_checked_on: Mapped[date | None]
    staff_count: Mapped[int] = mapped_column(default=0)
    certified_staff_count: Mapped[int] = mapped_column(default=0)
    cctv_covers_all_areas: Mapped[bool] = mapped_column(default=False)
    cctv_retention_days: Mapped[int] = mapped_column(default=0)

    #: The institution account that keeps this record.
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: When the application last went to the regulator; the review clock starts here.
    submitted_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    #: Parents may cancel a booking until this many hours before it starts.
    cancel_cutoff_hours: Mapped[int] = mapped_column(default=DEFAULT_CANCEL_CUTOFF_HOURS)
    #: The filing commitment letter (承诺书) was accepted by the applicant.
    commitment_accepted: Mapped[bool] = mapped_column(default=False)

    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    township: Mapped[Township] = relationship()
    classes: Mapped[list[CareClass]] = relationship(
        back_populates="institution", cascade="all, delete-orphan", order_by=CareClass.id
    )
    offers: Mapped[list[CareOffer]] = relationship(
        back_populates="institution", cascade="all, delete-orphan", order_by=CareOffer.id
    )
    events: Mapped[list["FilingEvent"]] = relationship(
        back_populates="institution",
        cascade="all, delete-orphan",
        order_by="(FilingEvent.occurred_on.desc(), FilingEvent.id.desc())",
    )

    @property
    def is_public(self) -> bool:
        """Whether the institution may appear anywhere public."""
        return self.status == Status.FILED

    @property
    def supervised_by_education(self) -> bool:
        """Whether the education bureau supervises this institution (a kindergarten class)."""
        return self.nature in EDUCATION_SUPERVISED_NATURES

    def is_owned_by(self, user) -> bool:
        """Whether ``user`` is the account that keeps this institution."""
        return user is not None and self.owner_id is not None and self.owner_id == user.id

    @property
    def can_edit_application(self) -> bool:
        """The application may be edited: a draft, or returned for correction."""
        return self.status in (Status.DRAFT, Status.RETURNED)

    def can_transition(self, action: "Transition") -> bool:
        """Whether ``action`` is allowed from the current status."""
        return self.status in TRANSITIONS[action][0]

    def transition(self, action: "Transition") -> None:
        """Move to the status ``action`` leads to; the caller checked ``can_transition``."""
        if not self.can_transition(action):
            raise ValueError(f"{action} is not allowed from {self.status}")
        self.status = TRANSITIONS[action][1]

    def name_for(self, language: str) -> str:
        """The institution's name in ``language`` where one exists."""
        return localized(self.name, self.name_en, language)

    def address_for(self, language: str) -> str:
        """The institution's address in ``language`` where one exists."""
        return localized(self.address, self.address_en, language)

    def description_for(self, language: str) -> str:
        """The institution's description in ``language`` where one exists."""
        return localized(self.description, self.description_en, language)

    def what_to_bring_for(self, language: str) -> str:
        """What parents bring, in ``language`` where one exists."""
        return localized(self.what_to_bring or "", self.what_to_bring_en, language)

    @property
    def care_types(self) -> list[CareType]:
        """The care types offered, in the canonical order."""
        offered = {CareType(offer.care_type) for offer in self.offers}
        return [care_type for care_type in CareType if care_type in offered]

    @property
    def min_age_months(self) -> int | None:
        """The youngest age in months any offer accepts."""
        return min((offer.min_age_months for offer in self.offers), default=None)

    @property
    def max_age_months(self) -> int | None:
        """The age in months from which no offer accepts a child any more."""
        return max((offer.max_age_months for offer in self.offers), default=None)

    @property
    def total_capacity(self) -> int:
        """Places: the sum of the classes' capacities."""
        return sum(care_class.capacity for care_class in self.classes)

    @property
    def certified_staff_share(self) -> Decimal | None:
        """Share of staff with a childcare certificate, or None without staff."""
        if not self.staff_count:
            return None
        return Decimal(self.certified_staff_count) / Decimal(self.staff_count)

    @property
    def meets_certified_staff_target(self) -> bool:
        """Whether the certified-staff share reaches the 80% target."""
        share = self.certified_staff_share
        return share is not None and share >= CERTIFIED_STAFF_TARGET

    @property
    def meets_cctv_standard(self) -> bool:
        """CCTV covers every child area and recordings are kept at least 90 days."""
        return self.cctv_covers_all_areas and self.cctv_retention_days >= CCTV_RETENTION_DAYS

    def offer_for(self, care_type: CareType) -> CareOffer | None:
        """This institution's offer of ``care_type``, if any."""
        return next((o for o in self.offers if o.care_type == care_type), None)

    def __repr__(self) -> str:
        return f"<Institution {self.id} {self.status}>"


#: The columns of an institution's place in the public list order.
LISTING_PLACE = (Institution.is_demonstration, Institution.name, Institution.id)


def in_listing_order(place: tuple) -> tuple:
    """The public order over the columns of a place (demonstration, name, id): demonstration
    institutions first, then by name, then by id."""
    demonstration, *rest = place
    return (demonstration.desc(), *rest)


#: The public order of institutions: demonstration institutions first, then by name and id.
LISTING_ORDER = in_listing_order(LISTING_PLACE)

# The public order alone and after the two filters that narrow most, so that a page reads only
# its own rows; ``status`` first because only filed institutions are ever listed.
sa.Index("ix_institutions_listing", Institution.status, *LISTING_ORDER)
sa.Index(
    "ix_institutions_township_listing", Institution.status, Institution.township_id, *LISTING_ORDER
)
sa.Index("ix_institutions_nature_listing", Institution.status, Institution.nature, *LISTING_ORDER)
# Near me: a bounding box on the coordinates of filed institutions, before the exact distance.
sa.Index(
    "ix_institutions_location", Institution.status, Institution.latitude, Institution.longitude
)


def publicly_listed() -> sa.Select:
    """Institutions anybody may see. Every public path starts from this query."""
    return sa.select(Institution).where(Institution.status == Status.FILED)


class FilingEvent(db.Model):
    """A public disclosure: an institution was filed, changed or deregistered."""

    __tablename__ = "filing_events"
    __table_args__ = (
        one_of("event_type", EventType, "event_type_valid"),
        sa.Index("ix_filing_events_occurred", "occurred_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        sa.ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    event_type: Mapped[EventType] = mapped_column(enum_type(EventType), index=True)
    occurred_on: Mapped[date]
    #: A short public summary, e.g. what changed.
    summary: Mapped[str] = mapped_column(sa.String(300))
    summary_en: Mapped[str | None] = mapped_column(sa.String(400))
    recorded_at: Mapped[datetime] = created_at_column()

    institution: Mapped[Institution] = relationship(back_populates="events")

    def summary_for(self, language: str) -> str:
        """The summary in ``language`` where one exists."""
        return localized(self.summary, self.summary_en, language)

    def __repr__(self) -> str:
        return f"<FilingEvent {self.event_type} {self.institution_id} {self.occurred_on}>"


#: Institutions whose filing events are public: filed now, or filed once and deregistered.
DISCLOSED_STATUSES = (Status.FILED, Status.DEREGISTERED)


def disclosed_events() -> sa.Select:
    """Filing events anybody may see, newest first. Every public path starts from this query."""
    return (
        sa.select(FilingEvent)
        .join(FilingEvent.institution)
        .where(Institution.status.in_(DISCLOSED_STATUSES))
        .order_by(FilingEvent.occurred_on.desc(), FilingEvent.id.desc())
    )
