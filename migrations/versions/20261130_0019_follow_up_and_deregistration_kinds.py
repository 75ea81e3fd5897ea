"""The 15-working-day follow-up, the institution's 注销 request, 撤销备案 and the 登记 event.

Adds ``follow_up_findings`` and ``deregistration_requests``, lets ``filing_events`` hold
``registered`` and ``revoked`` and ``filing_decisions`` the new actions, and backfills a
``registered`` event (dated with the registration date) for every institution filed before.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

OLD_EVENT_TYPES = ("filed", "changed", "deregistered")
NEW_EVENT_TYPES = (*OLD_EVENT_TYPES, "registered", "revoked")
OLD_ACTIONS = (
    "submitted",
    "approved",
    "returned",
    "rejected",
    "deregistered",
    "change_submitted",
    "change_approved",
    "change_rejected",
)
NEW_ACTIONS = (
    *OLD_ACTIONS,
    "revoked",
    "deregistration_requested",
    "finding_recorded",
    "finding_answered",
    "finding_closed",
)
FINDING_STATUSES = ("open", "answered", "put_right", "not_put_right")
REQUEST_STATUSES = ("pending", "recorded")
PENDING = "status = 'pending'"

#: The 登记 event's summary per registration authority (as careapp.services.filing writes it).
AUTHORITY_SUMMARIES = {
    "staffing_office": ("在机构编制部门登记", "Registered with the staffing office"),
    "civil_affairs": ("在民政部门登记", "Registered with civil affairs"),
    "market_regulation": ("在市场监管部门登记", "Registered with market regulation"),
    "education": ("在教育部门登记", "Registered with the education bureau"),
}


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def _enum(name: str, values) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=24)


def _replace_check(table: str, name: str, condition: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f(f"ck_{table}_{name}"), type_="check")
        batch_op.create_check_constraint(name, condition)


def _create_findings() -> None:
    op.create_table(
        "follow_up_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("status", _enum("findingstatus", FINDING_STATUSES), nullable=False),
        sa.Column("found_on", sa.Date(), nullable=False),
        sa.Column("finding", sa.Text(), nullable=False),
        sa.Column("put_right_by", sa.Date(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("closing_note", sa.Text(), nullable=False),
        sa.CheckConstraint(
            _in("status", FINDING_STATUSES), name=op.f("ck_follow_up_findings_status_valid")
        ),
        sa.CheckConstraint(
            "put_right_by >= found_on", name=op.f("ck_follow_up_findings_deadline_after_finding")
        ),
        sa.CheckConstraint(
            "status NOT IN ('put_right', 'not_put_right') OR closed_on IS NOT NULL",
            name=op.f("ck_follow_up_findings_closed_has_date"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_follow_up_findings_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_follow_up_findings_recorded_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["users.id"], name=op.f("fk_follow_up_findings_closed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up_findings")),
    )
    with op.batch_alter_table("follow_up_findings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_follow_up_findings_institution_id"), ["institution_id"], unique=False
        )
        batch_op.create_index("ix_follow_up_findings_found", ["found_on", "id"], unique=False)


def _create_requests() -> None:
    op.create_table(
        "deregistration_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("status", _enum("requeststatus", REQUEST_STATUSES), nullable=False),
        sa.Column("deregistered_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_on", sa.Date(), nullable=True),
        sa.CheckConstraint(
            _in("status", REQUEST_STATUSES), name=op.f("ck_deregistration_requests_status_valid")
        ),
        sa.CheckConstraint(
            "status <> 'recorded' OR recorded_on IS NOT NULL",
            name=op.f("ck_deregistration_requests_recorded_has_date"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_deregistration_requests_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_deregistration_requests_requested_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_deregistration_requests_recorded_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deregistration_requests")),
    )
    with op.batch_alter_table("deregistration_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deregistration_requests_institution_id"),
            ["institution_id"],
            unique=False,
        )
        batch_op.create_index(
            "uq_deregistration_requests_pending",
            ["institution_id"],
            unique=True,
            sqlite_where=sa.text(PENDING),
            postgresql_where=sa.text(PENDING),
        )


def _backfill_registered_events() -> None:
    """A 登记 event, dated with the registration date, for every institution filed before."""
    for authority, (summary, summary_en) in AUTHORITY_SUMMARIES.items():
        op.get_bind().execute(
            sa.text(
                "INSERT INTO filing_events"
                " (institution_id, event_type, occurred_on, summary, summary_en, recorded_at)"
                " SELECT i.id, 'registered', i.registered_on, :summary, :summary_en,"
                " CURRENT_TIMESTAMP FROM institutions i"
                " WHERE i.status IN ('filed', 'deregistered') AND i.registered_on IS NOT NULL"
                " AND i.authority = :authority AND NOT EXISTS (SELECT 1 FROM filing_events e"
                " WHERE e.institution_id = i.id AND e.event_type = 'registered')"
            ),
            {"summary": summary, "summary_en": summary_en, "authority": authority},
        )


def upgrade():
    _replace_check("filing_events", "event_type_valid", _in("event_type", NEW_EVENT_TYPES))
    _replace_check("filing_decisions", "action_valid", _in("action", NEW_ACTIONS))
    _create_findings()
    _create_requests()
    _backfill_registered_events()


def downgrade():
    bind = op.get_bind()
    bind.execute(sa.text("DELETE FROM filing_events WHERE event_type = 'registered'"))
    # A revoked filing was a deregistration before this revision.
    bind.execute(
        sa.text("UPDATE filing_events SET event_type = 'deregistered' WHERE event_type = 'revoked'")
    )
    bind.execute(
        sa.text("UPDATE filing_decisions SET action = 'deregistered' WHERE action = 'revoked'")
    )
    bind.execute(sa.text(f"DELETE FROM filing_decisions WHERE NOT {_in('action', OLD_ACTIONS)}"))
    with op.batch_alter_table("deregistration_requests", schema=None) as batch_op:
        batch_op.drop_index("uq_deregistration_requests_pending")
        batch_op.drop_index(batch_op.f("ix_deregistration_requests_institution_id"))
    op.drop_table("deregistration_requests")
    with op.batch_alter_table("follow_up_findings", schema=None) as batch_op:
        batch_op.drop_index("ix_follow_up_findings_found")
        batch_op.drop_index(batch_op.f("ix_follow_up_findings_institution_id"))
    op.drop_table("follow_up_findings")
    _replace_check("filing_decisions", "action_valid", _in("action", OLD_ACTIONS))
    _replace_check("filing_events", "event_type_valid", _in("event_type", OLD_EVENT_TYPES))
