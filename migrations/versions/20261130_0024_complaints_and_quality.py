"""Reports of a concern (投诉举报), quality assessments and demonstration designations.

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-30 19:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tracking_digest", sa.String(length=64), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=True),
        sa.Column("place_name", sa.String(length=120), nullable=True),
        sa.Column("place_address", sa.String(length=200), nullable=True),
        sa.Column("township_id", sa.Integer(), nullable=True),
        sa.Column(
            "category",
            sa.Enum(
                "child_safety",
                "unfiled_care",
                "hygiene_food",
                "premises",
                "staff",
                "fees",
                "other",
                name="reportcategory",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("is_urgent", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("contact", sa.String(length=254), nullable=True),
        sa.Column("reporter_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "received",
                "handling",
                "answered",
                "closed",
                name="reportstatus",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handled_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "category IN ('child_safety', 'unfiled_care', 'hygiene_food', 'premises', 'staff', 'fees', 'other')",
            name=op.f("ck_complaints_category_valid"),
        ),
        sa.CheckConstraint(
            "status IN ('received', 'handling', 'answered', 'closed')",
            name=op.f("ck_complaints_status_valid"),
        ),
        sa.CheckConstraint(
            "institution_id IS NOT NULL OR place_name IS NOT NULL",
            name=op.f("ck_complaints_names_a_place"),
        ),
        sa.ForeignKeyConstraint(
            ["handled_by_id"],
            ["users.id"],
            name=op.f("fk_complaints_handled_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_complaints_institution_id_institutions"),
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"],
            ["users.id"],
            name=op.f("fk_complaints_reporter_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["township_id"], ["townships.id"], name=op.f("fk_complaints_township_id_townships")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
        sa.UniqueConstraint("tracking_digest", name=op.f("uq_complaints_tracking_digest")),
    )
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_complaints_institution_id"), ["institution_id"], unique=False
        )
        batch_op.create_index(
            "ix_complaints_queue", ["status", "is_urgent", "due_on", "id"], unique=False
        )

    op.create_table(
        "demonstration_designations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("designated_on", sa.Date(), nullable=False),
        sa.Column("revoked_on", sa.Date(), nullable=True),
        sa.Column("revoke_reason", sa.String(length=500), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "revoked_on IS NULL OR revoked_on >= designated_on",
            name=op.f("ck_demonstration_designations_revoked_after_designated"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_demonstration_designations_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_demonstration_designations_recorded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_demonstration_designations")),
    )
    with op.batch_alter_table("demonstration_designations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_demonstration_designations_institution_id"),
            ["institution_id"],
            unique=False,
        )
        batch_op.create_index(
            "uq_demonstration_designations_standing",
            ["institution_id"],
            unique=True,
            sqlite_where=sa.text("revoked_on IS NULL"),
            postgresql_where=sa.text("revoked_on IS NULL"),
        )

    op.create_table(
        "quality_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column(
            "grade",
            sa.Enum(
                "excellent",
                "good",
                "qualified",
                "unqualified",
                name="qualitygrade",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("assessor", sa.String(length=120), nullable=False),
        sa.Column("standard", sa.String(length=200), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "grade IN ('excellent', 'good', 'qualified', 'unqualified')",
            name=op.f("ck_quality_assessments_grade_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_quality_assessments_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_quality_assessments_recorded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_assessments")),
    )
    with op.batch_alter_table("quality_assessments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_quality_assessments_latest", ["institution_id", "assessed_on", "id"], unique=False
        )

    with op.batch_alter_table("institutions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quality_grade", sa.String(length=24), nullable=True))
        batch_op.create_index(
            "ix_institutions_quality_listing",
            ["status", "quality_grade", sa.text("is_demonstration DESC"), "name", "id"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("institutions", schema=None) as batch_op:
        batch_op.drop_index("ix_institutions_quality_listing")
        batch_op.drop_column("quality_grade")

    with op.batch_alter_table("quality_assessments", schema=None) as batch_op:
        batch_op.drop_index("ix_quality_assessments_latest")

    op.drop_table("quality_assessments")
    with op.batch_alter_table("demonstration_designations", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_demonstration_designations_standing",
            sqlite_where=sa.text("revoked_on IS NULL"),
            postgresql_where=sa.text("revoked_on IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_demonstration_designations_institution_id"))

    op.drop_table("demonstration_designations")
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index("ix_complaints_queue")
        batch_op.drop_index(batch_op.f("ix_complaints_institution_id"))

    op.drop_table("complaints")
