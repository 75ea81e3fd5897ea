"""The filing workflow: apply, review, file, return, reject, change, and leave the register."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from careapp import clock
from careapp.extensions import db
from careapp.models import (
    CareClass,
    CareOffer,
    ChangeRequest,
    ChangeStatus,
    EventType,
    FilingAction,
    FilingDecision,
    FilingEvent,
    Institution,
    Nature,
    Slot,
    SlotStatus,
    Status,
    Township,
    Transition,
    User,
)
from careapp.models.booking import STANDING_CARE_TYPES
from careapp.models.institution import CCTV_RETENTION_DAYS, TRANSITIONS
from careapp.models.provision import HOME_BASED_MAX_CHILDREN
from careapp.services import booking, policy_rules, staff
from careapp.services.errors import CareappError
from careapp.services.mail import N_, queue_email
from careapp.services.occupancy import too_small_for
from careapp.working_days import add_working_days, working_days_between

#: The bureau answers an application within this many working days.
REVIEW_LIMIT_WORKING_DAYS = 5
#: A lease must run this many years past the filing date.
LEASE_YEARS_REQUIRED = 3
#: Home-based care points take at most this many children in all.

#: Registered facts (登记事项): on a filed institution they change only with approval.
REGISTERED_FIELDS = (
    "name",
    "name_en",
    "address",
    "address_en",
    "township_id",
    "nature",
    "authority",
    "uscc",
    "price_regime",
    # The location is the address's point on the map: the public sees it, and a moved point
    # moves the institution for every parent searching near them, so it is checked like one.
    "latitude",
    "longitude",
)
#: Facts an institution keeps true itself; they change at once.
IMMEDIATE_FIELDS = (
    "phone",
    "public_phone",
    "description",
    "description_en",
    "what_to_bring",
    "what_to_bring_en",
    "cancel_cutoff_hours",
)
#: Filing declarations, editable while the application is a draft or returned.
DECLARATION_FIELDS = (
    "registered_on",
    "premises_owned",
    "lease_ends_on",
    "health_evaluation_on",
    "fire_acceptance_on",
    "serves_meals",
    "food_licence_number",
    "food_licence_expires_on",
    "staff_count",
    "certified_staff_count",
    "staff_health_checked_on",
    "cctv_covers_all_areas",
    "cctv_retention_days",
    "commitment_accepted",
)


class FilingError(CareappError):
    """A filing step that is not allowed now; ``message`` says why, translated."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class ApplicationIncomplete(FilingError):
    """The application lacks what filing requires; ``problems`` lists each gap."""

    def __init__(self, problems: list[str]):
        super().__init__(_l("The application is not complete yet."))
        self.problems = problems


@dataclass(frozen=True)
class Profile:
    """Everything an institution's form says: facts, declarations, classes and offers."""

    facts: dict
    classes: list[dict]
    offers: list[dict]


