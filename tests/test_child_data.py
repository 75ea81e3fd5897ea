"""Children's data (issue 17, PIPL Arts. 28-31, 44-47): the privacy notice, erasure after the
retention period, erasure when a parent deletes a child or the account (messages and the
SQLite file included), and staff seeing a child in full only while the booking is open."""

import re
import threading
from datetime import UTC, date, datetime, time, timedelta
from html import unescape
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from careapp import clock
from careapp.extensions import db
from careapp.jobs import erase_expired_children, run_jobs
from careapp.models import (
    Booking,
    BookingStatus,
    CareType,
    Child,
    ChildRecordView,
    ClassKind,
    GuardianConsent,
    Institution,
    LoginSession,
    OutboxMessage,
    Role,
    Slot,
    User,
)
from careapp.services import booking, erasure
from careapp.services.erasure import REDACTED_BODY
from careapp.services.privacy import months_before
from tests.conftest import AuthActions

CHILD_NAME = "欧阳娜娜"
FIRST_NAME = "娜娜"
MASKED = "欧**娜"
NOTES = "花生过敏"
OFFERS = {CareType.FULL_DAY: (12, 36, 2800), CareType.HOURLY: (12, 36, 30)}
TODDLERS = (ClassKind.TODDLER, 15, 3)


# --- the world -----------------------------------------------------------------------------


def page_text(response) -> str:
    """A response body with entities decoded."""
    return unescape(response.get_data(as_text=True))


@pytest.fixture
def owner(user) -> int:
    """An institution account."""
    return user(Role.INSTITUTION, email="staff@example.com", display_name="向阳花托育")


@pytest.fixture
def filed(institution, owner) -> int:
    """The owner's filed institution with full-day and hourly care and a toddler class."""
    return institution("向阳花托育中心", owner_id=owner, offers=OFFERS, classes=(TODDLERS,))


@pytest.fixture
def parent(user) -> int:
    """A parent account told by e-mail."""
    return user(Role.PARENT, email="mother@example.com", display_name="欧阳妈妈")


@pytest.fixture
def sign_in(app):
    """Factory: a new English test client signed in as the account ``user_id``."""

    def make(user_id: int):
        client = app.test_client()
        client.set_cookie("lang", "en")
        assert AuthActions(client, app).login(user_id).status_code == 302
        return client

    return make


@pytest.fixture
def book(app, filed, parent):
    """Factory: the parent's child (one per call, named ``name``) booked ``care_type``
    ``days`` days ahead; returns the ids."""

    def make(care_type=CareType.HOURLY, days: int = 2, name: str = CHILD_NAME) -> dict:
        with app.app_context():
            day = clock.today() + timedelta(days=days)
            found = db.session.get(Institution, filed)
            slot = booking.add_slot(found.classes[0], care_type, day, time(9), time(11), 3, day)
            child = booking.add_child(
                db.session.get(User, parent),
                name=name,
                birth_date=clock.today() - timedelta(days=548),
                notes=NOTES,
                consent=True,
            )
            made = booking.book(
                db.session.get(User, parent),
                child.id,
                slot,
                booking.new_request_key(),
                clock.local_now(),
            )
            db.session.commit()
            return {"booking": made.id, "child": child.id, "slot": slot.id, "day": day}

    return make


def deliver_outbox(app) -> list[OutboxMessage]:
    """Send every queued message (to nowhere); returns what was sent."""
    sent = []
    with app.app_context():
        run_jobs(clock.now(), clock.today(), sent.append)
    return sent


def move_clock_to(monkeypatch, day: date, hour: int = 12) -> None:
    """Let the one clock read ``day`` at ``hour`` local time."""
    with_zone = datetime.combine(day, time(hour))
    moment = with_zone.replace(tzinfo=UTC) - timedelta(hours=8)
    monkeypatch.setattr("careapp.clock._system_now", lambda: moment)


def months_after(day: date, months: int) -> date:
    """The same day ``months`` months later."""
    return months_before(day, -months)


def erase(app) -> int:
    """Run the retention step of ``jobs run`` at the clock's time."""
    with app.app_context():
        return erase_expired_children(clock.now(), clock.today())


def child_row(app, child_id: int) -> Child | None:
    """The child's row as stored (detached)."""
    with app.app_context():
        found = db.session.get(Child, child_id)
        db.session.expunge_all()
        return found


def count(app, model) -> int:
    """How many rows ``model`` has."""
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def all_message_text(app) -> str:
    """Every subject and body in the outbox, as one text."""
    with app.app_context():
        rows = db.session.execute(sa.select(OutboxMessage.subject, OutboxMessage.body)).all()
    return "\n".join(f"{subject}\n{body}" for subject, body in rows)


# --- the privacy notice --------------------------------------------------------------------


