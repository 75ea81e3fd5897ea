"""Indicators: region targets, the registration authorities' list of operators, families with
children under 3 per township, and 乡 as a township kind of its own.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('subdistrict', 'town')"
NEW_KINDS = "kind IN ('subdistrict', 'town', 'township')"
AUTHORITIES = "authority IN ('staffing_office', 'civil_affairs', 'market_regulation', 'education')"
SHARES = (
    "covered_share",
    "applied_share",
    "guidance_share",
    "newborn_guidance_share",
    "certified_staff_share",
)


def _replace_kind_check(condition: str) -> None:
    with op.batch_alter_table("townships", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_townships_kind_valid"), type_="check")
        batch_op.create_check_constraint("kind_valid", condition)


def upgrade():
    _replace_kind_check(NEW_KINDS)
    # 乡 (and 民族乡) were stored as towns until now.
    op.execute("UPDATE townships SET kind = 'township' WHERE name LIKE '%乡'")
    op.create_table(
        "region_targets",
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("places_per_1000", sa.Numeric(4, 1), nullable=False),
        *(sa.Column(name, sa.Numeric(5, 4), nullable=True) for name in SHARES),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "places_per_1000 >= 0", name=op.f("ck_region_targets_places_not_negative")
        ),
        *(
            sa.CheckConstraint(
                f"{name} IS NULL OR {name} BETWEEN 0 AND 1",
                name=op.f(f"ck_region_targets_{name}_valid"),
            )
            for name in SHARES
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_region_targets_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("region_id", name=op.f("pk_region_targets")),
    )
    op.create_table(
        "registered_operators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column(
            "authority",
            sa.Enum(
                "staffing_office",
                "civil_affairs",
                "market_regulation",
                "education",
                name="authority",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(AUTHORITIES, name=op.f("ck_registered_operators_authority_valid")),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_registered_operators_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registered_operators")),
        sa.UniqueConstraint("region_id", "uscc", name=op.f("uq_registered_operators_region_id")),
    )
    op.create_index(
        op.f("ix_registered_operators_region_id"), "registered_operators", ["region_id"]
    )
    op.create_index(op.f("ix_registered_operators_uscc"), "registered_operators", ["uscc"])
    op.create_table(
        "township_families",
        sa.Column("township_id", sa.Integer(), nullable=False),
        sa.Column("families_under_3", sa.Integer(), nullable=False),
        sa.Column("newborn_families", sa.Integer(), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.CheckConstraint(
            "families_under_3 >= 0", name=op.f("ck_township_families_families_not_negative")
        ),
        sa.CheckConstraint(
            "newborn_families IS NULL OR newborn_families >= 0",
            name=op.f("ck_township_families_newborn_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["township_id"],
            ["townships.id"],
            name=op.f("fk_township_families_township_id_townships"),
        ),
        sa.PrimaryKeyConstraint("township_id", name=op.f("pk_township_families")),
    )


def downgrade():
    op.drop_table("township_families")
    op.drop_index(op.f("ix_registered_operators_uscc"), table_name="registered_operators")
    op.drop_index(op.f("ix_registered_operators_region_id"), table_name="registered_operators")
    op.drop_table("registered_operators")
    op.drop_table("region_targets")
    op.execute("UPDATE townships SET kind = 'town' WHERE kind = 'township'")
    _replace_kind_check(OLD_KINDS)
