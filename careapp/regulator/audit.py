"""The audit log: every filing decision, every staff view of a child's record, every change
to a staff register and every supervision record the bureau made."""

from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from careapp import clock
from careapp.csv_export import csv_response
from careapp.labels import label
from careapp.models import StaffChangeKind
from careapp.regulator import bp
from careapp.services import audit
from careapp.services.errors import InvalidParameters
from careapp.services.params import ParamReader


def _filters_and_errors() -> tuple[audit.AuditFilters, dict[str, str]]:
    """The filters of the query string, or none with the messages of the refused ones."""
    try:
        return audit.parse_filters(request.args), {}
    except InvalidParameters as invalid:
        return audit.AuditFilters(), dict(invalid.errors)


def _page_number(errors: dict[str, str]) -> int:
    reader = ParamReader(request.args)
    number = reader.integer("page", 1, 100_000) or 1
    errors.update(reader.errors)
    return number


#: What the actions other than filing decisions mean.
ACTION_LABELS = {
    audit.CHILD_RECORD_VIEWED: _l("Viewed a child's booking record"),
    StaffChangeKind.ADDED: _l("Added a person to the staff register"),
    StaffChangeKind.EDITED: _l("Changed a person on the staff register"),
    StaffChangeKind.REMOVED: _l("Took a person off the staff register"),
    audit.QUALITY_ASSESSED: _l("Recorded a quality grade"),
    audit.DESIGNATED: _l("Designated a demonstration institution"),
    audit.DESIGNATION_REVOKED: _l("Revoked a demonstration designation"),
    audit.INSPECTION_RECORDED: _l("Recorded an inspection"),
    audit.REPORT_ANSWERED: _l("Answered a report"),
    audit.BAN_RECORDED: _l("Added a person to the ban list"),
}


def action_label(action: str) -> str:
    """What an audit entry's action means, translated."""
    if action in ACTION_LABELS:
        return str(ACTION_LABELS[action])
    return label("filing_action", action)


def entry_detail(entry: audit.AuditEntry) -> str:
    """What the entry says beyond its action: the booking and child ids of a view, the grade,
    title, day or category of a supervision record, the ID number's tail of a banned person
    or of a person on a staff register, the reason given for a decision."""
    if entry.action == audit.CHILD_RECORD_VIEWED:
        return _(
            "Booking %(booking)d, child %(child)d", booking=entry.booking_id, child=entry.child_id
        )
    if entry.action == audit.QUALITY_ASSESSED:
        return label("quality_grade", entry.reason)
    if entry.action == audit.INSPECTION_RECORDED:
        return _("Inspected on %(day)s", day=entry.reason[:10])
    if entry.action == audit.REPORT_ANSWERED:
        return label("report_category", entry.reason)
    if entry.action == audit.BAN_RECORDED or entry.action in audit.STAFF_ACTIONS:
        return _("ID number ending %(tail)s", tail=entry.reason)
    return entry.reason


@bp.get("/audit")
def audit_log():
    """The log, newest first, filtered by action, person, institution and dates."""
    filters, errors = _filters_and_errors()
    page = audit.audit_page(filters, _page_number(errors))
    return (
        render_template(
            "regulator/audit.html",
            page=page,
            errors=errors,
            actions=audit.ACTIONS,
            action_label=action_label,
            entry_detail=entry_detail,
            as_local=clock.to_local,
        ),
        400 if errors else 200,
    )


@bp.get("/audit.csv")
def audit_csv():
    """The filtered log as a CSV file for Excel."""
    filters, errors = _filters_and_errors()
    if errors:
        return audit_log()
    header = (
        _("When (Beijing time)"),
        _("Action"),
        _("Who"),
        _("E-mail"),
        _("Role"),
        _("Institution"),
        _("Institution number"),
        _("Detail"),
    )
    rows = (
        (
            clock.to_local(entry.occurred_at).strftime("%Y-%m-%d %H:%M:%S"),
            action_label(entry.action),
            entry.actor.display_name,
            entry.actor.email,
            label("role", entry.actor.role),
            entry.institution_name or "",
            entry.institution_id or "",
            entry_detail(entry),
        )
        for entry in audit.audit_entries(filters)
    )
    return csv_response("audit-log.csv", header, rows)
