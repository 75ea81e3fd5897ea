"""Accounts: sign-up, sign-in and out, passwords, reset links, the CLI and the e-mail outbox."""

import re
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from conftest import PASSWORD
from flask.cli import FlaskGroup, ScriptInfo

from careapp import clock, create_app
from careapp.database import run_in_transaction
from careapp.demo.inspections import DEMO_INSPECTORS
from careapp.extensions import db
from careapp.models import OneTimeToken, OutboxMessage, Role, User
from careapp.services import accounts, mail
from careapp.services.mail import queue_email

NEW_PASSWORD = "a-brand-new-password-7"

#: Where each role lands after signing up or in.
HOMES = {
    Role.PARENT: "/parents/",
    Role.INSTITUTION: "/institutions/mine",
    Role.PROVIDER: "/providers/",
    Role.REGULATOR: "/regulator/",
}

DEMO_EMAILS = {
    Role.PARENT: "parent@example.com",
    Role.INSTITUTION: "institution@example.com",
    Role.PROVIDER: "provider@example.com",
    Role.REGULATOR: "regulator@example.com",
}
DEMO_PASSWORD = "demo-password-1"

RESET_LINK = re.compile(r"http://127\.0\.0\.1:5000(/password/reset/[A-Za-z0-9_.\-]+)")
SIGN_UP_LINK = re.compile(r"http://127\.0\.0\.1:5000(/register/confirm/[A-Za-z0-9_.\-]+(?:\?\S+)?)")


def text(response) -> str:
    """The response body as text."""
    return response.get_data(as_text=True)


CSRF_TOKEN = re.compile(r'(name="csrf_token"[^>]*value=")[^"]*(")')


def page_but_its_token(response) -> str:
    """The body with its CSRF token blanked: the token carries the second it was made in."""
    return CSRF_TOKEN.sub(r"\1\2", text(response))


def registration(**changes) -> dict:
    """The fields of a valid /register form, with ``changes`` applied."""
    data = {
        "role": "parent",
        "display_name": "王秀英",
        "email": "wang@example.com",
        "phone": "",
        "password": "long-enough-password",
        "confirm": "long-enough-password",
    }
    data.update(changes)
    return data


def find_account(app, email: str) -> User | None:
    """The stored account with ``email`` (detached), if any."""
    with app.app_context():
        account = db.session.scalar(sa.select(User).filter_by(email=email))
        if account is not None:
            db.session.expunge(account)
        return account


def count_accounts(app) -> int:
    """How many accounts exist."""
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(User.id)))


def outbox(app) -> list[OutboxMessage]:
    """Every outbox message (detached), oldest first."""
    with app.app_context():
        messages = list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return messages


def login(client, email: str, password: str, **kwargs):
    """Post the login form."""
    return client.post("/login", data={"email": email, "password": password}, **kwargs)


# --- registration -------------------------------------------------------------------------------


def sign_up_link(app, email: str) -> str | None:
    """The path of the newest sign-up link mailed to ``email``, if any."""
    for message in reversed(outbox(app)):
        if message.recipient == email:
            match = SIGN_UP_LINK.search(message.body)
            return match.group(1) if match else None
    return None


@pytest.mark.parametrize(
    "role", [Role.PARENT, Role.INSTITUTION, Role.PROVIDER], ids=lambda role: str(role)
)
def test_signing_up_mails_a_link_that_signs_in_and_lands_on_the_roles_home(app, client, role):
    client.set_cookie("lang", "en")

    response = client.post("/register", data=registration(role=str(role)))

    assert response.status_code == 200
    assert "Check your e-mail" in text(response)
    assert client.get(HOMES[role]).status_code == 302  # not signed in yet
    confirmed = client.get(sign_up_link(app, "wang@example.com"))
    assert confirmed.status_code == 302
    assert confirmed.headers["Location"] == HOMES[role]
    account = find_account(app, "wang@example.com")
    assert (account.role, account.display_name) == (role, "王秀英")
    assert account.email_confirmed_at is not None
    assert client.get(HOMES[role]).status_code == 200


