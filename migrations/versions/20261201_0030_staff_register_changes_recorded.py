"""Each change to an institution's staff register records who made it and when.

``staff_changes`` keeps one row per person added, changed or taken off a register: the
institution, the action, the ID number's last four characters, who and when. It has no
foreign key to ``staff_members``, so a removal stays in the audit log after the person's row
is gone. Changes made before this migration recorded nobody, and stay out of the log.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-01

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "staff_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column(
            "action",
            sa.Enum(
                "staff_added",
                "staff_edited",
                "staff_removed",
                name="staffchangekind",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("id_number_tail", sa.String(length=4), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "action IN ('staff_added', 'staff_edited', 'staff_removed')",
            name=op.f("ck_staff_changes_action_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_staff_changes_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_staff_changes_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_changes")),
    )
    with op.batch_alter_table("staff_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_changes_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index("ix_staff_changes_changed_at", ["changed_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_staff_changes_institution_id"), ["institution_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("staff_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_changes_institution_id"))
        batch_op.drop_index("ix_staff_changes_changed_at")
        batch_op.drop_index(batch_op.f("ix_staff_changes_actor_id"))
    op.drop_table("staff_changes")
