"""A booking form sent again books nothing more: its one-time key names the first booking.

A booking takes its place and inserts its row without a savepoint; when the key turns out to
be used already, the insert fails and the transaction's rollback gives the place back.
"""

import dataclasses
import re
from datetime import time, timedelta

import pytest
import sqlalchemy as sa
from places_desk import PlacesDesk, first_class, places_taken

from careapp import clock
from careapp.extensions import db
from careapp.models import Booking, CareType, Child, Slot
from careapp.services import booking


@pytest.fixture
def desk_and_slot(app, user, institution):
    """A desk for families and the id of an hourly slot with 3 places a week ahead."""
    institution_id = institution("表单托育中心", offers={CareType.HOURLY: (6, 36, 40)})
    day = clock.today() + timedelta(days=7)
    desk = PlacesDesk(app, user, clock.local_now(), born=day - timedelta(days=540))
    class_id = first_class(app, institution_id)
    return desk, desk.add_slot(class_id, CareType.HOURLY, day, (time(9), time(10)), 3)


@pytest.fixture
def two_children(desk_and_slot, auth):
    """A signed-in parent's two children: ``(first_child_id, second_child_id)``."""
    desk, _ = desk_and_slot
    parent_id, first = desk.family()
    second = desk.add_child(parent_id, "张小红")
    auth.login(parent_id)
    return first, second


def test_a_form_sent_again_for_another_child_answers_with_the_first_booking(
    app, client, desk_and_slot, two_children
):
    _, slot_id = desk_and_slot
    path = f"/parents/book/{slot_id}"
    first = client.post(path, data={"child_id": two_children[0], "request_key": "one-form"})
    again = client.post(path, data={"child_id": two_children[1], "request_key": "one-form"})

    assert first.status_code == again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    assert places_taken(app, slot_id) == 1


def test_a_key_used_at_the_same_moment_gives_the_place_taken_back(
    app, client, desk_and_slot, two_children, monkeypatch
):
    """The first booking committed after this request looked for it (two children, so two
    child locks): the insert fails on the key, and the place this request took is given back."""
    _, slot_id = desk_and_slot
    path = f"/parents/book/{slot_id}"
    first = client.post(path, data={"child_id": two_children[0], "request_key": "one-form"})
    seen = booking._seen_under_lock  # as if the first booking had not committed yet
    monkeypatch.setattr(
        booking, "_seen_under_lock", lambda *args: dataclasses.replace(seen(*args), earlier=None)
    )
    again = client.post(path, data={"child_id": two_children[1], "request_key": "one-form"})

    assert again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    assert places_taken(app, slot_id) == 1


@pytest.mark.parametrize("chosen", ["another family's", "erased", "unknown", "not a number"])
def test_a_booking_for_a_child_not_offered_is_refused_on_the_form(
    app, client, desk_and_slot, two_children, chosen
):
    """The child is read under the booking's lock, not from the form's list: one the account
    may not book for is refused as a bad choice, the form shown again with its own children."""
    desk, slot_id = desk_and_slot
    _, strangers_child = desk.family()
    erased = two_children[1]
    with app.app_context():
        db.session.get(Child, erased).erased_at = clock.now()
        db.session.commit()
    child_id = {
        "another family's": strangers_child,
        "erased": erased,
        "unknown": strangers_child + 1000,
        "not a number": "x1",
    }[chosen]

    answer = client.post(
        f"/parents/book/{slot_id}", data={"child_id": child_id, "request_key": "not-offered"}
    )

    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert re.search(r'<p class="error" id="child_id-error">[^<]+</p>', page)
    assert f'value="{two_children[0]}"' in page
    assert f'value="{erased}"' not in page
    assert f'value="{strangers_child}"' not in page
    assert places_taken(app, slot_id) == 0
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Booking.id))) == 0


