"""The classroom is the unit of capacity: children present in a class at any moment never
exceed its places, whatever their care type, and every page counts places the same way.
"""

from datetime import date, datetime, time
from html import unescape

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from places_desk import PlacesDesk

from careapp.extensions import db
from careapp.models import (
    ACTIVE_BOOKING_STATUSES,
    ACTIVE_REGISTRATION_STATUSES,
    ACTIVE_WAIT_STATUSES,
    BOOKING_STATES,
    REGISTRATION_STATES,
    WAITLIST_STATES,
    Booking,
    CareClass,
    CareType,
    Child,
    ClassKind,
    ClosedDate,
    Nature,
    OutboxMessage,
    Role,
    Slot,
    User,
    WaitlistEntry,
)
from careapp.models.states import Effect
from careapp.services import availability, booking, calendar, filing
from careapp.services.booking import BookingError, SlotFull

#: Parents act at this local time, days before every slot.
NOW = datetime(2030, 3, 1, 8, 0)
#: A Monday, and the Tuesday after it.
MONDAY, TUESDAY = date(2030, 3, 4), date(2030, 3, 5)
SATURDAY = date(2030, 3, 9)
#: Two years old in March 2030: any class from toddlers up takes the child.
BORN = date(2028, 2, 1)
OFFERS = {
    CareType.FULL_DAY: (6, 36, 2800),
    CareType.HOURLY: (6, 36, 30),
    CareType.TEMPORARY: (6, 36, 150),
}
DAY_HOURS = (time(8), time(17, 30))
#: An older-toddler class of two places.
SMALL_CLASS = ((ClassKind.OLDER_TODDLER, 2, 1),)


class Desk(PlacesDesk):
    """The booking services by id at ``NOW`` for two-year-olds, and the booking form's count."""

    def __init__(self, app, user):
        super().__init__(app, user, NOW, BORN)

    def slot(self, class_id, care_type, day, hours, places) -> int:
        """A new slot of a class."""
        return self.add_slot(class_id, care_type, day, hours, places)

    def book(self, slot_id: int, family=None) -> int:
        """A new (or given) family books the slot; the booking's id."""
        return super().book(family or self.family("王小红"), slot_id)

    def places_left(self, slot_id: int) -> int:
        """What the booking form says is left in a slot."""
        with self.app.app_context():
            return availability.places_left(db.session.get(Slot, slot_id), NOW.date())


@pytest.fixture
def desk(app, user) -> Desk:
    """The booking services, called by id."""
    return Desk(app, user)


def classes_of(app, institution_id: int) -> list[int]:
    """An institution's class ids in order."""
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(CareClass.id)
                .where(CareClass.institution_id == institution_id)
                .order_by(CareClass.id)
            )
        )


@pytest.fixture
def home_point(app, institution) -> int:
    """The demo's home-based point: one group of 3 places and one carer. Its class id."""
    point = institution(
        "晋江市小苗家庭托育点",
        nature=Nature.HOME_BASED,
        offers=OFFERS,
        classes=((ClassKind.HOME_GROUP, 3, 1),),
    )
    return classes_of(app, point)[0]


# --- the finding: 8 children on one day in a class of 3 ------------------------------------


def test_standing_places_and_hourly_bookings_never_put_more_children_in_a_class_than_it_has(
    desk, home_point
):
    from_monday = desk.slot(home_point, CareType.FULL_DAY, MONDAY, DAY_HOURS, 2)
    from_tuesday = desk.slot(home_point, CareType.FULL_DAY, TUESDAY, DAY_HOURS, 3)
    hourly = desk.slot(home_point, CareType.HOURLY, TUESDAY, (time(9), time(10)), 3)
    for application in (desk.book(from_monday), desk.book(from_monday)):
        desk.accept(application)

    desk.book(from_tuesday)
    with pytest.raises(SlotFull):
        desk.book(from_tuesday)
    with pytest.raises(SlotFull):
        desk.book(hourly)

    assert [desk.places_left(s) for s in (from_monday, from_tuesday, hourly)] == [0, 0, 0]


