"""Booking rules: cut-off, waitlist offers and expiry, age, overlap, ownership, applications,
slot capacity and cancellation, consent and masked names.

Each service call runs like a request: its own app context and one ``run_in_transaction``,
in English so refusals can be matched by their message. Times of care are naive local times
under our control; offers are held from the real clock, so expiry is tested relative to it.
"""

import contextlib
from datetime import date, datetime, time, timedelta
from html import unescape

import pytest
import sqlalchemy as sa
from babel.dates import format_skeleton
from flask_babel import force_locale

from careapp import clock
from careapp.database import run_in_transaction
from careapp.extensions import db
from careapp.models import (
    ACTIVE_BOOKING_STATUSES,
    CONSENT_POLICY_VERSION,
    Booking,
    BookingStatus,
    CareClass,
    CareType,
    Child,
    ClassKind,
    GuardianConsent,
    Inventory,
    OutboxMessage,
    Role,
    Slot,
    User,
    WaitlistEntry,
    WaitStatus,
)
from careapp.models.base import as_utc
from careapp.services import booking, capacity
from careapp.services.booking import BookingError, SlotFull
from careapp.services.privacy import given_name, mask_name
from tests.conftest import AuthActions

#: When parents book: local time, well before every slot.
NOW = datetime(2030, 3, 1, 8, 0)
#: The day of care of most slots (a Monday).
DAY = date(2030, 3, 11)
#: A child born on this day is 18 months old on ``DAY``.
BORN_18_MONTHS_BEFORE = date(2028, 9, 11)
ALL_OFFERS = {
    CareType.HOURLY: (6, 36, 30),
    CareType.TEMPORARY: (6, 36, 150),
    CareType.FULL_DAY: (12, 36, 2800),
    CareType.HALF_DAY: (12, 36, 1800),
}
#: Opening and closing of a slot of each care type.
HOURS = {
    CareType.HOURLY: (time(9), time(10)),
    CareType.TEMPORARY: (time(8), time(17, 30)),
    CareType.FULL_DAY: (time(8), time(17, 30)),
    CareType.HALF_DAY: (time(8), time(12)),
}
HOLDS = {
    CareType.HOURLY: timedelta(hours=12),
    CareType.TEMPORARY: timedelta(hours=12),
    CareType.FULL_DAY: timedelta(hours=48),
    CareType.HALF_DAY: timedelta(hours=48),
}


