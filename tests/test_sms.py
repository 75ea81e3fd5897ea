"""SMS through the outbox: templates that fit one message and name no child, every booking
notice queued with its change (and rolled back with it), the parent's channel, the console
and Alibaba Cloud backends (against a fake provider on loopback), and the reminder sent once."""

import json
import threading
from datetime import time, timedelta
from functools import partial
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from places_desk import PlacesDesk

from careapp import clock
from careapp.database import run_in_transaction
from careapp.extensions import db
from careapp.models import (
    Booking,
    CareClass,
    CareType,
    Channel,
    NoticeChannel,
    OutboxMessage,
    Role,
    Slot,
    User,
)
from careapp.services import booking, sms
from careapp.services.mail import configured_sender, deliver_next
from careapp.services.sms import MAX_LENGTH, TEMPLATES, params_of, queue_sms, rendered

PHONE = "+8613912345678"
CHILD = "欧阳小明"
#: Longer than any real institution's name; the message must still fit.
LONG_NAME = "晋江市陈埭镇阳光宝贝婴幼儿照护服务有限公司第二托育服务中心（普惠）"
ALL_OFFERS = {
    CareType.HOURLY: (6, 36, 30),
    CareType.TEMPORARY: (6, 36, 150),
    CareType.FULL_DAY: (12, 36, 2800),
}


def sms_outbox(app) -> list[OutboxMessage]:
    """Every SMS in the outbox, oldest first (detached)."""
    with app.app_context():
        messages = list(
            db.session.scalars(
                sa.select(OutboxMessage)
                .where(OutboxMessage.channel == Channel.SMS)
                .order_by(OutboxMessage.id)
            )
        )
        for message in messages:
            db.session.expunge(message)
        return messages


def texts(app) -> list[str]:
    """What the phones show, oldest first."""
    with app.app_context():
        return [rendered(message) for message in sms_outbox(app)]


# --- templates ------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_every_template_fits_one_sms_even_for_a_long_name(app, key):
    template = TEMPLATES[key]
    values = {
        "code": "123456",
        "institution": LONG_NAME,
        "date": "12月31日",
        "start": "14:00",
        "end": "18:00",
        "deadline": "12月31日18:00",
        "kind": "申请",
        "answer": "谢绝",
    }
    with app.app_context():
        params = sms.fit(template, values)
        text = template.render(params, sms.sign_name())

    assert len(text) <= MAX_LENGTH, text
    assert text.startswith("【晋江托育】")


def test_no_template_has_a_place_for_a_child(app):
    assert all("child" not in template.params for template in TEMPLATES.values())


def test_every_template_has_a_provider_code_setting(app):
    assert all(template.config_key in app.config for template in TEMPLATES.values())


# --- the notices, queued with their change --------------------------------------------------------


@pytest.fixture
def desk(app, user):
    """Families with verified mobile numbers (so SMS is their default channel)."""
    day = clock.today() + timedelta(days=7)
    desk = PlacesDesk(app, user, clock.local_now(), born=day - timedelta(days=540))
    desk.day = day
    numbers = iter(range(100))

    def family(name=CHILD, channel=None):
        parent_id, child_id = PlacesDesk.family(desk, name)
        with app.app_context():
            parent = db.session.get(User, parent_id)
            parent.phone = f"+86139000000{next(numbers):02d}"
            parent.phone_verified_at = clock.now()
            parent.notice_channel = channel
            db.session.commit()
        return parent_id, child_id

    desk.family = family
    return desk


@pytest.fixture
def classroom(app, institution):
    """The id of the one class of an institution with a very long name."""
    institution_id = institution(LONG_NAME, offers=ALL_OFFERS)
    with app.app_context():
        return db.session.scalar(
            sa.select(CareClass.id).where(CareClass.institution_id == institution_id)
        )


def hourly(desk, classroom, places=3):
    return desk.add_slot(classroom, CareType.HOURLY, desk.day, (time(14), time(17)), places)


def full_day(desk, classroom):
    return desk.add_slot(classroom, CareType.FULL_DAY, desk.day, (time(8), time(17, 30)), 3)


