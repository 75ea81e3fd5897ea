"""Institutions publish a service telephone of their choice, apart from the contact telephone.

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30

The numbers published until now stay published, except the mobile of a home-based point (家庭
托育点), which is usually the operator's own: it waits until the point chooses to publish it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("institutions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_phone", sa.String(length=32), nullable=True))
    op.execute(
        "UPDATE institutions SET public_phone = phone"
        " WHERE nature <> 'home_based' OR phone LIKE '0%'"
    )


def downgrade():
    with op.batch_alter_table("institutions", schema=None) as batch_op:
        batch_op.drop_column("public_phone")