def months_before(day: date, months: int) -> date:
    """The birth date of a child exactly ``months`` months old on ``day``."""
    total = day.year * 12 + day.month - 1 - months
    return date(total // 12, total % 12 + 1, day.day)


class Desk:
    """The booking services by id, each call in its own app context and transaction."""

    def __init__(self, app):
        self.app = app

    def run(self, work):
        """Run ``work`` and commit, as one request would; refusals come in English."""
        with self.app.app_context(), force_locale("en"):
            return run_in_transaction(work)

    def read(self, work):
        """Run ``work`` to read something, without committing."""
        with self.app.app_context():
            return work()

    def book(self, parent_id, child_id, slot_id, now=NOW, key=None) -> int:
        """Book and return the booking's id."""
        key = key or booking.new_request_key()
        return self.run(
            lambda: (
                booking.book(
                    db.session.get(User, parent_id),
                    child_id,
                    db.session.get(Slot, slot_id),
                    key,
                    now,
                ).id
            )
        )

    def cancel(self, parent_id, booking_id, now=NOW) -> None:
        """Cancel as the parent."""
        self.run(
            lambda: booking.cancel_by_parent(
                db.session.get(User, parent_id), db.session.get(Booking, booking_id), now
            )
        )

    def join(self, parent_id, child_id, slot_id, now=NOW) -> int:
        """Join the waitlist and return the entry's id."""
        return self.run(
            lambda: (
                booking.join_waitlist(
                    db.session.get(User, parent_id),
                    db.session.get(Child, child_id),
                    db.session.get(Slot, slot_id),
                    now,
                ).id
            )
        )

    def accept(self, parent_id, entry_id, now=NOW) -> int:
        """Accept an offer and return the booking's id."""
        key = booking.new_request_key()
        return self.run(
            lambda: (
                booking.accept_offer(
                    db.session.get(User, parent_id),
                    db.session.get(WaitlistEntry, entry_id),
                    key,
                    now,
                ).id
            )
        )

    def leave(self, parent_id, entry_id) -> None:
        """Leave the waitlist or turn an offer down."""
        self.run(
            lambda: booking.leave_waitlist(
                db.session.get(User, parent_id),
                db.session.get(WaitlistEntry, entry_id),
                NOW,
            )
        )

    def expire(self, now: datetime) -> int:
        """Run the expiry job at ``now`` (aware UTC)."""
        return self.run(lambda: booking.expire_offers(now))

    def decide(self, booking_id, accept: bool, reason: str = "") -> None:
        """The institution accepts or declines an application."""
        self.run(
            lambda: booking.decide_application(
                db.session.get(Booking, booking_id), accept, reason, NOW
            )
        )

    def set_capacity(self, slot_id, places: int) -> None:
        """The institution changes a slot's places."""
        self.run(
            lambda: booking.set_slot_capacity(db.session.get(Slot, slot_id), places, clock.now())
        )

    def cancel_slot(self, slot_id, reason: str) -> int:
        """The institution cancels a slot."""
        return self.run(
            lambda: booking.cancel_slot(db.session.get(Slot, slot_id), reason, clock.now())
        )

    def status(self, booking_id) -> BookingStatus:
        """A booking's status."""
        return self.read(lambda: db.session.get(Booking, booking_id).status)

    def entry(self, entry_id) -> dict:
        """A waitlist entry's status, position and offer times (aware UTC)."""

        def load():
            entry = db.session.get(WaitlistEntry, entry_id)
            return {
                "status": entry.status,
                "position": capacity.position(entry),
                "offered_at": as_utc(entry.offered_at),
                "offer_expires_at": as_utc(entry.offer_expires_at),
            }

        return self.read(load)

    def taken(self, slot_id) -> tuple[int, int]:
        """``(taken, capacity)`` of a slot."""
        return self.read(
            lambda: tuple(
                db.session.execute(
                    sa.select(Inventory.taken, Inventory.capacity)
                    .join(Slot, Slot.inventory_id == Inventory.id)
                    .where(Slot.id == slot_id)
                ).one()
            )
        )

    def email(self, user_id) -> str:
        """A user's e-mail address."""
        return self.read(lambda: db.session.get(User, user_id).email)

    def last_message_id(self) -> int:
        """The id of the newest outbox message, 0 when there is none."""
        return self.read(lambda: db.session.scalar(sa.select(sa.func.max(OutboxMessage.id))) or 0)

    def messages_after(self, message_id: int) -> list[tuple[str, str, str]]:
        """``(recipient, subject, body)`` of outbox messages newer than ``message_id``."""
        return self.read(
            lambda: [
                (message.recipient, message.subject, message.body)
                for message in db.session.scalars(
                    sa.select(OutboxMessage)
                    .where(OutboxMessage.id > message_id)
                    .order_by(OutboxMessage.id)
                )
            ]
        )


@pytest.fixture
def desk(app) -> Desk:
    """The booking services, called by id."""
    return Desk(app)


@pytest.fixture
def home(institution) -> int:
    """A filed institution offering all four care types, with one toddler class of 15."""
    return institution(offers=ALL_OFFERS, classes=((ClassKind.TODDLER, 15, 3),))


@pytest.fixture
def family(app, user):
    """Factory: a parent and a consented child (18 months on ``DAY`` unless told);
    returns ``(parent_id, child_id)``.
    """

    def make(name: str = "张小明", birth_date: date = BORN_18_MONTHS_BEFORE, parent_id=None):
        parent_id = parent_id or user(Role.PARENT)
        with app.app_context():
            child = booking.add_child(
                db.session.get(User, parent_id),
                name=name,
                birth_date=birth_date,
                notes="",
                consent=True,
            )
            db.session.commit()
            return parent_id, child.id

    return make


@pytest.fixture
def slot(app):
    """Factory: a slot of an institution's class (the first, or the one of ``kind``);
    returns its id.
    """

    def make(
        institution_id: int,
        care_type: CareType = CareType.HOURLY,
        *,
        on_date: date = DAY,
        hours: tuple[time, time] | None = None,
        places: int = 3,
        kind: ClassKind | None = None,
    ) -> int:
        starts_at, ends_at = hours or HOURS[care_type]
        with app.app_context():
            query = sa.select(CareClass).where(CareClass.institution_id == institution_id)
            if kind is not None:
                query = query.where(CareClass.kind == kind)
            care_class = db.session.scalars(query.order_by(CareClass.id)).first()
            new_slot = booking.add_slot(
                care_class, care_type, on_date, starts_at, ends_at, places, NOW.date()
            )
            db.session.commit()
            return new_slot.id

    return make


# --- cancelling and the cut-off --------------------------------------------------------------


@pytest.mark.parametrize(
    ("cutoff_hours", "now"),
    [
        pytest.param(None, datetime(2030, 3, 11, 6, 59), id="default-2h-at-2h01-before"),
        pytest.param(24, datetime(2030, 3, 10, 8, 59), id="24h-at-24h01-before"),
    ],
)
def test_parent_cancels_before_the_cut_off_and_the_place_frees(
    desk, institution, slot, family, cutoff_hours, now
):
    fields = {} if cutoff_hours is None else {"cancel_cutoff_hours": cutoff_hours}
    slot_id = slot(institution(offers=ALL_OFFERS, **fields))  # 09:00 on DAY
    parent_id, child_id = family()
    booking_id = desk.book(parent_id, child_id, slot_id)

    desk.cancel(parent_id, booking_id, now=now)

    assert desk.status(booking_id) == BookingStatus.CANCELLED
    assert desk.taken(slot_id) == (0, 3)


@pytest.mark.parametrize(
    ("cutoff_hours", "now"),
    [
        pytest.param(None, datetime(2030, 3, 11, 7, 1), id="default-2h-at-1h59-before"),
        pytest.param(24, datetime(2030, 3, 10, 12, 0), id="24h-at-noon-the-day-before"),
    ],
)
def test_cancelling_fails_after_the_cut_off(desk, institution, slot, family, cutoff_hours, now):
    fields = {} if cutoff_hours is None else {"cancel_cutoff_hours": cutoff_hours}
    slot_id = slot(institution(offers=ALL_OFFERS, **fields))  # 09:00 on DAY
    parent_id, child_id = family()
    booking_id = desk.book(parent_id, child_id, slot_id)

    with pytest.raises(BookingError, match="too late to cancel"):
        desk.cancel(parent_id, booking_id, now=now)

    assert desk.status(booking_id) == BookingStatus.CONFIRMED
    assert desk.taken(slot_id) == (1, 3)


def test_cancelled_place_can_be_booked_by_another_child_at_once(desk, home, slot, family):
    slot_id = slot(home, places=1)
    first_parent, first_child = family("张小明")
    second_parent, second_child = family("李明")
    first_booking = desk.book(first_parent, first_child, slot_id)
    with pytest.raises(SlotFull):
        desk.book(second_parent, second_child, slot_id)

    desk.cancel(first_parent, first_booking)
    second_booking = desk.book(second_parent, second_child, slot_id)

    assert desk.status(second_booking) == BookingStatus.CONFIRMED
    assert desk.taken(slot_id) == (1, 1)


# --- waitlist ---------------------------------------------------------------------------------


def test_joining_the_waitlist_fails_while_a_place_is_free(desk, home, slot, family):
    slot_id = slot(home, places=1)
    parent_id, child_id = family()

    with pytest.raises(BookingError, match="A place is free"):
        desk.join(parent_id, child_id, slot_id)


@pytest.mark.parametrize("care_type", list(CareType))
def test_freed_place_is_offered_to_the_first_in_line_for_the_hold_of_its_care_type(
    desk, home, slot, family, care_type
):
    slot_id = slot(home, care_type, places=1)
    holder, holder_child = family("张小明")
    first, first_child = family("李小红")
    second, second_child = family("王小刚")
    latecomer, latecomer_child = family("赵小丽")
    held = desk.book(holder, holder_child, slot_id)
    first_entry = desk.join(first, first_child, slot_id)
    second_entry = desk.join(second, second_child, slot_id)
    before = desk.last_message_id()

    desk.cancel(holder, held)

    offer = desk.entry(first_entry)
    assert offer["status"] == WaitStatus.OFFERED
    assert offer["offer_expires_at"] - offer["offered_at"] == HOLDS[care_type]
    assert desk.entry(second_entry)["position"] == 1
    assert desk.taken(slot_id) == (1, 1)
    with pytest.raises(SlotFull):
        desk.book(latecomer, latecomer_child, slot_id)
    [(recipient, _subject, body)] = desk.messages_after(before)
    assert recipient == desk.email(first)
    assert "小红" in body
    assert "李小红" not in body


@pytest.mark.parametrize(
    ("care_type", "status"),
    [
        (CareType.HOURLY, BookingStatus.CONFIRMED),
        (CareType.FULL_DAY, BookingStatus.APPLIED),
    ],
)
def test_accepted_offer_becomes_the_childs_booking(desk, home, slot, family, care_type, status):
    slot_id = slot(home, care_type, places=1)
    holder, holder_child = family("张小明")
    waiting, waiting_child = family("李小红")
    held = desk.book(holder, holder_child, slot_id)
    entry_id = desk.join(waiting, waiting_child, slot_id)
    desk.cancel(holder, held)

    booking_id = desk.accept(waiting, entry_id)

    assert desk.status(booking_id) == status
    assert desk.entry(entry_id)["status"] == WaitStatus.ACCEPTED
    assert desk.taken(slot_id) == (1, 1)


def test_waitlist_positions_count_from_one_and_move_up(desk, home, slot, family):
    slot_id = slot(home, places=1)
    holder, holder_child = family("张小明")
    held = desk.book(holder, holder_child, slot_id)
    line = [family(name) for name in ("李小红", "王小刚", "赵小丽")]
    entries = [desk.join(parent_id, child_id, slot_id) for parent_id, child_id in line]
    assert [desk.entry(entry)["position"] for entry in entries] == [1, 2, 3]

    desk.leave(line[1][0], entries[1])
    assert [desk.entry(entry)["position"] for entry in entries] == [1, 0, 2]

    desk.cancel(holder, held)
    assert desk.entry(entries[0])["status"] == WaitStatus.OFFERED
    assert [desk.entry(entry)["position"] for entry in entries] == [0, 0, 1]


def test_turning_an_offer_down_passes_it_to_the_next_in_line(desk, home, slot, family):
    slot_id = slot(home, places=1)
    holder, holder_child = family("张小明")
    first, first_child = family("李小红")
    second, second_child = family("王小刚")
    held = desk.book(holder, holder_child, slot_id)
    first_entry = desk.join(first, first_child, slot_id)
    second_entry = desk.join(second, second_child, slot_id)
    desk.cancel(holder, held)

    desk.leave(first, first_entry)

    assert desk.entry(first_entry)["status"] == WaitStatus.LEFT
    assert desk.entry(second_entry)["status"] == WaitStatus.OFFERED
    assert desk.taken(slot_id) == (1, 1)


def test_offer_passed_on_by_turning_down_is_held_from_the_moment_it_was_turned_down(
    desk, open_offer
):
    slot_id, (first, _first_child, first_entry), (second, second_child, second_entry) = open_offer

    desk.leave(first, first_entry)

    expires = desk.entry(second_entry)["offer_expires_at"]
    assert expires == clock.to_utc(NOW + HOLDS[CareType.HOURLY])
    assert desk.book(second, second_child, slot_id) > 0


@pytest.fixture
def open_offer(desk, home, slot, family):
    """A slot of one place whose holder cancelled: the first in line holds an offer,
    a second child waits behind. Returns ``(slot_id, offered, waiting)`` with
    ``(parent_id, child_id, entry_id)`` for each.
    """
    slot_id = slot(home, places=1)
    holder, holder_child = family("张小明")
    first, first_child = family("李小红")
    second, second_child = family("王小刚")
    held = desk.book(holder, holder_child, slot_id)
    first_entry = desk.join(first, first_child, slot_id)
    second_entry = desk.join(second, second_child, slot_id)
    desk.cancel(holder, held)
    return slot_id, (first, first_child, first_entry), (second, second_child, second_entry)


def test_offer_stays_open_until_its_hold_ends(desk, open_offer):
    _slot_id, (_parent, _child, entry_id), _waiting = open_offer
    ends = desk.entry(entry_id)["offer_expires_at"]

    assert desk.expire(ends - timedelta(minutes=1)) == 0

    assert desk.entry(entry_id)["status"] == WaitStatus.OFFERED


def test_unanswered_offer_expires_and_passes_to_the_next_in_line(desk, open_offer):
    slot_id, (_parent, _child, first_entry), (second, _second_child, second_entry) = open_offer
    now = desk.entry(first_entry)["offer_expires_at"] + timedelta(minutes=1)
    before = desk.last_message_id()

    assert desk.expire(now) == 1

    assert desk.entry(first_entry)["status"] == WaitStatus.EXPIRED
    passed = desk.entry(second_entry)
    assert passed["status"] == WaitStatus.OFFERED
    assert (passed["offered_at"], passed["offer_expires_at"]) == (now, now + timedelta(hours=12))
    assert desk.taken(slot_id) == (1, 1)
    [(recipient, _subject, body)] = desk.messages_after(before)
    assert recipient == desk.email(second)
    assert "小刚" in body
    assert "王小刚" not in body


def test_expiry_job_changes_nothing_when_run_again(desk, open_offer):
    slot_id, (_parent, _child, first_entry), (_second, _second_child, second_entry) = open_offer
    now = desk.entry(first_entry)["offer_expires_at"] + timedelta(minutes=1)
    desk.expire(now)
    after_first_run = (
        desk.entry(first_entry),
        desk.entry(second_entry),
        desk.taken(slot_id),
        desk.last_message_id(),
    )

    assert desk.expire(now) == 0

    assert (
        desk.entry(first_entry),
        desk.entry(second_entry),
        desk.taken(slot_id),
        desk.last_message_id(),
    ) == after_first_run


def test_last_expired_offer_gives_the_place_back(desk, open_offer):
    slot_id, (_parent, _child, first_entry), (_second, _second_child, second_entry) = open_offer
    now = desk.entry(first_entry)["offer_expires_at"] + timedelta(minutes=1)
    desk.expire(now)

    desk.expire(now + timedelta(hours=13))

    assert desk.entry(second_entry)["status"] == WaitStatus.EXPIRED
    assert desk.taken(slot_id) == (0, 1)


def test_expired_offer_can_no_longer_be_accepted(desk, open_offer):
    _slot_id, (parent_id, _child, entry_id), _waiting = open_offer
    desk.expire(desk.entry(entry_id)["offer_expires_at"] + timedelta(minutes=1))

    with pytest.raises(BookingError, match="offer has expired"):
        desk.accept(parent_id, entry_id)


def test_jobs_run_expires_unanswered_offers(app, desk, open_offer):
    _slot_id, (_parent, _child, first_entry), (_second, _second_child, second_entry) = open_offer
    with app.app_context():
        # The hold ended a minute ago (the job runs on the real clock).
        entry = db.session.get(WaitlistEntry, first_entry)
        entry.offer_expires_at = clock.now() - timedelta(minutes=1)
        db.session.commit()

    result = app.test_cli_runner().invoke(args=["jobs", "run"])

    assert result.exit_code == 0, result.output
    assert desk.entry(first_entry)["status"] == WaitStatus.EXPIRED
    assert desk.entry(second_entry)["status"] == WaitStatus.OFFERED


# --- one place per child ----------------------------------------------------------------------


def test_child_holding_the_place_cannot_also_join_its_waitlist(desk, home, slot, family):
    slot_id = slot(home, places=1)
    parent_id, child_id = family()
    desk.book(parent_id, child_id, slot_id)

    with pytest.raises(BookingError):
        desk.join(parent_id, child_id, slot_id)


def test_child_holding_an_offer_never_holds_two_places_in_the_slot(desk, home, slot, family):
    slot_id = slot(home, places=2)
    (first, first_child), (second, second_child) = family("张小明"), family("李明")
    offered, offered_child = family("王小刚")
    first_booking = desk.book(first, first_child, slot_id)
    second_booking = desk.book(second, second_child, slot_id)
    entry_id = desk.join(offered, offered_child, slot_id)
    desk.cancel(first, first_booking)  # the place is held for the offered child
    desk.cancel(second, second_booking)  # nobody else waits: this place is free

    # Refusing is one right answer (the child can still accept the held place); taking the
    # held place instead is another. Holding the free place and the offer is not.
    with contextlib.suppress(BookingError):
        desk.book(offered, offered_child, slot_id)

    active = desk.read(
        lambda: db.session.scalar(
            sa.select(sa.func.count(Booking.id)).where(
                Booking.child_id == offered_child, Booking.status.in_(ACTIVE_BOOKING_STATUSES)
            )
        )
    )
    holding_offer = desk.entry(entry_id)["status"] == WaitStatus.OFFERED
    assert active + holding_offer == 1
    assert desk.taken(slot_id)[0] == 1


# --- age --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "offer_ages", "age_months", "refusal"),
    [
        pytest.param(ClassKind.HOME_GROUP, (6, 36), 35, None, id="35-months-accepted"),
        pytest.param(ClassKind.HOME_GROUP, (6, 36), 36, "under 3", id="36-months-refused"),
        pytest.param(ClassKind.HOME_GROUP, (12, 36), 12, None, id="offer-minimum-accepted"),
        pytest.param(
            ClassKind.HOME_GROUP, (12, 36), 11, "11 months", id="below-offer-minimum-refused"
        ),
        pytest.param(ClassKind.INFANT, (6, 36), 11, None, id="infant-class-11-months-accepted"),
        pytest.param(
            ClassKind.INFANT, (6, 36), 13, "13 months", id="infant-class-13-months-refused"
        ),
    ],
)
def test_booking_checks_the_age_against_the_limit_the_offer_and_the_class(
    desk, institution, slot, family, kind, offer_ages, age_months, refusal
):
    capacity_, carers = (5, 2) if kind == ClassKind.HOME_GROUP else (9, 3)
    institution_id = institution(
        offers={CareType.HOURLY: (*offer_ages, 30)}, classes=((kind, capacity_, carers),)
    )
    slot_id = slot(institution_id)
    parent_id, child_id = family(birth_date=months_before(DAY, age_months))

    if refusal is None:
        booking_id = desk.book(parent_id, child_id, slot_id)
        assert desk.status(booking_id) == BookingStatus.CONFIRMED
    else:
        with pytest.raises(BookingError, match=refusal):
            desk.book(parent_id, child_id, slot_id)
        assert desk.taken(slot_id) == (0, 3)


