"""The audit log: every filing decision and every staff view of a child's record."""

from flask import render_template, request
from flask_babel import gettext as _

from careapp import clock
from careapp.csv_export import csv_response
from careapp.labels import label
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


def action_label(action: str) -> str:
    """What an audit entry's action means, translated."""
    if action == audit.CHILD_RECORD_VIEWED:
        return _("Viewed a child's booking record")
    return label("filing_action", action)


def entry_detail(entry: audit.AuditEntry) -> str:
    """The booking and child ids of a view, or the reason given for a decision."""
    if entry.action == audit.CHILD_RECORD_VIEWED:
        return _(
            "Booking %(booking)d, child %(child)d", booking=entry.booking_id, child=entry.child_id
        )
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
            entry.institution_name,
            entry.institution_id,
            entry_detail(entry),
        )
        for entry in audit.audit_entries(filters)
    )
    return csv_response("audit-log.csv", header, rows)
