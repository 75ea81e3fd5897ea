"""The regulator's audit log: filing decisions and staff views of children's records.

Filing decisions are already kept, never changed, in ``filing_decisions``; staff views of a
child's booking record are kept in ``child_record_views``. The log reads both as one list.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from careapp import clock
from careapp.extensions import db
from careapp.models import Booking, ChildRecordView, FilingAction, FilingDecision, Institution, User
from careapp.models.base import MAX_ID, as_utc
from careapp.services.errors import InvalidParameters
from careapp.services.params import Page, ParamReader

#: The action of a child-record view, next to the filing actions.
CHILD_RECORD_VIEWED = "child_record_viewed"
ACTIONS = (*FilingAction.values(), CHILD_RECORD_VIEWED)
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
    institution_id: int
    institution_name: str
    reason: str
    booking_id: int | None
    child_id: int | None


def _union(filters: AuditFilters) -> sa.Subquery:
    """Filing decisions and child-record views as rows of the same shape, filtered."""
    decisions = sa.select(
        FilingDecision.created_at.label("occurred_at"),
        sa.cast(FilingDecision.action, sa.String(24)).label("action"),
        FilingDecision.actor_id.label("actor_id"),
        FilingDecision.institution_id.label("institution_id"),
        FilingDecision.reason.label("reason"),
        sa.null().cast(sa.Integer).label("booking_id"),
        sa.null().cast(sa.Integer).label("child_id"),
    )
    views = sa.select(
        ChildRecordView.viewed_at,
        sa.literal(CHILD_RECORD_VIEWED, sa.String(24)),
        ChildRecordView.viewer_id,
        ChildRecordView.institution_id,
        sa.literal("", sa.Text),
        ChildRecordView.booking_id,
        ChildRecordView.child_id,
    )
    if filters.action == CHILD_RECORD_VIEWED:
        decisions = decisions.where(sa.false())
    elif filters.action:
        decisions = decisions.where(FilingDecision.action == filters.action)
        views = views.where(sa.false())
    return sa.union_all(decisions, views).subquery("audit")


def _filtered(filters: AuditFilters) -> sa.Select:
    """The log's rows joined with who acted and which institution, newest first."""
    log = _union(filters)
    query = (
        sa.select(log, User, Institution.name)
        .join(User, User.id == log.c.actor_id)
        .join(Institution, Institution.id == log.c.institution_id)
    )
    if filters.actor:
        pattern = f"%{filters.actor.lower()}%"
        query = query.where(
            sa.or_(
                sa.func.lower(User.email).like(pattern),
                sa.func.lower(User.display_name).like(pattern),
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
