"""The booking form attacked from outside: values no page sends are answered on the form (or
completed as the page fills them), never with a server error, and nothing is written.

Found by posting to gunicorn on PostgreSQL: a child id beyond the database's integers and a
one-time key longer than its column each ended in a 500.
"""

import re
from datetime import time, timedelta

import pytest
import sqlalchemy as sa
from places_desk import PlacesDesk, first_class, places_taken

from careapp import clock
from careapp.extensions import db
from careapp.models import Booking, CareType, Slot, WaitlistEntry
from careapp.services import booking


@pytest.fixture
def signed_in_family(app, user, institution, auth):
    """A signed-in parent's child and an hourly slot with 3 places a week ahead:
    ``(child_id, slot_id)``."""
    institution_id = institution("攻击托育中心", offers={CareType.HOURLY: (6, 36, 40)})
    day = clock.today() + timedelta(days=7)
    desk = PlacesDesk(app, user, clock.local_now(), born=day - timedelta(days=540))
    class_id = first_class(app, institution_id)
    slot_id = desk.add_slot(class_id, CareType.HOURLY, day, (time(9), time(10)), 3)
    parent_id, child_id = desk.family()
    auth.login(parent_id)
    return child_id, slot_id


@pytest.mark.parametrize("child_id", [2**31, 2**63, 10**30, 0, -1])
def test_a_child_id_no_database_holds_is_refused_on_the_form(
    app, client, signed_in_family, child_id
):
    """POST /parents/book/<slot> child_id=2147483648 (or larger): PostgreSQL's integer ids
    stop at 2**31 - 1, SQLite's at 2**63 - 1; the child is read under the lock by that id."""
    own_child, slot_id = signed_in_family

    answer = client.post(
        f"/parents/book/{slot_id}", data={"child_id": str(child_id), "request_key": "huge-id"}
    )

    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert re.search(r'<p class="error" id="child_id-error">[^<]+</p>', page)
    assert f'value="{own_child}"' in page
    assert places_taken(app, slot_id) == 0
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Booking.id))) == 0


@pytest.mark.parametrize("request_key", ["k" * 49, "k" * 65, "k" * 10_000, "键" * 30, "a b"])
def test_a_key_no_page_sends_is_replaced_as_a_missing_one(
    app, client, signed_in_family, request_key
):
    """POST /parents/book/<slot> request_key=<10,000 characters>: the key's column holds 64;
    a key the page never sends (see ``RequestKeyField``) is completed as a missing one is,
    with a fresh key (a NUL is refused on the form, as in any field)."""
    child_id, slot_id = signed_in_family

    answer = client.post(
        f"/parents/book/{slot_id}", data={"child_id": child_id, "request_key": request_key}
    )

    assert answer.status_code == 302
    assert places_taken(app, slot_id) == 1
    with app.app_context():
        made = db.session.scalar(sa.select(Booking))
        assert made.child_id == child_id
        assert made.request_key != request_key
        assert 0 < len(made.request_key) <= 64


def test_an_offer_accepted_with_a_key_no_page_sends_is_accepted_once(
    app, client, user, institution, auth
):
    """The offer's page adds ``:<entry id>`` to the form's key: a 64-character key made 70,
    past the key's column, and PostgreSQL answered 500. Such a key is replaced by a fresh one."""
    institution_id = institution("候补托育中心", offers={CareType.HOURLY: (6, 36, 40)})
    desk = PlacesDesk(app, user, clock.local_now(), born=clock.today() - timedelta(days=540))
    class_id = first_class(app, institution_id)
    slot_id = desk.add_slot(
        class_id, CareType.HOURLY, clock.today() + timedelta(days=7), (time(9), time(10)), 1
    )
    holder, waiting = desk.family("张小明"), desk.family("李小红")
    held = desk.book(holder, slot_id)
    entry_id = desk.join(waiting, slot_id)
    desk.cancel(holder, held)
    auth.login(waiting[0])

    answer = client.post(f"/parents/waitlist/{entry_id}/accept", data={"request_key": "k" * 64})

    assert answer.status_code == 302
    assert "/parents/bookings/" in answer.headers["Location"]
    assert places_taken(app, slot_id) == 1
    with app.app_context():
        made = db.session.scalar(
            sa.select(Booking).where(Booking.slot_id == slot_id, Booking.child_id == waiting[1])
        )
        assert made is not None
        assert len(made.request_key) <= 64


@pytest.mark.parametrize("closing", ["cancelled", "started"])
def test_the_booking_page_of_a_slot_that_takes_no_booking_says_why_and_offers_no_form(
    app, client, user, institution, auth, closing
):
    """GET /parents/book/<slot> of a cancelled or started slot showed its places as free and a
    booking button; only the POST refused. It now says why, with no place and no form."""
    institution_id = institution("停办托育中心", offers={CareType.HOURLY: (6, 36, 40)})
    yesterday = clock.local_now() - timedelta(days=1)
    desk = PlacesDesk(app, user, yesterday, born=clock.today() - timedelta(days=540))
    class_id = first_class(app, institution_id)
    day = yesterday.date() if closing == "started" else clock.today() + timedelta(days=7)
    slot_id = desk.add_slot(class_id, CareType.HOURLY, day, (time(9), time(10)), 3)
    if closing == "cancelled":
        desk.run(
            lambda: booking.cancel_slot(
                db.session.get(Slot, slot_id), "暴雨停园", clock.local_now()
            )
        )
    parent_id, _child_id = desk.family()
    auth.login(parent_id)

    page = client.get(f"/parents/book/{slot_id}").get_data(as_text=True)
    english = client.get(f"/parents/book/{slot_id}?lang=en").get_data(as_text=True)

    reason = {"cancelled": "该时段已取消", "started": "该时段已开始"}[closing]
    assert reason in page
    assert re.search(r"<dt>剩余托位</dt><dd>0</dd>", page)
    assert 'method="post"' not in page.split("</header>", 1)[-1].split("<footer", 1)[0]
    assert {
        "cancelled": "This slot has been cancelled.",
        "started": "This slot has already started.",
    }[closing] in english


@pytest.mark.parametrize("child_id", ["", "x", str(2**63), "another family's"])
def test_joining_the_line_for_a_child_not_offered_says_what_to_do(
    app, client, user, institution, auth, child_id
):
    """POST /parents/book/<slot>/waitlist with a child id the form does not offer answered a
    bare 400; the page is now shown again with the waiting list's form and what to do."""
    institution_id = institution("候补表单托育中心", offers={CareType.HOURLY: (6, 36, 40)})
    desk = PlacesDesk(app, user, clock.local_now(), born=clock.today() - timedelta(days=540))
    class_id = first_class(app, institution_id)
    day = clock.today() + timedelta(days=7)
    slot_id = desk.add_slot(class_id, CareType.HOURLY, day, (time(9), time(10)), 1)
    desk.book(desk.family("张小明"), slot_id)
    parent_id, own_child = desk.family("李小红")
    _, strangers_child = desk.family("王小刚")
    auth.login(parent_id)
    sent = str(strangers_child) if child_id == "another family's" else child_id

    answer = client.post(
        f"/parents/book/{slot_id}/waitlist",
        data={"waitlist-child_id": sent, "waitlist-request_key": "join"},
    )

    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "请选择要加入候补名单的孩子。" in page
    assert f'action="/parents/book/{slot_id}/waitlist"' in page
    assert f'value="{own_child}"' in page
    assert "王小刚" not in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(WaitlistEntry.id))) == 0
