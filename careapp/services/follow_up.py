"""After filing: the bureau's 15-working-day follow-up, and the institution's own 注销.

Filing is 告知承诺 (policy 000: "婴幼儿照护服务机构经核准登记后，按照告知承诺制要求向市卫生健康局
备案"). The national 托育机构登记和备案办法（试行）, which the seeds refer to, has the bureau file
within 5 working days of complete materials; a problem it finds within 15 working days of filing
is notified to the institution and made public. Working days are China's (careapp.working_days).
"""

from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import contains_eager, joinedload

from careapp import clock
from careapp.extensions import db
from careapp.models import (
    DeregistrationRequest,
    EventType,
    FilingAction,
    FilingEvent,
    FollowUpFinding,
    FollowUpFindingStatus,
    Institution,
    RequestStatus,
    Status,
    User,
    publicly_listed,
)
from careapp.models.follow_up import (
    CLOSING_STATUSES,
    FOLLOW_UP_WORKING_DAYS,
    OPEN_FOLLOW_UP_STATUSES,
)
from careapp.services import filing
from careapp.services.filing import FilingError
from careapp.services.mail import N_
from careapp.working_days import add_working_days, working_days_between

#: Public notices listed on the register page at most.
NOTICES_ON_REGISTER = 20


# --- the 15-working-day follow-up -----------------------------------------------------------


def follow_up_deadline(institution: Institution) -> date | None:
    """The last day a finding may be recorded: 15 working days after the filing date."""
    if institution.filed_on is None:
        return None
    return add_working_days(institution.filed_on, FOLLOW_UP_WORKING_DAYS)


def can_record_finding(institution: Institution, today: date) -> bool:
    """Whether the bureau may still record a follow-up finding on ``institution`` today."""
    return (
        institution.status == Status.FILED
        and institution.filed_on is not None
        and working_days_between(institution.filed_on, today) <= FOLLOW_UP_WORKING_DAYS
    )


def _require_text(text: str, message) -> str:
    text = (text or "").strip()
    if not text:
        raise FilingError(message)
    return text


def record_finding(
    institution: Institution, actor: User, finding: str, put_right_by: date, today: date
) -> FollowUpFinding:
    """Record and publish a problem found after filing; the institution is told at once."""
    if not can_record_finding(institution, today):
        raise FilingError(
            _l(
                "A follow-up finding can be recorded only within %(days)d working days of the"
                " filing date.",
                days=FOLLOW_UP_WORKING_DAYS,
            )
        )
    if put_right_by <= today:
        raise FilingError(_l("The deadline to put it right must be after today."))
    text = _require_text(finding, _l("Please say what was found."))
    record = FollowUpFinding(
        institution=institution,
        found_on=today,
        finding=text,
        put_right_by=put_right_by,
        recorded_by_id=actor.id,
    )
    db.session.add(record)
    db.session.flush()
    filing.record_decision(institution, actor, FilingAction.FINDING_RECORDED, text)
    filing.notify_owner(
        institution,
        N_("The county health bureau found a problem at %(name)s"),
        N_(
            "After filing, the county health bureau found:\n\n%(finding)s\n\nPlease put it right"
            " by %(deadline)s and say what you did on the institution's status page. The finding"
            " is published on the institution's public page."
        ),
        finding=text,
        deadline=put_right_by.isoformat(),
    )
    return record