# --- overlapping bookings ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("other_hours", "overlaps"),
    [
        pytest.param((time(10), time(12)), True, id="10-12-overlaps-9-11"),
        pytest.param((time(8), time(9, 30)), True, id="8-930-overlaps-9-11"),
        pytest.param((time(11), time(12)), False, id="11-12-follows-9-11"),
    ],
)
def test_booking_at_two_institutions_fails_when_the_times_overlap(
    desk, institution, slot, family, other_hours, overlaps
):
    here = slot(institution(offers=ALL_OFFERS), hours=(time(9), time(11)))
    there = slot(institution("晋江市小太阳托育园", offers=ALL_OFFERS), hours=other_hours)
    parent_id, child_id = family()
    desk.book(parent_id, child_id, here)

    if overlaps:
        with pytest.raises(BookingError, match="already has a booking at that time"):
            desk.book(parent_id, child_id, there)
        assert desk.taken(there) == (0, 3)
    else:
        desk.book(parent_id, child_id, there)
        assert desk.taken(there) == (1, 3)


@pytest.mark.parametrize("standing_first", [True, False], ids=["standing-first", "hourly-first"])
def test_standing_place_overlaps_a_later_hourly_booking_at_the_same_hours(
    desk, institution, slot, family, standing_first
):
    standing = slot(institution(offers=ALL_OFFERS), CareType.FULL_DAY, on_date=date(2030, 3, 4))
    hourly = slot(institution("晋江市小太阳托育园", offers=ALL_OFFERS), on_date=date(2030, 3, 20))
    parent_id, child_id = family()
    first, second = (standing, hourly) if standing_first else (hourly, standing)
    desk.book(parent_id, child_id, first)

    with pytest.raises(BookingError, match="already has a booking at that time"):
        desk.book(parent_id, child_id, second)


