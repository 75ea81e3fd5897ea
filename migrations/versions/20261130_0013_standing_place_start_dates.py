"""standing place start dates: a family applying for a full-day or half-day place chooses
the day care starts (on or after the place's first day)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 17:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bookings") as batch:
        batch.add_column(sa.Column("starts_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bookings") as batch:
        batch.drop_column("starts_on")