def add_years(day: date, years: int) -> date:
    """The same calendar day ``years`` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


# --- institution side ---------------------------------------------------------------------


def _replace_classes(institution: Institution, classes: list[dict], today: date) -> None:
    """Set the classes from the form's rows, each row editing the class in its place, so a
    class keeps its slots and bookings. Raises FilingError for a change that would leave
    children without their places (see ``_check_classes_keep_children``)."""
    _check_classes_keep_children(institution, classes, today)
    existing = list(institution.classes)
    kept = []
    for index, row in enumerate(classes):
        care_class = existing[index] if index < len(existing) else CareClass()
        for name, value in row.items():
            setattr(care_class, name, value)
        kept.append(care_class)
    institution.classes = kept


def _check_classes_keep_children(institution: Institution, classes: list[dict], today) -> None:
    """Refuse removing a class with open slots, or giving a class fewer places than the
    children already booked in it at some moment."""
    for index, care_class in enumerate(institution.classes):
        if care_class.id is None:
            continue
        if index >= len(classes):
            if _has_open_slots(care_class, today):
                raise FilingError(
                    _l(
                        "The class %(name)s has open slots and cannot be removed. Cancel its"
                        " slots first.",
                        name=care_class.name,
                    )
                )
        elif too_small_for(care_class, classes[index]["capacity"], today):
            raise FilingError(
                _l(
                    "The class %(name)s has more children booked than %(count)d places. Cancel"
                    " places first, or keep more places.",
                    name=care_class.name,
                    count=classes[index]["capacity"],
                )
            )


def _has_open_slots(care_class: CareClass, today: date) -> bool:
    return (
        db.session.scalar(
            sa.select(Slot.id).where(
                Slot.care_class_id == care_class.id,
                Slot.status == SlotStatus.OPEN,
                sa.or_(Slot.care_type.in_(STANDING_CARE_TYPES), Slot.on_date >= today),
            )
        )
        is not None
    )


def _replace_offers(institution: Institution, offers: list[dict]) -> None:
    existing = {offer.care_type: offer for offer in institution.offers}
    kept = []
    for row in offers:
        offer = existing.get(row["care_type"]) or CareOffer(care_type=row["care_type"])
        for name, value in row.items():
            setattr(offer, name, value)
        kept.append(offer)
    institution.offers = kept


def _apply(institution: Institution, values: dict, fields: tuple[str, ...]) -> None:
    for name in fields:
        if name in values:
            setattr(institution, name, values[name])


def _check_policy_rules(facts: dict, classes: list[dict], offers: list[dict]) -> None:
    """Refuse a profile that breaks the policies' rules (policy_rules), whatever path it came by."""
    problems = policy_rules.profile_problems(facts, classes, offers)
    if problems:
        raise FilingError(" ".join(problems))


def _as_proposed(institution: Institution, facts: dict) -> dict:
    """The institution's facts with ``facts`` laid over them."""
    return {**policy_rules.facts_of(institution), **facts}


def create_application(owner: User, profile: Profile) -> Institution:
    """A new institution in draft, kept by ``owner``."""
    _check_policy_rules(profile.facts, profile.classes, profile.offers)
    institution = Institution(owner_id=owner.id, status=Status.DRAFT)
    _apply(institution, profile.facts, REGISTERED_FIELDS + IMMEDIATE_FIELDS + DECLARATION_FIELDS)
    _replace_classes(institution, profile.classes, date.min)
    _replace_offers(institution, profile.offers)
    db.session.add(institution)
    db.session.flush()
    return institution


def update_application(institution: Institution, profile: Profile) -> None:
    """Edit a draft or returned application in full."""
    if not institution.can_edit_application:
        raise FilingError(_l("This application cannot be edited while it is being reviewed."))
    _check_policy_rules(profile.facts, profile.classes, profile.offers)
    _apply(institution, profile.facts, REGISTERED_FIELDS + IMMEDIATE_FIELDS + DECLARATION_FIELDS)
    staff.sync_counts(institution)  # a register, once it has anybody, outranks typed numbers
    _replace_classes(institution, profile.classes, date.min)
    _replace_offers(institution, profile.offers)


