"""A booking a grandparent can finish (issue 15, item 4) and pages that share well (item 5):
search opens at its results and carries its criteria to the institution page, dates read
"明天 12月1日（周二）", the booking shows its price, what to bring, the way there and the phone,
cancelling asks once and says where the place goes, the institution is told of each new
application and sees the family's contact, its places page is paged by week, and every public
page has a sharing card and an icon.
"""

import re
from datetime import UTC, date, datetime, time, timedelta
from html import unescape
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from careapp import clock
from careapp.database import run_in_transaction
from careapp.extensions import db
from careapp.i18n import full_day
from careapp.models import (
    Booking,
    BookingStatus,
    CareType,
    Child,
    ClassKind,
    Institution,
    Nature,
    OutboxMessage,
    Role,
    Slot,
    User,
)
from careapp.services import booking
from careapp.services.booking import SlotFull

OFFERS = {
    CareType.FULL_DAY: (6, 36, 2800),
    CareType.HOURLY: (6, 36, 30),
    CareType.TEMPORARY: (6, 36, 150),
}
WHAT_TO_BRING = "尿不湿两片、换洗衣服一套"
CHILD = "陈小花"
PARENT_PHONE = "+8613912345678"


def today() -> date:
    return clock.today()


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def flashes(response) -> list[str]:
    return re.findall(r'<p class="flash flash-\w+">(.*?)</p>', text(response))


@pytest.fixture
def owner(user):
    return user(Role.INSTITUTION, email="desk@xiaoxiangshu.example.com")


@pytest.fixture
def place(institution, owner):
    """A filed institution in 陈埭镇 with hourly, temporary and full-day care, one class of two."""
    return institution(
        "陈埭小橡树托育",
        township_code="chendai",
        owner_id=owner,
        offers=OFFERS,
        classes=((ClassKind.TODDLER, 2, 1), (ClassKind.INFANT, 3, 1)),
        what_to_bring=WHAT_TO_BRING,
        what_to_bring_en="Two nappies and a change of clothes",
    )


def make_slot(app, institution_id, care_type, day, hours, places=2, class_index=0) -> int:
    with app.app_context(), force_locale("en"):
        return run_in_transaction(
            lambda: (
                booking.add_slot(
                    db.session.get(Institution, institution_id).classes[class_index],
                    care_type,
                    day,
                    *hours,
                    places,
                    today(),
                ).id
            )
        )


@pytest.fixture
def family(app, user):
    """Factory: a parent (with a mobile number) and a 20-month-old; ``(parent_id, child_id)``."""

    def make(name=CHILD, phone=PARENT_PHONE):
        parent_id = user(Role.PARENT, phone=phone)
        with app.app_context():
            child = booking.add_child(
                db.session.get(User, parent_id),
                name=name,
                birth_date=today() - timedelta(days=20 * 31),
                notes="",
                consent=True,
            )
            db.session.commit()
            return parent_id, child.id

    return make


def book(app, family_ids, slot_id) -> int:
    parent_id, child_id = family_ids
    with app.app_context(), force_locale("en"):
        return run_in_transaction(
            lambda: (
                booking.book(
                    db.session.get(User, parent_id),
                    child_id,
                    db.session.get(Slot, slot_id),
                    booking.new_request_key(),
                    clock.local_now(),
                ).id
            )
        )


# --- dates as people say them ---------------------------------------------------------------


@pytest.fixture
def monday_noon(monkeypatch):
    """The site's clock at noon, Monday 30 November 2026 in Shanghai."""
    monkeypatch.setattr(clock, "_system_now", lambda: datetime(2026, 11, 30, 4, 0, tzinfo=UTC))