def test_an_account_whose_link_was_not_opened_cannot_sign_in(app, client):
    client.set_cookie("lang", "en")
    client.post("/register", data=registration())

    response = login(client, "wang@example.com", "long-enough-password")

    assert response.status_code == 200
    assert "The e-mail address or the password is not right." in text(response)
    client.post("/password/forgot", data={"email": "wang@example.com"})
    assert [m.subject for m in outbox(app)] == ["Finish creating your careapp account"]


def test_a_sign_up_link_works_once(app, client):
    client.post("/register", data=registration())
    link = sign_up_link(app, "wang@example.com")
    assert client.get(link).status_code == 302
    client.post("/logout")

    again = client.get(link)

    assert again.status_code == 400
    assert client.get("/parents/").status_code == 302


def test_an_expired_sign_up_link_fails(app, client, monkeypatch):
    client.post("/register", data=registration())
    link = sign_up_link(app, "wang@example.com")
    later = clock.now() + timedelta(seconds=app.config["SIGN_UP_LINK_MAX_AGE"] + 1)
    monkeypatch.setattr("careapp.clock._system_now", lambda: later)

    assert client.get(link).status_code == 400
    assert find_account(app, "wang@example.com").email_confirmed_at is None


def test_signing_up_again_replaces_what_was_typed_and_only_the_newest_link_works(app, client):
    squatter = {"password": "squatter-pass-91", "confirm": "squatter-pass-91"}
    client.post("/register", data=registration(display_name="冒名者", **squatter))
    first = sign_up_link(app, "wang@example.com")
    client.post("/register", data=registration(role="provider"))
    newest = sign_up_link(app, "wang@example.com")

    assert client.get(first).status_code == 400
    assert client.get(newest).status_code == 302
    account = find_account(app, "wang@example.com")
    assert (account.role, account.display_name) == (Role.PROVIDER, "王秀英")
    assert count_accounts(app) == 1
    client.post("/logout")
    assert login(client, "wang@example.com", "squatter-pass-91").status_code == 200
    assert login(client, "wang@example.com", "long-enough-password").status_code == 302


def test_signing_up_with_a_taken_address_answers_as_for_a_new_one_and_tells_the_owner(
    app, client, user
):
    user(Role.PARENT, email="wang@example.com")
    client.set_cookie("lang", "en")
    before = find_account(app, "wang@example.com")

    taken = client.post("/register", data=registration(email="Wang@Example.COM"))
    new = client.post("/register", data=registration(email="zhou@example.com"))

    assert taken.status_code == new.status_code == 200
    assert page_but_its_token(taken).replace(
        "Wang@Example.COM", "zhou@example.com"
    ) == page_but_its_token(new)
    after = find_account(app, "wang@example.com")
    assert (after.password_hash, after.display_name) == (before.password_hash, before.display_name)
    to_owner = [m for m in outbox(app) if m.recipient == "wang@example.com"]
    # In the owner's language (Chinese), not the language of whoever signed up.
    assert [m.subject for m in to_owner] == ["您已经有晋江托育服务账号"]
    assert "/login" in to_owner[0].body
    assert "/password/forgot" in to_owner[0].body
    assert SIGN_UP_LINK.search(to_owner[0].body) is None
    assert count_accounts(app) == 2


def test_an_address_gets_few_sign_up_mails_and_the_answer_never_changes(app, client, user):
    app.config["SIGNUP_MAILS_PER_ADDRESS"] = "2 per hour"
    user(Role.PARENT, email="wang@example.com")
    client.set_cookie("lang", "en")

    answers = {text(client.post("/register", data=registration())) for _ in range(4)}

    assert len(answers) == 1
    assert len([m for m in outbox(app) if m.recipient == "wang@example.com"]) == 2


