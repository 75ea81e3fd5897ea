"""Children and their consents record in which capacity the account consented.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

CAPACITIES = "('guardian', 'family_member')"


def _capacity_column(name: str) -> sa.Column:
    return sa.Column(
        name,
        sa.Enum("guardian", "family_member", name="consentcapacity", native_enum=False, length=24),
        nullable=False,
        server_default="guardian",
    )


def upgrade():
    with op.batch_alter_table("children", schema=None) as batch_op:
        batch_op.add_column(_capacity_column("consent_capacity"))
        batch_op.create_check_constraint(
            "consent_capacity_valid", f"consent_capacity IN {CAPACITIES}"
        )
    with op.batch_alter_table("guardian_consents", schema=None) as batch_op:
        batch_op.add_column(_capacity_column("capacity"))
        batch_op.create_check_constraint("capacity_valid", f"capacity IN {CAPACITIES}")


def downgrade():
    with op.batch_alter_table("guardian_consents", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_guardian_consents_capacity_valid"), type_="check")
        batch_op.drop_column("capacity")
    with op.batch_alter_table("children", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_children_consent_capacity_valid"), type_="check")
        batch_op.drop_column("consent_capacity")
