"""Translated names of the domain's enumerations, for templates and the API."""

from babel import Locale
from flask.globals import _cv_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from careapp.models import (
    Authority,
    BookingStatus,
    CareType,
    ChecklistItem,
    ClassKind,
    ConsentCapacity,
    CourseFormat,
    EventType,
    FilingAction,
    FindingStatus,
    FollowUp,
    InvitationStatus,
    ItemResult,
    Nature,
    OrganisationType,
    PriceRegime,
    PriceUnit,
    ProviderStatus,
    QualityGrade,
    RegistrationStatus,
    ReportCategory,
    ReportStatus,
    Role,
    Status,
    Topic,
    TownshipKind,
)
from careapp.models.documents import DocumentKind
from careapp.models.region import CommunityKind
from careapp.models.staff import CertificateType, StaffRole

CARE_TYPE_LABELS = {
    CareType.FULL_DAY: _l("Full-day care"),
    CareType.HALF_DAY: _l("Half-day care"),
    CareType.HOURLY: _l("Hourly care"),
    CareType.TEMPORARY: _l("Temporary care"),
}

NATURE_LABELS = {
    # 普惠 is not 政府指导价 (003 item 10): the price regime is said beside it.
    Nature.INCLUSIVE: _l("Inclusive (affordable care)"),
    Nature.PUBLIC: _l("Public"),
    Nature.PRIVATE: _l("Private"),
    Nature.EMPLOYER: _l("Employer-run"),
    Nature.KINDERGARTEN_CLASS: _l("Kindergarten toddler class"),
    Nature.HOME_BASED: _l("Home-based care point"),
}

#: The registration authorities by the names the policies give them (000 (二)1, 003 item 20,
#: 004 item 10); the education bureau is none of them (see Authority).
AUTHORITY_LABELS = {
    Authority.STAFFING_OFFICE: _l("Staffing office (public institution)"),
    Authority.CIVIL_AFFAIRS: _l("Civil affairs (non-profit)"),
    Authority.MARKET_REGULATION: _l("Market regulation (for-profit)"),
    Authority.ADMINISTRATIVE_APPROVAL: _l(
        "Administrative approval service bureau (non-profit or for-profit)"
    ),
}

#: How prices are set (003 item 10), said beside the nature.
PRICE_REGIME_LABELS = {
    PriceRegime.GOVERNMENT_GUIDED: _l("Government-guided price"),
    PriceRegime.INCLUSIVE_KINDERGARTEN: _l("Priced as an inclusive kindergarten"),
    PriceRegime.INCLUSIVE_MARKET: _l("Inclusive price formed in the market"),
    PriceRegime.MARKET_REGULATED: _l("Market-regulated price"),
}

STATUS_LABELS = {
    Status.DRAFT: _l("Draft"),
    Status.UNDER_REVIEW: _l("Under review"),
    Status.RETURNED: _l("Returned for correction"),
    Status.REJECTED: _l("Rejected"),
    Status.FILED: _l("Filed"),
    Status.DEREGISTERED: _l("Deregistered"),
}

EVENT_TYPE_LABELS = {
    EventType.FILED: _l("Filed"),
    EventType.CHANGED: _l("Change approved"),
    EventType.DEREGISTERED: _l("Deregistered"),
    # --- follow-up
    EventType.REGISTERED: _l("Registered with its registration authority"),
    EventType.REVOKED: _l("Filing revoked"),
}

CLASS_KIND_LABELS = {
    ClassKind.INFANT: _l("Infant class (6–12 months)"),
    ClassKind.TODDLER: _l("Toddler class (12–24 months)"),
    ClassKind.OLDER_TODDLER: _l("Older toddler class (24–36 months)"),
    ClassKind.MIXED: _l("Mixed-age class (18–36 months)"),
    ClassKind.HOME_GROUP: _l("Home-based group (6–36 months)"),
}

PRICE_UNIT_LABELS = {
    PriceUnit.MONTH: _l("per month"),
    PriceUnit.HOUR: _l("per hour"),
    PriceUnit.DAY: _l("per day"),
}

TOWNSHIP_KIND_LABELS = {
    TownshipKind.SUBDISTRICT: _l("Sub-districts"),
    TownshipKind.TOWN: _l("Towns"),
    TownshipKind.TOWNSHIP: _l("Townships (乡)"),
}

ROLE_LABELS = {
    Role.PARENT: _l("A parent or family member"),
    Role.INSTITUTION: _l("A childcare institution"),
    Role.PROVIDER: _l("A parenting guidance provider"),
    Role.REGULATOR: _l("The county health bureau"),
}

