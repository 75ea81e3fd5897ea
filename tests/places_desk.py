"""The booking services by id, as requests call them: each call a transaction of its own,
refusals in English. Shared by the tests of places (classroom, races)."""

from datetime import date, datetime, time

import sqlalchemy as sa
from flask_babel import force_locale

from careapp.database import run_in_transaction
from careapp.extensions import db
from careapp.models import Booking, CareClass, CareType, Child, Inventory, Role, Slot, User
from careapp.services import booking

Family = tuple[int, int]


def first_class(app, institution_id: int) -> int:
    """The id of the institution's first class."""
    with app.app_context():
        return db.session.scalar(
            sa.select(CareClass.id)
            .where(CareClass.institution_id == institution_id)
            .order_by(CareClass.id)
        )


def places_taken(app, slot_id: int) -> int:
    """The places the slot's inventory counts as taken."""
    with app.app_context():
        return db.session.scalar(
            sa.select(Inventory.taken)
            .join(Slot, Slot.inventory_id == Inventory.id)
            .where(Slot.id == slot_id)
        )


class PlacesDesk:
    """Families, slots, bookings and lines made through the services, each step committed.

    ``now`` is the local time every action happens at; children are born on ``born``.
    """

    def __init__(self, app, user, now: datetime, born: date):
        self.app = app
        self.user = user
        self.now = now
        self.born = born

    def run(self, work):
        """Do ``work`` in a transaction of its own and return its result."""
        with self.app.app_context(), force_locale("en"):
            return run_in_transaction(work)

    def family(self, name: str = "张小明") -> Family:
        """A new parent with a consented child; ``(parent_id, child_id)``."""
        parent_id = self.user(Role.PARENT)
        return parent_id, self.add_child(parent_id, name)

    def add_child(self, parent_id: int, name: str) -> int:
        """A consented child of the parent, born on ``born``; its id."""
        return self.run(
            lambda: (
                booking.add_child(
                    db.session.get(User, parent_id),
                    name=name,
                    birth_date=self.born,
                    notes="",
                    consent=True,
                ).id
            )
        )

    def add_slot(
        self, class_id: int, care_type: CareType, day: date, hours: tuple[time, time], places
    ) -> int:
        """A new slot of a class; its id."""
        return self.run(
            lambda: (
                booking.add_slot(
                    db.session.get(CareClass, class_id),
                    care_type,
                    day,
                    *hours,
                    places,
                    self.now.date(),
                ).id
            )
        )

    def book(self, family: Family, slot_id: int) -> int:
        """Book (or apply for) a place; the booking's id."""
        parent_id, child_id = family
        return self.run(
            lambda: (
                booking.book(
                    db.session.get(User, parent_id),
                    child_id,
                    db.session.get(Slot, slot_id),
                    booking.new_request_key(),
                    self.now,
                ).id
            )
        )

    def join(self, family: Family, slot_id: int) -> int:
        """Join a full slot's line; the entry's id."""
        parent_id, child_id = family
        return self.run(
            lambda: (
                booking.join_waitlist(
                    db.session.get(User, parent_id),
                    db.session.get(Child, child_id),
                    db.session.get(Slot, slot_id),
                    self.now,
                ).id
            )
        )

    def cancel(self, family: Family, booking_id: int) -> None:
        """The parent cancels."""
        self.run(
            lambda: booking.cancel_by_parent(
                db.session.get(User, family[0]), db.session.get(Booking, booking_id), self.now
            )
        )

    def accept(self, booking_id: int) -> None:
        """The institution accepts an application."""
        self.run(
            lambda: booking.decide_application(
                db.session.get(Booking, booking_id), True, "", self.now
            )
        )