def submission_problems(institution: Institution, today: date) -> list[str]:
    """What stops ``institution`` from being filed today; empty when it is complete."""
    problems = []
    if institution.latitude is None or institution.longitude is None:
        problems.append(_("Enter the location (latitude and longitude) of the premises."))
    if not institution.classes:
        problems.append(_("Add at least one class."))
    if not institution.offers:
        problems.append(_("Offer at least one care type."))
    if institution.nature == Nature.HOME_BASED and (
        institution.total_capacity > HOME_BASED_MAX_CHILDREN
    ):
        problems.append(
            _(
                "A home-based care point takes at most %(count)d children.",
                count=HOME_BASED_MAX_CHILDREN,
            )
        )
    if not institution.premises_owned:
        lease_needed = add_years(today, LEASE_YEARS_REQUIRED)
        if institution.lease_ends_on is None or institution.lease_ends_on < lease_needed:
            problems.append(
                _(
                    "The premises must be owned or leased until at least %(date)s.",
                    date=lease_needed.isoformat(),
                )
            )
    if institution.health_evaluation_on is None or institution.health_evaluation_on > today:
        problems.append(_("Declare the date the health evaluation was passed."))
    if institution.fire_acceptance_on is None or institution.fire_acceptance_on > today:
        problems.append(_("Declare the date of the fire-safety acceptance."))
    if institution.serves_meals and (
        not institution.food_licence_number
        or institution.food_licence_expires_on is None
        or institution.food_licence_expires_on <= today
    ):
        problems.append(_("Serving meals needs a food business licence that is still valid."))
    if institution.staff_count < 1 or institution.certified_staff_count < 1:
        problems.append(_("Declare your staff and how many hold a childcare certificate."))
    if not institution.meets_cctv_standard:
        problems.append(
            _(
                "CCTV must cover every area children use and keep recordings %(days)d days.",
                days=CCTV_RETENTION_DAYS,
            )
        )
    if not institution.commitment_accepted:
        problems.append(_("Accept the filing commitment letter."))
    problems.extend(staff.staff_problems(institution, today))
    problems.extend(
        policy_rules.profile_problems(
            policy_rules.facts_of(institution),
            _class_rows(institution),
            [_offer_row(offer) for offer in institution.offers],
        )
    )
    return problems


def _record(institution: Institution, actor: User, action: FilingAction, reason: str = "") -> None:
    db.session.add(
        FilingDecision(institution=institution, actor_id=actor.id, action=action, reason=reason)
    )


def _notify_owner(institution: Institution, subject: str, body: str, **values) -> None:
    """Queue an e-mail to the institution's account, in its language."""
    owner = db.session.get(User, institution.owner_id) if institution.owner_id else None
    if owner is None:
        return
    with force_locale(owner.language):
        values.setdefault("name", institution.name)
        queue_email(owner.email, _(subject, **values), _(body, **values))


#: Why an application in this status cannot be submitted.
SUBMIT_REFUSALS = {
    Status.REJECTED: _l("A rejected application cannot be submitted again. Start a new one."),
    Status.DEREGISTERED: _l("A deregistered institution cannot be submitted again."),
    Status.FILED: _l("This institution is filed already."),
    None: _l("This application has been submitted already."),
}


def submit(institution: Institution, actor: User, today: date) -> None:
    """Send a complete draft or returned application to the regulator."""
    if not institution.can_transition(Transition.SUBMIT):
        raise FilingError(SUBMIT_REFUSALS.get(Status(institution.status), SUBMIT_REFUSALS[None]))
    problems = submission_problems(institution, today)
    if problems:
        raise ApplicationIncomplete(problems)
    institution.transition(Transition.SUBMIT)
    institution.submitted_at = clock.now()
    _record(institution, actor, FilingAction.SUBMITTED)


# --- regulator side -----------------------------------------------------------------------


def review_queue() -> list[Institution]:
    """Applications waiting for a decision, oldest first."""
    query = (
        sa.select(Institution)
        .where(Institution.status == Status.UNDER_REVIEW)
        .options(joinedload(Institution.township))
        .order_by(Institution.submitted_at, Institution.id)
    )
    return list(db.session.scalars(query))


def waiting_working_days(institution: Institution, today: date) -> int:
    """Working days since the application was submitted."""
    if institution.submitted_at is None:
        return 0
    return working_days_between(institution.submitted_at.date(), today)


def review_deadline(institution: Institution) -> date | None:
    """The last working day of the bureau's 5 to answer (the national 托育机构登记和备案办法:
    filed within 5 working days of complete materials)."""
    if institution.submitted_at is None:
        return None
    return add_working_days(institution.submitted_at.date(), REVIEW_LIMIT_WORKING_DAYS)


def is_overdue(institution: Institution, today: date) -> bool:
    """Whether the 5-working-day answer limit has passed."""
    return waiting_working_days(institution, today) > REVIEW_LIMIT_WORKING_DAYS