def test_two_sign_ups_of_one_address_at_once_leave_one_account_with_one_live_link(app):
    """Twice per address: when it is new, and again when its account waits for its link."""
    rounds = 8
    unexpected = []

    def sign_up(email: str, name: str, start_line: threading.Barrier) -> None:
        details = accounts.SignUp(email, "long-enough-password", Role.PARENT, name, None, "en")
        try:
            with app.test_request_context():
                start_line.wait(timeout=30)
                run_in_transaction(lambda: accounts.sign_up(details, clock.now()))
        except Exception as error:  # every error is a finding: the page would answer 500
            unexpected.append(f"{type(error).__name__}: {error}".splitlines()[0])

    for number in [*range(rounds), *range(rounds)]:
        start_line = threading.Barrier(2)
        email = f"race{number}@example.com"
        threads = [
            threading.Thread(target=sign_up, args=(email, name, start_line)) for name in "甲乙"
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    assert unexpected == []
    with app.app_context():
        live_links = db.session.execute(
            sa.select(User.email, sa.func.count(OneTimeToken.id))
            .outerjoin(
                OneTimeToken,
                sa.and_(OneTimeToken.user_id == User.id, OneTimeToken.used_at.is_(None)),
            )
            .group_by(User.email)
        ).all()
    assert sorted(live_links) == [(f"race{number}@example.com", 1) for number in range(rounds)]


def test_register_page_does_not_offer_the_regulator_role(client):
    body = text(client.get("/register"))

    assert 'value="parent"' in body
    assert 'value="institution"' in body
    assert 'value="provider"' in body
    assert 'value="regulator"' not in body


def test_register_refuses_a_forged_regulator_role(app, client):
    response = client.post("/register", data=registration(role="regulator"))

    assert response.status_code == 200
    assert find_account(app, "wang@example.com") is None
    assert count_accounts(app) == 0
    assert client.get("/regulator/").status_code == 302


@pytest.mark.parametrize(
    "email", ["not-an-address", "wang@", "@example.com", "wang@example", "wang@@example.com"]
)
def test_register_refuses_an_invalid_email_address(app, client, email):
    client.set_cookie("lang", "en")

    response = client.post("/register", data=registration(email=email))

    assert response.status_code == 200
    assert "Please enter a valid e-mail address." in text(response)
    assert count_accounts(app) == 0


@pytest.mark.parametrize(
    "phone",
    [
        "12345",
        "1381234567",  # ten digits
        "138123456789",  # twelve digits
        "23812345678",  # no mobile prefix
        "0595-85661234",  # a landline
        "+1 202 555 0143",  # not Chinese
        "mobile",
    ],
)
def test_register_refuses_an_invalid_chinese_mobile_number(app, client, phone):
    client.set_cookie("lang", "en")

    response = client.post("/register", data=registration(phone=phone))

    assert response.status_code == 200
    assert "Please enter an 11-digit mainland China mobile number." in text(response)
    assert count_accounts(app) == 0


@pytest.mark.parametrize("phone", ["13812345678", "138 1234 5678", "+86 138 1234 5678"])
def test_register_stores_a_valid_mobile_number_in_e164_form(app, client, phone):
    response = client.post("/register", data=registration(phone=phone))

    assert response.status_code == 200
    assert find_account(app, "wang@example.com").phone == "+8613812345678"


def test_register_without_a_mobile_number_stores_none(app, client):
    assert client.post("/register", data=registration(phone="")).status_code == 200
    assert find_account(app, "wang@example.com").phone is None


@pytest.mark.parametrize(
    ("password", "confirm"),
    [
        pytest.param("nine-char", "nine-char", id="shorter-than-10"),
        pytest.param("", "", id="empty"),
        pytest.param("long-enough-password", "long-enough-passwork", id="not-repeated"),
        pytest.param("wang@example.com", "wang@example.com", id="the-email-address"),
    ],
)
def test_register_refuses_a_weak_or_mistyped_password(app, client, password, confirm):
    response = client.post("/register", data=registration(password=password, confirm=confirm))

    assert response.status_code == 200
    assert count_accounts(app) == 0


def test_password_of_exactly_ten_characters_is_accepted(app, client):
    response = client.post(
        "/register", data=registration(password="ten-chars!", confirm="ten-chars!")
    )

    assert response.status_code == 200
    assert count_accounts(app) == 1


@pytest.mark.parametrize("length", [72, 73, 128])
def test_a_long_passphrase_is_scored_not_refused_with_a_server_error(app, client, length):
    passphrase = ("violet kettle harbour 19 " * 6)[:length]

    response = client.post("/register", data=registration(password=passphrase, confirm=passphrase))

    assert response.status_code == 200
    assert count_accounts(app) == 1


@pytest.mark.parametrize("length", [73, 128])
def test_changing_to_a_long_passphrase_works(app, client, user, auth, length):
    auth.login(user(Role.PARENT, email="wang@example.com"))
    passphrase = ("violet kettle harbour 19 " * 6)[:length]

    response = change_password(client, PASSWORD, new=passphrase)

    assert response.status_code in (200, 302)
    assert login(app.test_client(), "wang@example.com", passphrase).status_code == 302


def test_register_stores_an_argon2id_hash_never_the_password(app, client):
    client.post("/register", data=registration(email="Wang@Example.com"))

    account = find_account(app, "wang@example.com")
    assert account.email == "wang@example.com"
    assert account.password_hash.startswith("$argon2id$")
    assert "long-enough-password" not in account.password_hash


# --- signing in and out -------------------------------------------------------------------------


def test_login_with_the_right_password_goes_home(app, client, user):
    user(Role.PROVIDER, email="clinic@example.com")

    response = login(client, "Clinic@Example.com", PASSWORD)

    assert response.status_code == 302
    assert response.headers["Location"] == "/providers/"
    assert client.get("/providers/").status_code == 200
    assert find_account(app, "clinic@example.com").last_login_at is not None


def test_login_gives_the_same_answer_for_an_unknown_address_and_a_wrong_password(client, user):
    user(Role.PARENT, email="wang@example.com")
    client.set_cookie("lang", "en")

    wrong_password = login(client, "wang@example.com", "not-the-password")
    unknown_address = login(client, "nobody@example.com", PASSWORD)

    message = "The e-mail address or the password is not right."
    assert wrong_password.status_code == unknown_address.status_code == 200
    assert message in text(wrong_password)
    assert message in text(unknown_address)
    assert page_but_its_token(wrong_password).replace(
        "wang@example.com", "nobody@example.com"
    ) == page_but_its_token(unknown_address)
    assert client.get("/parents/").status_code == 302


def test_inactive_account_cannot_sign_in(client, user):
    user(Role.PARENT, email="gone@example.com", is_active_account=False)

    response = login(client, "gone@example.com", PASSWORD)

    assert response.status_code == 200
    assert client.get("/parents/").status_code == 302


def test_account_made_inactive_loses_its_session(app, client, user, auth):
    user_id = user(Role.PARENT)
    auth.login(user_id)
    with app.app_context():
        db.session.get(User, user_id).is_active_account = False
        db.session.commit()

    response = client.get("/parents/")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_logout_page_shows_a_button_and_a_get_does_not_sign_out(client, user, auth):
    auth.login(user(Role.PARENT))

    response = client.get("/logout")

    assert response.status_code == 200
    assert '<form method="post" action="/logout"' in text(response)
    assert client.get("/parents/").status_code == 200


def test_logout_by_post_signs_out(client, user, auth):
    auth.login(user(Role.PARENT))

    response = client.post("/logout")

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    account_page = client.get("/parents/")
    assert account_page.status_code == 302
    assert account_page.headers["Location"].startswith("/login")


def test_login_starts_a_fresh_session(client, user, auth):
    user_id = user(Role.PARENT)
    with client.session_transaction() as session:
        session["marker"] = 1

    assert auth.login(user_id).status_code == 302

    with client.session_transaction() as session:
        assert "marker" not in session
        assert session.get("_user_id")


def test_anonymous_visitor_of_an_account_page_is_sent_to_login_and_back(client, user):
    user(Role.PARENT, email="wang@example.com")

    response = client.get("/parents/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/parents/"

    response = login(client, "wang@example.com", PASSWORD, query_string={"next": "/parents/"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/parents/"


# --- changing the password ----------------------------------------------------------------------


def change_password(client, current: str, new: str = NEW_PASSWORD):
    """Post the change-password form."""
    return client.post(
        "/account/password",
        data={"current_password": current, "password": new, "confirm": new},
    )


def test_change_password_needs_a_signed_in_account(client):
    response = client.get("/account/password")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_change_password_refuses_a_wrong_current_password(app, client, user, auth):
    user_id = user(Role.PARENT, email="wang@example.com")
    auth.login(user_id)
    client.set_cookie("lang", "en")

    response = change_password(client, "not-the-password")

    assert response.status_code == 200
    assert "This is not your current password." in text(response)
    assert client.get("/parents/").status_code == 200
    assert login(app.test_client(), "wang@example.com", PASSWORD).status_code == 302


def test_change_password_refuses_a_short_new_password(app, client, user, auth):
    auth.login(user(Role.PARENT, email="wang@example.com"))

    response = change_password(client, PASSWORD, new="too-short")

    assert response.status_code == 200
    assert login(app.test_client(), "wang@example.com", PASSWORD).status_code == 302


def test_change_password_signs_out_other_sessions_but_keeps_this_one(app, client, user, auth):
    user_id = user(Role.PARENT, email="wang@example.com")
    other_device = app.test_client()
    assert login(other_device, "wang@example.com", PASSWORD).status_code == 302
    assert other_device.get("/parents/").status_code == 200
    auth.login(user_id)

    response = change_password(client, PASSWORD)

    assert response.status_code == 302
    assert response.headers["Location"] == "/parents/"
    assert client.get("/parents/").status_code == 200
    elsewhere = other_device.get("/parents/")
    assert elsewhere.status_code == 302
    assert elsewhere.headers["Location"].startswith("/login")
    assert login(app.test_client(), "wang@example.com", PASSWORD).status_code == 200
    assert login(app.test_client(), "wang@example.com", NEW_PASSWORD).status_code == 302


# --- forgotten password -------------------------------------------------------------------------


@pytest.fixture
def commits(app):
    """The number of commits of the application's session, counted while the test runs."""
    counter = {"commits": 0}

    def count(session):
        counter["commits"] += 1

    sa.event.listen(sa.orm.Session, "after_commit", count)
    yield counter
    sa.event.remove(sa.orm.Session, "after_commit", count)


def ask_for_reset(client, email: str):
    """Post the forgotten-password form."""
    return client.post("/password/forgot", data={"email": email})


def reset_path(app) -> str:
    """The path of the reset link in the newest outbox message."""
    match = RESET_LINK.search(outbox(app)[-1].body)
    assert match, "the e-mail holds no reset link"
    return match.group(1)


def test_forgotten_password_answers_the_same_for_unknown_and_known_addresses(app, client, user):
    user(Role.PARENT, email="wang@example.com")
    client.set_cookie("lang", "en")

    unknown = ask_for_reset(client, "nobody@example.com")
    unknown_page = text(client.get(unknown.headers["Location"]))
    known = ask_for_reset(client, "wang@example.com")
    known_page = text(client.get(known.headers["Location"]))

    assert unknown.status_code == known.status_code == 302
    assert unknown.headers["Location"] == known.headers["Location"] == "/login"
    message = "If an account uses this address, a link to reset its password is on its way."
    assert message in unknown_page
    assert known_page == unknown_page


def test_forgotten_password_writes_no_email_for_an_unknown_address(app, client):
    ask_for_reset(client, "nobody@example.com")

    assert outbox(app) == []


def test_forgotten_password_writes_no_email_for_an_inactive_account(app, client, user):
    user(Role.PARENT, email="gone@example.com", is_active_account=False)

    ask_for_reset(client, "gone@example.com")

    assert outbox(app) == []


def test_forgotten_password_queues_one_email_in_the_request_commit(app, client, user, commits):
    user(Role.PARENT, email="wang@example.com")
    commits_before = commits["commits"]

    ask_for_reset(client, "Wang@Example.com")

    assert commits["commits"] - commits_before == 1
    messages = outbox(app)
    assert len(messages) == 1
    assert messages[0].recipient == "wang@example.com"
    assert messages[0].sent_at is None
    assert RESET_LINK.search(messages[0].body)


def test_reset_link_works_once(app, client, user):
    user(Role.PARENT, email="wang@example.com")
    client.set_cookie("lang", "en")
    ask_for_reset(client, "wang@example.com")
    path = reset_path(app)

    assert client.get(path).status_code == 200
    response = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"

    again = client.get(path)
    assert again.status_code == 400
    assert "This link no longer works" in text(again)
    reused = client.post(
        path, data={"password": "yet-another-pass-9", "confirm": "yet-another-pass-9"}
    )
    assert reused.status_code == 400
    assert login(app.test_client(), "wang@example.com", NEW_PASSWORD).status_code == 302


def test_after_a_reset_the_old_password_no_longer_works(app, client, user):
    user(Role.PARENT, email="wang@example.com")
    ask_for_reset(client, "wang@example.com")

    client.post(reset_path(app), data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})

    assert login(app.test_client(), "wang@example.com", PASSWORD).status_code == 200
    assert login(app.test_client(), "wang@example.com", NEW_PASSWORD).status_code == 302


def test_reset_signs_out_sessions_opened_with_the_old_password(app, client, user):
    user(Role.PARENT, email="wang@example.com")
    signed_in = app.test_client()
    login(signed_in, "wang@example.com", PASSWORD)
    ask_for_reset(client, "wang@example.com")

    client.post(reset_path(app), data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})

    assert signed_in.get("/parents/").status_code == 302


def test_reset_link_refuses_a_short_password(app, client, user):
    user(Role.PARENT, email="wang@example.com")
    ask_for_reset(client, "wang@example.com")
    path = reset_path(app)

    response = client.post(path, data={"password": "too-short", "confirm": "too-short"})

    assert response.status_code == 200
    assert client.get(path).status_code == 200
    assert login(app.test_client(), "wang@example.com", PASSWORD).status_code == 302


def test_expired_reset_link_fails(app, client, user, monkeypatch):
    user(Role.PARENT, email="wang@example.com")
    client.set_cookie("lang", "en")
    ask_for_reset(client, "wang@example.com")
    path = reset_path(app)
    an_hour_later = clock.now() + timedelta(seconds=app.config["PASSWORD_RESET_MAX_AGE"] + 1)
    monkeypatch.setattr("careapp.clock._system_now", lambda: an_hour_later)

    response = client.get(path)
    posted = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})

    assert response.status_code == 400
    assert "This link no longer works" in text(response)
    assert posted.status_code == 400
    assert login(app.test_client(), "wang@example.com", PASSWORD).status_code == 302


