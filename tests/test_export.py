"""A parent's whole account as JSON and CSV (issue 17, PIPL Art. 45): children and consents,
bookings, waiting lists, course registrations, family members, messages and who opened the
child's records; only the account's own, behind its own sign-in."""

import csv
import io
import json
from datetime import datetime, time, timedelta
from html import unescape

import pytest

from careapp import clock
from careapp.extensions import db
from careapp.models import (
    Booking,
    CareType,
    ClassKind,
    CourseFormat,
    CourseSession,
    Institution,
    OrganisationType,
    Provider,
    ProviderStatus,
    Role,
    Topic,
    User,
)
from careapp.services import booking, courses, family
from tests.conftest import AuthActions

CHILD_NAME = "王小宝"
NOTES = "对鸡蛋过敏"
OFFERS = {CareType.HOURLY: (12, 36, 30)}
TODDLERS = (ClassKind.TODDLER, 15, 3)
GRANDMA_PHONE = "+8613812345678"


def page_text(response) -> str:
    """A response body with entities decoded."""
    return unescape(response.get_data(as_text=True))


@pytest.fixture
def owner(user) -> int:
    """An institution account."""
    return user(Role.INSTITUTION, email="staff@example.com", display_name="小橡树前台")


@pytest.fixture
def filed(institution, owner) -> int:
    """The owner's filed institution with hourly care and a toddler class."""
    return institution("小橡树托育中心", owner_id=owner, offers=OFFERS, classes=(TODDLERS,))


@pytest.fixture
def sign_in(app):
    """Factory: a new test client (reading ``lang``) signed in as ``user_id``."""

    def make(user_id: int, lang: str = "en"):
        client = app.test_client()
        client.set_cookie("lang", lang)
        assert AuthActions(client, app).login(user_id).status_code == 302
        return client

    return make


def add_child(parent: User, name: str):
    """A consented child of ``parent``, 18 months old."""
    return booking.add_child(
        parent, name=name, birth_date=clock.today() - timedelta(days=548), notes=NOTES, consent=True
    )


def hourly_slot(found: Institution, day, hours: tuple[int, int] = (9, 11), places: int = 3):
    """An hourly slot of the institution's first class on ``day``."""
    start, end = time(hours[0]), time(hours[1])
    return booking.add_slot(found.classes[0], CareType.HOURLY, day, start, end, places, day)


def add_course_session(app) -> int:
    """A verified provider's course with one session ten days ahead; the session's id."""
    provider_account = User(email="mch@example.com", role=Role.PROVIDER, display_name="妇幼")
    provider_account.password_hash = "x"
    db.session.add(provider_account)
    db.session.flush()
    provider = Provider(
        user_id=provider_account.id,
        name="晋江市妇幼保健院",
        name_en="Jinjiang MCH Hospital",
        organisation_type=OrganisationType.MCH_HOSPITAL,
        phone="0595-85661234",
        status=ProviderStatus.VERIFIED,
        status_reason="",
    )
    db.session.add(provider)
    db.session.flush()
    starts = datetime.combine(clock.today() + timedelta(days=10), time(9, 30))
    course = courses.create_course(
        provider,
        courses.session_times(starts, 90, 1),
        title="科学喂养",
        description="辅食添加",
        topic=Topic.NUTRITION,
        format=CourseFormat.RECORDED,
        township_id=None,
        address=None,
        link="https://video.example.com/watch/7",
        min_age_months=0,
        max_age_months=36,
        seats=10,
        allow_second_seat=False,
        registration_opens_at=clock.local_now() - timedelta(days=1),
        registration_closes_at=starts - timedelta(hours=1),
        cancelled=False,
    )
    db.session.flush()
    return course.sessions[0].id


@pytest.fixture
def account(app, user, filed, owner, sign_in) -> dict:
    """A parent with a booked child, a place on a waiting list, a course registration, an
    invited family member and messages; staff opened the booking. Returns ids."""
    parent_id = user(Role.PARENT, email="wang@example.com", display_name="王妈妈")
    stranger_id = user(Role.PARENT, email="li@example.com", display_name="李爸爸")
    with app.app_context():
        parent, stranger = db.session.get(User, parent_id), db.session.get(User, stranger_id)
        found = db.session.get(Institution, filed)
        day = clock.today() + timedelta(days=2)
        open_slot = booking.add_slot(
            found.classes[0], CareType.HOURLY, day, time(9), time(11), 3, day
        )
        full_slot = booking.add_slot(
            found.classes[0], CareType.HOURLY, day, time(14), time(16), 1, day
        )
        child = add_child(parent, CHILD_NAME)
        made = booking.book(
            parent, child.id, open_slot, booking.new_request_key(), clock.local_now()
        )
        strangers_child = add_child(stranger, "李小红")
        booking.book(stranger, strangers_child.id, full_slot, "stranger-key", clock.local_now())
        entry = booking.join_waitlist(parent, child, full_slot, clock.local_now())
        session = db.session.get(CourseSession, add_course_session(app))
        registration = courses.register(parent, session, 1, "course-key", clock.local_now())
        invitation = family.invite(parent, GRANDMA_PHONE)
        db.session.commit()
        ids = {
            "parent": parent_id,
            "stranger": stranger_id,
            "child": child.id,
            "booking": made.id,
            "entry": entry.id,
            "registration": registration.id,
            "invitation": invitation.id,
        }
    assert sign_in(owner).get(f"/institutions/{filed}/bookings/{ids['booking']}").status_code == 200
    return ids


