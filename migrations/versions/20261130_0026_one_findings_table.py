"""One findings table for inspection findings and filing follow-up findings.

Both kinds were a finding with a deadline, the institution's answer and the bureau's closing;
``findings`` holds them with their ``source``. An inspection finding takes its institution, its
day (``found_on``) and who recorded it from its inspection, and ``closed`` becomes
``put_right``; a follow-up finding's ``finding`` and ``put_right_by`` become ``description`` and
``due_on``. The downgrade splits them back.

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-30

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

CHECKLIST_ITEMS = (
    "safety",
    "fire",
    "food",
    "cctv",
    "staff_certificates",
    "staff_health",
    "ratios",
    "daily_checks",
    "pick_up",
    "drills",
)
SOURCES = ("inspection", "follow_up")
FINDING_STATUSES = ("open", "answered", "put_right", "not_put_right")
INSPECTION_FINDING_STATUSES = ("open", "answered", "closed")


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def _enum(name: str, values) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=24)


def _user(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], ["users.id"], name=op.f(f"fk_{table}_{column}_users"))


def _create_findings() -> None:
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", _enum("findingsource", SOURCES), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=True),
        sa.Column("item", _enum("checklistitem", CHECKLIST_ITEMS), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("found_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", _enum("findingstatus", FINDING_STATUSES), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("closing_note", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(_in("source", SOURCES), name=op.f("ck_findings_source_valid")),
        sa.CheckConstraint(_in("status", FINDING_STATUSES), name=op.f("ck_findings_status_valid")),
        sa.CheckConstraint(_in("item", CHECKLIST_ITEMS), name=op.f("ck_findings_item_valid")),
        sa.CheckConstraint(
            "source <> 'inspection' OR (inspection_id IS NOT NULL AND item IS NOT NULL)",
            name=op.f("ck_findings_inspection_has_item"),
        ),
        sa.CheckConstraint(
            "source <> 'inspection' OR status <> 'not_put_right'",
            name=op.f("ck_findings_inspection_closed_as_put_right"),
        ),
        sa.CheckConstraint("due_on >= found_on", name=op.f("ck_findings_deadline_after_finding")),
        sa.CheckConstraint(
            "status NOT IN ('put_right', 'not_put_right') OR closed_on IS NOT NULL",
            name=op.f("ck_findings_closed_has_date"),
        ),
        sa.CheckConstraint(
            "status <> 'answered' OR answered_at IS NOT NULL",
            name=op.f("ck_findings_answered_has_time"),
        ),
        _user("findings", "answered_by_id"),
        _user("findings", "closed_by_id"),
        _user("findings", "recorded_by_id"),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspections.id"],
            name=op.f("fk_findings_inspection_id_inspections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_findings_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
    )
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_findings_institution_id"), ["institution_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_findings_inspection_id"), ["inspection_id"], unique=False
        )
        batch_op.create_index("ix_findings_status_due", ["status", "due_on"], unique=False)
        batch_op.create_index("ix_findings_found", ["found_on", "id"], unique=False)


def _create_inspection_findings() -> None:
    """``inspection_findings`` as revision 0023 made it."""
    op.create_table(
        "inspection_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("item", _enum("checklistitem", CHECKLIST_ITEMS), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", _enum("findingstatus", INSPECTION_FINDING_STATUSES), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            _in("item", CHECKLIST_ITEMS), name=op.f("ck_inspection_findings_item_valid")
        ),
        sa.CheckConstraint(
            "status <> 'answered' OR answered_at IS NOT NULL",
            name=op.f("ck_inspection_findings_answered_has_time"),
        ),
        sa.CheckConstraint(
            "status <> 'closed' OR closed_on IS NOT NULL",
            name=op.f("ck_inspection_findings_closed_has_date"),
        ),
        sa.CheckConstraint(
            _in("status", INSPECTION_FINDING_STATUSES),
            name=op.f("ck_inspection_findings_status_valid"),
        ),
        _user("inspection_findings", "answered_by_id"),
        _user("inspection_findings", "closed_by_id"),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspections.id"],
            name=op.f("fk_inspection_findings_inspection_id_inspections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_findings")),
    )
    with op.batch_alter_table("inspection_findings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inspection_findings_inspection_id"), ["inspection_id"], unique=False
        )
        batch_op.create_index(
            "ix_inspection_findings_status_due", ["status", "due_on"], unique=False
        )


def _create_follow_up_findings() -> None:
    """``follow_up_findings`` as revision 0019 made it."""
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
        _user("follow_up_findings", "recorded_by_id"),
        _user("follow_up_findings", "closed_by_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up_findings")),
    )
    with op.batch_alter_table("follow_up_findings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_follow_up_findings_institution_id"), ["institution_id"], unique=False
        )
        batch_op.create_index("ix_follow_up_findings_found", ["found_on", "id"], unique=False)


# An inspection finding was found on its inspection's day; a deadline never precedes it.
COPY_INSPECTION_FINDINGS = """
INSERT INTO findings (
    source, institution_id, inspection_id, item, description, found_on, due_on, status,
    answer, answered_at, answered_by_id, closed_on, closed_by_id, closing_note,
    recorded_by_id, recorded_at)