def test_the_privacy_notice_says_what_why_how_long_and_who_in_english(client):
    response = client.get("/privacy?lang=en")

    text = page_text(response)
    assert response.status_code == 200
    assert '<html lang="en"' in text
    for heading in ("What we collect", "Why", "How long we keep them", "Who sees them"):
        assert f">{heading}</h2>" in text
    assert "erased 12 months after the child's last booking ends" in text


def test_the_privacy_notice_reads_in_chinese_with_no_english_left(client):
    response = client.get("/privacy?lang=zh_CN")

    text = page_text(response)
    main = re.search(r"<main[^>]*>(.*)</main>", text, re.DOTALL)[1]
    assert '<html lang="zh-CN"' in text
    assert "隐私" in main
    assert "12 个月" in main
    words = set(re.findall(r"[A-Za-z]{4,}", re.sub(r"<[^>]+>", " ", main)))
    assert words - {"JSON"} == set()  # the file format keeps its name


def test_the_privacy_notice_states_the_configured_retention(app, client):
    app.config["CHILD_DATA_RETENTION_MONTHS"] = 6

    text = page_text(client.get("/privacy?lang=en"))

    assert "erased 6 months after" in text


def test_the_privacy_notice_is_small_and_needs_no_script(client):
    response = client.get("/privacy?lang=zh_CN")

    assert len(response.data) < 60 * 1024
    assert b"<script" not in response.data


def test_every_form_that_collects_a_childs_data_links_to_the_notice(
    app, parent, sign_in, book, client
):
    made = book()
    other_slot = book(name="李小红", days=3)["slot"]
    mother = sign_in(parent)
    pages = {
        "child form": mother.get("/parents/children/new"),
        "booking form": mother.get(f"/parents/book/{other_slot}"),
        "family invitation": mother.get("/parents/family"),
        "sign-up": client.get("/register"),
        "sign-in by mobile (signs up too)": client.get("/login"),
    }

    assert made
    assert {
        name: 'href="/privacy"' in page_text(page) for name, page in pages.items()
    } == dict.fromkeys(pages, True)


def test_the_course_registration_form_links_to_the_notice():
    source = Path(__file__).parents[1] / "templates" / "parents"
    forms = ["course_session.html", "course_series.html"]

    assert all('"_privacy_link.html"' in (source / name).read_text() for name in forms)


# --- retention -----------------------------------------------------------------------------


def test_a_child_is_anonymised_after_the_retention_period_and_its_booking_still_counts(
    app, monkeypatch, book
):
    made = book()
    move_clock_to(monkeypatch, months_after(made["day"], 12) + timedelta(days=1))

    assert erase(app) == 1

    erased = child_row(app, made["child"])
    assert (erased.name, erased.notes) == ("", "")
    assert erased.birth_date.day == 1
    assert erased.erased_at is not None
    assert count(app, GuardianConsent) == 0
    assert count(app, Booking) == 1


def test_a_child_is_kept_until_the_retention_period_has_passed(app, monkeypatch, book):
    made = book()
    move_clock_to(monkeypatch, months_after(made["day"], 12) - timedelta(days=1))

    assert erase(app) == 0
    assert child_row(app, made["child"]).name == CHILD_NAME


def test_the_retention_period_is_a_setting(app, monkeypatch, book):
    made = book()
    app.config["CHILD_DATA_RETENTION_MONTHS"] = 3
    move_clock_to(monkeypatch, months_after(made["day"], 3) + timedelta(days=1))

    assert erase(app) == 1


def test_a_child_never_booked_is_deleted_a_period_after_it_was_added(app, monkeypatch, parent):
    with app.app_context():
        child = booking.add_child(
            db.session.get(User, parent),
            name=CHILD_NAME,
            birth_date=clock.today() - timedelta(days=400),
            notes="",
            consent=True,
        )
        db.session.commit()
        child_id = child.id
    move_clock_to(monkeypatch, months_after(clock.today(), 12) + timedelta(days=2))

    assert erase(app) == 1
    assert child_row(app, child_id) is None


def test_a_standing_place_still_held_keeps_the_child(app, monkeypatch, book):
    made = book(CareType.FULL_DAY)
    move_clock_to(monkeypatch, months_after(made["day"], 24))

    assert erase(app) == 0


def test_the_erased_child_leaves_the_parents_lists_and_old_bookings_name_nobody(
    app, monkeypatch, parent, sign_in, book
):
    made = book()
    move_clock_to(monkeypatch, months_after(made["day"], 12) + timedelta(days=1))
    erase(app)
    mother = sign_in(parent)

    home = page_text(mother.get("/parents/"))
    past = page_text(mother.get(f"/parents/bookings/{made['booking']}"))

    assert CHILD_NAME not in home
    assert FIRST_NAME not in home
    assert "A child whose details were erased" in past
    assert mother.get(f"/parents/children/{made['child']}/export").status_code == 404


