"""Mobile-number accounts: sign up and in with an SMS code, its limits, adding a number to
an e-mail account, the choice of notice channel, and signing in on the way to a booking."""

import threading
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from careapp import clock
from careapp.database import run_in_transaction
from careapp.extensions import db
from careapp.models import Channel, CodePurpose, NoticeChannel, OutboxMessage, Role, SmsCode, User
from careapp.services import phone_sign_in
from careapp.services.sms import params_of

PHONE = "13912345678"
E164 = "+8613912345678"
BOOKING = "/parents/book/7"


def codes_sent(app, phone: str = E164) -> list[str]:
    """The sign-in codes the outbox holds for ``phone``, oldest first."""
    with app.app_context():
        messages = db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.channel == Channel.SMS, OutboxMessage.recipient == phone)
            .order_by(OutboxMessage.id)
        )
        return [params_of(m)["code"] for m in messages if m.subject == "sign_in_code"]


def sign_in_by_a_new_code(app, client) -> None:
    """Once the resend wait is over, ask for a new code and enter it."""
    with app.app_context():
        db.session.execute(sa.update(SmsCode).values(created_at=clock.now() - timedelta(minutes=2)))
        db.session.commit()
    ask_code(client)
    enter_code(client, codes_sent(app)[-1])


def ask_code(client, phone: str = PHONE, next_path: str | None = None):
    """Ask for a sign-in code, as the login page's first form does."""
    query = f"?next={next_path}" if next_path else ""
    return client.post(f"/login/phone/code{query}", data={"phone": phone})


def enter_code(client, code: str, phone: str = PHONE, next_path: str | None = None):
    """Send the code, as the code page does."""
    query = f"?next={next_path}" if next_path else ""
    return client.post(f"/login/phone{query}", data={"phone": phone, "code": code})


def wrong(code: str) -> str:
    """A 6-digit code that is not ``code``."""
    return f"{(int(code) + 1) % 1_000_000:06d}"


def move_clock(monkeypatch, seconds: float) -> None:
    """Let ``seconds`` pass on the app's one clock."""
    later = clock.now() + timedelta(seconds=seconds)
    monkeypatch.setattr("careapp.clock._system_now", lambda: later)


def signed_in(client) -> bool:
    return client.get("/account/settings").status_code == 200


def the_account(app, phone: str = E164) -> User | None:
    with app.app_context():
        found = db.session.scalar(sa.select(User).where(User.phone == phone))
        if found is not None:
            db.session.expunge(found)
        return found


# --- signing up and in ----------------------------------------------------------------------------


def test_a_new_number_signs_up_as_a_parent_ready_at_once(app, client):
    assert ask_code(client).status_code == 200
    [code] = codes_sent(app)

    response = enter_code(client, code)

    assert response.status_code == 302
    account = the_account(app)
    assert account.role == Role.PARENT
    assert account.email is None
    assert account.password_hash is None
    assert account.phone_verified_at is not None
    assert account.is_active
    assert signed_in(client)


def test_a_known_number_signs_in_to_its_account(app, client):
    ask_code(client)
    enter_code(client, codes_sent(app)[-1])
    client.post("/logout")
    codes_before = codes_sent(app)
    assert not signed_in(client)

    sign_in_by_a_new_code(app, client)

    assert signed_in(client)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1
    assert len(codes_sent(app)) == len(codes_before) + 1


@pytest.mark.parametrize("typed", ["139-1234-5678", "+86 139 1234 5678", "8613912345678"])
def test_the_number_may_be_typed_in_any_usual_way(app, client, typed):
    ask_code(client, typed)
    assert enter_code(client, codes_sent(app)[-1], typed).status_code == 302


@pytest.mark.parametrize("typed", ["", "12345", "02085661234", "+1 650 253 0000", "abc"])
def test_a_number_that_is_not_a_mainland_mobile_is_refused(app, client, typed):
    response = ask_code(client, typed)

    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.text
    assert codes_sent(app, typed) == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(SmsCode.id))) == 0


def test_a_wrong_code_signs_nobody_in_and_keeps_the_number(app, client):
    ask_code(client)
    [code] = codes_sent(app)

    response = enter_code(client, wrong(code))

    assert response.status_code == 200
    assert "This code is not right" in response.text or "验证码不正确" in response.text
    assert f'value="{PHONE}"' in response.text
    assert not signed_in(client)
    assert the_account(app) is None