def test_hourly_booking_before_a_standing_place_starts_does_not_overlap(
    desk, institution, slot, family
):
    standing = slot(institution(offers=ALL_OFFERS), CareType.FULL_DAY, on_date=date(2030, 3, 11))
    hourly = slot(institution("晋江市小太阳托育园", offers=ALL_OFFERS), on_date=date(2030, 3, 4))
    parent_id, child_id = family()
    desk.book(parent_id, child_id, standing)

    desk.book(parent_id, child_id, hourly)

    assert desk.taken(hourly) == (1, 3)


# --- ownership --------------------------------------------------------------------------------


def test_booking_another_parents_child_fails(desk, home, slot, family, user):
    slot_id = slot(home)
    _owner, child_id = family()

    with pytest.raises(BookingError, match="not on your account"):
        desk.book(user(Role.PARENT), child_id, slot_id)

    assert desk.taken(slot_id) == (0, 3)


def test_cancelling_another_parents_booking_fails(desk, home, slot, family, user):
    slot_id = slot(home)
    owner, child_id = family()
    booking_id = desk.book(owner, child_id, slot_id)

    with pytest.raises(BookingError, match="not yours"):
        desk.cancel(user(Role.PARENT), booking_id)

    assert desk.status(booking_id) == BookingStatus.CONFIRMED


