"""locations and communities: a region's box that institutions' locations must lie in, and
the communities and villages (社区/村) parents may measure distances from

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 18:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

BOUNDS = ("min_latitude", "max_latitude", "min_longitude", "max_longitude")


def upgrade() -> None:
    with op.batch_alter_table("regions", schema=None) as batch_op:
        for name in BOUNDS:
            batch_op.add_column(sa.Column(name, sa.Numeric(9, 6), nullable=True))
    op.create_table(
        "communities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("township_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=96), nullable=True),
        sa.Column(
            "kind",
            sa.Enum("community", "village", name="communitykind", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("latitude", sa.Numeric(9, 6), nullable=False),
        sa.Column("longitude", sa.Numeric(9, 6), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("is_demo", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('community', 'village')", name=op.f("ck_communities_kind_valid")
        ),
        sa.CheckConstraint(
            "latitude BETWEEN -90 AND 90", name=op.f("ck_communities_latitude_valid")
        ),
        sa.CheckConstraint(
            "longitude BETWEEN -180 AND 180", name=op.f("ck_communities_longitude_valid")
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_communities_region_id_regions")
        ),
        sa.ForeignKeyConstraint(
            ["township_id"], ["townships.id"], name=op.f("fk_communities_township_id_townships")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_communities")),
        sa.UniqueConstraint("code", name=op.f("uq_communities_code")),
    )
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_communities_township_id"), ["township_id"], unique=False
        )
        batch_op.create_index(
            "ix_communities_region_position",
            ["region_id", "township_id", "position"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.drop_index("ix_communities_region_position")
        batch_op.drop_index(batch_op.f("ix_communities_township_id"))
    op.drop_table("communities")
    with op.batch_alter_table("regions", schema=None) as batch_op:
        for name in reversed(BOUNDS):
            batch_op.drop_column(name)