@pytest.mark.parametrize(
    ("days", "chinese", "english"),
    [
        (0, "今天 11月30日（周一）", "Today, Mon 30 Nov"),
        (1, "明天 12月1日（周二）", "Tomorrow, Tue 1 Dec"),
        (2, "后天 12月2日（周三）", "The day after tomorrow, Wed 2 Dec"),
        (3, "12月3日（周四）", "Thu 3 Dec"),
        (-1, "11月29日（周日）", "Sun 29 Nov"),
    ],
)
def test_a_day_reads_today_tomorrow_or_the_day_after_then_its_date_and_weekday(
    app, monday_noon, days, chinese, english
):
    day = date(2026, 11, 30) + timedelta(days=days)
    with app.test_request_context("/"):
        with force_locale("zh_CN"):
            assert full_day(day) == chinese
        with force_locale("en"):
            assert full_day(day) == english


# --- search → institution ------------------------------------------------------------------


def test_search_opens_at_its_results_and_each_result_carries_the_criteria(app, client, place):
    make_slot(
        app, place, CareType.TEMPORARY, today() + timedelta(days=1), (time(13, 30), time(17, 30))
    )
    tomorrow = (today() + timedelta(days=1)).isoformat()

    response = client.get(
        f"/?township=chendai&care_type=temporary&age_months=20&on={tomorrow}&lang=en"
    )

    page = text(response)
    assert response.status_code == 200
    assert 'action="/#results"' in page
    assert '<h2 id="results"' in page
    [link] = re.findall(rf'<h3><a href="(/institutions/{place}[^"]*)">', page)
    parts = urlsplit(link)
    assert parts.fragment == "places"
    assert parse_qs(parts.query) == {
        "care_type": ["temporary"],
        "age_months": ["20"],
        "from": [tomorrow],
        "township": ["chendai"],
    }


def test_a_date_in_the_past_is_refused_with_a_message_and_kept(client, place):
    yesterday = (today() - timedelta(days=1)).isoformat()
    response = client.get(f"/?on={yesterday}&lang=en")
    assert response.status_code == 400
    page = text(response)
    assert "The date has passed." in page
    assert f'value="{yesterday}"' in page


def test_the_institution_page_opens_filtered_by_the_care_type_the_age_and_the_date(
    app, client, place
):
    tomorrow = today() + timedelta(days=1)
    afternoon = make_slot(app, place, CareType.TEMPORARY, tomorrow, (time(13, 30), time(17, 30)))
    hourly = make_slot(app, place, CareType.HOURLY, tomorrow, (time(9), time(10)))
    infants = make_slot(
        app, place, CareType.TEMPORARY, tomorrow, (time(8), time(12)), class_index=1
    )
    later = make_slot(
        app, place, CareType.TEMPORARY, tomorrow + timedelta(days=20), (time(8), time(12))
    )

    response = client.get(
        f"/institutions/{place}?care_type=temporary&age_months=20"
        f"&from={tomorrow.isoformat()}&township=chendai&lang=zh_CN"
    )

    page = text(response)
    assert response.status_code == 200
    assert f"/parents/book/{afternoon}" in page
    for hidden in (hourly, infants, later):  # another care type, the infants' class, too late
        assert f"/parents/book/{hidden}" not in page
    assert '<option value="temporary" selected>' in page
    assert re.search(r"明天 \d+月\d+日（周.）", page)
    back = re.search(r'<p class="back"><a href="([^"]+)">', page).group(1)
    assert back.startswith("/?")
    assert back.endswith("#results")
    assert parse_qs(urlsplit(back).query)["township"] == ["chendai"]


# --- the booking form and the confirmation -----------------------------------------------


@pytest.fixture
def parent_client(client, auth, family):
    ids = family()
    auth.login(ids[0])
    client.set_cookie("lang", "en")
    return client, ids