def test_tampered_reset_link_fails(app, client, user):
    user(Role.PARENT, email="wang@example.com")
    client.set_cookie("lang", "en")
    ask_for_reset(client, "wang@example.com")
    prefix, token = reset_path(app).rsplit("/", 1)
    middle = len(token.split(".")[0]) // 2
    swapped = "B" if token[middle] != "B" else "C"
    tampered = token[:middle] + swapped + token[middle + 1 :]

    for bad in (tampered, token + "x", token[:-5], "not-a-token"):
        response = client.get(f"{prefix}/{bad}")
        assert response.status_code == 400, bad
        assert "This link no longer works" in text(response)


# --- the command line ---------------------------------------------------------------------------


@pytest.fixture
def flask_cli(app, monkeypatch):
    """Run ``flask --app careapp ARGS`` the way the ``flask`` command does (through FlaskGroup).

    ``target`` runs the command on another application than ``app``.
    """
    # FlaskGroup sets this variable for the process; monkeypatch puts it back afterwards.
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")

    def run(*args: str, input: str | None = None, target=None):
        target = target or app
        group = FlaskGroup(
            create_app=lambda: target,
            add_default_commands=False,
            load_dotenv=False,
            set_debug_flag=False,
        )
        info = ScriptInfo(
            create_app=lambda: target, set_debug_flag=False, load_dotenv_defaults=False
        )
        return target.test_cli_runner().invoke(group, list(args), input=input, obj=info)

    return run


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(
            ["create-user", "--role", "regulator", "--email", "boss@example.com"], id="create-user"
        ),
        pytest.param(["seed-demo"], id="seed-demo"),
    ],
)
def test_commands_run_from_the_test_cli_runner(runner, args):
    """``app.test_cli_runner().invoke(args=...)`` is Flask's documented way to test commands."""
    result = runner.invoke(args=args, input="long-password-1\n")

    assert result.exception is None, repr(result.exception)
    assert result.exit_code == 0, result.output