def exported(client) -> dict:
    """The account's JSON download, parsed."""
    response = client.get("/parents/data/export.json")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    return json.loads(response.get_data(as_text=True))


def test_the_json_export_holds_every_part_of_the_account(account, sign_in):
    document = exported(sign_in(account["parent"]))

    assert document["account"]["email"] == "wang@example.com"
    [child] = document["children"]
    assert (child["id"], child["name"], child["notes"]) == (account["child"], CHILD_NAME, NOTES)
    assert [consent["capacity"] for consent in child["consents"]] == ["guardian"]
    assert [b["id"] for b in document["bookings"]] == [account["booking"]]
    assert [e["id"] for e in document["waiting_list"]] == [account["entry"]]
    assert document["waiting_list"][0]["institution"] == "小橡树托育中心"
    assert [r["id"] for r in document["course_registrations"]] == [account["registration"]]
    assert document["course_registrations"][0]["course"] == "科学喂养"
    assert [f["phone"] for f in document["family_members"]] == [GRANDMA_PHONE]
    assert document["messages"]
    assert {m["to"] for m in document["messages"]} == {"wang@example.com"}


def test_the_export_says_who_opened_the_childs_record_and_when(account, sign_in):
    document = exported(sign_in(account["parent"]))

    [view] = document["record_views"]
    assert view["booking_id"] == account["booking"]
    assert view["staff"] == "小橡树前台"
    assert view["institution"] == "小橡树托育中心"
    assert view["viewed_at"]


def test_the_export_holds_nothing_of_another_account(account, sign_in):
    mine = json.dumps(exported(sign_in(account["parent"])), ensure_ascii=False)
    theirs = json.dumps(exported(sign_in(account["stranger"])), ensure_ascii=False)

    assert "李小红" not in mine
    assert "li@example.com" not in mine
    assert CHILD_NAME not in theirs
    assert "wang@example.com" not in theirs


def test_the_csv_export_carries_the_same_facts_one_field_a_row(account, sign_in):
    response = sign_in(account["parent"]).get("/parents/data/export.csv")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["Section", "Record", "Field", "Value"]
    assert ["children", "1", "name", CHILD_NAME] in rows
    assert ["children", "1", "consents.1.capacity", "guardian"] in rows
    assert ["bookings", "1", "id", str(account["booking"])] in rows
    assert ["record_views", "1", "staff", "小橡树前台"] in rows
    sections = {row[0] for row in rows[1:]}
    assert sections >= {"account", "children", "bookings", "waiting_list", "messages"}
    assert sections >= {"course_registrations", "family_members", "record_views"}


def test_a_family_members_export_masks_the_guardians_child(app, account, user, sign_in):
    grandma_id = user(Role.PARENT, phone=GRANDMA_PHONE, phone_verified_at=clock.now())
    grandma = sign_in(grandma_id)
    assert grandma.post(f"/parents/invitations/{account['invitation']}/accept").status_code == 302
    with app.app_context():
        day = clock.today() + timedelta(days=3)
        care_class = db.session.get(Booking, account["booking"]).slot.care_class
        slot = booking.add_slot(care_class, CareType.HOURLY, day, time(9), time(11), 3, day)
        child = booking.own_child(db.session.get(User, account["parent"]), account["child"])
        booking.book(db.session.get(User, grandma_id), child.id, slot, "grandma", clock.local_now())
        db.session.commit()

    document = exported(grandma)

    [made] = document["bookings"]
    assert made["child"] == "王*宝"
    assert made["child_id"] is None
    assert document["children"] == []
    assert [f["role"] for f in document["family_members"]] == ["member"]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("en", ("Download as JSON", "Download as CSV")), ("zh_CN", ("下载为 JSON", "下载为 CSV"))],
)
def test_the_my_data_page_offers_both_downloads(account, sign_in, lang, expected):
    response = sign_in(account["parent"], lang).get("/parents/data")

    text = page_text(response)
    assert response.status_code == 200
    assert 'href="/parents/data/export.json"' in text
    assert 'href="/parents/data/export.csv"' in text
    assert all(words in text for words in expected)
    assert 'href="/parents/account/delete"' in text


def test_the_parents_home_links_to_my_data(account, sign_in):
    assert 'href="/parents/data"' in page_text(sign_in(account["parent"]).get("/parents/"))


def test_the_export_reads_a_fixed_number_of_statements_however_many_bookings(
    app, account, sign_in, count_queries, filed
):
    client = sign_in(account["parent"])
    with count_queries() as before:
        exported(client)
    with app.app_context():
        parent = db.session.get(User, account["parent"])
        found = db.session.get(Institution, filed)
        for days in (4, 5, 6):
            day = clock.today() + timedelta(days=days)
            slot = booking.add_slot(
                found.classes[0], CareType.HOURLY, day, time(9), time(11), 3, day
            )
            booking.book(
                parent, add_child(parent, f"王{days}宝").id, slot, f"k{days}", clock.local_now()
            )
        db.session.commit()

    with count_queries() as after:
        exported(client)

    assert len(after) == len(before)
