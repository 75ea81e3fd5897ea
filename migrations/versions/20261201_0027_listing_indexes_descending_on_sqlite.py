"""The list order's indexes sort demonstration institutions first again on SQLite.

Migration 0009 made the listing indexes ``is_demonstration DESC, name, id``, the public list
order, so that a page is read from the index. On SQLite, later migrations that alter the
``institutions`` table in batch mode rebuilt its indexes from reflection, which leaves the
order out: the indexes became ascending, and every list sorted the whole register (page 50 of
10,000 took 75-100 ms). They are rebuilt here as 0009 made them. PostgreSQL kept them.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-01

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

#: Each listing index and the columns before the list order.
LISTING_INDEXES = {
    "ix_institutions_listing": ("status",),
    "ix_institutions_township_listing": ("status", "township_id"),
    "ix_institutions_nature_listing": ("status", "nature"),
}
LIST_ORDER = (sa.text("is_demonstration DESC"), "name", "id")


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for name, leading in LISTING_INDEXES.items():
        op.drop_index(name, table_name="institutions")
        op.create_index(name, "institutions", [*leading, *LIST_ORDER])


def downgrade():
    # The descending order is what 0009 meant on every database: nothing to undo.
    pass