def test_accepting_another_parents_offer_fails(desk, user, open_offer):
    _slot_id, (_parent, _child, entry_id), _waiting = open_offer

    with pytest.raises(BookingError, match="not yours"):
        desk.accept(user(Role.PARENT), entry_id)

    assert desk.entry(entry_id)["status"] == WaitStatus.OFFERED


# --- applications -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("care_type", "status"),
    [
        (CareType.HOURLY, BookingStatus.CONFIRMED),
        (CareType.TEMPORARY, BookingStatus.CONFIRMED),
        (CareType.FULL_DAY, BookingStatus.APPLIED),
        (CareType.HALF_DAY, BookingStatus.APPLIED),
    ],
)
def test_hourly_and_temporary_are_confirmed_at_once_standing_places_are_applications(
    desk, home, slot, family, care_type, status
):
    slot_id = slot(home, care_type)
    parent_id, child_id = family()

    booking_id = desk.book(parent_id, child_id, slot_id)

    assert desk.status(booking_id) == status
    assert desk.taken(slot_id) == (1, 3)


@pytest.fixture
def application(desk, home, slot, family):
    """A full-day application of 张小明; returns ``(slot_id, booking_id)``."""
    slot_id = slot(home, CareType.FULL_DAY)
    parent_id, child_id = family()
    return slot_id, desk.book(parent_id, child_id, slot_id)