def test_a_form_sent_without_its_key_or_start_date_books_as_the_page_fills_them(
    app, client, user, institution, auth
):
    """The page fills a fresh key and, for a standing place, the earliest start: a form sent
    without them is completed the same way (an empty key would tie two bookings together)."""
    offers = {CareType.HOURLY: (6, 36, 40), CareType.FULL_DAY: (12, 36, 2800)}
    institution_id = institution("补全托育中心", offers=offers)
    day = clock.today() + timedelta(days=7)
    desk = PlacesDesk(app, user, clock.local_now(), born=day - timedelta(days=540))
    class_id = first_class(app, institution_id)
    hourly = desk.add_slot(class_id, CareType.HOURLY, day, (time(9), time(10)), 3)
    next_day = day + timedelta(days=1)
    full_day = desk.add_slot(class_id, CareType.FULL_DAY, next_day, (time(8), time(17)), 3)
    parent_id, first = desk.family()
    second = desk.add_child(parent_id, "张小红")
    auth.login(parent_id)

    answers = [
        client.post(f"/parents/book/{hourly}", data={"child_id": child})
        for child in (first, second)
    ]
    applied = client.post(f"/parents/book/{full_day}", data={"child_id": first})

    assert [answer.status_code for answer in answers] == [302, 302]
    assert answers[0].headers["Location"] != answers[1].headers["Location"]
    assert places_taken(app, hourly) == 2
    assert applied.status_code == 302
    with app.app_context():
        made = db.session.scalar(sa.select(Booking).where(Booking.slot_id == full_day))
        slot = db.session.get(Slot, full_day)
        assert made.starts_on == booking.earliest_start(slot, clock.today())
        assert made.request_key


def test_a_key_another_family_used_is_answered_as_an_expired_form_with_a_fresh_key(
    app, client, desk_and_slot, auth
):
    """A key copied from another family's form books nothing and says so; the form comes back
    with a fresh key, which books."""
    desk, slot_id = desk_and_slot
    path = f"/parents/book/{slot_id}"
    first_parent, first_child = desk.family()
    auth.login(first_parent)
    assert client.post(path, data={"child_id": first_child, "request_key": "k1"}).status_code == 302
    auth.logout()
    other_parent, other_child = desk.family()
    auth.login(other_parent)
    client.set_cookie("lang", "en")

    refused = client.post(path, data={"child_id": other_child, "request_key": "k1"})

    page = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "This form has expired. Nothing was booked: please check it and send it again." in page
    assert "already has this place" not in page
    fresh = re.search(r'name="request_key" type="hidden" value="([^"]+)"', page).group(1)
    assert fresh != "k1"
    assert places_taken(app, slot_id) == 1
    again = client.post(path, data={"child_id": other_child, "request_key": fresh})
    assert again.status_code == 302
    assert places_taken(app, slot_id) == 2


def test_a_hidden_field_sent_unreadable_is_said_in_a_sentence_and_books_nothing(
    app, client, desk_and_slot, two_children
):
    """A NUL in the one-time key sits on a field the page does not show: the banner says that
    part of the page could not be read (no list of fields nobody can correct), and the form
    comes back with a fresh key, which books."""
    _, slot_id = desk_and_slot
    path = f"/parents/book/{slot_id}"
    client.set_cookie("lang", "en")

    refused = client.post(path, data={"child_id": two_children[0], "request_key": "k\x00"})

    page = refused.get_data(as_text=True)
    assert refused.status_code == 200
    assert "Part of this page could not be read, so nothing was saved." in page
    assert "Please correct the marked fields." not in page
    assert places_taken(app, slot_id) == 0
    fresh = re.search(r'name="request_key" type="hidden" value="([^"]+)"', page).group(1)
    assert "\x00" not in fresh
    again = client.post(path, data={"child_id": two_children[0], "request_key": fresh})
    assert again.status_code == 302
    assert places_taken(app, slot_id) == 1


@pytest.mark.parametrize("starts_on", ["not a date", "2026-02-30", "\x00"])
def test_a_start_date_sent_for_hourly_care_is_not_read(
    app, client, desk_and_slot, two_children, starts_on
):
    """Hourly and temporary care have no start date on their page: a value sent for one is
    neither refused (with a banner naming a field the page does not show) nor kept."""
    _, slot_id = desk_and_slot
    data = {"child_id": two_children[0], "request_key": "hourly", "starts_on": starts_on}

    answer = client.post(f"/parents/book/{slot_id}", data=data)

    assert answer.status_code == 302
    assert places_taken(app, slot_id) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(Booking.starts_on)) is None