SELECT 'inspection', i.institution_id, f.inspection_id, f.item, f.description,
    CASE WHEN i.inspected_on IS NULL OR i.inspected_on > f.due_on THEN f.due_on
        ELSE i.inspected_on END,
    f.due_on,
    CASE WHEN f.status = 'closed' THEN 'put_right' ELSE f.status END,
    f.answer, f.answered_at, f.answered_by_id, f.closed_on, f.closed_by_id, '',
    i.recorded_by_id, COALESCE(i.recorded_at, i.created_at)
FROM inspection_findings f JOIN inspections i ON i.id = f.inspection_id
ORDER BY f.id
"""

COPY_FOLLOW_UP_FINDINGS = """
INSERT INTO findings (
    source, institution_id, description, found_on, due_on, status,
    answer, answered_at, closed_on, closed_by_id, closing_note, recorded_by_id, recorded_at)
SELECT 'follow_up', institution_id, finding, found_on, put_right_by, status,
    answer, answered_at, closed_on, closed_by_id, closing_note, recorded_by_id, recorded_at
FROM follow_up_findings
ORDER BY id
"""

RESTORE_INSPECTION_FINDINGS = """
INSERT INTO inspection_findings (
    inspection_id, item, description, due_on, status,
    answer, answered_at, answered_by_id, closed_on, closed_by_id)
SELECT inspection_id, item, description, due_on,
    CASE WHEN status = 'put_right' THEN 'closed' ELSE status END,
    answer, answered_at, answered_by_id, closed_on, closed_by_id
FROM findings WHERE source = 'inspection'
ORDER BY id
"""

RESTORE_FOLLOW_UP_FINDINGS = """
INSERT INTO follow_up_findings (
    institution_id, status, found_on, finding, put_right_by, recorded_by_id, recorded_at,
    answer, answered_at, closed_by_id, closed_on, closing_note)
SELECT institution_id, status, found_on, description, due_on, recorded_by_id, recorded_at,
    answer, answered_at, closed_by_id, closed_on, closing_note
FROM findings WHERE source = 'follow_up'
ORDER BY id
"""


def _drop(table: str, *indexes: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for index in indexes:
            batch_op.drop_index(index)
    op.drop_table(table)


def upgrade():
    _create_findings()
    bind = op.get_bind()
    bind.execute(sa.text(COPY_INSPECTION_FINDINGS))
    bind.execute(sa.text(COPY_FOLLOW_UP_FINDINGS))
    _drop(
        "inspection_findings",
        "ix_inspection_findings_inspection_id",
        "ix_inspection_findings_status_due",
    )
    _drop(
        "follow_up_findings", "ix_follow_up_findings_found", "ix_follow_up_findings_institution_id"
    )


def downgrade():
    _create_inspection_findings()
    _create_follow_up_findings()
    bind = op.get_bind()
    bind.execute(sa.text(RESTORE_INSPECTION_FINDINGS))
    bind.execute(sa.text(RESTORE_FOLLOW_UP_FINDINGS))
    _drop(
        "findings",
        "ix_findings_status_due",
        "ix_findings_institution_id",
        "ix_findings_inspection_id",
        "ix_findings_found",
    )