FILING_ACTION_LABELS = {
    FilingAction.SUBMITTED: _l("Submitted for filing"),
    FilingAction.APPROVED: _l("Filed"),
    FilingAction.RETURNED: _l("Returned for correction"),
    FilingAction.REJECTED: _l("Rejected"),
    FilingAction.DEREGISTERED: _l("Deregistered"),
    FilingAction.CHANGE_SUBMITTED: _l("Change submitted"),
    FilingAction.CHANGE_APPROVED: _l("Change of registered facts approved"),
    FilingAction.CHANGE_REJECTED: _l("Change rejected"),
    # --- follow-up
    FilingAction.REVOKED: _l("Filing revoked"),
    FilingAction.DEREGISTRATION_REQUESTED: _l("Deregistration requested"),
    FilingAction.FINDING_RECORDED: _l("Follow-up finding recorded"),
    FilingAction.FINDING_ANSWERED: _l("Follow-up finding answered"),
    FilingAction.FINDING_CLOSED: _l("Follow-up finding closed"),
}

REGISTERED_FACT_LABELS = {
    "name": _l("Registered name"),
    "name_en": _l("English name"),
    "address": _l("Address"),
    "address_en": _l("English address"),
    "township_id": _l("Township"),
    "nature": _l("Nature"),
    "authority": _l("Registration authority"),
    "price_regime": _l("How prices are set"),
    "uscc": _l("Unified social credit code"),
    "latitude": _l("Latitude"),
    "longitude": _l("Longitude"),
    "classes": _l("Classes and places"),
}

COMMUNITY_KIND_LABELS = {
    CommunityKind.COMMUNITY: _l("Community"),
    CommunityKind.VILLAGE: _l("Village"),
}

BOOKING_STATUS_LABELS = {
    BookingStatus.APPLIED: _l("Application sent"),
    BookingStatus.CONFIRMED: _l("Confirmed"),
    BookingStatus.DECLINED: _l("Declined"),
    BookingStatus.CANCELLED: _l("Cancelled"),
    BookingStatus.CANCELLED_BY_INSTITUTION: _l("Cancelled by the institution"),
}

INVITATION_STATUS_LABELS = {
    InvitationStatus.PENDING: _l("Waiting for an answer"),
    InvitationStatus.ACCEPTED: _l("Can book for your children"),
    InvitationStatus.DECLINED: _l("Declined"),
    InvitationStatus.REVOKED: _l("Revoked"),
}

CONSENT_CAPACITY_LABELS = {
    ConsentCapacity.GUARDIAN: _l("as the child's guardian"),
    ConsentCapacity.FAMILY_MEMBER: _l("as a family member, with the guardian's consent"),
}

#: A full-day or half-day place is applied for, and the family is admitted (录取) or not: the
#: same states, said as an application for the parent and the institution alike.
APPLICATION_STATUS_LABELS = {
    BookingStatus.APPLIED: _l("Application sent"),
    BookingStatus.CONFIRMED: _l("Admitted"),
    BookingStatus.DECLINED: _l("Not admitted"),
    BookingStatus.CANCELLED: _l("Withdrawn"),
    BookingStatus.CANCELLED_BY_INSTITUTION: _l("Ended by the institution"),
}

ORGANISATION_TYPE_LABELS = {
    OrganisationType.MCH_HOSPITAL: _l("Maternal and child health hospital"),
    OrganisationType.COMMUNITY_HEALTH: _l("Community health centre"),
    OrganisationType.WOMENS_FEDERATION: _l("Women's federation"),
    OrganisationType.FAMILY_PLANNING: _l("Family planning association"),
    OrganisationType.INSTITUTION: _l("Filed childcare institution"),
    OrganisationType.OTHER: _l("Other organisation"),
}

PROVIDER_STATUS_LABELS = {
    ProviderStatus.PENDING: _l("Waiting for verification"),
    ProviderStatus.VERIFIED: _l("Verified"),
    ProviderStatus.SUSPENDED: _l("Suspended"),
}

TOPIC_LABELS = {
    Topic.NUTRITION: _l("Nutrition"),
    Topic.GROWTH: _l("Growth and development"),
    Topic.VACCINATION: _l("Vaccination"),
    Topic.SAFETY: _l("Safety"),
    Topic.DISEASE_PREVENTION: _l("Disease prevention"),
    Topic.EARLY_DEVELOPMENT: _l("Early development"),
    Topic.PARENT_CHILD: _l("Parent–child activities"),
    Topic.OTHER: _l("Other topic"),
}

COURSE_FORMAT_LABELS = {
    CourseFormat.IN_PERSON: _l("In person"),
    CourseFormat.LIVE_ONLINE: _l("Live online"),
    CourseFormat.RECORDED: _l("Recorded"),
}