def next_filing_number(institution: Institution, filed_on: date) -> str:
    """The next free number, ``<REGION>-TY-<YEAR>-<NNNN>``, counted per region and year."""
    township = institution.township or db.session.get(Township, institution.township_id)
    prefix = f"{township.region.filing_prefix}-TY-{filed_on.year}-"
    latest = db.session.scalar(
        sa.select(sa.func.max(Institution.filing_number)).where(
            Institution.filing_number.like(f"{prefix}%")
        )
    )
    sequence = int(latest.rsplit("-", 1)[1]) + 1 if latest else 1
    return f"{prefix}{sequence:04d}"


def _require(institution: Institution, action: Transition) -> None:
    if not institution.can_transition(action):
        raise FilingError(_l("This decision is not possible in the application's current state."))


def _decide(institution: Institution, action: Transition) -> None:
    """Move the application with a compare-and-set on its status: of two decisions taken at
    once (two regulators, or a double tap), one wins and the other changes nothing."""
    _require(institution, action)
    allowed, target = TRANSITIONS[action]
    moved = db.session.execute(
        sa.update(Institution)
        .where(Institution.id == institution.id, Institution.status.in_(allowed))
        .values(status=target)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise FilingError(
            _l("This application has been decided already. The page shows the decision.")
        )
    institution.transition(action)


def is_unchanged_since(institution: Institution, submitted: str) -> bool:
    """Whether the application is still the submission a decision was prepared on
    (``submitted``: the submission time the confirmation page carried)."""
    return institution.submitted_at is not None and submitted == submission_stamp(institution)


def submission_stamp(institution: Institution) -> str:
    """The submission an application is at, as a confirmation page carries it."""
    return institution.submitted_at.isoformat() if institution.submitted_at else ""


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise FilingError(_l("Please give the reason; the applicant will read it."))
    return reason


def approve(institution: Institution, actor: User, today: date) -> None:
    """File the institution: it gets its number and is public at once."""
    _require(institution, Transition.APPROVE)
    institution.filing_number = next_filing_number(institution, today)
    institution.filed_on = today
    _decide(institution, Transition.APPROVE)
    _disclose_registration(institution)
    institution.events.append(
        FilingEvent(
            event_type=EventType.FILED, occurred_on=today, summary="准予备案", summary_en="Filed"
        )
    )
    _record(institution, actor, FilingAction.APPROVED)
    _notify_owner(
        institution,
        N_("%(name)s is now filed"),
        N_(
            "%(name)s has been filed with filing number %(number)s and is listed publicly from now."
        ),
        number=institution.filing_number,
    )


#: How the 登记 event names the registration authority, in both languages.
AUTHORITY_NAMES = {
    "staffing_office": ("机构编制部门", "the staffing office"),
    "civil_affairs": ("民政部门", "civil affairs"),
    "market_regulation": ("市场监管部门", "market regulation"),
    "education": ("教育部门", "the education bureau"),
}


def registration_summary(authority: str) -> tuple[str, str]:
    """The public summary of a 登记 event with ``authority``, in Chinese and English."""
    chinese, english = AUTHORITY_NAMES[str(authority)]
    return f"在{chinese}登记", f"Registered with {english}"


def _disclose_registration(institution: Institution) -> None:
    """Disclose the 登记 with its date and authority when the institution is filed (policy
    002 (四): "及时公示托育机构登记、备案、变更、注销等情况")."""
    if institution.registered_on is None:
        return
    summary, summary_en = registration_summary(institution.authority)
    institution.events.append(
        FilingEvent(
            event_type=EventType.REGISTERED,
            occurred_on=institution.registered_on,
            summary=summary,
            summary_en=summary_en,
        )
    )


def return_application(institution: Institution, actor: User, reason: str) -> None:
    """Send the application back for correction, saying why."""
    _require(institution, Transition.RETURN)
    reason = _require_reason(reason)
    _decide(institution, Transition.RETURN)
    _record(institution, actor, FilingAction.RETURNED, reason)
    _notify_owner(
        institution,
        N_("Your filing application for %(name)s was returned"),
        N_("Please correct the application and submit it again. The reason given:\n\n%(reason)s"),
        reason=reason,
    )


def reject(institution: Institution, actor: User, reason: str) -> None:
    """Refuse the filing, saying why."""
    _require(institution, Transition.REJECT)
    reason = _require_reason(reason)
    _decide(institution, Transition.REJECT)
    _record(institution, actor, FilingAction.REJECTED, reason)
    _notify_owner(
        institution,
        N_("Your filing application for %(name)s was rejected"),
        N_(
            "The county health bureau did not file the institution. The reason given:\n\n%(reason)s"
        ),
        reason=reason,
    )


# --- leaving the register: the institution's 注销, the bureau's 撤销备案 --------------------
# Domain brief 3: "注销 is the institution's act after it deregisters with its registration
# authority; the bureau's action against a non-compliant institution is 撤销/取消备案."


@dataclass(frozen=True)
class Leaving:
    """How an institution leaves the register: its move, public event, record and messages."""

    transition: Transition
    event_type: EventType
    action: FilingAction
    sms: str
    subject: str
    body: str


#: The bureau's 撤销备案 (or 取消备案) of a filed institution that does not comply.
REVOCATION = Leaving(
    Transition.REVOKE,
    EventType.REVOKED,
    FilingAction.REVOKED,
    "revoked",
    N_("The filing of %(name)s has been revoked"),
    N_(
        "The county health bureau revoked the filing of %(name)s on %(date)s. The institution is"
        " no longer listed and its bookings have ended. The notice reads:\n\n%(reason)s"
    ),
)
#: The institution's own 注销, recorded by the bureau.
DEREGISTRATION = Leaving(
    Transition.DEREGISTER,
    EventType.DEREGISTERED,
    FilingAction.DEREGISTERED,
    "deregistered",
    N_("%(name)s has been deregistered"),
    N_(
        "The county health bureau recorded the deregistration of %(name)s on %(date)s. The"
        " institution is no longer listed and its bookings have ended."
    ),
)


def leave_register(
    institution: Institution,
    actor: User,
    leaving: Leaving,
    notice: tuple[str, str | None],
    reason: str,
    on: date,
) -> None:
    """Take a filed institution off the register (compare-and-set on its status): it leaves
    every public list at once, the event is disclosed with ``notice`` (Chinese, English), a
    pending change is refused, and every place it still offers ends (booked families are told;
    calendars drop the events)."""
    _decide(institution, leaving.transition)
    change = pending_change(institution)
    if change is not None:
        change.status = ChangeStatus.REJECTED
        change.reason = reason
        change.decided_by_id = actor.id
        change.decided_at = clock.now()
    institution.events.append(
        FilingEvent(
            event_type=leaving.event_type,
            occurred_on=on,
            summary=notice[0][:300],
            summary_en=notice[1][:400] if notice[1] else None,
        )
    )
    _record(institution, actor, leaving.action, reason)
    booking.close_institution(institution, reason, clock.now(), sms=leaving.sms)
    _notify_owner(institution, leaving.subject, leaving.body, reason=reason, date=on.isoformat())


#: The decision record and the owner's e-mail, as the follow-up services use them.
record_decision = _record
notify_owner = _notify_owner


def revoke(institution: Institution, actor: User, reason: str, on: date) -> None:
    """撤销备案: the bureau revokes the filing of a non-compliant institution, publishing
    ``reason`` as its notice."""
    _require(institution, Transition.REVOKE)
    reason = _require_reason(reason)
    leave_register(institution, actor, REVOCATION, (reason, None), reason, on)


# --- changes (变更) -----------------------------------------------------------------------


def pending_change(institution: Institution) -> ChangeRequest | None:
    """The change request of ``institution`` awaiting a decision, if any."""
    return db.session.scalar(
        sa.select(ChangeRequest).where(
            ChangeRequest.institution_id == institution.id,
            ChangeRequest.status == ChangeStatus.PENDING,
        )
    )


def _class_rows(institution: Institution) -> list[dict]:
    return [
        {"kind": str(c.kind), "name": c.name, "capacity": c.capacity, "carers": c.carers}
        for c in institution.classes
    ]


def _offer_row(offer: CareOffer) -> dict:
    return {"min_age_months": offer.min_age_months, "max_age_months": offer.max_age_months}


def _as_stored(value):
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # 24.8105 and 24.810500 are one point
    return str(value) if value is not None and not isinstance(value, int | bool) else value


def registered_differences(institution: Institution, profile: Profile) -> dict:
    """The registered facts (and classes) ``profile`` would change, as storable values."""
    changed = {
        name: _as_stored(profile.facts[name])
        for name in REGISTERED_FIELDS
        if name in profile.facts
        and _as_stored(profile.facts[name]) != _as_stored(getattr(institution, name))
    }
    classes = [{**row, "kind": str(row["kind"])} for row in profile.classes]
    if classes != _class_rows(institution):
        changed["classes"] = classes
    return changed


def update_filed_profile(
    institution: Institution, actor: User, profile: Profile, today: date
) -> ChangeRequest | None:
    """Apply contact details, hours and prices at once; registered facts become a change request."""
    if institution.status != Status.FILED:
        raise FilingError(_l("Only a filed institution's profile can be changed this way."))
    _check_policy_rules(_as_proposed(institution, profile.facts), profile.classes, profile.offers)
    _apply(institution, profile.facts, IMMEDIATE_FIELDS)
    _replace_offers(institution, profile.offers)
    differences = registered_differences(institution, profile)
    if not differences:
        return None
    if "classes" in differences:
        _check_classes_keep_children(institution, profile.classes, today)
    if pending_change(institution) is not None:
        raise FilingError(
            _l("A change is already waiting for approval. Please wait for the decision.")
        )
    change = ChangeRequest(institution=institution, proposed=differences, submitted_by_id=actor.id)
    db.session.add(change)
    _record(institution, actor, FilingAction.CHANGE_SUBMITTED)
    return change


def _change_summary(change: ChangeRequest, language: str) -> str:
    labels = CHANGE_FIELD_NAMES_EN if language == "en" else CHANGE_FIELD_NAMES_ZH
    separator = ", " if language == "en" else "、"
    names = separator.join(labels[name] for name in change.proposed if name in labels)
    return f"Changed: {names}" if language == "en" else f"变更事项：{names}"


#: Public wording of what changed, stored with the event in both languages.
CHANGE_FIELD_NAMES_ZH = {
    "name": "机构名称",
    "name_en": "英文名称",
    "address": "地址",
    "address_en": "英文地址",
    "township_id": "所在镇（街道）",
    "nature": "机构性质",
    "authority": "登记机关",
    "price_regime": "收费定价方式",
    "uscc": "统一社会信用代码",
    "latitude": "位置（纬度）",
    "longitude": "位置（经度）",
    "classes": "班级与托位",
}
CHANGE_FIELD_NAMES_EN = {
    "name": "name",
    "name_en": "English name",
    "address": "address",
    "address_en": "English address",
    "township_id": "township",
    "nature": "nature",
    "authority": "registration authority",
    "price_regime": "how prices are set",
    "uscc": "credit code",
    "latitude": "location (latitude)",
    "longitude": "location (longitude)",
    "classes": "classes and places",
}


def approve_change(change: ChangeRequest, actor: User, today: date) -> None:
    """Make the proposed registered facts public and disclose the change."""
    if not change.is_pending:
        raise FilingError(_l("This change has been decided already."))
    institution = change.institution
    if institution.status != Status.FILED:
        raise FilingError(_l("Only a filed institution's change can be approved."))
    facts = dict(change.proposed)
    classes = facts.pop("classes", None)
    _check_policy_rules(
        _as_proposed(institution, {name: _restored(name, v) for name, v in facts.items()}),
        classes if classes is not None else _class_rows(institution),
        [_offer_row(offer) for offer in institution.offers],
    )
    _settle_change(change, ChangeStatus.APPROVED)
    for name, value in facts.items():
        setattr(institution, name, _restored(name, value))
    if classes is not None:
        _replace_classes(institution, classes, today)
    change.status = ChangeStatus.APPROVED
    change.decided_by_id = actor.id
    change.decided_at = clock.now()
    institution.events.append(
        FilingEvent(
            event_type=EventType.CHANGED,
            occurred_on=today,
            summary=_change_summary(change, "zh_CN"),
            summary_en=_change_summary(change, "en"),
        )
    )
    _record(institution, actor, FilingAction.CHANGE_APPROVED)
    _notify_owner(
        institution,
        N_("The change to %(name)s was approved"),
        N_("The county health bureau approved the change; the public page shows it from now."),
    )


def _settle_change(change: ChangeRequest, decision: ChangeStatus) -> None:
    """Decide a pending change with a compare-and-set: of two decisions at once, one wins."""
    if not change.is_pending:
        raise FilingError(_l("This change has been decided already."))
    settled = db.session.execute(
        sa.update(ChangeRequest)
        .where(ChangeRequest.id == change.id, ChangeRequest.status == ChangeStatus.PENDING)
        .values(status=decision)
        .execution_options(synchronize_session=False)
    ).rowcount
    if settled != 1:
        raise FilingError(_l("This change has been decided already."))


def _restored(name: str, value):
    if name == "township_id":
        return int(value)
    if name in ("latitude", "longitude") and value is not None:
        return Decimal(value)
    return value


def reject_change(change: ChangeRequest, actor: User, reason: str) -> None:
    """Refuse the change; the public facts stay as they were."""
    _settle_change(change, ChangeStatus.REJECTED)
    change.status = ChangeStatus.REJECTED
    change.reason = _require_reason(reason)
    change.decided_by_id = actor.id
    change.decided_at = clock.now()
    _record(change.institution, actor, FilingAction.CHANGE_REJECTED, change.reason)
    _notify_owner(
        change.institution,
        N_("The change to %(name)s was not approved"),
        N_("The public page keeps the facts it had. The reason given:\n\n%(reason)s"),
        reason=change.reason,
    )


def pending_changes() -> list[ChangeRequest]:
    """Change requests awaiting a decision, oldest first."""
    query = (
        sa.select(ChangeRequest)
        .where(ChangeRequest.status == ChangeStatus.PENDING)
        .options(joinedload(ChangeRequest.institution))
        .order_by(ChangeRequest.submitted_at)
    )
    return list(db.session.scalars(query))


def institutions_of(owner: User) -> list[Institution]:
    """The institutions ``owner`` keeps, with their townships."""
    query = (
        sa.select(Institution)
        .where(Institution.owner_id == owner.id)
        .options(joinedload(Institution.township))
        .order_by(Institution.id)
    )
    return list(db.session.scalars(query))


def owned_institution(owner: User, institution_id: int) -> Institution | None:
    """``owner``'s institution with this id (with classes and offers), or None."""
    query = (
        sa.select(Institution)
        .where(Institution.id == institution_id, Institution.owner_id == owner.id)
        .options(selectinload(Institution.classes), selectinload(Institution.offers))
    )
    return db.session.scalar(query)


def decisions_of(institution: Institution) -> list[FilingDecision]:
    """The institution's filing timeline, newest first, with the actors."""
    query = (
        sa.select(FilingDecision)
        .where(FilingDecision.institution_id == institution.id)
        .options(joinedload(FilingDecision.actor))
        .order_by(FilingDecision.created_at.desc(), FilingDecision.id.desc())
    )
    return list(db.session.scalars(query))
