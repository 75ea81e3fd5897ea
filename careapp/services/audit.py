"""The regulator's audit log: filing decisions, staff views of children's records, changes
to institutions' staff registers and the bureau's supervision records.

Filing decisions are already kept, never changed, in ``filing_decisions``; staff views of a
child's booking record are kept in ``child_record_views``; additions, changes and removals
on a staff register in ``staff_changes``; quality grades, demonstration designations and
their revocations, inspections, answers to reports and the ban list keep who recorded them
and when in their own tables. The log reads them all as one list.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from careapp import clock
from careapp.extensions import db
from careapp.models import (
    Booking,
    ChildRecordView,
    Complaint,
    Designation,
    FilingAction,
    FilingDecision,
    Inspection,
    InspectionStatus,
    Institution,
    LifetimeBan,
    QualityAssessment,
    StaffChange,
    StaffChangeKind,
    User,
)
from careapp.models.base import MAX_ID, as_utc
from careapp.services.errors import InvalidParameters
from careapp.services.params import Page, ParamReader

#: The action of a child-record view, next to the filing actions.
CHILD_RECORD_VIEWED = "child_record_viewed"
#: The actions of the bureau's supervision records.
QUALITY_ASSESSED = "quality_assessed"
DESIGNATED = "designated"
DESIGNATION_REVOKED = "designation_revoked"
INSPECTION_RECORDED = "inspection_recorded"
REPORT_ANSWERED = "report_answered"
BAN_RECORDED = "ban_recorded"
SUPERVISION_ACTIONS = (
    QUALITY_ASSESSED,
    DESIGNATED,
    DESIGNATION_REVOKED,
    INSPECTION_RECORDED,
    REPORT_ANSWERED,
    BAN_RECORDED,
)
#: The actions of changes to a staff register.
STAFF_ACTIONS = tuple(StaffChangeKind.values())
ACTIONS = (*FilingAction.values(), CHILD_RECORD_VIEWED, *STAFF_ACTIONS, *SUPERVISION_ACTIONS)
#: Rows per page of the log.
PER_PAGE = 50


def record_child_view(viewer_id: int, found: Booking) -> None:
    """Note that user ``viewer_id`` opened the record of ``found``'s child (ids only)."""
    db.session.add(
        ChildRecordView(
            viewer_id=viewer_id,
            institution_id=found.slot.institution_id,
            booking_id=found.id,
            child_id=found.child_id,
        )
    )


@dataclass(frozen=True)
class AuditFilters:
    """What the log is narrowed to; every field is optional."""

    action: str | None = None
    actor: str | None = None
    institution_id: int | None = None
    first: date | None = None
    last: date | None = None


def parse_filters(args: Mapping[str, str]) -> AuditFilters:
    """Filters from a query string; raises InvalidParameters with a message per field."""
    reader = ParamReader(args)
    filters = AuditFilters(
        action=reader.choice("action", ACTIONS, _l("Please choose an action from the list.")),
        actor=reader.text("actor"),
        institution_id=reader.integer("institution", 1, MAX_ID),
        first=reader.iso_date("from"),
        last=reader.iso_date("to"),
    )
    if filters.first and filters.last and filters.last < filters.first:
        reader.errors["to"] = _l("The last day must not be before the first day.")
    if reader.errors:
        raise InvalidParameters(reader.errors)
    return filters


@dataclass(frozen=True)
class AuditEntry:
    """One line of the log: who did what to which institution, when, and the detail."""

    occurred_at: datetime
    action: str
    actor: User
    #: None for an entry about no filed institution (the ban list, a report about a place).
    institution_id: int | None
    institution_name: str | None
    #: A decision's reason, or what a supervision record says (a grade, a title, a day…),
    #: or the ID number's last four characters of a person on a staff register.
    reason: str
    booking_id: int | None
    child_id: int | None


def _union(filters: AuditFilters) -> sa.Subquery:
    """Every source of the log as rows of the same shape, those of ``filters.action`` only
    when it names one."""
    decisions = _log_rows(
        FilingDecision.created_at,
        FilingDecision.action,
        FilingDecision.actor_id,
        FilingDecision.institution_id,
        FilingDecision.reason,
    )
    if filters.action in FilingAction.values():
        decisions = decisions.where(FilingDecision.action == filters.action)
    views = _log_rows(
        ChildRecordView.viewed_at,
        sa.literal(CHILD_RECORD_VIEWED),
        ChildRecordView.viewer_id,
        ChildRecordView.institution_id,
        sa.literal(""),
        ChildRecordView.booking_id,
        ChildRecordView.child_id,
    )
    # Only the ID number's last four characters: the log names no staff member.
    changes = _log_rows(
        StaffChange.changed_at,
        StaffChange.action,
        StaffChange.actor_id,
        StaffChange.institution_id,
        StaffChange.id_number_tail,
    )
    if filters.action in STAFF_ACTIONS:
        changes = changes.where(StaffChange.action == filters.action)
    sources = [
        (FilingAction.values(), decisions),
        ((CHILD_RECORD_VIEWED,), views),
        (STAFF_ACTIONS, changes),
        *(((action,), rows) for action, rows in _supervision_records().items()),
    ]
    chosen = [rows for actions, rows in sources if not filters.action or filters.action in actions]
    return sa.union_all(*chosen).subquery("audit")