REGISTRATION_STATUS_LABELS = {
    RegistrationStatus.REGISTERED: _l("Registered"),
    RegistrationStatus.ATTENDED: _l("Attended"),
    RegistrationStatus.NO_SHOW: _l("Did not come"),
    RegistrationStatus.CANCELLED: _l("Cancelled by the family"),
    RegistrationStatus.CANCELLED_BY_PROVIDER: _l("Cancelled by the provider"),
}

# --- follow-up
FINDING_STATUS_LABELS = {
    FindingStatus.OPEN: _l("Open"),
    FindingStatus.ANSWERED: _l("Answered, awaiting the bureau"),
    FindingStatus.PUT_RIGHT: _l("Put right"),
    FindingStatus.NOT_PUT_RIGHT: _l("Not put right"),
}

ALL_LABELS = {
    "care_type": CARE_TYPE_LABELS,
    "nature": NATURE_LABELS,
    "authority": AUTHORITY_LABELS,
    "price_regime": PRICE_REGIME_LABELS,
    "status": STATUS_LABELS,
    "event_type": EVENT_TYPE_LABELS,
    "class_kind": CLASS_KIND_LABELS,
    "price_unit": PRICE_UNIT_LABELS,
    "township_kind": TOWNSHIP_KIND_LABELS,
    "role": ROLE_LABELS,
    "filing_action": FILING_ACTION_LABELS,
    "registered_fact": REGISTERED_FACT_LABELS,
    "community_kind": COMMUNITY_KIND_LABELS,
    "booking_status": BOOKING_STATUS_LABELS,
    "invitation_status": INVITATION_STATUS_LABELS,
    "consent_capacity": CONSENT_CAPACITY_LABELS,
    "application_status": APPLICATION_STATUS_LABELS,
    "organisation_type": ORGANISATION_TYPE_LABELS,
    "provider_status": PROVIDER_STATUS_LABELS,
    "topic": TOPIC_LABELS,
    "course_format": COURSE_FORMAT_LABELS,
    "registration_status": REGISTRATION_STATUS_LABELS,
    "finding_status": FINDING_STATUS_LABELS,
}


#: Labels already translated, by (language, kind, value): a page shows the same few many times.
_translated: dict[tuple, str] = {}


def current_locale() -> Locale | None:
    """Flask-Babel's ``get_locale()``, read straight from where it keeps the locale once
    chosen: a page asks for every label and message, through four proxies each time."""
    context = _cv_app.get(None)
    chosen = getattr(context.g, "_flask_babel", None) if context is not None else None
    locale = getattr(chosen, "babel_locale", None)
    return locale if locale is not None else get_locale()


def label(kind: str, value) -> str:
    """The translated label of ``value`` in the enumeration named ``kind``."""
    names = ALL_LABELS[kind]
    locale = current_locale()
    if locale is None:
        return str(names.get(value, value))
    key = (locale.language, kind, value)
    text = _translated.get(key)
    if text is None:
        if value not in names:
            return str(value)
        text = _translated[key] = str(names[value])
    return text


def status_kind(booking) -> str:
    """Which labels name a booking's status: an application's (full-day, half-day) or a
    dated booking's (hourly, temporary)."""
    return "application_status" if booking.is_application else "booking_status"


# --- complaints and quality grades -----------------------------------------------------------

REPORT_CATEGORY_LABELS = {
    ReportCategory.CHILD_SAFETY: _l("A child's safety or abuse"),
    ReportCategory.UNFILED_CARE: _l("Care without filing"),
    ReportCategory.HYGIENE_FOOD: _l("Hygiene, food or health"),
    ReportCategory.PREMISES: _l("Unsafe premises or fire safety"),
    ReportCategory.STAFF: _l("Staff or carers"),
    ReportCategory.FEES: _l("Fees or contract"),
    ReportCategory.OTHER: _l("Something else"),
}

REPORT_STATUS_LABELS = {
    ReportStatus.RECEIVED: _l("Received"),
    ReportStatus.HANDLING: _l("Being handled"),
    ReportStatus.ANSWERED: _l("Answered"),
    ReportStatus.CLOSED: _l("Closed"),
}

QUALITY_GRADE_LABELS = {
    QualityGrade.EXCELLENT: _l("Excellent"),
    QualityGrade.GOOD: _l("Good"),
    QualityGrade.QUALIFIED: _l("Qualified"),
    QualityGrade.UNQUALIFIED: _l("Unqualified"),
}

