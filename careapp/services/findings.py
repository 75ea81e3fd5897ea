"""Findings: recorded by the bureau, answered by the institution, closed by the bureau.

A finding comes from an inspection (careapp.services.inspections writes them up with the visit)
or from the follow-up of a filing: the national 托育机构登记和备案办法（试行）has a problem found
within 15 working days of filing notified to the institution and made public. Working days are
China's (careapp.working_days). Every move is a compare-and-set on the status, so of an answer
and a closure arriving together, the closure is never undone.
"""

from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from careapp.extensions import db
from careapp.models import (
    CLOSING_STATUSES,
    FOLLOW_UP_WORKING_DAYS,
    OPEN_FINDING_STATUSES,
    ChecklistItem,
    FilingAction,
    Finding,
    FindingSource,
    FindingStatus,
    Inspection,
    Institution,
    Status,
    Township,
    User,
    publicly_listed,
)
from careapp.services import filing
from careapp.services.errors import CareappError
from careapp.services.mail import N_
from careapp.working_days import add_working_days, working_days_between

#: Public notices listed on the register page at most.
NOTICES_ON_REGISTER = 20


class FindingError(CareappError):
    """A step on a finding that cannot be taken; ``message`` says why, translated."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


#: Why a move was refused: the finding was closed meanwhile (each desk words it its own way).
CLOSED_ALREADY = {
    FindingSource.INSPECTION: _l("This finding has been closed already."),
    FindingSource.FOLLOW_UP: _l(
        "This finding has been closed already. The page shows the outcome."
    ),
}


def _require_text(text: str, message) -> str:
    text = (text or "").strip()
    if not text:
        raise FindingError(message)
    return text


# --- recording ------------------------------------------------------------------------------


def follow_up_deadline(institution: Institution) -> date | None:
    """The last day a follow-up finding may be recorded: 15 working days after filing."""
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


def record_follow_up(
    institution: Institution, actor: User, description: str, due_on: date, today: date
) -> Finding:
    """Record and publish a problem found after filing; the institution is told at once."""
    if not can_record_finding(institution, today):
        raise FindingError(
            _l(
                "A follow-up finding can be recorded only within %(days)d working days of the"
                " filing date.",
                days=FOLLOW_UP_WORKING_DAYS,
            )
        )
    if due_on <= today:
        raise FindingError(_l("The deadline to put it right must be after today."))
    text = _require_text(description, _l("Please say what was found."))
    finding = Finding(
        source=FindingSource.FOLLOW_UP,
        institution=institution,
        description=text,
        found_on=today,
        due_on=due_on,
        recorded_by_id=actor.id,
    )
    db.session.add(finding)
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
        deadline=due_on.isoformat(),
    )
    return finding


def inspection_finding(
    inspection: Inspection, item: ChecklistItem, description: str, due_on: date
) -> Finding:
    """A finding of a failed checklist item, for an inspection being written up."""
    return Finding(
        source=FindingSource.INSPECTION,
        institution_id=inspection.institution_id,
        item=item,
        description=description,
        found_on=inspection.inspected_on,
        due_on=due_on,
        recorded_by_id=inspection.recorded_by_id,
        recorded_at=inspection.recorded_at,
    )


# --- answering and closing ------------------------------------------------------------------


def _move(finding: Finding, target: FindingStatus, **values) -> None:
    """Move an open finding with a compare-and-set on its status: of two moves at once, one
    wins, and nothing moves a closed finding."""
    moved = db.session.execute(
        sa.update(Finding)
        .where(Finding.id == finding.id, Finding.status.in_(OPEN_FINDING_STATUSES))
        .values(status=target, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise FindingError(CLOSED_ALREADY[finding.source])
    finding.status = target
    for name, value in values.items():
        setattr(finding, name, value)


def answer(finding: Finding, actor: User, text: str, now: datetime) -> None:
    """The institution says what it did to put the finding right (again, until it is closed)."""
    text = _require_text(text, _l("Please say what you did."))
    _move(
        finding,
        FindingStatus.ANSWERED,
        answer=text,
        answered_at=now,
        answered_by_id=actor.id,
    )
    if finding.source == FindingSource.FOLLOW_UP:
        filing.record_decision(finding.institution, actor, FilingAction.FINDING_ANSWERED, text)


#: What the owner is told when the bureau closes a follow-up finding, by outcome.
CLOSED_BODIES = {
    FindingStatus.PUT_RIGHT: N_("The finding of %(date)s is closed: it was put right."),
    FindingStatus.NOT_PUT_RIGHT: N_("The finding of %(date)s is closed: it was not put right."),
}


def _check_closing(finding: Finding, outcome: FindingStatus, closed_on: date, today: date):
    inspected = finding.source == FindingSource.INSPECTION
    if outcome not in CLOSING_STATUSES or (inspected and outcome != FindingStatus.PUT_RIGHT):
        raise FindingError(_l("Please choose the outcome."))
    if closed_on > today:
        raise FindingError(_l("The date it was put right cannot be in the future."))
    if closed_on < finding.found_on:
        raise FindingError(_l("The date it was put right cannot come before the inspection."))


def close(
    finding: Finding,
    actor: User,
    outcome: FindingStatus,
    closed_on: date,
    note: str,
    today: date,
) -> None:
    """The bureau closes a finding on ``closed_on``, put right (in time or late) or not.

    A follow-up finding's outcome is published and its owner told; an inspection finding is
    only ever put right, on the day the bureau found it so.
    """
    _check_closing(finding, outcome, closed_on, today)
    note = (note or "").strip()
    _move(finding, outcome, closed_by_id=actor.id, closed_on=closed_on, closing_note=note)
    if finding.source != FindingSource.FOLLOW_UP:
        return
    filing.record_decision(finding.institution, actor, FilingAction.FINDING_CLOSED, note)
    filing.notify_owner(
        finding.institution,
        N_("The county health bureau closed its finding at %(name)s"),
        CLOSED_BODIES[outcome],
        date=finding.found_on.isoformat(),
    )


# --- reading --------------------------------------------------------------------------------


def finding_of(institution: Institution, finding_id: int, source: FindingSource) -> Finding | None:
    """``institution``'s finding from ``source`` with this id, or None."""
    return db.session.scalar(
        sa.select(Finding).where(
            Finding.id == finding_id,
            Finding.institution_id == institution.id,
            Finding.source == source,
        )
    )