def test_hourly_care_on_a_day_the_class_does_not_run_is_not_crowded_out_by_standing_places(
    desk, home_point
):
    standing = desk.slot(home_point, CareType.FULL_DAY, MONDAY, DAY_HOURS, 3)
    for _ in range(3):
        desk.accept(desk.book(standing))
    saturday = desk.slot(home_point, CareType.HOURLY, SATURDAY, (time(9), time(10)), 3)
    weekday = desk.slot(home_point, CareType.HOURLY, TUESDAY, (time(9), time(10)), 3)

    assert desk.places_left(saturday) == 3
    assert desk.places_left(weekday) == 0
    desk.book(saturday)


def test_a_closed_day_frees_the_class_of_its_standing_places(app, desk, home_point):
    standing = desk.slot(home_point, CareType.FULL_DAY, MONDAY, DAY_HOURS, 3)
    for _ in range(3):
        desk.accept(desk.book(standing))
    with app.app_context():
        institution_id = db.session.get(CareClass, home_point).institution_id
        db.session.add(ClosedDate(institution_id=institution_id, on_date=TUESDAY, reason="检修"))
        db.session.commit()
    # A slot on a closed day is refused when made through the service; this one is made
    # directly to show the count: nobody with a standing place is there that day.
    with app.app_context():
        care_class = db.session.get(CareClass, home_point)
        made = booking._new_slot(care_class, CareType.HOURLY, TUESDAY, time(9), time(10), 2)
        db.session.commit()
        slot_id = made.id

    assert desk.places_left(slot_id) == 2


def test_hours_that_do_not_meet_share_the_class_places(desk, institution, app):
    class_id = classes_of(
        app, institution(offers=OFFERS, classes=((ClassKind.OLDER_TODDLER, 2, 1),))
    )[0]
    morning = desk.slot(class_id, CareType.HOURLY, TUESDAY, (time(8), time(10)), 2)
    late_morning = desk.slot(class_id, CareType.HOURLY, TUESDAY, (time(9), time(11)), 2)
    afternoon = desk.slot(class_id, CareType.HOURLY, TUESDAY, (time(14), time(16)), 2)
    desk.book(morning)
    desk.book(morning)

    assert [desk.places_left(s) for s in (late_morning, afternoon)] == [0, 2]
    with pytest.raises(SlotFull):
        desk.book(late_morning)


def test_a_place_held_for_a_waiting_family_counts_in_the_class(desk, home_point, app):
    slot_id = desk.slot(home_point, CareType.HOURLY, TUESDAY, (time(9), time(10)), 1)
    other = desk.slot(home_point, CareType.TEMPORARY, TUESDAY, DAY_HOURS, 3)
    holder = desk.family()
    held = desk.book(slot_id, holder)
    waiting = desk.family()
    desk.run(
        lambda: booking.join_waitlist(
            db.session.get(User, waiting[0]),
            db.session.get(Child, waiting[1]),
            db.session.get(Slot, slot_id),
            NOW,
        )
    )
    desk.book(other)
    desk.book(other)
    desk.run(
        lambda: booking.cancel_by_parent(
            db.session.get(User, holder[0]), db.session.get(Booking, held), NOW
        )
    )

    # The freed place is held for the waiting family: the class is still full.
    assert desk.places_left(other) == 0
    with app.app_context():
        assert db.session.scalar(sa.select(WaitlistEntry.status)) == "offered"


def test_home_based_point_never_holds_more_than_five_children_in_all(desk, institution, app):
    point = institution(
        "晋江市双苗家庭托育点",
        nature=Nature.HOME_BASED,
        offers=OFFERS,
        classes=((ClassKind.HOME_GROUP, 3, 1), (ClassKind.HOME_GROUP, 3, 1)),
    )
    first, second = classes_of(app, point)
    here = desk.slot(first, CareType.HOURLY, TUESDAY, (time(9), time(10)), 3)
    there = desk.slot(second, CareType.HOURLY, TUESDAY, (time(9), time(10)), 3)
    for _ in range(3):
        desk.book(here)
    desk.book(there)
    desk.book(there)

    assert desk.places_left(there) == 0
    with pytest.raises(SlotFull):
        desk.book(there)