def test_the_booking_form_and_confirmation_show_price_what_to_bring_the_way_and_the_phone(
    app, place, parent_client
):
    client, _ids = parent_client
    slot_id = make_slot(
        app, place, CareType.HOURLY, today() + timedelta(days=2), (time(14), time(16, 30))
    )

    form = text(client.get(f"/parents/book/{slot_id}"))
    done = client.post(f"/parents/book/{slot_id}", data={"child_id": _ids[1], "request_key": "k1"})
    confirmation = text(client.get(done.headers["Location"]))

    for page in (form, confirmation):
        assert "¥75 (2.5 hours at ¥30 per hour)" in page
        assert "Two nappies and a change of clothes" in page
        assert f'href="geo:0,0?q={quote("世纪大道")}' in page  # the address, then the name
        assert 'href="https://uri.amap.com/search?keyword=' in page
        assert 'href="tel:059585661234"' in page
        assert "<script" not in page


@pytest.mark.parametrize(
    ("care_type", "hours", "shown"),
    [
        (CareType.TEMPORARY, (time(13, 30), time(17, 30)), "¥150 for the day"),
        (CareType.FULL_DAY, (time(8), time(17)), "¥2,800 per month"),
    ],
)
def test_temporary_care_costs_the_days_price_and_a_standing_place_the_months(
    app, place, parent_client, care_type, hours, shown
):
    client, _ids = parent_client
    slot_id = make_slot(app, place, care_type, today() + timedelta(days=2), hours)
    assert shown in text(client.get(f"/parents/book/{slot_id}"))


def test_coordinates_open_the_map_app_at_the_place(app, institution, owner, parent_client):
    client, _ids = parent_client
    located = institution(owner_id=owner, offers=OFFERS, latitude=24.8, longitude=118.6)
    slot_id = make_slot(
        app, located, CareType.HOURLY, today() + timedelta(days=2), (time(9), time(10))
    )
    assert 'href="geo:24.800000,118.600000?q=24.800000,118.600000(' in text(
        client.get(f"/parents/book/{slot_id}")
    )


def test_the_institution_sets_what_to_bring_on_its_profile(app, client, auth, owner, place):
    auth.login(owner)
    with app.app_context():
        record = db.session.get(Institution, place)
        assert record.what_to_bring_for("zh_CN") == WHAT_TO_BRING
        assert record.what_to_bring_for("en") == "Two nappies and a change of clothes"
    page = text(client.get(f"/institutions/{place}/edit?lang=en"))
    assert 'name="what_to_bring"' in page
    assert WHAT_TO_BRING in page


# --- cancelling asks once ------------------------------------------------------------------


def test_cancelling_asks_once_and_says_nobody_waits_then_cancels_on_the_post(
    app, place, parent_client
):
    client, ids = parent_client
    slot_id = make_slot(
        app, place, CareType.HOURLY, today() + timedelta(days=2), (time(9), time(10))
    )
    booking_id = book(app, ids, slot_id)

    detail = text(client.get(f"/parents/bookings/{booking_id}"))
    asked = client.get(f"/parents/bookings/{booking_id}/cancel")

    assert f'href="/parents/bookings/{booking_id}/cancel"' in detail
    assert asked.status_code == 200
    page = text(asked)
    assert "Cancel this booking?" in page
    assert "Nobody is waiting for this place" in page
    assert 'method="post"' in page
    with app.app_context():
        assert db.session.get(Booking, booking_id).status == BookingStatus.CONFIRMED
    done = client.post(f"/parents/bookings/{booking_id}/cancel", follow_redirects=True)
    assert "The booking is cancelled. The place is free for others to book." in flashes(done)
    with app.app_context():
        assert db.session.get(Booking, booking_id).status == BookingStatus.CANCELLED


def test_cancelling_a_place_a_family_waits_for_says_so_and_hands_it_on(
    app, place, parent_client, family
):
    client, ids = parent_client
    slot_id = make_slot(
        app, place, CareType.HOURLY, today() + timedelta(days=2), (time(9), time(10)), places=1
    )
    booking_id = book(app, ids, slot_id)
    waiting_parent, waiting_child = family("林小雨", phone=None)
    with app.app_context(), force_locale("en"):
        run_in_transaction(
            lambda: booking.join_waitlist(
                db.session.get(User, waiting_parent),
                db.session.get(Child, waiting_child),
                db.session.get(Slot, slot_id),
                clock.local_now(),
            )
        )

    asked = text(client.get(f"/parents/bookings/{booking_id}/cancel"))
    done = client.post(f"/parents/bookings/{booking_id}/cancel", follow_redirects=True)

    assert "A family is waiting for this place" in asked
    assert "The booking is cancelled. The place goes to a family waiting for it." in flashes(done)


