"""care sessions (上午/下午) of hourly and temporary care, their slots, and what to bring

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 17:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "care_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("care_class_id", sa.Integer(), nullable=False),
        sa.Column("care_type", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("starts_at", sa.Time(), nullable=False),
        sa.Column("ends_at", sa.Time(), nullable=False),
        sa.CheckConstraint(
            "care_type IN ('hourly', 'temporary')", name=op.f("ck_care_sessions_care_type_valid")
        ),
        sa.CheckConstraint("starts_at < ends_at", name=op.f("ck_care_sessions_times_valid")),
        sa.ForeignKeyConstraint(
            ["care_class_id"],
            ["care_classes.id"],
            name=op.f("fk_care_sessions_care_class_id_care_classes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_care_sessions_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_sessions")),
        sa.UniqueConstraint(
            "care_class_id", "care_type", "name", name=op.f("uq_care_sessions_name")
        ),
        sa.UniqueConstraint(
            "care_class_id",
            "care_type",
            "starts_at",
            "ends_at",
            name=op.f("uq_care_sessions_hours"),
        ),
    )
    op.create_index(op.f("ix_care_sessions_institution_id"), "care_sessions", ["institution_id"])
    with op.batch_alter_table("slots") as batch_op:
        batch_op.add_column(sa.Column("session_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("session_name", sa.String(length=40), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_slots_session_id_care_sessions"),
            "care_sessions",
            ["session_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(batch_op.f("ix_slots_session_id"), ["session_id"])
    with op.batch_alter_table("institutions") as batch_op:
        batch_op.add_column(
            sa.Column("what_to_bring", sa.Text(), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("what_to_bring_en", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("institutions") as batch_op:
        batch_op.drop_column("what_to_bring_en")
        batch_op.drop_column("what_to_bring")
    with op.batch_alter_table("slots") as batch_op:
        batch_op.drop_index(batch_op.f("ix_slots_session_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_slots_session_id_care_sessions"), type_="foreignkey"
        )
        batch_op.drop_column("session_name")
        batch_op.drop_column("session_id")
    op.drop_index(op.f("ix_care_sessions_institution_id"), table_name="care_sessions")
    op.drop_table("care_sessions")