def test_an_expired_code_is_refused(app, client, monkeypatch):
    ask_code(client)
    [code] = codes_sent(app)
    move_clock(monkeypatch, 5 * 60 + 1)

    response = enter_code(client, code)

    assert response.status_code == 200
    assert not signed_in(client)
    with app.app_context():
        assert db.session.scalar(sa.select(SmsCode.used_at)) is None


def test_a_code_works_until_its_fifth_minute(app, client, monkeypatch):
    ask_code(client)
    move_clock(monkeypatch, 5 * 60 - 1)

    assert enter_code(client, codes_sent(app)[-1]).status_code == 302


def test_a_code_is_used_once(app, client):
    ask_code(client)
    [code] = codes_sent(app)
    enter_code(client, code)
    client.post("/logout")

    response = enter_code(client, code)

    assert response.status_code == 200
    assert not signed_in(client)


def test_after_five_wrong_tries_not_even_the_right_code_works(app, client):
    ask_code(client)
    [code] = codes_sent(app)
    for _ in range(5):
        enter_code(client, wrong(code))

    response = enter_code(client, code)

    assert response.status_code == 200
    assert not signed_in(client)
    with app.app_context():
        assert db.session.scalar(sa.select(SmsCode.attempts)) == 5


def test_only_the_newest_code_counts(app, client, monkeypatch):
    ask_code(client)
    move_clock(monkeypatch, 61)
    ask_code(client)
    first, second = codes_sent(app)

    assert enter_code(client, first).status_code == 200 or first == second
    assert enter_code(client, second).status_code == 302


def test_the_code_is_stored_hashed(app, client):
    ask_code(client)
    [code] = codes_sent(app)
    with app.app_context():
        stored = db.session.scalar(sa.select(SmsCode))
        assert code not in stored.code_hash
        assert len(stored.code_hash) == 64


# --- limits ---------------------------------------------------------------------------------------


def test_another_code_is_sent_only_after_sixty_seconds(app, client, monkeypatch):
    ask_code(client)

    soon = ask_code(client)

    assert soon.status_code == 200
    assert len(codes_sent(app)) == 1
    assert "60" in soon.text
    move_clock(monkeypatch, 59)
    ask_code(client)
    assert len(codes_sent(app)) == 1
    move_clock(monkeypatch, 60)
    ask_code(client)
    assert len(codes_sent(app)) == 2


def test_a_number_gets_a_limited_number_of_codes(app, client, monkeypatch):
    app.config["SMS_CODES_PER_NUMBER"] = "3 per hour"
    for minute in range(3):
        move_clock(monkeypatch, 61 * (minute + 1))
        assert ask_code(client).status_code == 200
    move_clock(monkeypatch, 61 * 4)

    refused = ask_code(client)

    assert refused.status_code == 429
    assert len(codes_sent(app)) == 3
    assert f'value="{PHONE}"' in refused.text


def test_one_address_gets_a_limited_number_of_codes(app, client):
    app.config["SMS_CODES_PER_IP"] = "2 per hour"
    ask_code(client, "13912345601")
    ask_code(client, "13912345602")

    refused = ask_code(client, "13912345603")

    assert refused.status_code == 429
    assert codes_sent(app, "+8613912345603") == []


def test_guessing_codes_counts_against_the_sign_in_limit_per_address(app, client):
    app.config["LOGIN_LIMIT_PER_IP"] = "3 per 10 minutes"
    ask_code(client)
    [code] = codes_sent(app)
    for _ in range(3):
        enter_code(client, wrong(code))

    assert enter_code(client, code).status_code == 429


# --- a code used by two requests at once ----------------------------------------------------------

RACERS = 8


def test_a_code_signs_in_once_when_requests_race(app):
    """Two (or more) requests with the same right code: one signs in, the others are refused."""
    with app.app_context():
        run_in_transaction(lambda: phone_sign_in.send_code(E164, CodePurpose.SIGN_IN, clock.now()))
        code = params_of(db.session.scalar(sa.select(OutboxMessage)))["code"]
    start = threading.Barrier(RACERS, timeout=60)
    outcomes: list[str] = []

    def racer():
        with app.app_context():
            start.wait()
            try:
                result = run_in_transaction(
                    lambda: phone_sign_in.sign_in(E164, code, clock.now(), "zh_CN")
                )
            except phone_sign_in.CodeRejected as refused:
                outcomes.append(refused.reason)
            else:
                outcomes.append("signed in" if result else "inactive")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=racer) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert outcomes.count("signed in") == 1, outcomes
    assert len(outcomes) == RACERS
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1
        assert db.session.scalar(sa.select(SmsCode.attempts)) <= 5