ALL_LABELS |= {
    "report_category": REPORT_CATEGORY_LABELS,
    "report_status": REPORT_STATUS_LABELS,
    "quality_grade": QUALITY_GRADE_LABELS,
}

# --- staff register and filing documents ---------------------------------------------------

STAFF_ROLE_LABELS = {
    StaffRole.CAREGIVER: _l("Caregiver (保育人员)"),
    StaffRole.INFANT_CARER: _l("Infant carer (育婴员)"),
    StaffRole.HEALTH_WORKER: _l("Health worker (保健人员)"),
    StaffRole.MANAGER: _l("Manager"),
    StaffRole.SECURITY: _l("Security guard"),
    StaffRole.COOK: _l("Cook"),
    StaffRole.OTHER: _l("Other staff"),
}
CERTIFICATE_TYPE_LABELS = {
    CertificateType.CHILDCARE_WORKER: _l("Childcare worker certificate (保育师)"),
    CertificateType.INFANT_CARER: _l("Infant carer certificate (育婴员)"),
    CertificateType.TEACHER: _l("Teacher qualification certificate"),
    CertificateType.HEALTH_PROFESSIONAL: _l("Health professional qualification"),
    CertificateType.HEALTH_TRAINING: _l("Childcare health worker training certificate"),
    CertificateType.OTHER: _l("Other qualification"),
}
DOCUMENT_KIND_LABELS = {
    DocumentKind.REGISTRATION_CERTIFICATE: _l("Registration certificate"),
    DocumentKind.PREMISES_PROOF: _l("Proof of premises (title or lease)"),
    DocumentKind.HEALTH_EVALUATION: _l("Health evaluation report"),
    DocumentKind.FIRE_ACCEPTANCE: _l("Fire-safety acceptance"),
    DocumentKind.FOOD_LICENCE: _l("Food business licence"),
    DocumentKind.STAFF_CERTIFICATES: _l("Staff qualification certificates"),
    DocumentKind.STAFF_HEALTH_CERTIFICATES: _l("Staff health certificates"),
}
ALL_LABELS |= {
    "staff_role": STAFF_ROLE_LABELS,
    "certificate_type": CERTIFICATE_TYPE_LABELS,
    "document_kind": DOCUMENT_KIND_LABELS,
}

# --- supervision by random inspection ------------------------------------------------------

CHECKLIST_ITEM_LABELS = {
    ChecklistItem.SAFETY: _l("Security and closed management"),
    ChecklistItem.FIRE: _l("Fire safety"),
    ChecklistItem.FOOD: _l("Food safety"),
    ChecklistItem.CCTV: _l("CCTV covers every child area, recordings kept 90 days"),
    ChecklistItem.STAFF_CERTIFICATES: _l("Staff certificates"),
    ChecklistItem.STAFF_HEALTH: _l("Staff health checks"),
    ChecklistItem.RATIOS: _l("Class sizes and carer ratios"),
    ChecklistItem.DAILY_CHECKS: _l("Morning and midday health checks"),
    ChecklistItem.PICK_UP: _l("Pick-up rules"),
    ChecklistItem.DRILLS: _l("Emergency plans and drills"),
}
ITEM_RESULT_LABELS = {
    ItemResult.PASSED: _l("Passed"),
    ItemResult.FAILED: _l("Failed"),
    ItemResult.NOT_APPLICABLE: _l("Not applicable"),
}
#: An inspection's findings, apart from the filing follow-up's (FINDING_STATUS_LABELS).
INSPECTION_FINDING_STATUS_LABELS = {
    FindingStatus.OPEN: _l("To put right"),
    FindingStatus.ANSWERED: _l("Answered, awaiting the bureau"),
    FindingStatus.PUT_RIGHT: _l("Put right"),
}
#: An inspection's overall result, by whether it passed: otherwise 限期整改.
INSPECTION_RESULT_LABELS = {True: _l("Passed"), False: _l("Findings to put right")}
INSPECTION_FOLLOW_UP_LABELS = {
    FollowUp.NONE: _l("Nothing to put right"),
    FollowUp.IN_TIME: _l("All findings put right in time"),
    FollowUp.LATE: _l("All findings put right, some late"),
    FollowUp.PENDING: _l("Findings being put right, within the deadline"),
    FollowUp.OVERDUE: _l("Findings not put right by the deadline"),
}
ALL_LABELS |= {
    "checklist_item": CHECKLIST_ITEM_LABELS,
    "item_result": ITEM_RESULT_LABELS,
    "inspection_finding_status": INSPECTION_FINDING_STATUS_LABELS,
    "inspection_result": INSPECTION_RESULT_LABELS,
    "inspection_follow_up": INSPECTION_FOLLOW_UP_LABELS,
}
