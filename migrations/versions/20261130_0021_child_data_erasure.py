"""Children record when their details were erased by the retention job.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("children", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_children_erased_at"), ["erased_at"], unique=False)


def downgrade():
    with op.batch_alter_table("children", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_children_erased_at"))
        batch_op.drop_column("erased_at")