def test_freed_room_in_a_class_goes_to_a_family_waiting_for_another_of_its_slots(
    desk, institution, app
):
    class_id = classes_of(
        app, institution(offers=OFFERS, classes=((ClassKind.OLDER_TODDLER, 2, 1),))
    )[0]
    whole_day = desk.slot(class_id, CareType.TEMPORARY, TUESDAY, DAY_HOURS, 2)
    hour = desk.slot(class_id, CareType.HOURLY, TUESDAY, (time(9), time(10)), 2)
    first = desk.family()
    held = desk.book(whole_day, first)
    desk.book(whole_day)
    waiting = desk.family()
    entry = desk.run(
        lambda: (
            booking.join_waitlist(
                db.session.get(User, waiting[0]),
                db.session.get(Child, waiting[1]),
                db.session.get(Slot, hour),
                NOW,
            ).id
        )
    )

    desk.run(
        lambda: booking.cancel_by_parent(
            db.session.get(User, first[0]), db.session.get(Booking, held), NOW
        )
    )

    with app.app_context():
        assert db.session.get(WaitlistEntry, entry).status == "offered"


# --- one availability ----------------------------------------------------------------------


def test_institution_page_api_and_booking_form_count_the_class(app, client, desk, home_point, auth):
    standing = desk.slot(home_point, CareType.FULL_DAY, MONDAY, DAY_HOURS, 2)
    for _ in range(2):
        desk.accept(desk.book(standing))
    hourly = desk.slot(home_point, CareType.HOURLY, TUESDAY, (time(9), time(10)), 3)
    with app.app_context():
        institution_id = db.session.get(CareClass, home_point).institution_id

    api = client.get(
        f"/api/v1/institutions/{institution_id}/availability",
        query_string={"care_type": "hourly", "from": "2030-03-05", "to": "2030-03-05"},
    )
    auth.login(desk.family()[0])
    client.set_cookie("lang", "en")
    form = client.get(f"/parents/book/{hourly}")

    assert [item["remaining"] for item in api.json["items"]] == [1]
    assert "<dt>Places left</dt><dd>1</dd>" in unescape(form.get_data(as_text=True))


# --- the state tables ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "holding"),
    [
        pytest.param(BOOKING_STATES, set(ACTIVE_BOOKING_STATUSES), id="bookings"),
        pytest.param(REGISTRATION_STATES, set(ACTIVE_REGISTRATION_STATUSES), id="registrations"),
    ],
)
def test_what_holds_a_place_is_what_the_state_table_takes_and_releases(table, holding):
    for action, step in table.moves.items():
        if step.effect == Effect.TAKE:
            assert step.target in holding, action
            assert not step.sources, action
        if step.effect in (Effect.RELEASE, Effect.KEEP):
            assert step.sources <= holding, action
        if step.effect in (Effect.RELEASE, Effect.CLOSE):
            assert step.target not in holding, action


def test_only_an_offer_holds_a_place_in_the_line():
    holding = {"offered"}
    for action, step in WAITLIST_STATES.moves.items():
        if step.effect in (Effect.RELEASE,):
            assert step.sources == holding, action
        if step.effect == Effect.TAKE:
            assert step.target in holding, action
    assert set(ACTIVE_WAIT_STATUSES) == {"waiting", "offered"}


def test_refused_transition_changes_nothing_and_names_the_state(desk, home_point, app):
    slot_id = desk.slot(home_point, CareType.HOURLY, TUESDAY, (time(9), time(10)), 3)
    family = desk.family()
    held = desk.book(slot_id, family)

    def cancel():
        return booking.cancel_by_parent(
            db.session.get(User, family[0]), db.session.get(Booking, held), NOW
        )

    desk.run(cancel)
    with pytest.raises(booking.Settled, match="This booking has been cancelled."):
        desk.run(cancel)
    with app.app_context():
        taken = db.session.get(Slot, slot_id).inventory.taken
    assert taken == 0
    with pytest.raises(BookingError):
        desk.accept(held)


# --- the second request sees the first one's outcome ---------------------------------------