def test_create_user_makes_a_regulator_who_can_sign_in(app, client, flask_cli):
    result = flask_cli(
        "create-user",
        "--role",
        "regulator",
        "--email",
        "boss@example.com",
        input="long-password-1\n",
    )

    assert result.exit_code == 0, result.output
    assert "boss@example.com" in result.output
    account = find_account(app, "boss@example.com")
    assert account.role == Role.REGULATOR
    assert account.password_hash.startswith("$argon2id$")
    response = login(client, "boss@example.com", "long-password-1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/regulator/"
    assert client.get("/regulator/").status_code == 200


def test_create_user_refuses_a_short_password(app, flask_cli):
    result = flask_cli(
        "create-user", "--role", "regulator", "--email", "boss@example.com", input="short-pw1\n"
    )

    assert result.exit_code != 0
    assert find_account(app, "boss@example.com") is None


def test_create_user_refuses_a_taken_address(app, flask_cli, user):
    user(Role.PARENT, email="boss@example.com")

    result = flask_cli(
        "create-user",
        "--role",
        "regulator",
        "--email",
        "Boss@Example.com",
        input="long-password-1\n",
    )

    assert result.exit_code != 0
    assert "exists already" in result.output
    assert find_account(app, "boss@example.com").role == Role.PARENT
    assert count_accounts(app) == 1


def test_create_user_refuses_an_invalid_address(app, flask_cli):
    result = flask_cli(
        "create-user", "--role", "regulator", "--email", "not-an-address", input="long-password-1\n"
    )

    assert result.exit_code != 0
    assert count_accounts(app) == 0


def test_create_user_refuses_an_unknown_role(app, flask_cli):
    result = flask_cli(
        "create-user", "--role", "admin", "--email", "boss@example.com", input="long-password-1\n"
    )

    assert result.exit_code != 0
    assert count_accounts(app) == 0


def test_seed_demo_creates_the_four_demo_accounts_and_prints_them(app, flask_cli):
    result = flask_cli("seed-demo")

    assert result.exit_code == 0, result.output
    assert DEMO_PASSWORD in result.output
    for role, email in DEMO_EMAILS.items():
        assert email in result.output
        assert find_account(app, email).role == role
        response = login(app.test_client(), email, DEMO_PASSWORD)
        assert response.status_code == 302, email
        assert response.headers["Location"] == HOMES[role]


def test_seed_demo_is_idempotent(app, flask_cli):
    assert flask_cli("seed-demo").exit_code == 0

    result = flask_cli("seed-demo")

    assert result.exit_code == 0, result.output
    with app.app_context():
        emails = db.session.scalars(sa.select(User.email)).all()
        accounts_that_sign_in = db.session.scalars(
            sa.select(User.email).where(User.is_active_account.is_(True))
        ).all()
    assert len(emails) == len(set(emails))
    # The other demo providers' accounts exist only to own courses and cannot sign in; the
    # two demo inspectors are regulator accounts the inspection draws pick from.
    inspectors = [email for email, _name in DEMO_INSPECTORS]
    assert sorted(accounts_that_sign_in) == sorted([*DEMO_EMAILS.values(), *inspectors])
    assert login(app.test_client(), "regulator@example.com", DEMO_PASSWORD).status_code == 302


def test_seed_demo_refuses_in_production(app, flask_cli):
    production = create_app(
        {
            "CAREAPP_ENV": "production",
            "SECRET_KEY": "production-secret",
            "SITE_URL": "https://tuoyu.example.gov.cn",
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )

    result = flask_cli("seed-demo", target=production)

    assert result.exit_code != 0
    assert "CAREAPP_ENV=production" in result.output
    assert count_accounts(app) == 0
    with production.app_context():
        db.engine.dispose()


# --- the e-mail outbox --------------------------------------------------------------------------


def queue(app, *subjects: str) -> None:
    """Write one outbox message per subject."""
    with app.app_context():
        for subject in subjects:
            queue_email("wang@example.com", subject, f"Body of {subject}")
        db.session.commit()


def test_jobs_run_sends_queued_email_with_the_console_backend(app, runner):
    queue(app, "First subject", "Second subject")

    result = runner.invoke(args=["jobs", "run"])

    assert result.exit_code == 0, result.output
    assert "Subject: First subject" in result.output
    assert "Subject: Second subject" in result.output
    assert "To: wang@example.com" in result.output
    assert "2 sent, 0 failed" in result.output
    for message in outbox(app):
        assert message.sent_at is not None
        assert message.attempts == 1
        assert message.last_error is None


def test_jobs_run_sends_nothing_the_second_time(app, runner):
    queue(app, "Only once")
    runner.invoke(args=["jobs", "run"])

    result = runner.invoke(args=["jobs", "run"])

    assert result.exit_code == 0, result.output
    assert "Only once" not in result.output
    assert "0 sent, 0 failed" in result.output
    assert outbox(app)[0].attempts == 1


def test_jobs_run_delivers_the_reset_email_of_a_request(app, client, runner, user):
    user(Role.PARENT, email="wang@example.com", language="en")
    ask_for_reset(client, "wang@example.com")

    result = runner.invoke(args=["jobs", "run"])

    assert result.exit_code == 0, result.output
    assert "Subject: Reset your careapp password" in result.output
    assert outbox(app)[0].sent_at is not None


def test_jobs_run_records_a_failing_backend_and_keeps_the_message(app, runner, monkeypatch):
    def broken(message):
        raise OSError("mail server unreachable")

    monkeypatch.setitem(mail.BACKENDS, "console", broken)
    queue(app, "Will fail")

    result = runner.invoke(args=["jobs", "run"])

    assert result.exit_code == 0, result.output
    assert "0 sent, 1 failed" in result.output
    [message] = outbox(app)
    assert message.sent_at is None
    assert message.attempts == 1
    assert "mail server unreachable" in message.last_error

    runner.invoke(args=["jobs", "run"])
    assert outbox(app)[0].attempts == 2


def test_jobs_run_gives_up_after_the_maximum_attempts(app, runner, monkeypatch):
    def broken(message):
        raise OSError("mail server unreachable")

    monkeypatch.setitem(mail.BACKENDS, "console", broken)
    queue(app, "Will fail")

    for _ in range(mail.MAX_ATTEMPTS + 2):
        runner.invoke(args=["jobs", "run"])

    assert outbox(app)[0].attempts == mail.MAX_ATTEMPTS


def test_signing_up_from_a_booking_link_goes_on_to_the_booking_and_then_back_to_it(client, app):
    """Register with ``next`` → the link in the mail leads to the page asked for; a parent
    without a child adds one first and comes back to where they were going."""
    response = client.get("/login?next=/parents/")
    assert b"/register?next=/parents/" in response.data
    client.post(
        "/register?next=/parents/children",
        data=registration(email="next-after-sign-up@example.com"),
    )
    response = client.get(sign_up_link(app, "next-after-sign-up@example.com"))
    assert response.status_code == 302
    assert response.headers["Location"] == "/parents/children"
    response = client.post(
        "/parents/children/new?next=/parents/bookings",
        data={"name": "王小宝", "birth_date": "2025-06-01", "consent": "guardian"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/parents/bookings"


@pytest.mark.parametrize("next_path", ["https://evil.example/", "//evil.example/"])
def test_a_next_to_another_site_is_ignored_after_sign_up(client, app, next_path):
    client.post(
        "/register", query_string={"next": next_path}, data=registration(email="e@example.com")
    )
    link = sign_up_link(app, "e@example.com")
    assert "evil" not in link

    response = client.get(link.split("?")[0], query_string={"next": next_path})

    assert response.status_code == 302
    assert response.headers["Location"] == "/parents/"


@pytest.mark.parametrize(
    "password",
    ["1234567890", "password12", "qwertyuiop", "woaini1314", "5201314abc", "jinjiang2026"],
)
def test_a_common_or_simple_password_is_refused_when_signing_up(client, password):
    client.set_cookie("lang", "en")

    response = client.post(
        "/register",
        data={
            "email": "wang@example.com",
            "display_name": "王女士",
            "role": "parent",
            "password": password,
            "confirm": password,
        },
    )

    assert response.status_code == 200
    assert "This password is too easy to guess" in response.get_data(as_text=True)