def test_wrong_tries_racing_never_exceed_the_limit(app):
    with app.app_context():
        run_in_transaction(lambda: phone_sign_in.send_code(E164, CodePurpose.SIGN_IN, clock.now()))
        code = params_of(db.session.scalar(sa.select(OutboxMessage)))["code"]
    start = threading.Barrier(RACERS, timeout=60)

    def racer():
        with app.app_context():
            start.wait()
            try:
                run_in_transaction(
                    lambda: phone_sign_in.use_code(
                        E164, wrong(code), CodePurpose.SIGN_IN, clock.now()
                    )
                )
            except phone_sign_in.CodeRejected:
                db.session.commit()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=racer) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    with app.app_context():
        assert db.session.scalar(sa.select(SmsCode.attempts)) <= 5


# --- e-mail and password: optional for parents, required for staff --------------------------------


@pytest.mark.parametrize("role", [Role.INSTITUTION, Role.PROVIDER, Role.REGULATOR])
@pytest.mark.parametrize(("email", "password_hash"), [(None, "x"), ("a@example.com", None)])
def test_staff_accounts_need_an_email_address_and_a_password(app, role, email, password_hash):
    with app.app_context():
        db.session.add(
            User(
                email=email,
                password_hash=password_hash,
                role=role,
                display_name="staff",
                phone=E164,
                phone_verified_at=clock.now(),
            )
        )
        with pytest.raises(sa.exc.IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_a_parent_needs_neither_but_some_way_to_sign_in(app):
    with app.app_context():
        db.session.add(User(email=None, password_hash=None, role=Role.PARENT, display_name="p"))
        with pytest.raises(sa.exc.IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_a_verified_number_belongs_to_one_account(app, user):
    user(Role.PARENT, phone=E164, phone_verified_at=clock.now())
    user(Role.PARENT, phone=E164)  # unverified numbers may repeat

    with pytest.raises(sa.exc.IntegrityError):
        user(Role.PARENT, phone=E164, phone_verified_at=clock.now())


def test_a_phone_account_cannot_sign_in_with_a_password(app, client):
    ask_code(client)
    enter_code(client, codes_sent(app)[-1])
    client.post("/logout")

    response = client.post("/login", data={"email": "", "password": "anything-at-all"})

    assert response.status_code == 200
    assert not signed_in(client)


# --- adding a number to an e-mail account ---------------------------------------------------------


def test_an_email_account_adds_a_number_and_then_signs_in_by_sms(app, client, auth, user):
    parent_id = user(Role.PARENT)
    auth.login(parent_id)
    assert client.post("/account/phone/code", data={"phone": PHONE}).status_code == 200
    [code] = codes_sent(app)

    added = client.post("/account/phone", data={"phone": PHONE, "code": code})

    assert added.status_code == 302
    assert the_account(app).id == parent_id
    client.post("/logout")
    sign_in_by_a_new_code(app, client)
    assert signed_in(client)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1


def test_a_number_of_another_account_cannot_be_added(app, client, auth, user):
    user(Role.PARENT, phone=E164, phone_verified_at=clock.now())
    parent_id = user(Role.PARENT)
    auth.login(parent_id)
    client.post("/account/phone/code", data={"phone": PHONE})

    response = client.post("/account/phone", data={"phone": PHONE, "code": codes_sent(app)[-1]})

    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.text
    with app.app_context():
        assert db.session.get(User, parent_id).phone_verified_at is None


def test_a_code_sent_for_adding_does_not_sign_in(app, client, auth, user):
    auth.login(user(Role.PARENT))
    client.post("/account/phone/code", data={"phone": PHONE})
    code = codes_sent(app)[-1]
    client.post("/logout")

    assert enter_code(client, code).status_code == 200
    assert not signed_in(client)


def test_staff_add_a_number_too_and_keep_their_password(app, client, auth, user):
    staff_id = user(Role.INSTITUTION)
    auth.login(staff_id)
    client.post("/account/phone/code", data={"phone": PHONE})
    client.post("/account/phone", data={"phone": PHONE, "code": codes_sent(app)[-1]})

    with app.app_context():
        staff = db.session.get(User, staff_id)
        assert staff.verified_phone == E164
        assert staff.password_hash


# --- the choice of channel ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("verified", "choice", "expected"),
    [
        (True, None, {"sms"}),
        (False, None, {"email"}),
        (True, NoticeChannel.EMAIL, {"email"}),
        (True, NoticeChannel.BOTH, {"sms", "email"}),
        (False, NoticeChannel.SMS, {"email"}),  # the number is gone: e-mail stands in
    ],
)
def test_notices_go_where_the_parent_chose(app, user, verified, choice, expected):
    fields = {"phone": E164, "notice_channel": choice}
    if verified:
        fields["phone_verified_at"] = clock.now()
    with app.app_context():
        assert db.session.get(User, user(Role.PARENT, **fields)).notice_channels() == expected


def test_a_parent_chooses_both_on_the_settings_page(app, client, auth, user):
    parent_id = user(Role.PARENT, phone=E164, phone_verified_at=clock.now())
    auth.login(parent_id)
    page = client.get("/account/settings")
    assert 'value="sms" checked' in page.text or 'checked id="channel-0"' in page.text

    response = client.post("/account/notices", data={"channel": "both"})

    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, parent_id).notice_channel == NoticeChannel.BOTH


