"""family members: a guardian invites another parent account by mobile number to book for
their children; each booking keeps who booked, in which capacity they consented, and who
cancelled (existing bookings were booked and cancelled by their guardian)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 17:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

OPEN = "status IN ('pending', 'accepted')"


def upgrade():
    op.create_table(
        "family_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guardian_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "accepted",
                "declined",
                "revoked",
                name="invitationstatus",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'accepted', 'declined', 'revoked')",
            name=op.f("ck_family_members_status_valid"),
        ),
        sa.CheckConstraint(
            "status <> 'accepted' OR member_id IS NOT NULL",
            name=op.f("ck_family_members_accepted_has_member"),
        ),
        sa.CheckConstraint(
            "member_id IS NULL OR member_id <> guardian_id",
            name=op.f("ck_family_members_member_not_guardian"),
        ),
        sa.ForeignKeyConstraint(
            ["guardian_id"],
            ["users.id"],
            name=op.f("fk_family_members_guardian_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["users.id"],
            name=op.f("fk_family_members_member_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_family_members")),
    )
    with op.batch_alter_table("family_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_family_members_guardian_id"), ["guardian_id"], unique=False
        )
        batch_op.create_index(
            "ix_family_members_member_status", ["member_id", "status"], unique=False
        )
        batch_op.create_index("ix_family_members_phone_status", ["phone", "status"], unique=False)
        batch_op.create_index(
            "uq_family_members_open_phone",
            ["guardian_id", "phone"],
            unique=True,
            sqlite_where=sa.text(OPEN),
            postgresql_where=sa.text(OPEN),
        )

    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("booked_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "consent_capacity",
                sa.Enum(
                    "guardian",
                    "family_member",
                    name="consentcapacity",
                    native_enum=False,
                    length=24,
                ),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("cancelled_by_id", sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            "consent_capacity_valid", "consent_capacity IN ('guardian', 'family_member')"
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_bookings_booked_by_id_users"),
            "users",
            ["booked_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_bookings_cancelled_by_id_users"),
            "users",
            ["cancelled_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.execute("UPDATE bookings SET booked_by_id = parent_id, consent_capacity = 'guardian'")
    op.execute("UPDATE bookings SET cancelled_by_id = parent_id WHERE status = 'cancelled'")


def downgrade():
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_bookings_cancelled_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("fk_bookings_booked_by_id_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("ck_bookings_consent_capacity_valid"), type_="check")
        batch_op.drop_column("cancelled_by_id")
        batch_op.drop_column("consent_capacity")
        batch_op.drop_column("booked_by_id")

    with op.batch_alter_table("family_members", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_family_members_open_phone",
            sqlite_where=sa.text(OPEN),
            postgresql_where=sa.text(OPEN),
        )
        batch_op.drop_index("ix_family_members_phone_status")
        batch_op.drop_index("ix_family_members_member_status")
        batch_op.drop_index(batch_op.f("ix_family_members_guardian_id"))

    op.drop_table("family_members")
