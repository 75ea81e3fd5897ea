"""After filing: the institution's own 注销 (the bureau's follow-up findings: services.findings).

Filing is 告知承诺 (policy 000: "婴幼儿照护服务机构经核准登记后，按照告知承诺制要求向市卫生健康局
备案"). The national 托育机构登记和备案办法（试行）, which the seeds refer to, has the bureau file
within 5 working days of complete materials; a problem it finds within 15 working days of filing
is notified to the institution and made public.
"""

from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import contains_eager

from careapp.extensions import db
from careapp.models import (
    DeregistrationRequest,
    EventType,
    FilingAction,
    FilingEvent,
    Institution,
    RequestStatus,
    Status,
    User,
)
from careapp.services import filing, findings
from careapp.services.filing import FilingError

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
        "findings": findings.follow_up_findings_of(institution),
        "deregistration": pending_deregistration(institution),
        "ending": ending_of(institution),
    }