def test_the_chinese_cancel_message_runs_its_sentences_on(app, place, parent_client):
    client, ids = parent_client
    client.set_cookie("lang", "zh_CN")
    slot_id = make_slot(
        app, place, CareType.HOURLY, today() + timedelta(days=2), (time(9), time(10))
    )
    booking_id = book(app, ids, slot_id)

    done = client.post(f"/parents/bookings/{booking_id}/cancel", follow_redirects=True)

    assert "预约已取消。该名额已空出，其他家庭可以预约。" in flashes(done)


def test_another_parents_cancel_page_is_not_found(app, place, parent_client, family):
    client, _ids = parent_client
    slot_id = make_slot(
        app, place, CareType.HOURLY, today() + timedelta(days=2), (time(9), time(10))
    )
    theirs = book(app, family("林小雨"), slot_id)
    assert client.get(f"/parents/bookings/{theirs}/cancel").status_code == 404
    assert client.post(f"/parents/bookings/{theirs}/cancel").status_code == 404


# --- the institution is told and sees the family's contact ---------------------------------


def owner_messages(app) -> list[OutboxMessage]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(OutboxMessage)
                .where(OutboxMessage.recipient == "desk@xiaoxiangshu.example.com")
                .order_by(OutboxMessage.id)
            )
        )


def test_each_new_booking_and_application_is_told_to_the_institution(app, place, family):
    booked = make_slot(
        app, place, CareType.HOURLY, today() + timedelta(days=2), (time(9), time(10))
    )
    applied = make_slot(
        app, place, CareType.FULL_DAY, today() + timedelta(days=9), (time(8), time(17))
    )

    first = book(app, family(), booked)
    second = book(app, family("王小宝"), applied)

    messages = owner_messages(app)
    assert [m.subject.split("：")[0] for m in messages] == ["新预约", "新申请"]
    assert f"/institutions/{place}/bookings/{first}" in messages[0].body
    assert f"/institutions/{place}/bookings/{second}" in messages[1].body
    for message in messages:
        assert CHILD not in message.body
        assert "陈" not in message.body
    assert "小花" in messages[0].body  # the given name only (issue 17 item 18)


def test_the_notice_is_queued_in_the_transaction_of_the_booking(app, place, family):
    slot_id = make_slot(
        app, place, CareType.HOURLY, today() + timedelta(days=2), (time(9), time(10)), places=1
    )
    book(app, family(), slot_id)
    parent_id, child_id = family("王小宝")

    with app.app_context(), force_locale("en"):
        with pytest.raises(SlotFull):
            run_in_transaction(
                lambda: booking.book(
                    db.session.get(User, parent_id),
                    child_id,
                    db.session.get(Slot, slot_id),
                    booking.new_request_key(),
                    clock.local_now(),
                )
            )
        # A booking rolled back takes its notice with it.
        other = make_slot(
            app, place, CareType.HOURLY, today() + timedelta(days=3), (time(9), time(10))
        )
        booking.book(
            db.session.get(User, parent_id),
            child_id,
            db.session.get(Slot, other),
            booking.new_request_key(),
            clock.local_now(),
        )
        db.session.rollback()

    assert len(owner_messages(app)) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Booking.id))) == 1


