"""The staff register, the bureau's lifetime ban list (终身禁入) and filing document scans.

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-30 19:29:26.478702

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "lifetime_bans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("id_number_hash", sa.String(length=64), nullable=False),
        sa.Column("id_number_tail", sa.String(length=4), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_lifetime_bans_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lifetime_bans")),
        sa.UniqueConstraint("id_number_hash", name=op.f("uq_lifetime_bans_id_number_hash")),
    )
    op.create_table(
        "ban_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ban_id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("attempted_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["attempted_by_id"], ["users.id"], name=op.f("fk_ban_alerts_attempted_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["ban_id"],
            ["lifetime_bans.id"],
            name=op.f("fk_ban_alerts_ban_id_lifetime_bans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_ban_alerts_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ban_alerts")),
    )
    with op.batch_alter_table("ban_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ban_alerts_ban_id"), ["ban_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_ban_alerts_institution_id"), ["institution_id"], unique=False
        )

    op.create_table(
        "staff_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "caregiver",
                "infant_carer",
                "health_worker",
                "manager",
                "security",
                "cook",
                "other",
                name="staffrole",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("id_number_hash", sa.String(length=64), nullable=False),
        sa.Column("id_number_tail", sa.String(length=4), nullable=False),
        sa.Column(
            "certificate_type",
            sa.Enum(
                "childcare_worker",
                "infant_carer",
                "teacher",
                "health_professional",
                "health_training",
                "other",
                name="certificatetype",
                native_enum=False,
                length=24,
            ),
            nullable=True,
        ),
        sa.Column("certificate_number", sa.String(length=40), nullable=True),
        sa.Column("health_checked_on", sa.Date(), nullable=False),
        sa.Column("health_check_expires_on", sa.Date(), nullable=False),
        sa.Column("training_hours", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "certificate_type IS NULL OR certificate_type IN ('childcare_worker', 'infant_carer', 'teacher', 'health_professional', 'health_training', 'other')",
            name=op.f("ck_staff_members_certificate_type_valid"),
        ),
        sa.CheckConstraint(
            "role IN ('caregiver', 'infant_carer', 'health_worker', 'manager', 'security', 'cook', 'other')",
            name=op.f("ck_staff_members_role_valid"),
        ),
        sa.CheckConstraint(
            "(certificate_type IS NULL) = (certificate_number IS NULL)",
            name=op.f("ck_staff_members_certificate_complete"),
        ),
        sa.CheckConstraint(
            "health_check_expires_on > health_checked_on",
            name=op.f("ck_staff_members_health_expiry_after_check"),
        ),
        sa.CheckConstraint(
            "training_hours >= 0", name=op.f("ck_staff_members_training_hours_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_staff_members_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_members")),
        sa.UniqueConstraint(
            "institution_id", "id_number_hash", name=op.f("uq_staff_members_institution_id")
        ),
    )
    with op.batch_alter_table("staff_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_members_id_number_hash"), ["id_number_hash"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_staff_members_institution_id"), ["institution_id"], unique=False
        )

    op.create_table(
        "filing_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "registration",
                "premises_proof",
                "health_evaluation",
                "fire_acceptance",
                "food_licence",
                "staff_certificates",
                "staff_health",
                name="documentkind",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("original_name", sa.String(length=120), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("change_request_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "content_type IN ('application/pdf', 'image/jpeg', 'image/png')",
            name=op.f("ck_filing_documents_content_type_valid"),
        ),
        sa.CheckConstraint(
            "kind IN ('registration', 'premises_proof', 'health_evaluation', 'fire_acceptance', 'food_licence', 'staff_certificates', 'staff_health')",
            name=op.f("ck_filing_documents_kind_valid"),
        ),
        sa.CheckConstraint("size_bytes > 0", name=op.f("ck_filing_documents_size_positive")),
        sa.ForeignKeyConstraint(
            ["change_request_id"],
            ["change_requests.id"],
            name=op.f("fk_filing_documents_change_request_id_change_requests"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_filing_documents_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["users.id"], name=op.f("fk_filing_documents_uploaded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filing_documents")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_filing_documents_stored_name")),
    )
    with op.batch_alter_table("filing_documents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_filing_documents_institution_id"), ["institution_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("filing_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_filing_documents_institution_id"))

    op.drop_table("filing_documents")
    with op.batch_alter_table("staff_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_members_institution_id"))
        batch_op.drop_index(batch_op.f("ix_staff_members_id_number_hash"))

    op.drop_table("staff_members")
    with op.batch_alter_table("ban_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ban_alerts_institution_id"))
        batch_op.drop_index(batch_op.f("ix_ban_alerts_ban_id"))

    op.drop_table("ban_alerts")
    op.drop_table("lifetime_bans")
