"""mobile-number accounts and SMS: users may sign in by a verified mobile number (e-mail and
password optional for parents, still required for staff), SMS codes stored hashed, the
parent's choice of notice channel, and a channel on each outbox message

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 17:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone_verified_at", sa.DateTime(timezone=True)))
        batch_op.add_column(sa.Column("notice_channel", sa.String(length=24)))
        batch_op.alter_column("email", existing_type=sa.String(length=254), nullable=True)
        batch_op.alter_column("password_hash", existing_type=sa.String(length=255), nullable=True)
        batch_op.create_check_constraint(
            "notice_channel_valid", "notice_channel IN ('sms', 'email', 'both')"
        )
        batch_op.create_check_constraint(
            "staff_sign_in_by_password",
            "role = 'parent' OR (email IS NOT NULL AND password_hash IS NOT NULL)",
        )
        batch_op.create_check_constraint(
            "has_a_sign_in_name", "email IS NOT NULL OR phone_verified_at IS NOT NULL"
        )
        batch_op.create_index(
            "ix_users_verified_phone",
            ["phone"],
            unique=True,
            sqlite_where=sa.text("phone_verified_at IS NOT NULL"),
            postgresql_where=sa.text("phone_verified_at IS NOT NULL"),
        )

    op.create_table(
        "sms_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("purpose", sa.String(length=24), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "purpose IN ('sign_in', 'add_phone')", name=op.f("ck_sms_codes_purpose_valid")
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_sms_codes_attempts_not_negative")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sms_codes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_codes")),
    )
    with op.batch_alter_table("sms_codes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sms_codes_phone_purpose", ["phone", "purpose", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sms_codes_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("channel", sa.String(length=24), nullable=False, server_default="email")
        )
        batch_op.create_check_constraint("channel_valid", "channel IN ('email', 'sms')")


def downgrade():
    op.execute("DELETE FROM outbox_messages WHERE channel = 'sms'")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_outbox_messages_channel_valid"), type_="check")
        batch_op.drop_column("channel")

    with op.batch_alter_table("sms_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sms_codes_user_id"))
        batch_op.drop_index("ix_sms_codes_phone_purpose")
    op.drop_table("sms_codes")

    # Accounts without an e-mail address and password cannot exist before this revision.
    op.execute("DELETE FROM users WHERE email IS NULL OR password_hash IS NULL")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_verified_phone")
        batch_op.drop_constraint(batch_op.f("ck_users_has_a_sign_in_name"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_users_staff_sign_in_by_password"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_users_notice_channel_valid"), type_="check")
        batch_op.alter_column("password_hash", existing_type=sa.String(length=255), nullable=False)
        batch_op.alter_column("email", existing_type=sa.String(length=254), nullable=False)
        batch_op.drop_column("notice_channel")
        batch_op.drop_column("phone_verified_at")
