"""near me: an index for a bounding box on filed institutions' coordinates, and township
centres to search near without the phone's position

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 18:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_institutions_location", "institutions", ["status", "latitude", "longitude"])
    with op.batch_alter_table("townships") as batch:
        batch.add_column(sa.Column("latitude", sa.Numeric(9, 6), nullable=True))
        batch.add_column(sa.Column("longitude", sa.Numeric(9, 6), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("townships") as batch:
        batch.drop_column("longitude")
        batch.drop_column("latitude")
    op.drop_index("ix_institutions_location", table_name="institutions")
