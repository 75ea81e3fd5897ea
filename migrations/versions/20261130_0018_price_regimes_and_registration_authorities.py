"""The policies' own rules: price regimes beside the nature, the region's registration
authorities (no education bureau; 行政审批服务局 where a county has one), and the mixed-age
class ratio as a regional setting.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

NEW_AUTHORITIES = (
    "authority IN ('staffing_office', 'civil_affairs', 'market_regulation',"
    " 'administrative_approval')"
)
OLD_AUTHORITIES = (
    "authority IN ('staffing_office', 'civil_affairs', 'market_regulation', 'education')"
)
PRICE_REGIMES = (
    "price_regime IN ('government_guided', 'inclusive_kindergarten', 'inclusive_market',"
    " 'market_regulated')"
)
DEFAULT_AUTHORITY_CODES = "staffing_office,civil_affairs,market_regulation"
STANDARD_CLAUSES = {
    "infant": "capacity <= 10 AND capacity <= carers * 3",
    "toddler": "capacity <= 15 AND capacity <= carers * 5",
    "older_toddler": "capacity <= 20 AND capacity <= carers * 7",
    "home_group": "capacity <= 5 AND capacity <= carers * 3",
}
NEW_MIXED = "capacity <= 18"
OLD_MIXED = "capacity <= 18 AND capacity <= carers * 5"


def _standard(mixed: str) -> str:
    clauses = {**STANDARD_CLAUSES, "mixed": mixed}
    order = ("infant", "toddler", "older_toddler", "mixed", "home_group")
    return " OR ".join(f"(kind = '{kind}' AND {clauses[kind]})" for kind in order)


#: The authority a credit code's first character stands for.
AUTHORITY_BY_FIRST_CHARACTER = (
    ("1", "staffing_office"),
    ("5", "civil_affairs"),
    ("9", "market_regulation"),
)


def _authority_from_code(old: str) -> None:
    """Rows registered with ``old`` get the authority their credit code names."""
    for first, authority in AUTHORITY_BY_FIRST_CHARACTER:
        op.execute(
            sa.text(
                "UPDATE institutions SET authority = :authority"
                " WHERE authority = :old AND uscc LIKE :prefix"
            ).bindparams(authority=authority, old=old, prefix=f"{first}%")
        )
    op.execute(
        sa.text(
            "UPDATE institutions SET authority = 'civil_affairs' WHERE authority = :old"
        ).bindparams(old=old)
    )


def upgrade():
    with op.batch_alter_table("institutions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "price_regime",
                sa.Enum(
                    "government_guided",
                    "inclusive_kindergarten",
                    "inclusive_market",
                    "market_regulated",
                    name="priceregime",
                    native_enum=False,
                    length=24,
                ),
                nullable=False,
                server_default="market_regulated",
            )
        )
        batch_op.drop_constraint(batch_op.f("ck_institutions_authority_valid"), type_="check")
    # 003 item 10: public care is priced by 政府指导价, other 普惠 prices are formed in the
    # market; a kindergarten class or employer nursery of a public body (code 1…) is public.
    op.execute(
        "UPDATE institutions SET price_regime = 'government_guided'"
        " WHERE nature = 'public'"
        " OR (nature IN ('kindergarten_class', 'employer') AND uscc LIKE '1%')"
    )
    op.execute(
        "UPDATE institutions SET price_regime = 'inclusive_market' WHERE nature = 'inclusive'"
    )
    # The education bureau registers nobody: the kindergarten's own registrar does.
    _authority_from_code("education")
    with op.batch_alter_table("institutions", schema=None) as batch_op:
        batch_op.alter_column("price_regime", server_default=None)
        batch_op.create_check_constraint("authority_valid", NEW_AUTHORITIES)
        batch_op.create_check_constraint("price_regime_valid", PRICE_REGIMES)
    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "registration_authorities",
                sa.String(length=120),
                nullable=False,
                server_default=DEFAULT_AUTHORITY_CODES,
            )
        )
        batch_op.add_column(
            sa.Column(
                "mixed_class_children_per_carer",
                sa.Integer(),
                nullable=False,
                server_default="5",
            )
        )
        batch_op.create_check_constraint(
            "mixed_ratio_valid", "mixed_class_children_per_carer BETWEEN 1 AND 7"
        )
    with op.batch_alter_table("care_classes", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("ck_care_classes_within_national_standard"), type_="check"
        )
        batch_op.create_check_constraint("within_national_standard", _standard(NEW_MIXED))


def downgrade():
    # Mixed classes above one carer per 5 lose places back to the old fixed ratio.
    op.execute(
        "UPDATE care_classes SET capacity = carers * 5"
        " WHERE kind = 'mixed' AND capacity > carers * 5"
    )
    with op.batch_alter_table("care_classes", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("ck_care_classes_within_national_standard"), type_="check"
        )
        batch_op.create_check_constraint("within_national_standard", _standard(OLD_MIXED))
    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_regions_mixed_ratio_valid"), type_="check")
        batch_op.drop_column("mixed_class_children_per_carer")
        batch_op.drop_column("registration_authorities")
    with op.batch_alter_table("institutions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_institutions_price_regime_valid"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_institutions_authority_valid"), type_="check")
    _authority_from_code("administrative_approval")
    with op.batch_alter_table("institutions", schema=None) as batch_op:
        batch_op.create_check_constraint("authority_valid", OLD_AUTHORITIES)
        batch_op.drop_column("price_regime")