def test_institution_accepts_an_application(desk, application):
    slot_id, booking_id = application
    before = desk.last_message_id()

    desk.decide(booking_id, accept=True)

    assert desk.status(booking_id) == BookingStatus.CONFIRMED
    assert desk.taken(slot_id) == (1, 3)
    [(_recipient, _subject, body)] = desk.messages_after(before)
    assert "小明" in body
    assert "张小明" not in body


def test_declining_an_application_needs_a_reason(desk, application):
    slot_id, booking_id = application

    with pytest.raises(BookingError, match="give the reason"):
        desk.decide(booking_id, accept=False, reason="  ")

    assert desk.status(booking_id) == BookingStatus.APPLIED
    assert desk.taken(slot_id) == (1, 3)


def test_declining_an_application_frees_the_place_and_tells_the_reason(desk, application):
    slot_id, booking_id = application
    before = desk.last_message_id()

    desk.decide(booking_id, accept=False, reason="班级已满")

    assert desk.status(booking_id) == BookingStatus.DECLINED
    assert desk.read(lambda: db.session.get(Booking, booking_id).decline_reason) == "班级已满"
    assert desk.taken(slot_id) == (0, 3)
    [(_recipient, _subject, body)] = desk.messages_after(before)
    assert "班级已满" in body
    assert "张小明" not in body