def test_second_cancel_of_a_booking_shows_it_cancelled_without_an_error(
    app, client, auth, desk, home_point
):
    slot_id = desk.slot(home_point, CareType.HOURLY, TUESDAY, (time(9), time(10)), 3)
    family = desk.family()
    held = desk.book(slot_id, family)
    auth.login(family[0])
    client.set_cookie("lang", "en")
    cancel = f"/parents/bookings/{held}/cancel"

    first = client.post(cancel)
    second = client.post(cancel, follow_redirects=True)

    assert first.status_code == 302
    assert second.status_code == 200
    body = unescape(second.get_data(as_text=True))
    assert '<p class="flash flash-info">This booking has been cancelled.</p>' in body
    assert "flash-error" not in body
    with app.app_context():
        assert db.session.get(Slot, slot_id).inventory.taken == 0


def test_joining_a_waiting_list_twice_keeps_one_place_in_line(app, client, auth, desk, home_point):
    slot_id = desk.slot(home_point, CareType.HOURLY, TUESDAY, (time(9), time(10)), 1)
    desk.book(slot_id)
    parent_id, child_id = desk.family()
    auth.login(parent_id)
    client.set_cookie("lang", "en")
    data = {"waitlist-child_id": str(child_id), "waitlist-request_key": "k"}

    answers = [client.post(f"/parents/book/{slot_id}/waitlist", data=data) for _ in range(2)]

    assert [answer.status_code for answer in answers] == [302, 302]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(WaitlistEntry.id))) == 1


@pytest.fixture
def full_class(desk, institution, app):
    """A class of two places filled by a whole day of temporary care, a family waiting for
    that day's place and one waiting for an hour of the same class. Returns the ids."""
    class_id = classes_of(app, institution(offers=OFFERS, classes=SMALL_CLASS))[0]
    whole_day = desk.slot(class_id, CareType.TEMPORARY, TUESDAY, DAY_HOURS, 2)
    hour = desk.slot(class_id, CareType.HOURLY, TUESDAY, (time(9), time(10)), 2)
    holder = desk.family()
    held = desk.book(whole_day, holder)
    desk.book(whole_day)
    day_family, hour_family = desk.family(), desk.family()
    return {
        "whole_day": whole_day,
        "holder": holder,
        "held": held,
        "day_family": day_family,
        "day_entry": desk.join(day_family, whole_day),
        "hour_entry": desk.join(hour_family, hour),
    }


def entry_status(app, entry_id: int) -> str:
    """A waiting-list entry's status."""
    with app.app_context():
        return db.session.get(WaitlistEntry, entry_id).status


def test_a_place_turned_down_that_nobody_else_waits_for_goes_to_the_class_line(
    app, desk, full_class
):
    holder, held = full_class["holder"], full_class["held"]
    desk.run(
        lambda: booking.cancel_by_parent(
            db.session.get(User, holder[0]), db.session.get(Booking, held), NOW
        )
    )
    assert entry_status(app, full_class["day_entry"]) == "offered"
    assert entry_status(app, full_class["hour_entry"]) == "waiting", "the class is still full"

    desk.run(
        lambda: booking.leave_waitlist(
            db.session.get(User, full_class["day_family"][0]),
            db.session.get(WaitlistEntry, full_class["day_entry"]),
            NOW,
        )
    )

    assert entry_status(app, full_class["hour_entry"]) == "offered"


def test_a_cancelled_slot_makes_room_for_the_class_line(app, desk, full_class):
    desk.run(
        lambda: booking.cancel_slot(db.session.get(Slot, full_class["whole_day"]), "停课", NOW)
    )

    assert entry_status(app, full_class["hour_entry"]) == "offered"


# --- changing a filed institution's classes keeps the children's places --------------------


def _class_change(app, regulator_id: int, class_id: int, capacity: int | None):
    """The owner asks to give the class ``capacity`` places (None: remove the class), and the
    bureau approves; returns the error either step refused with, or None."""
    today = NOW.date()
    with app.app_context(), force_locale("en"):
        care_class = db.session.get(CareClass, class_id)
        institution = care_class.institution
        rows = [
            {"kind": ClassKind(c.kind), "name": c.name, "capacity": c.capacity, "carers": c.carers}
            for c in institution.classes
            if c.id != class_id or capacity is not None
        ]
        for row in rows:
            if row["name"] == care_class.name and capacity is not None:
                row["capacity"] = capacity
        profile = filing.Profile({}, rows, [])
        regulator = db.session.get(User, regulator_id)
        try:
            change = filing.update_filed_profile(institution, regulator, profile, today)
            db.session.flush()
            filing.approve_change(change, regulator, today)
            db.session.commit()
        except filing.FilingError as refused:
            db.session.rollback()
            return str(refused.message)
    return None


