"""cache versions: one row per public scope, bumped in the same transaction as a change to it,
so that cached public pages are invalidated exactly

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 14:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "cache_versions",
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_cache_versions")),
    )


def downgrade():
    op.drop_table("cache_versions")