def follow_up_findings_of(institution: Institution) -> list[Finding]:
    """The institution's follow-up findings, newest first."""
    return list(
        db.session.scalars(
            sa.select(Finding)
            .where(
                Finding.institution_id == institution.id,
                Finding.source == FindingSource.FOLLOW_UP,
            )
            .order_by(Finding.found_on.desc(), Finding.id.desc())
        )
    )


def public_notices(limit: int = NOTICES_ON_REGISTER) -> list[Finding]:
    """The newest follow-up notices of institutions filed now, with institution and township
    (an inspection's findings are never public)."""
    listed = publicly_listed().with_only_columns(Institution.id)
    return list(
        db.session.scalars(
            sa.select(Finding)
            .where(Finding.source == FindingSource.FOLLOW_UP, Finding.institution_id.in_(listed))
            .options(joinedload(Finding.institution).joinedload(Institution.township))
            .order_by(Finding.found_on.desc(), Finding.id.desc())
            .limit(limit)
        )
    )


def open_follow_up_findings() -> list[Finding]:
    """Follow-up findings the bureau has yet to close, by deadline, with their institutions."""
    return list(
        db.session.scalars(
            sa.select(Finding)
            .where(
                Finding.source == FindingSource.FOLLOW_UP,
                Finding.status.in_(OPEN_FINDING_STATUSES),
            )
            .options(joinedload(Finding.institution))
            .order_by(Finding.due_on, Finding.id)
        )
    )


def overdue_inspection_findings(today: date, region_id: int | None = None) -> list[Finding]:
    """Inspection findings of filed institutions still open after their deadline, the oldest
    first, with their inspections and institutions."""
    query = (
        sa.select(Finding)
        .join(Finding.institution)
        .where(
            Finding.source == FindingSource.INSPECTION,
            Finding.status.in_(OPEN_FINDING_STATUSES),
            Finding.due_on < today,
            Institution.status == Status.FILED,
        )
        .options(
            joinedload(Finding.inspection)
            .joinedload(Inspection.institution)
            .joinedload(Institution.township)
        )
        .order_by(Finding.due_on, Finding.id)
    )
    if region_id is not None:
        query = query.join(Institution.township).where(Township.region_id == region_id)
    return list(db.session.scalars(query))