def _supervision_records() -> dict[str, sa.Select]:
    """The bureau's supervision records as rows of the log, by action."""
    recorded = Inspection.status == InspectionStatus.RECORDED
    return {
        QUALITY_ASSESSED: _record_rows(
            QUALITY_ASSESSED,
            QualityAssessment.recorded_at,
            QualityAssessment.recorded_by_id,
            QualityAssessment.institution_id,
            QualityAssessment.grade,
        ),
        DESIGNATED: _record_rows(
            DESIGNATED,
            Designation.recorded_at,
            Designation.recorded_by_id,
            Designation.institution_id,
            Designation.title,
        ),
        DESIGNATION_REVOKED: _record_rows(
            DESIGNATION_REVOKED,
            Designation.revoked_at,
            Designation.revoked_by_id,
            Designation.institution_id,
            Designation.revoke_reason,
        ).where(Designation.revoked_at.is_not(None)),
        INSPECTION_RECORDED: _record_rows(
            INSPECTION_RECORDED,
            Inspection.recorded_at,
            Inspection.recorded_by_id,
            Inspection.institution_id,
            Inspection.inspected_on,
        ).where(recorded),
        REPORT_ANSWERED: _record_rows(
            REPORT_ANSWERED,
            Complaint.replied_at,
            Complaint.handled_by_id,
            Complaint.institution_id,
            Complaint.category,
        ).where(Complaint.replied_at.is_not(None)),
        # Only the ID number's last four characters: the log names no banned person.
        BAN_RECORDED: _record_rows(
            BAN_RECORDED,
            LifetimeBan.created_at,
            LifetimeBan.created_by_id,
            sa.null(),
            LifetimeBan.id_number_tail,
        ),
    }


def _record_rows(action: str, occurred_at, actor_id, institution_id, detail) -> sa.Select:
    """A source of supervision records: when, who, about which institution (or none) and
    what it says."""
    return _log_rows(occurred_at, sa.literal(action), actor_id, institution_id, detail)


def _log_rows(
    occurred_at, action, actor_id, institution_id, reason, booking_id=None, child_id=None
) -> sa.Select:
    """A source of the log as rows of the log's one shape (a view's booking and child ids,
    none for the others)."""
    return sa.select(
        occurred_at.label("occurred_at"),
        sa.cast(action, sa.String(24)).label("action"),
        actor_id.label("actor_id"),
        sa.cast(institution_id, sa.Integer).label("institution_id"),
        sa.cast(reason, sa.Text).label("reason"),
        sa.cast(booking_id, sa.Integer).label("booking_id"),
        sa.cast(child_id, sa.Integer).label("child_id"),
    )


def _filtered(filters: AuditFilters) -> sa.Select:
    """The log's rows joined with who acted and which institution, if any, newest first."""
    log = _union(filters)
    query = (
        sa.select(log, User, Institution.name)
        .join(User, User.id == log.c.actor_id)
        .outerjoin(Institution, Institution.id == log.c.institution_id)
    )
    if filters.actor:
        # Literally: an e-mail address's "_" or a "%" typed is no wildcard.
        typed = filters.actor.lower()
        query = query.where(
            sa.or_(
                sa.func.lower(User.email).contains(typed, autoescape=True),
                sa.func.lower(User.display_name).contains(typed, autoescape=True),
            )
        )
    if filters.institution_id:
        query = query.where(log.c.institution_id == filters.institution_id)
    if filters.first:
        query = query.where(log.c.occurred_at >= _day_start(filters.first))
    if filters.last:
        query = query.where(log.c.occurred_at < _day_start(filters.last + timedelta(days=1)))
    return query


def _day_start(day: date) -> datetime:
    """Midnight at the start of ``day`` in local time, as UTC."""
    return clock.to_utc(datetime.combine(day, time.min))


def _entry(row) -> AuditEntry:
    return AuditEntry(
        occurred_at=as_utc(row.occurred_at),
        action=row.action,
        actor=row.User,
        institution_id=row.institution_id,
        institution_name=row.name,
        reason=row.reason or "",
        booking_id=row.booking_id,
        child_id=row.child_id,
    )


def audit_page(filters: AuditFilters, page: int, per_page: int = PER_PAGE) -> Page:
    """One page of the log, newest first."""
    query = _filtered(filters)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = db.session.execute(
        query.order_by(sa.desc("occurred_at")).limit(per_page).offset((page - 1) * per_page)
    )
    return Page([_entry(row) for row in rows], int(total), page, per_page)


def audit_entries(filters: AuditFilters) -> list[AuditEntry]:
    """Every entry of the log the filters keep, newest first (for the CSV download)."""
    rows = db.session.execute(_filtered(filters).order_by(sa.desc("occurred_at")))
    return [_entry(row) for row in rows]