def assert_one_sms(app, template: str, phone: str | None = None) -> str:
    messages = [m for m in sms_outbox(app) if m.subject == template]
    assert len(messages) == 1, [m.subject for m in sms_outbox(app)]
    if phone:
        assert messages[0].recipient == phone
    with app.app_context():
        text = rendered(messages[0])
    assert len(text) <= MAX_LENGTH
    assert "小明" not in text
    assert CHILD not in text
    return text


def test_a_booking_sends_its_confirmation_by_sms_only(app, desk, classroom):
    family = desk.family()
    desk.book(family, hourly(desk, classroom))

    text = assert_one_sms(app, "booking_confirmed")
    assert "14:00-17:00" in text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 1


def test_an_application_is_acknowledged_then_accepted(app, desk, classroom):
    family = desk.family()
    booking_id = desk.book(family, full_day(desk, classroom))
    desk.accept(booking_id)

    assert_one_sms(app, "application_received")
    assert_one_sms(app, "accepted")


def test_a_declined_application_is_told(app, desk, classroom):
    booking_id = desk.book(desk.family(), full_day(desk, classroom))

    desk.run(
        lambda: booking.decide_application(
            db.session.get(Booking, booking_id), False, f"{CHILD}年龄不符", desk.now
        )
    )

    text = assert_one_sms(app, "declined")
    assert "年龄不符" not in text  # the reason is on the site, not in the SMS


def test_a_cancelled_slot_tells_each_family(app, desk, classroom):
    slot_id = hourly(desk, classroom)
    desk.book(desk.family(), slot_id)

    desk.run(lambda: booking.cancel_slot(db.session.get(Slot, slot_id), "停水", desk.now))

    assert_one_sms(app, "cancelled")


def test_deregistration_tells_each_family(app, desk, classroom):
    desk.book(desk.family(), hourly(desk, classroom))

    desk.run(
        lambda: booking.close_institution(
            db.session.get(CareClass, classroom).institution, "停业", clock.now()
        )
    )

    assert_one_sms(app, "deregistered")
    assert not [m for m in sms_outbox(app) if m.subject == "cancelled"]


def test_an_offer_gives_its_deadline(app, desk, classroom):
    slot_id = hourly(desk, classroom, places=1)
    first = desk.family()
    booking_id = desk.book(first, slot_id)
    waiting = desk.family("李小红")
    desk.join(waiting, slot_id)

    desk.cancel(first, booking_id)

    with app.app_context():
        waiting_phone = db.session.get(User, waiting[0]).phone
    text = assert_one_sms(app, "offer", waiting_phone)
    assert "保留至" in text
    assert ":" in params_of(sms_outbox(app)[-1])["deadline"]


def test_the_reminder_is_sent_the_day_before(app, desk, classroom):
    desk.book(desk.family(), hourly(desk, classroom))

    with app.app_context():
        reminded = run_in_transaction(lambda: booking.send_reminders(desk.day - timedelta(days=1)))

    assert reminded == 1
    assert "明天" in assert_one_sms(app, "reminder")


def test_notices_roll_back_with_their_change(app, desk, classroom):
    family = desk.family()
    slot_id = hourly(desk, classroom)

    with app.app_context():
        booking.book(
            db.session.get(User, family[0]),
            family[1],
            db.session.get(Slot, slot_id),
            booking.new_request_key(),
            desk.now,
        )
        db.session.flush()
        assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 1
        db.session.rollback()

    assert sms_outbox(app) == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Booking.id))) == 0


@pytest.mark.parametrize(
    ("channel", "sms_count", "email_count"),
    [
        (None, 1, 0),
        (NoticeChannel.SMS, 1, 0),
        (NoticeChannel.EMAIL, 0, 1),
        (NoticeChannel.BOTH, 1, 1),
    ],
)
def test_the_parents_choice_decides_the_channel(
    app, desk, classroom, channel, sms_count, email_count
):
    desk.book(desk.family(channel=channel), hourly(desk, classroom))

    with app.app_context():
        counts = dict(
            db.session.execute(
                sa.select(OutboxMessage.channel, sa.func.count()).group_by(OutboxMessage.channel)
            ).all()
        )
    assert counts.get(Channel.SMS, 0) == sms_count
    assert counts.get(Channel.EMAIL, 0) == email_count