def test_retention_erases_the_messages_that_named_the_child(app, monkeypatch, book):
    made = book()
    deliver_outbox(app)
    assert FIRST_NAME in all_message_text(app)
    move_clock_to(monkeypatch, months_after(made["day"], 12) + timedelta(days=1))

    erase(app)

    assert FIRST_NAME not in all_message_text(app)
    assert REDACTED_BODY in all_message_text(app)


def test_jobs_run_reports_the_erased_children(app, monkeypatch, book):
    made = book()
    move_clock_to(monkeypatch, months_after(made["day"], 12) + timedelta(days=1))

    with app.app_context():
        report = run_jobs(clock.now(), clock.today(), lambda message: None)

    assert report.erased == 1


def test_an_erased_child_is_erased_once(app, monkeypatch, book):
    made = book()
    move_clock_to(monkeypatch, months_after(made["day"], 12) + timedelta(days=1))
    erase(app)
    first = child_row(app, made["child"]).erased_at

    assert erase(app) == 0
    assert child_row(app, made["child"]).erased_at == first


def test_two_job_runs_at_once_erase_each_child_once(app, monkeypatch, book):
    made = [book(name=f"欧阳{i}号", days=2 + i) for i in range(4)]
    move_clock_to(monkeypatch, months_after(made[-1]["day"], 12) + timedelta(days=1))
    counts, errors = [], []
    start = threading.Barrier(2)

    def run():
        try:
            with app.app_context():
                start.wait()
                counts.append(erase_expired_children(clock.now(), clock.today()))
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(counts) == 4
    with app.app_context():
        names = db.session.scalars(sa.select(Child.name)).all()
    assert names == [""] * 4


def test_the_compare_and_set_leaves_a_child_that_is_no_longer_expired(app, book):
    made = book()

    with app.app_context():
        child = db.session.get(Child, made["child"])
        changed = erasure._anonymise(child, clock.now(), clock.today())
        db.session.commit()
        nothing_left = erasure.erase_next_expired_child(clock.now(), clock.today())
        db.session.rollback()

    assert changed == 0
    assert nothing_left is None
    assert child_row(app, made["child"]).name == CHILD_NAME


# --- a parent deletes a child --------------------------------------------------------------


def test_deleting_a_child_erases_queued_and_sent_messages_naming_it(app, parent, sign_in, book):
    made = book()
    deliver_outbox(app)
    later = book(name="欧阳娜娜", days=3)  # a second booking whose message is still queued
    assert FIRST_NAME in all_message_text(app)
    mother = sign_in(parent)

    first = mother.post(f"/parents/children/{made['child']}/delete")
    second = mother.post(f"/parents/children/{later['child']}/delete")

    assert (first.status_code, second.status_code) == (302, 302)
    text = all_message_text(app)
    assert CHILD_NAME not in text
    assert FIRST_NAME not in text
    with app.app_context():
        unsent = db.session.scalars(
            sa.select(OutboxMessage.body).where(OutboxMessage.sent_at.is_(None))
        ).all()
    assert all(FIRST_NAME not in body for body in unsent)
    assert count(app, Child) == 0


def test_deleting_another_parents_child_is_not_found_and_changes_nothing(app, user, sign_in, book):
    made = book()
    stranger = sign_in(user(Role.PARENT))

    assert stranger.get(f"/parents/children/{made['child']}/delete").status_code == 404
    assert stranger.post(f"/parents/children/{made['child']}/delete").status_code == 404
    assert child_row(app, made["child"]).name == CHILD_NAME


@pytest.mark.sqlite_only
def test_a_deleted_childs_name_is_left_nowhere_in_the_sqlite_files(app, parent, sign_in, book):
    unique = "司马测试删除"
    made = book(name=unique)
    deliver_outbox(app)
    path = Path(make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database)
    with app.app_context():
        db.session.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.commit()
    assert unique.encode() in database_bytes(path)

    response = sign_in(parent).post(f"/parents/children/{made['child']}/delete")

    assert response.status_code == 302
    stored = database_bytes(path)
    assert unique.encode() not in stored
    assert "测试删除".encode() not in stored
    assert NOTES.encode() not in stored


