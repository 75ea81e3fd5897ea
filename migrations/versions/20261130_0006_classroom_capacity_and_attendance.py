"""classroom capacity and attendance: class weekdays, attendance per child and day

Check-in and no-show stop being booking states: a standing place is attended every day, so
attendance is a row per booking and day. Existing checked-in and no-show bookings become
confirmed bookings with an attendance row on their slot's date.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 11:20:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OLD_STATUSES = (
    "applied",
    "confirmed",
    "checked_in",
    "no_show",
    "declined",
    "cancelled",
    "cancelled_by_institution",
)
NEW_STATUSES = ("applied", "confirmed", "declined", "cancelled", "cancelled_by_institution")
OLD_ACTIVE = "status IN ('applied', 'confirmed', 'checked_in')"
NEW_ACTIVE = "status IN ('applied', 'confirmed')"


def _status_check(statuses) -> str:
    return "status IN (" + ", ".join(f"'{status}'" for status in statuses) + ")"


def _create_attendances() -> None:
    op.create_table(
        "attendances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_attendances_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendances")),
        sa.UniqueConstraint("booking_id", "on_date", name="uq_attendances_booking_day"),
    )
    with op.batch_alter_table("attendances", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attendances_on_date"), ["on_date"], unique=False)


def _create_holding_table() -> None:
    """Attendance kept aside while ``bookings`` is rebuilt: on SQLite the rebuild drops the
    old table, which would cascade into rows that point at it."""
    op.create_table(
        "attendances_0006",
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )


def upgrade():
    with op.batch_alter_table("care_classes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("weekdays", sa.String(length=7), nullable=False, server_default="12345")
        )

    _create_holding_table()
    op.execute(
        "INSERT INTO attendances_0006 (booking_id, on_date, present, recorded_at)"
        " SELECT bookings.id, slots.on_date, bookings.status = 'checked_in',"
        " COALESCE(bookings.checked_in_at, bookings.created_at)"
        " FROM bookings JOIN slots ON slots.id = bookings.slot_id"
        " WHERE bookings.status IN ('checked_in', 'no_show')"
    )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_bookings_active_child_slot",
            sqlite_where=sa.text(OLD_ACTIVE),
            postgresql_where=sa.text(OLD_ACTIVE),
        )
    # A child that missed a place and then booked the same slot again keeps the later
    # booking; the missed one ends (its attendance row remembers the absence).
    op.execute(
        "UPDATE bookings SET status = 'cancelled' WHERE status = 'no_show' AND EXISTS ("
        " SELECT 1 FROM bookings AS later WHERE later.child_id = bookings.child_id"
        " AND later.slot_id = bookings.slot_id AND later.id <> bookings.id"
        " AND later.status IN ('applied', 'confirmed', 'checked_in'))"
    )
    op.execute("UPDATE bookings SET status = 'confirmed' WHERE status IN ('checked_in', 'no_show')")
    # Places taken are again what holds them: active bookings and open offers.
    op.execute(
        "UPDATE inventories SET taken = ("
        " SELECT COUNT(*) FROM bookings JOIN slots ON slots.id = bookings.slot_id"
        " WHERE slots.inventory_id = inventories.id"
        " AND bookings.status IN ('applied', 'confirmed'))"
        " + (SELECT COUNT(*) FROM waitlist_entries"
        " WHERE waitlist_entries.inventory_id = inventories.id"
        " AND waitlist_entries.status = 'offered')"
        " WHERE inventories.id IN (SELECT inventory_id FROM slots)"
    )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_bookings_status_valid"), type_="check")
        batch_op.create_check_constraint("status_valid", _status_check(NEW_STATUSES))
        batch_op.drop_column("checked_in_at")
        batch_op.create_index(
            "uq_bookings_active_child_slot",
            ["child_id", "slot_id"],
            unique=True,
            sqlite_where=sa.text(NEW_ACTIVE),
            postgresql_where=sa.text(NEW_ACTIVE),
        )

    _create_attendances()
    op.execute(
        "INSERT INTO attendances (booking_id, on_date, present, recorded_at)"
        " SELECT booking_id, on_date, present, recorded_at FROM attendances_0006"
    )
    op.drop_table("attendances_0006")


def downgrade():
    _create_holding_table()
    op.execute(
        "INSERT INTO attendances_0006 (booking_id, on_date, present, recorded_at)"
        " SELECT booking_id, on_date, present, recorded_at FROM attendances"
    )
    with op.batch_alter_table("attendances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attendances_on_date"))
    op.drop_table("attendances")

    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_bookings_active_child_slot",
            sqlite_where=sa.text(NEW_ACTIVE),
            postgresql_where=sa.text(NEW_ACTIVE),
        )
        batch_op.add_column(sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(batch_op.f("ck_bookings_status_valid"), type_="check")
        batch_op.create_check_constraint("status_valid", _status_check(OLD_STATUSES))
    # A dated booking's attendance on its day becomes its state again.
    op.execute(
        "UPDATE bookings SET"
        " status = (SELECT CASE WHEN a.present THEN 'checked_in' ELSE 'no_show' END"
        " FROM attendances_0006 a JOIN slots s ON s.on_date = a.on_date"
        " WHERE a.booking_id = bookings.id AND s.id = bookings.slot_id),"
        " checked_in_at = (SELECT CASE WHEN a.present THEN a.recorded_at END"
        " FROM attendances_0006 a JOIN slots s ON s.on_date = a.on_date"
        " WHERE a.booking_id = bookings.id AND s.id = bookings.slot_id)"
        " WHERE status = 'confirmed' AND EXISTS (SELECT 1 FROM attendances_0006 a"
        " JOIN slots s ON s.on_date = a.on_date"
        " WHERE a.booking_id = bookings.id AND s.id = bookings.slot_id)"
    )
    op.drop_table("attendances_0006")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.create_index(
            "uq_bookings_active_child_slot",
            ["child_id", "slot_id"],
            unique=True,
            sqlite_where=sa.text(OLD_ACTIVE),
            postgresql_where=sa.text(OLD_ACTIVE),
        )
    # Not rebuilt on SQLite: dropping the old table would cascade to slots and bookings.
    with op.batch_alter_table("care_classes", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("weekdays")