def test_application_is_decided_only_once(desk, application):
    _slot_id, booking_id = application
    desk.decide(booking_id, accept=True)

    with pytest.raises(BookingError, match="decided already"):
        desk.decide(booking_id, accept=False, reason="改变主意")


# --- slot capacity ----------------------------------------------------------------------------


def test_slot_cannot_have_more_places_than_its_class(app, home):
    with app.app_context(), force_locale("en"):
        care_class = db.session.scalar(sa.select(CareClass).where(CareClass.institution_id == home))
        with pytest.raises(BookingError, match="from 1 to 15 places"):
            booking.add_slot(care_class, CareType.HOURLY, DAY, time(9), time(10), 16, NOW.date())


@pytest.mark.parametrize(
    ("places", "refusal"),
    [
        pytest.param(16, "from 1 to 15 places", id="above-class-capacity"),
        pytest.param(1, "already taken cannot be removed", id="below-places-taken"),
        pytest.param(0, "from 1 to 15 places", id="zero"),
    ],
)
def test_slot_capacity_change_fails_outside_taken_to_class_capacity(
    desk, home, slot, family, places, refusal
):
    slot_id = slot(home, places=3)
    for name in ("张小明", "李明"):
        desk.book(*family(name), slot_id)

    with pytest.raises(BookingError, match=refusal):
        desk.set_capacity(slot_id, places)

    assert desk.taken(slot_id) == (2, 3)


@pytest.mark.parametrize("places", [2, 15])
def test_slot_capacity_can_change_between_taken_and_class_capacity(
    desk, home, slot, family, places
):
    slot_id = slot(home, places=3)
    for name in ("张小明", "李明"):
        desk.book(*family(name), slot_id)

    desk.set_capacity(slot_id, places)

    assert desk.taken(slot_id) == (2, places)


def test_more_places_are_offered_to_those_waiting(desk, home, slot, family):
    slot_id = slot(home, places=1)
    desk.book(*family("张小明"), slot_id)
    entries = [desk.join(*family(name), slot_id) for name in ("李小红", "王小刚", "赵小丽")]

    desk.set_capacity(slot_id, 3)

    assert [desk.entry(entry)["status"] for entry in entries] == [
        WaitStatus.OFFERED,
        WaitStatus.OFFERED,
        WaitStatus.WAITING,
    ]
    assert desk.taken(slot_id) == (3, 3)


def test_a_place_free_while_a_family_waits_goes_to_the_family_first_in_line(
    desk, home, slot, family
):
    """A free place with somebody waiting (a class full when they joined that has room again
    before any offer): a newcomer is told the slot is full, the family first in line books."""
    slot_id = slot(home, places=1)
    waiting, waiting_child = family("李小红")
    newcomer, newcomer_child = family("王小刚")
    inventory_id = desk.read(lambda: db.session.get(Slot, slot_id).inventory_id)
    desk.run(
        lambda: capacity.join_waitlist(inventory_id, waiting, f"child:{waiting_child}", room=0)
    )

    with pytest.raises(SlotFull):
        desk.book(newcomer, newcomer_child, slot_id)
    assert desk.taken(slot_id) == (0, 1)
    booking_id = desk.book(waiting, waiting_child, slot_id)

    assert desk.status(booking_id) == BookingStatus.CONFIRMED
    assert desk.taken(slot_id) == (1, 1)
    assert desk.read(lambda: db.session.scalar(sa.select(WaitlistEntry.status))) == "left"


def test_booking_with_an_open_offer_takes_the_held_place_not_another(desk, home, slot, family):
    slot_id = slot(home, places=1)
    holder, holder_child = family("张小明")
    offered, offered_child = family("李小红")
    held = desk.book(holder, holder_child, slot_id)
    entry_id = desk.join(offered, offered_child, slot_id)
    desk.cancel(holder, held)
    desk.set_capacity(slot_id, 2)  # a second place, free, beside the one held for the offer

    booking_id = desk.book(offered, offered_child, slot_id)

    assert desk.status(booking_id) == BookingStatus.CONFIRMED
    assert desk.entry(entry_id)["status"] == WaitStatus.ACCEPTED
    assert desk.taken(slot_id) == (1, 2)


# --- cancelling a slot ------------------------------------------------------------------------