def test_sms_cannot_be_chosen_without_a_verified_number(app, client, auth, user):
    parent_id = user(Role.PARENT)
    auth.login(parent_id)

    response = client.post("/account/notices", data={"channel": "sms"})

    assert response.status_code == 200
    assert "aria-invalid" in response.text or 'class="error"' in response.text
    with app.app_context():
        assert db.session.get(User, parent_id).notice_channel is None


def test_only_parents_choose_notice_channels(app, client, auth, user):
    auth.login(user(Role.INSTITUTION))

    assert client.post("/account/notices", data={"channel": "email"}).status_code == 403


# --- signed out on the way to a booking -----------------------------------------------------------


def test_booking_while_signed_out_explains_and_offers_the_phone_first(app, client):
    response = client.get(f"/login?next={BOOKING}")

    text = response.text
    assert "登录后即可预约" in text
    assert text.index("/login/phone/code") < text.index('name="password"')
    assert "next=%2Fparents%2Fbook%2F7" in text or f"next={BOOKING}" in text


def test_a_plain_sign_in_does_not_speak_of_booking(app, client):
    assert "登录后即可预约" not in client.get("/login").text


def test_signing_up_by_phone_returns_to_the_chosen_place(app, client):
    page = ask_code(client, next_path=BOOKING)
    assert "next=%2Fparents%2Fbook%2F7" in page.text

    response = enter_code(client, codes_sent(app)[-1], next_path=BOOKING)

    assert response.status_code == 302
    assert response.headers["Location"] == BOOKING


def test_the_code_page_never_follows_a_foreign_next(app, client):
    ask_code(client, next_path="//evil.example")
    response = enter_code(client, codes_sent(app)[-1], next_path="//evil.example")

    assert response.headers["Location"] == "/parents/"


def test_a_code_is_never_logged(app, client, caplog):
    app.config["CAREAPP_ENV"] = "production"
    ask_code(client)
    [code] = codes_sent(app)

    assert code not in caplog.text


def test_a_signed_out_visitor_tapping_book_lands_on_the_explaining_login(app, client):
    response = client.get(BOOKING)

    assert response.status_code == 302
    login = client.get(response.headers["Location"])
    assert "登录后即可预约" in login.text


def test_session_is_fresh_after_phone_sign_in(app, client):
    with client.session_transaction() as session:
        session["planted"] = "x"
    ask_code(client)
    enter_code(client, codes_sent(app)[-1])

    with client.session_transaction() as session:
        assert "planted" not in session


def test_datetime_is_never_read_directly():
    """The services read time from the one clock."""
    import inspect

    from careapp.services import phone_sign_in as module

    assert "datetime.now" not in inspect.getsource(module)
    assert isinstance(clock.now(), datetime)
