"""The policies' own rules on what an institution may be: which authority registers it, which
classes and ages its nature allows, and how its prices are set (issue 17)."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from careapp.extensions import db
from careapp.models import (
    CLASS_STANDARDS,
    Authority,
    CareClass,
    ClassKind,
    Institution,
    Nature,
    Status,
    Township,
)
from careapp.models.institution import (
    class_kind_fits,
    offer_ages_for,
    price_regime_fits,
)
from careapp.models.provision import DEFAULT_MIXED_CHILDREN_PER_CARER
from careapp.models.region import Region
from careapp.services.errors import CareappError

#: Institutions whose classes a region setting must respect: on the register or on their way.
CURRENT_STATUSES = (Status.FILED, Status.UNDER_REVIEW)


def authorities_of(region: Region | None) -> list[Authority]:
    """The registration authorities ``region`` offers, in the order it lists them."""
    if region is None:
        return list(Authority)
    return [Authority(code) for code in region.authority_codes if code in Authority.values()]


def offered_authorities() -> list[Authority]:
    """Every authority some region offers, in the canonical order (the form's choices)."""
    offered = {
        code
        for codes in db.session.scalars(sa.select(Region.registration_authorities))
        for code in (codes or "").split(",")
    }
    return [authority for authority in Authority if authority.value in offered]


def region_of(township_id: int | None) -> Region | None:
    """The region of the township with ``township_id``, or None."""
    if township_id is None:
        return None
    township = db.session.get(Township, township_id)
    return township.region if township is not None else None


def mixed_ratio_of(region: Region | None) -> int:
    """Children per carer in a mixed-age class in ``region`` (a local rule)."""
    if region is None or not region.mixed_class_children_per_carer:
        return DEFAULT_MIXED_CHILDREN_PER_CARER
    return region.mixed_class_children_per_carer


def authority_problem(authority, region: Region | None):
    """Why ``authority`` cannot register an institution in ``region``, or None."""
    if authority is None or Authority(authority) in authorities_of(region):
        return None
    return _l("This registration authority does not register childcare institutions here.")


def class_kind_problem(nature, kind):
    """Why an institution of ``nature`` may not run a class of ``kind``, or None."""
    if nature is None or kind is None or class_kind_fits(nature, kind):
        return None
    if Nature(nature) == Nature.KINDERGARTEN_CLASS:
        return _l("A kindergarten toddler class takes children aged 2 to 3 only (24–36 months).")
    if ClassKind(kind) == ClassKind.HOME_GROUP:
        return _l("A home-based group belongs to a home-based care point only.")
    return _l("An institution of this nature cannot run this class type.")


def capacity_problem(kind, capacity: int, carers: int, region: Region | None):
    """Why ``capacity`` breaks the cap or the ratio of ``kind`` in ``region``, or None."""
    standard = CLASS_STANDARDS[ClassKind(kind)]
    if capacity > standard.max_children:
        return _l(
            "A class of this type may have at most %(count)d children.",
            count=standard.max_children,
        )
    ratio = standard.ratio_with(mixed_ratio_of(region))
    if capacity <= carers * ratio:
        return None
    if standard.ratio_is_local:
        return _l(
            "With %(carers)d carers this class may have at most %(count)d children (one carer"
            " for every %(ratio)d children, a local rule of the region).",
            carers=carers,
            count=min(standard.max_children, carers * ratio),
            ratio=ratio,
        )
    return _l(
        "With %(carers)d carers this class may have at most %(count)d children"
        " (one carer for every %(ratio)d children).",
        carers=carers,
        count=min(standard.max_children, carers * ratio),
        ratio=ratio,
    )


def offer_age_problem(nature, min_age_months: int | None, max_age_months: int | None):
    """Why an offer of these ages does not fit ``nature``, or None."""
    if nature is None or min_age_months is None or max_age_months is None:
        return None
    youngest, limit = offer_ages_for(nature)
    if youngest <= min_age_months and max_age_months <= limit:
        return None
    if Nature(nature) == Nature.KINDERGARTEN_CLASS:
        return _l(
            "A kindergarten toddler class accepts children from 24 months up to 36 months only."
        )
    return _l(
        "Ages run from %(youngest)d months up to %(limit)d months.", youngest=youngest, limit=limit
    )


def price_regime_problem(nature, regime):
    """Why prices of ``regime`` do not fit ``nature`` (003 item 10), or None."""
    if nature is None or regime is None or price_regime_fits(nature, regime):
        return None
    return _l("This way of setting prices does not fit the institution's nature.")


def profile_problems(facts: dict, classes: list[dict], offers: list[dict]) -> list:
    """Every rule of the policies the profile breaks, as translated sentences."""
    nature = facts.get("nature")
    region = region_of(facts.get("township_id"))
    problems = [
        authority_problem(facts.get("authority"), region),
        price_regime_problem(nature, facts.get("price_regime")),
    ]
    for row in classes:
        problems.append(class_kind_problem(nature, row["kind"]))
        problems.append(capacity_problem(row["kind"], row["capacity"], row["carers"], region))
    for row in offers:
        problems.append(offer_age_problem(nature, row["min_age_months"], row["max_age_months"]))
    return list(dict.fromkeys(str(problem) for problem in problems if problem is not None))


def facts_of(institution: Institution) -> dict:
    """The facts of ``institution`` the policy rules read."""
    return {
        name: getattr(institution, name)
        for name in ("nature", "township_id", "authority", "price_regime")
    }


class RegionRulesError(CareappError):
    """A region setting that would break what is registered already; ``message`` says why."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def classes_over_ratio(region: Region, children_per_carer: int) -> int:
    """How many mixed-age classes of ``region``'s current institutions have more children per
    carer than ``children_per_carer`` allows."""
    mixed = [kind for kind, standard in CLASS_STANDARDS.items() if standard.ratio_is_local]
    return db.session.scalar(
        sa.select(sa.func.count(CareClass.id))
        .join(Institution, Institution.id == CareClass.institution_id)
        .join(Township, Township.id == Institution.township_id)
        .where(
            Township.region_id == region.id,
            Institution.status.in_(CURRENT_STATUSES),
            CareClass.kind.in_(mixed),
            CareClass.capacity > CareClass.carers * children_per_carer,
        )
    )


def save_region_rules(region: Region, authorities: list[str], children_per_carer: int) -> None:
    """Set the region's registration authorities and mixed-age class ratio; a ratio that
    current classes exceed is refused (they must change first, through the register)."""
    over = classes_over_ratio(region, children_per_carer)
    if over:
        raise RegionRulesError(
            _l(
                "%(count)d mixed-age classes of this region have more children per carer than"
                " that. They must change first.",
                count=over,
            )
        )
    chosen = [authority.value for authority in Authority if authority.value in authorities]
    region.registration_authorities = ",".join(chosen)
    region.mixed_class_children_per_carer = children_per_carer