def test_cancelling_a_slot_cancels_every_booking_and_tells_each_parent_the_first_name_only(
    desk, home, slot, family
):
    slot_id = slot(home, places=3)
    families = [family(name) for name in ("张小明", "欧阳娜娜")]
    bookings = [desk.book(parent_id, child_id, slot_id) for parent_id, child_id in families]
    before = desk.last_message_id()

    assert desk.cancel_slot(slot_id, "暴雨停园") == 2

    assert [desk.status(booking_id) for booking_id in bookings] == [
        BookingStatus.CANCELLED_BY_INSTITUTION
    ] * 2
    assert desk.taken(slot_id) == (0, 3)
    messages = desk.messages_after(before)
    assert [recipient for recipient, _subject, _body in messages] == [
        desk.email(parent_id) for parent_id, _child_id in families
    ]
    (_to_first, _subject, first_body), (_to_second, _subject, second_body) = messages
    assert "小明" in first_body
    assert "张小明" not in first_body
    assert "暴雨停园" in first_body
    assert "娜娜" in second_body
    assert "欧阳" not in second_body


def test_no_message_ever_carries_the_childs_full_name(desk, home, slot, family):
    slot_id = slot(home, places=1)
    holder, holder_child = family("张小明")
    waiting, waiting_child = family("欧阳娜娜")
    held = desk.book(holder, holder_child, slot_id)
    desk.join(waiting, waiting_child, slot_id)
    desk.cancel(holder, held)
    desk.cancel_slot(slot_id, "暴雨停园")

    bodies = [body for _recipient, _subject, body in desk.messages_after(0)]

    assert bodies
    assert not [body for body in bodies if "张小明" in body or "欧阳娜娜" in body]


# --- children and consent ---------------------------------------------------------------------


def test_adding_a_child_needs_the_guardians_consent(app, user):
    parent_id = user(Role.PARENT)
    with app.app_context(), force_locale("en"):
        with pytest.raises(BookingError, match="consent"):
            booking.add_child(
                db.session.get(User, parent_id),
                name="张小明",
                birth_date=BORN_18_MONTHS_BEFORE,
                notes="",
                consent=False,
            )
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(Child.id))) == 0


def test_consent_is_recorded_with_its_time_and_policy_version(app, user):
    parent_id = user(Role.PARENT)
    started = clock.now()
    with app.app_context():
        child = booking.add_child(
            db.session.get(User, parent_id),
            name=" 张小明 ",
            birth_date=BORN_18_MONTHS_BEFORE,
            notes="花生过敏",
            consent=True,
        )
        db.session.commit()
        child_id = child.id

    with app.app_context():
        child = db.session.get(Child, child_id)
        [consent] = db.session.scalars(
            sa.select(GuardianConsent).where(GuardianConsent.child_id == child_id)
        ).all()
        assert (child.name, child.notes) == ("张小明", "花生过敏")
        assert consent.guardian_id == parent_id
        assert consent.policy_version == CONSENT_POLICY_VERSION
        assert started <= as_utc(consent.given_at) <= clock.now()


# --- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张小明", "张*明"), ("李明", "李*"), ("欧阳娜娜", "欧**娜")],
)
def test_mask_name_keeps_only_the_ends(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("name", "given"),
    [("张小明", "小明"), ("李明", "明"), ("欧阳娜娜", "娜娜")],
)
def test_first_name_drops_the_surname(name, given):
    assert given_name(name) == given


# --- the parent's home page shows the lines and the offers --------------------------------


def home_page(app, parent_id: int, language: str = "en") -> str:
    """The parent's home page (我的主页) as the parent sees it."""
    client = app.test_client()
    client.set_cookie("lang", language)
    AuthActions(client, app).login(parent_id)
    return unescape(client.get("/parents/").get_data(as_text=True))


def test_parents_home_shows_an_offer_with_its_deadline_and_weekday(app, open_offer):
    _slot_id, (offered, _child, entry_id), _waiting = open_offer
    with app.app_context():
        deadline = clock.to_local(db.session.get(WaitlistEntry, entry_id).offer_expires_at)
    weekday = format_skeleton("MMMEd", deadline.date(), locale="en")
    weekday_zh = format_skeleton("MMMEd", deadline.date(), locale="zh_CN")

    english = home_page(app, offered)
    chinese = home_page(app, offered, "zh_CN")

    assert f"Take it by {weekday} at {deadline:%H:%M}, or it goes to the next family." in english
    assert f"{weekday_zh} {deadline:%H:%M}" in chinese
    assert "周" in weekday_zh


def test_parents_home_shows_the_waiting_list_entry_with_its_place_in_line(app, open_offer):
    _slot_id, _offered, (waiting, _child, _entry_id) = open_offer

    page = home_page(app, waiting)

    assert "Waiting lists" in page
    assert "You are number 1 in line." in page
    assert "A place is waiting for you" not in page
