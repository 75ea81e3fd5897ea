"""A demonstration designation's revocation records who revoked it and when.

``demonstration_designations`` gains ``revoked_by_id`` and ``revoked_at``, so that the audit
log lists revocations beside designations. Revocations made before this migration have
neither, and stay out of the log.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-01

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("demonstration_designations") as batch_op:
        batch_op.add_column(sa.Column("revoked_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_demonstration_designations_revoked_by_id_users"),
            "users",
            ["revoked_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("demonstration_designations") as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_demonstration_designations_revoked_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("revoked_at")
        batch_op.drop_column("revoked_by_id")
