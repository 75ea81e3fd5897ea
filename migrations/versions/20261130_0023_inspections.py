"""inspections: random inspection draws, inspections, their checklist, findings and inspectors

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-30 19:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "inspection_draws",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("team_size", sa.Integer(), nullable=False),
        sa.Column("drawn_on", sa.Date(), nullable=False),
        sa.Column("pool", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("drawn_by_id", sa.Integer(), nullable=False),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("size > 0", name=op.f("ck_inspection_draws_size_positive")),
        sa.CheckConstraint("team_size >= 2", name=op.f("ck_inspection_draws_team_of_two_or_more")),
        sa.ForeignKeyConstraint(
            ["drawn_by_id"], ["users.id"], name=op.f("fk_inspection_draws_drawn_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_draws")),
    )
    with op.batch_alter_table("inspection_draws", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inspection_draws_drawn_by_id"), ["drawn_by_id"], unique=False
        )

    op.create_table(
        "inspections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("draw_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("planned", "recorded", name="inspectionstatus", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("inspected_on", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status <> 'recorded' OR (inspected_on IS NOT NULL AND recorded_at IS NOT NULL)",
            name=op.f("ck_inspections_recorded_has_date"),
        ),
        sa.CheckConstraint(
            "status IN ('planned', 'recorded')", name=op.f("ck_inspections_status_valid")
        ),
        sa.ForeignKeyConstraint(
            ["draw_id"],
            ["inspection_draws.id"],
            name=op.f("fk_inspections_draw_id_inspection_draws"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_inspections_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_inspections_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspections")),
    )
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inspections_draw_id"), ["draw_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_inspections_institution_id"), ["institution_id"], unique=False
        )
        batch_op.create_index(
            "ix_inspections_institution_inspected", ["institution_id", "inspected_on"], unique=False
        )
        batch_op.create_index(
            "ix_inspections_one_planned",
            ["institution_id"],
            unique=True,
            sqlite_where=sa.text("status = 'planned'"),
            postgresql_where=sa.text("status = 'planned'"),
        )

    op.create_table(
        "inspection_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column(
            "item",
            sa.Enum(
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
                name="checklistitem",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open", "answered", "closed", name="findingstatus", native_enum=False, length=24
            ),
            nullable=False,
        ),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "item IN ('safety', 'fire', 'food', 'cctv', 'staff_certificates', 'staff_health', 'ratios', 'daily_checks', 'pick_up', 'drills')",
            name=op.f("ck_inspection_findings_item_valid"),
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
            "status IN ('open', 'answered', 'closed')",
            name=op.f("ck_inspection_findings_status_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["answered_by_id"],
            ["users.id"],
            name=op.f("fk_inspection_findings_answered_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["users.id"], name=op.f("fk_inspection_findings_closed_by_id_users")
        ),
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

    op.create_table(
        "inspection_inspectors",
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspections.id"],
            name=op.f("fk_inspection_inspectors_inspection_id_inspections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_inspection_inspectors_user_id_users")
        ),
        sa.PrimaryKeyConstraint("inspection_id", "user_id", name=op.f("pk_inspection_inspectors")),
    )
    with op.batch_alter_table("inspection_inspectors", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inspection_inspectors_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "inspection_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column(
            "item",
            sa.Enum(
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
                name="checklistitem",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column(
            "result",
            sa.Enum(
                "passed",
                "failed",
                "not_applicable",
                name="itemresult",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.CheckConstraint(
            "item IN ('safety', 'fire', 'food', 'cctv', 'staff_certificates', 'staff_health', 'ratios', 'daily_checks', 'pick_up', 'drills')",
            name=op.f("ck_inspection_results_item_valid"),
        ),
        sa.CheckConstraint(
            "result IN ('passed', 'failed', 'not_applicable')",
            name=op.f("ck_inspection_results_result_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspections.id"],
            name=op.f("fk_inspection_results_inspection_id_inspections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_results")),
        sa.UniqueConstraint(
            "inspection_id", "item", name=op.f("uq_inspection_results_inspection_id")
        ),
    )


def downgrade():
    op.drop_table("inspection_results")
    with op.batch_alter_table("inspection_inspectors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspection_inspectors_user_id"))

    op.drop_table("inspection_inspectors")
    with op.batch_alter_table("inspection_findings", schema=None) as batch_op:
        batch_op.drop_index("ix_inspection_findings_status_due")
        batch_op.drop_index(batch_op.f("ix_inspection_findings_inspection_id"))

    op.drop_table("inspection_findings")
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_inspections_one_planned",
            sqlite_where=sa.text("status = 'planned'"),
            postgresql_where=sa.text("status = 'planned'"),
        )
        batch_op.drop_index("ix_inspections_institution_inspected")
        batch_op.drop_index(batch_op.f("ix_inspections_institution_id"))
        batch_op.drop_index(batch_op.f("ix_inspections_draw_id"))

    op.drop_table("inspections")
    with op.batch_alter_table("inspection_draws", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspection_draws_drawn_by_id"))

    op.drop_table("inspection_draws")
