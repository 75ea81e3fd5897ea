"""A place is taken and the row that holds it inserted together, or neither happens."""

from datetime import time, timedelta

import pytest
import sqlalchemy as sa
from places_desk import PlacesDesk

from careapp import clock
from careapp.database import run_in_transaction
from careapp.extensions import db
from careapp.models import Booking, BookingStatus, CareClass, CareType, Inventory, Slot
from careapp.services import capacity


@pytest.fixture
def one_place(app, user, institution):
    """A desk for families and the id of an hourly slot with a single place a week ahead."""
    institution_id = institution("一位托育中心", offers={CareType.HOURLY: (6, 36, 40)})
    day = clock.today() + timedelta(days=7)
    desk = PlacesDesk(app, user, clock.local_now(), born=day - timedelta(days=540))
    with app.app_context():
        class_id = db.session.scalar(
            sa.select(CareClass.id).where(CareClass.institution_id == institution_id)
        )
    return desk, desk.add_slot(class_id, CareType.HOURLY, day, (time(9), time(10)), 1)


def _take_for(app, family, slot_id: int, key: str) -> int | None:
    """Take the slot's place for the family's child; the new booking's id, or None."""

    def take() -> int | None:
        slot = db.session.get(Slot, slot_id)
        values = {
            "slot_id": slot_id,
            "child_id": family[1],
            "parent_id": family[0],
            "status": BookingStatus.CONFIRMED,
            "request_key": key,
            "created_at": clock.now(),
        }
        made = capacity.take_place_for(slot.inventory_id, Booking, values)
        return None if made is None else made.id

    with app.app_context():
        return run_in_transaction(take)


def _taken_and_bookings(app, slot_id: int) -> tuple[int, int]:
    with app.app_context():
        taken = db.session.scalar(
            sa.select(Inventory.taken)
            .join(Slot, Slot.inventory_id == Inventory.id)
            .where(Slot.id == slot_id)
        )
        booked = db.session.scalar(
            sa.select(sa.func.count(Booking.id)).where(Booking.slot_id == slot_id)
        )
        return taken, booked


def test_a_free_place_is_taken_with_the_row_that_holds_it(app, one_place):
    desk, slot_id = one_place

    booking_id = _take_for(app, desk.family(), slot_id, "first")

    assert booking_id is not None
    with app.app_context():
        assert db.session.get(Booking, booking_id).request_key == "first"
    assert _taken_and_bookings(app, slot_id) == (1, 1)


def test_no_row_is_inserted_when_no_place_is_free(app, one_place):
    desk, slot_id = one_place
    _take_for(app, desk.family(), slot_id, "first")

    assert _take_for(app, desk.family("李小华"), slot_id, "second") is None
    assert _taken_and_bookings(app, slot_id) == (1, 1)