def _move(finding: FollowUpFinding, sources, target: FollowUpFindingStatus, **values) -> None:
    """Move a finding with a compare-and-set on its status: of two moves at once, one wins."""
    moved = db.session.execute(
        sa.update(FollowUpFinding)
        .where(FollowUpFinding.id == finding.id, FollowUpFinding.status.in_(sources))
        .values(status=target, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise FilingError(_l("This finding has been closed already. The page shows the outcome."))
    finding.status = target
    for name, value in values.items():
        setattr(finding, name, value)


def answer_finding(finding: FollowUpFinding, actor: User, answer: str) -> None:
    """The institution says what it did to put the finding right (it may say it again)."""
    text = _require_text(answer, _l("Please say what you did."))
    _move(
        finding,
        OPEN_FOLLOW_UP_STATUSES,
        FollowUpFindingStatus.ANSWERED,
        answer=text,
        answered_at=clock.now(),
    )
    filing.record_decision(finding.institution, actor, FilingAction.FINDING_ANSWERED, text)


#: What the owner is told when the bureau closes a finding, by outcome.
CLOSED_BODIES = {
    FollowUpFindingStatus.PUT_RIGHT: N_("The finding of %(date)s is closed: it was put right."),
    FollowUpFindingStatus.NOT_PUT_RIGHT: N_(
        "The finding of %(date)s is closed: it was not put right."
    ),
}


def close_finding(
    finding: FollowUpFinding, actor: User, outcome: FollowUpFindingStatus, note: str, today: date
) -> None:
    """The bureau closes a finding: put right, or not put right; the outcome is published."""
    if outcome not in CLOSING_STATUSES:
        raise FilingError(_l("Please choose the outcome."))
    note = (note or "").strip()
    _move(
        finding,
        OPEN_FOLLOW_UP_STATUSES,
        outcome,
        closed_by_id=actor.id,
        closed_on=today,
        closing_note=note,
    )
    filing.record_decision(finding.institution, actor, FilingAction.FINDING_CLOSED, note)
    filing.notify_owner(
        finding.institution,
        N_("The county health bureau closed its finding at %(name)s"),
        CLOSED_BODIES[outcome],
        date=finding.found_on.isoformat(),
    )


def findings_of(institution: Institution) -> list[FollowUpFinding]:
    """The institution's follow-up findings, newest first."""
    return list(
        db.session.scalars(
            sa.select(FollowUpFinding)
            .where(FollowUpFinding.institution_id == institution.id)
            .order_by(FollowUpFinding.found_on.desc(), FollowUpFinding.id.desc())
        )
    )


def finding_of(institution: Institution, finding_id: int) -> FollowUpFinding | None:
    """``institution``'s finding with this id, or None."""
    return db.session.scalar(
        sa.select(FollowUpFinding).where(
            FollowUpFinding.id == finding_id, FollowUpFinding.institution_id == institution.id
        )
    )


def public_notices(limit: int = NOTICES_ON_REGISTER) -> list[FollowUpFinding]:
    """The newest follow-up notices of institutions filed now, with institution and township."""
    listed = publicly_listed().with_only_columns(Institution.id)
    return list(
        db.session.scalars(
            sa.select(FollowUpFinding)
            .where(FollowUpFinding.institution_id.in_(listed))
            .options(joinedload(FollowUpFinding.institution).joinedload(Institution.township))
            .order_by(FollowUpFinding.found_on.desc(), FollowUpFinding.id.desc())
            .limit(limit)
        )
    )


def open_findings() -> list[FollowUpFinding]:
    """Findings the bureau has yet to close, by deadline, with their institutions."""
    return list(
        db.session.scalars(
            sa.select(FollowUpFinding)
            .where(FollowUpFinding.status.in_(OPEN_FOLLOW_UP_STATUSES))
            .options(joinedload(FollowUpFinding.institution))
            .order_by(FollowUpFinding.put_right_by, FollowUpFinding.id)
        )
    )


# --- 注销: the institution's own act ----------------------------------------------------------


def pending_deregistration(institution: Institution) -> DeregistrationRequest | None:
    """The institution's 注销 request waiting to be recorded, if any (none once it has left the
    register some other way)."""
    if institution.status != Status.FILED:
        return None
    return db.session.scalar(
        sa.select(DeregistrationRequest).where(
            DeregistrationRequest.institution_id == institution.id,
            DeregistrationRequest.status == RequestStatus.PENDING,
        )
    )


def request_deregistration(
    institution: Institution, actor: User, deregistered_on: date, reason: str, today: date
) -> DeregistrationRequest:
    """The institution declares it deregistered with its registration authority on
    ``deregistered_on`` and asks the bureau to record its 注销."""
    if institution.status != Status.FILED:
        raise FilingError(_l("Only a filed institution can ask for its deregistration."))
    if deregistered_on > today:
        raise FilingError(
            _l("Deregister with your registration authority first, then tell the bureau.")
        )
    if institution.registered_on is not None and deregistered_on < institution.registered_on:
        raise FilingError(_l("The deregistration cannot be earlier than the registration."))
    if pending_deregistration(institution) is not None:
        raise FilingError(_l("Your deregistration is already waiting to be recorded."))
    request = DeregistrationRequest(
        institution=institution,
        deregistered_on=deregistered_on,
        reason=(reason or "").strip(),
        requested_by_id=actor.id,
    )
    db.session.add(request)
    db.session.flush()
    filing.record_decision(
        institution, actor, FilingAction.DEREGISTRATION_REQUESTED, request.reason
    )
    return request


def deregistration_notice(request: DeregistrationRequest) -> tuple[str, str]:
    """The public summary of a recorded 注销, in Chinese and English."""
    day = request.deregistered_on.isoformat()
    chinese = f"机构申请注销备案（已于{day}在登记机关注销登记）"
    english = (
        f"Deregistered at its own request (deregistered with its registration authority on {day})"
    )
    if request.reason:
        chinese += f"：{request.reason}"
        english += f": {request.reason}"
    return chinese, english


def record_deregistration(request: DeregistrationRequest, actor: User, today: date) -> None:
    """The bureau records the institution's 注销: it leaves the register as the existing
    deregistration did (bookings end, families are told)."""
    settled = db.session.execute(
        sa.update(DeregistrationRequest)
        .where(
            DeregistrationRequest.id == request.id,
            DeregistrationRequest.status == RequestStatus.PENDING,
        )
        .values(status=RequestStatus.RECORDED, recorded_by_id=actor.id, recorded_on=today)
        .execution_options(synchronize_session=False)
    ).rowcount
    if settled != 1:
        raise FilingError(_l("This deregistration has been recorded already."))
    request.status, request.recorded_by_id, request.recorded_on = (
        RequestStatus.RECORDED,
        actor.id,
        today,
    )
    reason = request.reason or "机构申请注销"
    filing.leave_register(
        request.institution,
        actor,
        filing.DEREGISTRATION,
        deregistration_notice(request),
        reason,
        today,
    )


def pending_deregistrations() -> list[DeregistrationRequest]:
    """注销 requests waiting to be recorded, oldest first, with their institutions."""
    return list(
        db.session.scalars(
            sa.select(DeregistrationRequest)
            .join(DeregistrationRequest.institution)
            .where(
                DeregistrationRequest.status == RequestStatus.PENDING,
                Institution.status == Status.FILED,
            )
            .options(contains_eager(DeregistrationRequest.institution))
            .order_by(DeregistrationRequest.requested_at, DeregistrationRequest.id)
        )
    )


def ending_of(institution: Institution):
    """The disclosed event by which ``institution`` left the register, or None."""
    return db.session.scalar(
        sa.select(FilingEvent)
        .where(
            FilingEvent.institution_id == institution.id,
            FilingEvent.event_type.in_((EventType.DEREGISTERED, EventType.REVOKED)),
        )
        .order_by(FilingEvent.id.desc())
        .limit(1)
    )


def owner_view(institution: Institution) -> dict:
    """What the institution's status page shows of its follow-up and its leaving."""
    return {
        "findings": findings_of(institution),
        "deregistration": pending_deregistration(institution),
        "ending": ending_of(institution),
    }
