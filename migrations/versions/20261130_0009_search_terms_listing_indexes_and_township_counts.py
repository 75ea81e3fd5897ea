"""searches that never scan: bigrams of filed institutions' texts and how many hold each,
indexes in the public order, and filed institutions and places kept per township

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 15:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

SEARCHED_COLUMNS = ("name", "name_en", "address", "address_en")


def _grams(values) -> set[str]:
    """The bigrams of each lower-cased text (the same as careapp.models.listing)."""
    grams: set[str] = set()
    for value in values:
        if value:
            text = value.lower()
            grams |= {text[i : i + 2] for i in range(len(text) - 1)}
    return grams


def upgrade():
    terms = op.create_table(
        "institution_search_terms",
        sa.Column("gram", sa.String(length=2), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_institution_search_terms_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("gram", "institution_id", name=op.f("pk_institution_search_terms")),
    )
    op.create_table(
        "search_grams",
        sa.Column("gram", sa.String(length=2), nullable=False),
        sa.Column("institutions", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("gram", name=op.f("pk_search_grams")),
    )
    op.create_index(
        op.f("ix_institution_search_terms_institution_id"),
        "institution_search_terms",
        ["institution_id"],
    )
    with op.batch_alter_table("townships") as batch_op:
        batch_op.add_column(
            sa.Column("listed_institutions", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("listed_places", sa.Integer(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("institutions") as batch_op:
        batch_op.drop_index("ix_institutions_status_township")
        batch_op.drop_index("ix_institutions_status_nature")
    listing = (sa.text("is_demonstration DESC"), "name", "id")
    op.create_index("ix_institutions_listing", "institutions", ["status", *listing])
    op.create_index(
        "ix_institutions_township_listing", "institutions", ["status", "township_id", *listing]
    )
    op.create_index(
        "ix_institutions_nature_listing", "institutions", ["status", "nature", *listing]
    )
    _fill(terms)


def _fill(terms: sa.Table) -> None:
    """Grams and township counts of the register as it stands."""
    connection = op.get_bind()
    filed = sa.text(
        f"SELECT id, {', '.join(SEARCHED_COLUMNS)} FROM institutions WHERE status = 'filed'"
    )
    rows = [
        {"gram": gram, "institution_id": row[0]}
        for row in connection.execute(filed)
        for gram in _grams(row[1:])
    ]
    if rows:
        op.bulk_insert(terms, rows)
    connection.execute(
        sa.text(
            "INSERT INTO search_grams (gram, institutions)"
            " SELECT gram, count(*) FROM institution_search_terms GROUP BY gram"
        )
    )
    connection.execute(
        sa.text(
            "UPDATE townships SET"
            " listed_institutions = (SELECT count(*) FROM institutions i"
            "  WHERE i.township_id = townships.id AND i.status = 'filed'),"
            " listed_places = (SELECT coalesce(sum(c.capacity), 0) FROM care_classes c"
            "  JOIN institutions i ON i.id = c.institution_id"
            "  WHERE i.township_id = townships.id AND i.status = 'filed')"
        )
    )


def downgrade():
    op.drop_index("ix_institutions_nature_listing", table_name="institutions")
    op.drop_index("ix_institutions_township_listing", table_name="institutions")
    op.drop_index("ix_institutions_listing", table_name="institutions")
    with op.batch_alter_table("institutions") as batch_op:
        batch_op.create_index("ix_institutions_status_nature", ["status", "nature"])
        batch_op.create_index("ix_institutions_status_township", ["status", "township_id"])
    with op.batch_alter_table("townships") as batch_op:
        batch_op.drop_column("listed_places")
        batch_op.drop_column("listed_institutions")
    op.drop_index(
        op.f("ix_institution_search_terms_institution_id"), table_name="institution_search_terms"
    )
    op.drop_table("search_grams")
    op.drop_table("institution_search_terms")
