"""Each search term keeps its institution's place in the public order.

``institution_search_terms`` gains the institution's ``is_demonstration`` and ``name`` and an
index on ``gram`` then the public order (demonstration first, name, id): a page of a text search
walks its rarest gram's holders in that order and stops after the page, where it read every
holder and sorted them (4,000-6,000 rows at 126,000 institutions for a text many names hold).
Both columns are filled from the institutions.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-01

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

INDEX = "ix_institution_search_terms_in_list_order"


def upgrade():
    op.add_column(
        "institution_search_terms",
        sa.Column("is_demonstration", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "institution_search_terms",
        sa.Column("name", sa.String(length=120), server_default="", nullable=False),
    )
    terms = sa.table(
        "institution_search_terms",
        sa.column("institution_id", sa.Integer),
        sa.column("is_demonstration", sa.Boolean),
        sa.column("name", sa.String),
    )
    institutions = sa.table(
        "institutions",
        sa.column("id", sa.Integer),
        sa.column("is_demonstration", sa.Boolean),
        sa.column("name", sa.String),
    )
    own = institutions.c.id == terms.c.institution_id
    op.execute(
        terms.update().values(
            is_demonstration=sa.select(institutions.c.is_demonstration)
            .where(own)
            .scalar_subquery(),
            name=sa.select(institutions.c.name).where(own).scalar_subquery(),
        )
    )
    op.create_index(
        INDEX,
        "institution_search_terms",
        ["gram", sa.text("is_demonstration DESC"), "name", "institution_id"],
    )


def downgrade():
    op.drop_index(INDEX, table_name="institution_search_terms")
    with op.batch_alter_table("institution_search_terms") as batch_op:
        batch_op.drop_column("name")
        batch_op.drop_column("is_demonstration")