def test_the_owning_institution_sees_the_familys_phone_and_email_and_nobody_else_does(
    app, client, auth, place, owner, family, user, institution
):
    slot_id = make_slot(
        app, place, CareType.FULL_DAY, today() + timedelta(days=9), (time(8), time(17))
    )
    parent_id, _child = family()
    booking_id = book(app, (parent_id, _child), slot_id)
    with app.app_context():
        email = db.session.get(User, parent_id).email

    auth.login(owner)
    detail = text(client.get(f"/institutions/{place}/bookings/{booking_id}?lang=en"))
    applications = text(client.get(f"/institutions/{place}/applications?lang=en"))
    for page in (detail, applications):
        assert f'href="tel:{PARENT_PHONE}"' in page
        assert f'href="mailto:{email}"' in page

    stranger = user(Role.INSTITUTION)
    theirs = institution("别家托育", owner_id=stranger, offers=OFFERS)
    auth.logout()
    auth.login(stranger)
    assert client.get(f"/institutions/{theirs}/bookings/{booking_id}").status_code == 404
    assert client.get(f"/institutions/{place}/bookings/{booking_id}").status_code == 404
    assert PARENT_PHONE not in text(client.get(f"/institutions/{theirs}/applications"))


# --- the places page, one week at a time -------------------------------------------------------


def test_the_places_page_shows_one_week_and_stays_small_however_many_weeks_have_slots(
    app, client, auth, user, institution
):
    keeper = user(Role.INSTITUTION)
    home = institution(
        "家庭托育点",
        owner_id=keeper,
        nature=Nature.HOME_BASED,
        offers={CareType.HOURLY: (6, 36, 30), CareType.TEMPORARY: (6, 36, 150)},
        classes=((ClassKind.HOME_GROUP, 3, 1),),
    )
    monday = today() - timedelta(days=today().weekday())
    made = {}
    for number in range(28):
        day = monday + timedelta(days=number)
        if day < today():
            continue
        for hours in ((time(8), time(10)), (time(10), time(12)), (time(14), time(16))):
            made[(day, hours[0])] = make_slot(app, home, CareType.HOURLY, day, hours, places=3)
    auth.login(keeper)

    this_week = client.get(f"/institutions/{home}/places?lang=en")
    third = client.get(
        f"/institutions/{home}/places?from={(monday + timedelta(days=16)).isoformat()}&lang=en"
    )

    assert len(this_week.data) < 60_000
    assert len(third.data) < 60_000
    page = text(third)
    shown = set(re.findall(r'id="slot-(\d+)"', page))
    expected = {str(i) for (day, _), i in made.items() if (day - monday).days // 7 == 2}
    assert shown == expected
    prev_week = (monday + timedelta(days=7)).isoformat()
    next_week = (monday + timedelta(days=21)).isoformat()
    assert f'rel="prev" href="/institutions/{home}/places?from={prev_week}"' in page
    assert f'rel="next" href="/institutions/{home}/places?from={next_week}"' in page


# --- sharing ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/courses", "/registry", "/register", "/login"])
def test_every_public_page_has_a_sharing_card_and_an_icon(client, path):
    check_card(client, client.get(path))


def test_an_institution_page_shares_its_own_name_and_place(client, place):
    response = client.get(f"/institutions/{place}")
    card = check_card(client, response)
    assert card["og:title"].startswith("陈埭小橡树托育")
    assert "陈埭" in card["og:description"] or "chendai" in card["og:description"]


def check_card(client, response) -> dict:
    assert response.status_code == 200
    page = text(response)
    card = dict(re.findall(r'<meta property="(og:[a-z:]+)" content="([^"]*)">', page))
    assert card["og:title"]
    assert card["og:description"]
    image = urlsplit(card["og:image"])
    assert image.scheme in ("http", "https")
    assert image.path == "/static/og.png"
    fetched = client.get(image.path)
    assert fetched.status_code == 200
    assert fetched.mimetype == "image/png"
    assert fetched.data.startswith(b"\x89PNG")
    fetched.close()
    assert '<link rel="icon" href="/favicon.ico"' in page
    return card


def test_the_favicon_is_answered(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/vnd.microsoft.icon"
    assert response.data[:4] == b"\x00\x00\x01\x00"