def database_bytes(path: Path) -> bytes:
    """The raw bytes of the SQLite file and its write-ahead log."""
    wal = Path(f"{path}-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_secure_delete_is_on_for_every_sqlite_connection(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("a SQLite setting")
        assert db.session.execute(sa.text("PRAGMA secure_delete")).scalar() == 1


def test_the_audit_log_keeps_ids_only_after_the_child_is_deleted(
    app, owner, parent, sign_in, filed, book
):
    made = book()
    sign_in(owner).get(f"/institutions/{filed}/bookings/{made['booking']}")

    sign_in(parent).post(f"/parents/children/{made['child']}/delete")

    with app.app_context():
        rows = db.session.execute(sa.select(ChildRecordView.__table__)).all()
    assert len(rows) == 1
    assert CHILD_NAME not in repr(rows)
    assert FIRST_NAME not in repr(rows)


# --- a parent deletes the account ----------------------------------------------------------


def test_deleting_the_account_needs_the_box_ticked_and_keeps_what_was_typed(
    app, parent, sign_in, book
):
    book()
    mother = sign_in(parent)

    response = mother.post("/parents/account/delete", data={})

    assert response.status_code == 400
    assert "Please tick the box to delete your account." in page_text(response)
    assert count(app, User) == 2
    assert count(app, Child) == 1


def test_deleting_the_account_erases_everything_gives_places_back_and_signs_out(
    app, parent, sign_in, book
):
    made = book()
    deliver_outbox(app)
    mother = sign_in(parent)

    response = mother.post("/parents/account/delete", data={"understood": "y"})

    assert response.status_code == 302
    assert response.location.endswith("/")
    with app.app_context():
        assert db.session.get(User, parent) is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginSession)) == 0
        recipients = db.session.scalars(sa.select(OutboxMessage.recipient)).all()
        taken = db.session.get(Slot, made["slot"]).inventory.taken
    assert "mother@example.com" not in recipients
    assert count(app, Child) == 0
    assert count(app, Booking) == 0
    assert taken == 0
    assert mother.get("/parents/").status_code == 302
    text = all_message_text(app)
    assert CHILD_NAME not in text
    assert FIRST_NAME not in text


def test_the_account_page_lives_only_for_parents(app, owner, sign_in):
    assert (
        sign_in(owner).post("/parents/account/delete", data={"understood": "y"}).status_code == 403
    )
    assert count(app, User) == 1


# --- what institution staff see ------------------------------------------------------------


def staff_page(sign_in, owner, filed, booking_id) -> str:
    """The institution's page of one booking."""
    response = sign_in(owner).get(f"/institutions/{filed}/bookings/{booking_id}")
    assert response.status_code == 200
    return page_text(response)


def test_staff_see_the_full_name_and_notes_while_the_booking_is_open(owner, sign_in, filed, book):
    made = book()

    text = staff_page(sign_in, owner, filed, made["booking"])

    assert CHILD_NAME in text
    assert NOTES in text


def test_staff_see_a_masked_name_and_no_notes_once_the_booking_is_cancelled(
    app, owner, parent, sign_in, filed, book
):
    made = book()
    with app.app_context():
        found = db.session.get(Booking, made["booking"])
        booking.cancel_by_parent(db.session.get(User, parent), found, clock.local_now())
        db.session.commit()

    text = staff_page(sign_in, owner, filed, made["booking"])

    assert CHILD_NAME not in text
    assert NOTES not in text
    assert MASKED in text


def test_staff_see_a_masked_name_and_no_notes_once_the_booking_is_over(
    monkeypatch, owner, sign_in, filed, book
):
    made = book()
    move_clock_to(monkeypatch, made["day"] + timedelta(days=1))

    text = staff_page(sign_in, owner, filed, made["booking"])

    assert CHILD_NAME not in text
    assert NOTES not in text
    assert MASKED in text


def test_a_declined_application_is_masked_for_staff(app, owner, sign_in, filed, book):
    made = book(CareType.FULL_DAY)
    with app.app_context():
        found = db.session.get(Booking, made["booking"])
        booking.decide_application(found, False, "满员", clock.now())
        db.session.commit()
        assert db.session.get(Booking, made["booking"]).status == BookingStatus.DECLINED

    text = staff_page(sign_in, owner, filed, made["booking"])

    assert CHILD_NAME not in text
    assert NOTES not in text


def test_the_institutions_lists_and_export_never_carry_full_names_or_notes(
    app, owner, parent, sign_in, filed, book
):
    made = book()
    with app.app_context():
        found = db.session.get(Booking, made["booking"])
        booking.cancel_by_parent(db.session.get(User, parent), found, clock.local_now())
        db.session.commit()
    staff = sign_in(owner)
    day = made["day"].isoformat()

    pages = [
        staff.get(f"/institutions/{filed}/roster?date={day}"),
        staff.get(f"/institutions/{filed}/applications"),
        staff.get(f"/institutions/{filed}/bookings.csv?from={day}&to={day}"),
    ]

    assert [page.status_code for page in pages] == [200, 200, 200]
    assert all(CHILD_NAME not in page_text(page) for page in pages)
    assert all(NOTES not in page_text(page) for page in pages)
    assert MASKED in page_text(pages[2])