def test_a_parent_without_a_number_is_mailed_as_before(app, user, classroom):
    day = clock.today() + timedelta(days=7)
    desk = PlacesDesk(app, user, clock.local_now(), born=day - timedelta(days=540))
    desk.book(desk.family(), desk.add_slot(classroom, CareType.HOURLY, day, (time(9), time(10)), 3))

    assert sms_outbox(app) == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 1


# --- the reminder, once, with two runs at once ----------------------------------------------------

RUNS = 4


def test_two_runs_at_once_send_each_reminder_once(app, desk, classroom):
    slot_id = hourly(desk, classroom)
    for name in ("张小明", "李小红", "王小刚"):
        desk.book(desk.family(name), slot_id)
    start = threading.Barrier(RUNS, timeout=60)
    reminded: list[int] = []

    def run():
        with app.app_context():
            start.wait()
            try:
                reminded.append(
                    run_in_transaction(lambda: booking.send_reminders(desk.day - timedelta(days=1)))
                )
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(RUNS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert sum(reminded) == 3
    assert len([m for m in sms_outbox(app) if m.subject == "reminder"]) == 3


# --- backends -------------------------------------------------------------------------------------


def test_the_console_prints_the_code_in_development_only(app, capsys):
    with app.app_context():
        message = queue_sms(PHONE, "sign_in_code", code="246810")
        db.session.flush()
        app.config["CAREAPP_ENV"] = "development"
        sms.send_console(message)
        assert "246810" in capsys.readouterr().out
        app.config["CAREAPP_ENV"] = "production"
        sms.send_console(message)
        printed = capsys.readouterr().out
        db.session.rollback()
    assert "246810" not in printed
    assert "139****5678" in printed
    assert PHONE not in printed


class FakeProvider:
    """An Alibaba Cloud SMS endpoint on loopback that records each request and answers
    with ``self.answer`` (status, JSON body)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answer = (200, {"Code": "OK", "Message": "OK", "BizId": "9", "RequestId": "r"})
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (the standard library's name)
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length).decode()
                query = parse_qs(urlsplit(self.path).query)
                query.update(parse_qs(body))
                provider.requests.append(
                    {
                        "action": self.headers.get("x-acs-action"),
                        "version": self.headers.get("x-acs-version"),
                        "signed": self.headers.get("authorization", "").startswith("ACS3-"),
                        **{name: values[0] for name, values in query.items()},
                    }
                )
                status, answer = provider.answer
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.server.server_port}"


@pytest.fixture
def provider(app):
    """A fake provider, and the app configured to send through the real adapter to it."""
    fake = FakeProvider()
    fake.thread.start()
    app.config.update(
        SMS_BACKEND="aliyun",
        ALIYUN_SMS_ACCESS_KEY_ID="test-key-id",
        ALIYUN_SMS_ACCESS_KEY_SECRET="test-key-secret",
        ALIYUN_SMS_ENDPOINT=fake.endpoint,
        ALIYUN_SMS_PROTOCOL="HTTP",
        SMS_SIGN_NAME="晋江托育",
        SMS_TEMPLATE_SIGN_IN_CODE="SMS_100001",
        SMS_TEMPLATE_OFFER="SMS_100004",
    )
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def deliver_all(app) -> list[bool]:
    """Run the outbox step of ``jobs run`` with the configured backends."""
    results = []
    with app.app_context():
        send = configured_sender()
        last = 0
        while (delivery := run_in_transaction(partial(deliver_next, send, last))) is not None:
            last = delivery.message_id
            results.append(delivery.sent)
    return results


def queue(app, template: str, **params) -> int:
    with app.app_context():
        message = queue_sms(PHONE, template, **params)
        db.session.commit()
        return message.id


def test_the_aliyun_adapter_sends_the_template_and_its_params(app, provider):
    queue(app, "offer", institution="小橡树托育", date="12月1日", deadline="12月1日18:00")

    assert deliver_all(app) == [True]

    [request] = provider.requests
    assert request["action"] == "SendSms"
    assert request["version"] == "2017-05-25"
    assert request["signed"]
    assert request["PhoneNumbers"] == "13912345678"
    assert request["SignName"] == "晋江托育"
    assert request["TemplateCode"] == "SMS_100004"
    assert json.loads(request["TemplateParam"]) == {
        "date": "12月1日",
        "deadline": "12月1日18:00",
        "institution": "小橡树托育",
    }


def test_jobs_run_sends_sms_through_the_configured_provider(app, provider):
    queue(app, "sign_in_code", code="135790")

    result = app.test_cli_runner().invoke(args=["jobs", "run"])

    assert result.exit_code == 0, result.output
    assert "1 sent" in result.output
    assert json.loads(provider.requests[0]["TemplateParam"]) == {"code": "135790"}
    assert "135790" not in result.output


@pytest.mark.parametrize(
    "answer",
    [
        (200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发流控", "RequestId": "r"}),
        (500, {"Code": "InternalError", "Message": "busy", "RequestId": "r"}),
        (400, {"Code": "isv.SMS_TEMPLATE_ILLEGAL", "Message": "bad", "RequestId": "r"}),
    ],
)
def test_a_provider_error_is_retried_not_lost(app, provider, answer):
    message_id = queue(app, "sign_in_code", code="135790")
    provider.answer = answer

    assert deliver_all(app) == [False]

    with app.app_context():
        message = db.session.get(OutboxMessage, message_id)
        assert message.sent_at is None
        assert message.attempts == 1
        assert answer[1]["Code"] in message.last_error
    provider.answer = (200, {"Code": "OK", "Message": "OK", "RequestId": "r"})
    assert deliver_all(app) == [True]
    assert len(provider.requests) == 2


def test_a_template_without_a_provider_code_waits_for_one(app, provider):
    message_id = queue(
        app, "reminder", institution="小橡树", date="12月1日", start="9:00", end="10:00"
    )

    assert deliver_all(app) == [False]

    assert provider.requests == []
    with app.app_context():
        assert "SMS_TEMPLATE_REMINDER" in db.session.get(OutboxMessage, message_id).last_error


def test_an_unreachable_provider_is_retried(app, provider):
    message_id = queue(app, "sign_in_code", code="135790")
    provider.server.shutdown()
    provider.server.server_close()

    assert deliver_all(app) == [False]
    with app.app_context():
        assert db.session.get(OutboxMessage, message_id).sent_at is None


def test_email_and_sms_go_to_their_own_backends(app, provider, monkeypatch):
    from careapp.services import mail

    mailed = []
    monkeypatch.setitem(mail.BACKENDS, "console", lambda message: mailed.append(message.recipient))
    app.config["MAIL_BACKEND"] = "console"
    with app.app_context():
        mail.queue_email("wang@example.com", "subject", "body")
        db.session.commit()
    queue(app, "sign_in_code", code="135790")

    assert deliver_all(app) == [True, True]
    assert mailed == ["wang@example.com"]
    assert len(provider.requests) == 1


def test_institution_name_is_shortened_to_fit(app):
    with app.app_context():
        message = queue_sms(PHONE, "deregistered", institution=LONG_NAME * 2, date="12月1日")
        text = rendered(message)
        db.session.rollback()
    assert len(text) <= MAX_LENGTH
    assert "…" in text


def test_institutions_are_named_in_chinese_in_sms(app, desk, classroom):
    with app.app_context():
        db.session.get(CareClass, classroom).institution.name_en = "Little Oak"
        db.session.commit()
    desk.book(desk.family(), hourly(desk, classroom))

    assert "Little Oak" not in texts(app)[0]


@pytest.mark.parametrize(("make_slot", "kind"), [(hourly, "预约"), (full_day, "申请")])
def test_an_institution_with_a_verified_number_is_texted_of_each_new_application(
    app, user, desk, classroom, make_slot, kind
):
    owner = user(Role.INSTITUTION, phone="+8613700000009", phone_verified_at=clock.now())
    with app.app_context():
        db.session.get(CareClass, classroom).institution.owner_id = owner
        db.session.commit()

    desk.book(desk.family(), make_slot(desk, classroom))

    text = assert_one_sms(app, "new_application", "+8613700000009")
    assert kind in text