@pytest.fixture
def regulator(user) -> int:
    """The bureau's account (it also stands in for the owner asking for the change)."""
    return user(Role.REGULATOR)


def test_an_approved_class_change_keeps_the_class_slots_and_bookings(
    app, desk, home_point, regulator
):
    slot_id = desk.slot(home_point, CareType.HOURLY, TUESDAY, (time(9), time(10)), 2)
    held = desk.book(slot_id)

    assert _class_change(app, regulator, home_point, 2) is None

    with app.app_context():
        assert db.session.get(CareClass, home_point).capacity == 2
        assert db.session.get(Booking, held).status == "confirmed"
        assert db.session.get(Slot, slot_id).care_class_id == home_point


def test_a_class_cannot_shrink_below_the_children_booked_in_it(app, desk, home_point, regulator):
    slot_id = desk.slot(home_point, CareType.HOURLY, TUESDAY, (time(9), time(10)), 3)
    desk.book(slot_id)
    desk.book(slot_id)

    refused = _class_change(app, regulator, home_point, 1)

    assert refused == (
        "The class home_group has more children booked than 1 places. Cancel places first,"
        " or keep more places."
    )
    with app.app_context():
        assert db.session.get(CareClass, home_point).capacity == 3


def test_a_class_with_open_slots_cannot_be_removed(app, desk, institution, regulator):
    two = institution(
        offers=OFFERS, classes=((ClassKind.TODDLER, 10, 2), (ClassKind.OLDER_TODDLER, 10, 2))
    )
    second = classes_of(app, two)[1]
    desk.slot(second, CareType.HOURLY, TUESDAY, (time(9), time(10)), 3)

    refused = _class_change(app, regulator, second, None)

    assert refused is not None
    assert "has open slots and cannot be removed" in refused
    assert len(classes_of(app, two)) == 2


# --- deregistration ends every place -------------------------------------------------------


def test_deregistration_ends_every_place_tells_each_family_and_empties_their_calendars(
    app, desk, home_point, regulator
):
    hour = desk.slot(home_point, CareType.HOURLY, TUESDAY, (time(9), time(10)), 1)
    standing = desk.slot(home_point, CareType.FULL_DAY, MONDAY, DAY_HOURS, 1)
    booked, applying, waiting = desk.family(), desk.family(), desk.family()
    held = desk.book(hour, booked)
    application = desk.book(standing, applying)
    entry = desk.join(waiting, hour)
    with app.app_context():
        institution = db.session.get(CareClass, home_point).institution
        before = db.session.scalar(sa.select(sa.func.max(OutboxMessage.id)))
        filing.revoke(institution, db.session.get(User, regulator), "举办者申请注销", TUESDAY)
        db.session.commit()

    with app.app_context():
        statuses = [db.session.get(Booking, b).status for b in (held, application)]
        told = db.session.scalars(
            sa.select(OutboxMessage.recipient).where(OutboxMessage.id > before)
        ).all()
        parents = [db.session.get(User, f[0]) for f in (booked, applying)]
        feeds = [calendar.feed_for(parent, "en") for parent in parents]
        assert db.session.get(WaitlistEntry, entry).status == "left"
    assert statuses == ["cancelled_by_institution", "cancelled_by_institution"]
    assert {parent.email for parent in parents} <= set(told)
    assert all(b"VEVENT" not in feed for feed in feeds)


def test_an_offer_shows_until_when_it_is_held_in_local_time(app, client, auth, desk, home_point):
    slot_id = desk.slot(home_point, CareType.HOURLY, TUESDAY, (time(9), time(10)), 1)
    holder = desk.family()
    held = desk.book(slot_id, holder)
    waiting = desk.family()
    desk.join(waiting, slot_id)
    desk.cancel(holder, held)
    auth.login(waiting[0])
    client.set_cookie("lang", "en")

    page = client.get("/parents/bookings").get_data(as_text=True)

    # Held 12 hours from 08:00 local: until 20:00 local, Friday 1 March.
    assert "Held for you until Fri, Mar 1 20:00." in page
    assert "UTC" not in page
