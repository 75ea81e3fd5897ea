"""shortlists: institutions a signed-in parent starred to compare

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 18:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "shortlist_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_shortlist_entries_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_shortlist_entries_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shortlist_entries")),
        sa.UniqueConstraint("user_id", "institution_id", name=op.f("uq_shortlist_entries_user_id")),
    )
    with op.batch_alter_table("shortlist_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_shortlist_entries_institution_id"), ["institution_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_shortlist_entries_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("shortlist_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shortlist_entries_user_id"))
        batch_op.drop_index(batch_op.f("ix_shortlist_entries_institution_id"))
    op.drop_table("shortlist_entries")
