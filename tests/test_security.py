"""Security of the site: safe redirects, CSRF, login rate limits, headers, cookies, error pages."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from conftest import PASSWORD, AuthActions
from flask import abort

from careapp import clock, create_app
from careapp.extensions import db
from careapp.models import OutboxMessage, Role, User

CSRF_MESSAGE = "This page had been open too long, so nothing was saved."

#: ``next`` values that must never lead away from the site (or anywhere but home).
UNSAFE_NEXT = [
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "https://evil.example/",
    "http:evil.example",
    "javascript:alert(1)",
    "/%2F%2Fevil.example",
    "%2F%2Fevil.example",
    "/%5Cevil.example",
    "/%252F%252Fevil.example",
    " //evil.example",
    "/\tevil",
    "/\nevil",
    "/%09/evil.example",
    "https:/evil.example",
    "///evil.example",
    "evil.example",
    "",
]

#: The translated title of each error page.
ERROR_TITLES = {
    400: ("无法处理该请求", "The request could not be understood"),
    403: ("无权访问此页面", "You may not open this page"),
    404: ("页面不存在", "Page not found"),
    429: ("操作过于频繁", "Too many attempts"),
    500: ("系统出现错误", "Something went wrong on our side"),
}


def text(response) -> str:
    """The response body as text."""
    return response.get_data(as_text=True)


def csrf_token(response) -> str:
    """The CSRF token in the form of a page."""
    match = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', text(response))
    assert match, "the page holds no CSRF token"
    return match.group(1)


def login(client, email: str, password: str = PASSWORD, **kwargs):
    """Post the login form."""
    return client.post("/login", data={"email": email, "password": password}, **kwargs)


def login_form_action(response) -> str:
    """Where the sign-in form of a page posts to."""
    match = re.search(
        r'<form method="post" action="(/login(?:\?[^"]*)?)" class="stack"', text(response)
    )
    assert match, "the page holds no sign-in form"
    return match.group(1)


def csrf_login(client, email: str, password: str = PASSWORD):
    """Sign in through the login page, with the token it gives."""
    token = csrf_token(client.get("/login"))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def set_cookie_header(response, name: str) -> str:
    """The Set-Cookie header of cookie ``name``."""
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    assert headers, f"no {name} cookie was set"
    return headers[-1]


@pytest.fixture
def csrf_app(app):
    """The application with CSRF protection turned on, as in production."""
    app.config["WTF_CSRF_ENABLED"] = True
    return app


# --- next ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", UNSAFE_NEXT)
def test_login_never_follows_an_unsafe_next(client, user, target):
    user(Role.PARENT, email="wang@example.com")

    response = login(client, "wang@example.com", query_string={"next": target})

    assert response.status_code == 302
    assert response.headers["Location"] == "/parents/"


@pytest.mark.parametrize("target", UNSAFE_NEXT)
def test_login_never_follows_an_unsafe_next_posted_in_the_form(client, user, target):
    user(Role.PARENT, email="wang@example.com")

    response = client.post(
        "/login", data={"email": "wang@example.com", "password": PASSWORD, "next": target}
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/parents/"


@pytest.mark.parametrize("target", UNSAFE_NEXT)
def test_signed_in_visitor_of_login_is_never_sent_to_an_unsafe_next(client, user, auth, target):
    auth.login(user(Role.PARENT))

    response = client.get("/login", query_string={"next": target})

    assert response.status_code == 302
    assert response.headers["Location"] == "/parents/"


@pytest.mark.parametrize("target", UNSAFE_NEXT)
def test_login_form_does_not_carry_an_unsafe_next(client, target):
    response = client.get("/login", query_string={"next": target})

    assert response.status_code == 200
    assert login_form_action(response) == "/login"


def test_login_follows_a_same_site_next(client, user):
    user(Role.INSTITUTION, email="staff@example.com")

    response = login(client, "staff@example.com", query_string={"next": "/institutions/mine?x=1"})

    assert response.status_code == 302
    assert response.headers["Location"] == "/institutions/mine?x=1"


def test_login_form_keeps_a_same_site_next_for_the_post(client):
    response = client.get("/login", query_string={"next": "/institutions/mine?x=1"})

    assert login_form_action(response) == "/login?next=/institutions/mine?x%3D1"


# --- CSRF ---------------------------------------------------------------------------------------


def test_login_without_csrf_token_keeps_what_was_typed_and_explains(csrf_app, user):
    user(Role.PARENT, email="wang@example.com")
    client = csrf_app.test_client()
    client.set_cookie("lang", "en")

    response = login(client, "wang@example.com")

    body = text(response)
    assert response.status_code == 400
    assert CSRF_MESSAGE in body
    assert 'value="wang@example.com"' in body
    assert PASSWORD not in body
    assert '<html lang="en">' in body
    assert client.get("/parents/").status_code == 302


def test_login_with_an_expired_csrf_token_keeps_what_was_typed_and_explains(csrf_app, user):
    user(Role.PARENT, email="wang@example.com")
    client = csrf_app.test_client()
    client.set_cookie("lang", "en")
    token = csrf_token(client.get("/login"))
    csrf_app.config["WTF_CSRF_TIME_LIMIT"] = -1

    response = client.post(
        "/login", data={"email": "wang@example.com", "password": PASSWORD, "csrf_token": token}
    )

    body = text(response)
    assert response.status_code == 400
    assert CSRF_MESSAGE in body
    assert 'value="wang@example.com"' in body
    assert client.get("/parents/").status_code == 302


def test_login_with_a_wrong_csrf_token_is_refused(csrf_app, user):
    user(Role.PARENT, email="wang@example.com")
    client = csrf_app.test_client()

    response = client.post(
        "/login?lang=en",
        data={"email": "wang@example.com", "password": PASSWORD, "csrf_token": "forged"},
    )

    assert response.status_code == 400
    assert CSRF_MESSAGE in text(response)
    assert client.get("/parents/").status_code == 302


def test_login_page_shown_again_carries_a_fresh_token_that_works(csrf_app, user):
    user(Role.PARENT, email="wang@example.com")
    client = csrf_app.test_client()
    client.get("/login")

    refused = login(client, "wang@example.com")
    response = client.post(
        "/login",
        data={"email": "wang@example.com", "password": PASSWORD, "csrf_token": csrf_token(refused)},
    )

    assert refused.status_code == 400
    assert response.status_code == 302
    assert response.headers["Location"] == "/parents/"


def test_login_with_the_page_token_signs_in(csrf_app, user):
    user(Role.PARENT, email="wang@example.com")

    response = csrf_login(csrf_app.test_client(), "wang@example.com")

    assert response.status_code == 302
    assert response.headers["Location"] == "/parents/"


def test_register_without_csrf_token_creates_no_account(csrf_app):
    client = csrf_app.test_client()
    client.set_cookie("lang", "en")

    response = client.post(
        "/register",
        data={
            "role": "parent",
            "display_name": "王秀英",
            "email": "wang@example.com",
            "password": "long-enough-password",
            "confirm": "long-enough-password",
        },
    )

    body = text(response)
    assert response.status_code == 400
    assert CSRF_MESSAGE in body
    assert 'value="wang@example.com"' in body
    assert 'value="王秀英"' in body
    assert "long-enough-password" not in body
    with csrf_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_logout_without_csrf_token_does_not_sign_out(csrf_app, user):
    user(Role.PARENT, email="wang@example.com")
    client = csrf_app.test_client()
    assert csrf_login(client, "wang@example.com").status_code == 302

    response = client.post("/logout")

    assert response.status_code == 400
    assert client.get("/parents/").status_code == 200


def test_logout_with_the_page_token_signs_out(csrf_app, user):
    user(Role.PARENT, email="wang@example.com")
    client = csrf_app.test_client()
    assert csrf_login(client, "wang@example.com").status_code == 302

    response = client.post("/logout", data={"csrf_token": csrf_token(client.get("/parents/"))})

    assert response.status_code == 302
    assert client.get("/parents/").status_code == 302


def test_change_password_without_csrf_token_changes_nothing(csrf_app, user):
    user(Role.PARENT, email="wang@example.com")
    client = csrf_app.test_client()
    assert csrf_login(client, "wang@example.com").status_code == 302

    response = client.post(
        "/account/password?lang=en",
        data={
            "current_password": PASSWORD,
            "password": "a-brand-new-password-7",
            "confirm": "a-brand-new-password-7",
        },
    )

    assert response.status_code == 400
    assert CSRF_MESSAGE in text(response)
    assert csrf_login(csrf_app.test_client(), "wang@example.com").status_code == 302
    assert client.get("/parents/").status_code == 200


@pytest.mark.parametrize(
    "path", ["/api/v1/townships", "/api/v1/institutions", "/api/v1/registry/events", "/healthz"]
)
def test_api_gets_need_no_csrf_token(csrf_app, path):
    response = csrf_app.test_client().get(path)

    assert response.status_code == 200
    assert response.is_json


def test_public_search_needs_no_csrf_token(csrf_app):
    assert csrf_app.test_client().get("/").status_code == 200


# --- rate limits --------------------------------------------------------------------------------


@pytest.fixture
def limited_app(app):
    """The application with low login limits (set before the first request)."""
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "3 per minute"
    app.config["LOGIN_LIMIT_PER_IP"] = "5 per minute"
    return app


def test_failed_logins_for_one_account_are_limited_even_across_addresses(limited_app, user):
    user(Role.PARENT, email="wang@example.com")
    client = limited_app.test_client()

    statuses = [
        login(
            client,
            "wang@example.com",
            "wrong-password",
            environ_base={"REMOTE_ADDR": f"198.51.100.{number}"},
        ).status_code
        for number in range(1, 5)
    ]
    locked = login(client, "wang@example.com", environ_base={"REMOTE_ADDR": "198.51.100.9"})

    assert statuses == [200, 200, 200, 429]
    assert locked.status_code == 429


def test_account_limit_counts_the_address_however_it_is_written(limited_app, user):
    user(Role.PARENT, email="wang@example.com")
    client = limited_app.test_client()

    for number, email in enumerate(["wang@example.com", "WANG@example.com", " Wang@Example.com"]):
        response = login(
            client, email, "wrong-password", environ_base={"REMOTE_ADDR": f"198.51.100.{number}"}
        )
        assert response.status_code == 200

    locked = login(client, "wang@EXAMPLE.com", environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert locked.status_code == 429


def test_account_limit_leaves_other_accounts_alone(limited_app, user):
    user(Role.PARENT, email="wang@example.com")
    user(Role.PARENT, email="li@example.com")
    client = limited_app.test_client()
    for number in range(4):
        login(
            client,
            "wang@example.com",
            "wrong-password",
            environ_base={"REMOTE_ADDR": f"198.51.100.{number}"},
        )

    response = login(client, "li@example.com", environ_base={"REMOTE_ADDR": "203.0.113.7"})

    assert response.status_code == 302


def test_failed_logins_from_one_ip_over_many_accounts_are_limited(limited_app):
    client = limited_app.test_client()
    environ = {"REMOTE_ADDR": "203.0.113.5"}

    statuses = [
        login(
            client, f"person{number}@example.com", "wrong-password", environ_base=environ
        ).status_code
        for number in range(6)
    ]
    other_ip = login(
        client, "someone@example.com", "wrong-password", environ_base={"REMOTE_ADDR": "203.0.113.6"}
    )

    assert statuses == [200] * 5 + [429]
    assert other_ip.status_code == 200


def test_successful_logins_do_not_count_against_the_limits(limited_app, user):
    user(Role.PARENT, email="wang@example.com")
    environ = {"REMOTE_ADDR": "203.0.113.5"}

    for _ in range(8):
        client = limited_app.test_client()
        assert login(client, "wang@example.com", environ_base=environ).status_code == 302

    client = limited_app.test_client()
    statuses = [
        login(client, "wang@example.com", "wrong-password", environ_base=environ).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 200]


def test_showing_the_login_page_is_not_limited(limited_app):
    client = limited_app.test_client()

    statuses = {client.get("/login").status_code for _ in range(10)}

    assert statuses == {200}


def test_rate_limit_answers_a_chinese_page_by_default(limited_app):
    client = limited_app.test_client()
    for number in range(5):
        login(client, f"guess{number}@example.com", "wrong-password")

    response = login(client, "wang@example.com", "wrong-password")

    body = text(response)
    assert response.status_code == 429
    assert '<html lang="zh-CN">' in body
    assert "操作过于频繁" in body
    assert "请等待一分钟后再试。" in body
    assert "Traceback" not in body


def test_rate_limit_answers_an_english_page_with_the_language_cookie(limited_app):
    client = limited_app.test_client()
    client.set_cookie("lang", "en")
    for number in range(5):
        login(client, f"guess{number}@example.com", "wrong-password")

    response = login(client, "wang@example.com", "wrong-password")

    body = text(response)
    assert response.status_code == 429
    assert '<html lang="en">' in body
    assert "Too many attempts" in body
    assert "Please wait a minute before you try again." in body


# --- headers ------------------------------------------------------------------------------------


def directives(policy: str) -> dict[str, str]:
    """A Content-Security-Policy split into its directives."""
    parts = (part.strip().split(None, 1) for part in policy.split(";") if part.strip())
    return {part[0]: part[1] if len(part) > 1 else "" for part in parts}


def assert_security_headers(response) -> None:
    """The headers every response must carry."""
    policy = directives(response.headers["Content-Security-Policy"])
    script_src = policy.get("script-src", policy.get("default-src"))
    assert script_src is not None
    assert "'unsafe-inline'" not in script_src
    assert "'unsafe-eval'" not in script_src
    assert policy["frame-ancestors"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/", 200),
        ("/registry", 200),
        ("/login", 200),
        ("/register", 200),
        ("/logout", 200),
        ("/password/forgot", 200),
        ("/password/reset/not-a-token", 400),
        ("/parents/", 302),
        ("/no-such-page", 404),
        ("/api/v1/townships", 200),
        ("/api/v1/institutions/999", 404),
        ("/healthz", 200),
    ],
)
def test_every_anonymous_response_carries_the_security_headers(client, path, status):
    response = client.get(path)

    assert response.status_code == status
    assert_security_headers(response)


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (Role.PARENT, "/parents/"),
        (Role.INSTITUTION, "/institutions/mine"),
        (Role.PROVIDER, "/providers/"),
        (Role.REGULATOR, "/regulator/"),
    ],
)
def test_signed_in_pages_carry_the_security_headers_and_are_never_cached(
    client, user, auth, role, path
):
    auth.login(user(role))

    for page in (path, "/", "/registry", "/account/password", "/logout"):
        response = client.get(page)
        assert response.status_code == 200, page
        assert_security_headers(response)
        assert response.headers["Cache-Control"] == "no-store", page


@pytest.mark.parametrize(
    "path", ["/login", "/register", "/password/forgot", "/logout", "/password/reset/bad-token"]
)
def test_account_pages_are_never_cached(client, path):
    assert client.get(path).headers.get("Cache-Control") == "no-store"


def test_login_answers_are_never_cached(client, user):
    user(Role.PARENT, email="wang@example.com")

    failed = login(client, "wang@example.com", "wrong-password")
    succeeded = login(client, "wang@example.com")

    assert failed.headers.get("Cache-Control") == "no-store"
    assert succeeded.headers.get("Cache-Control") == "no-store"


@pytest.mark.parametrize("path", ["/", "/registry", "/api/v1/townships"])
def test_public_pages_may_be_cached_for_anonymous_visitors(client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")


# --- cookies ------------------------------------------------------------------------------------


def test_session_cookie_is_http_only_and_same_site_lax(client, user):
    user(Role.PARENT, email="wang@example.com")

    header = set_cookie_header(login(client, "wang@example.com"), "session")

    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    assert "Secure" not in header


def test_session_cookie_is_secure_in_production(app, monkeypatch):
    monkeypatch.setenv("CAREAPP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("SITE_URL", "https://tuoyu.example.gov.cn")
    production = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )

    response = production.test_client().get("/login")

    header = set_cookie_header(response, "session")
    assert "Secure" in header
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    with production.app_context():
        db.engine.dispose()


# --- error pages --------------------------------------------------------------------------------


@pytest.fixture
def error_client(fresh_app, user):
    """Factory: a client and the path that answers ``status`` for it."""
    app = fresh_app
    client = app.test_client()
    auth = AuthActions(client, app)

    @app.get("/bad-request")
    def bad_request():
        abort(400)

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    def make(status: int, language: str | None):
        if language:
            client.set_cookie("lang", language)
        if status == 403:
            auth.login(user(Role.PARENT))
            return client.get("/regulator/")
        if status == 429:
            app.config["LOGIN_LIMIT_PER_IP"] = "1 per minute"
            login(client, "wang@example.com", "wrong-password")
            return login(client, "li@example.com", "wrong-password")
        path = {400: "/bad-request", 404: "/no-such-page", 500: "/boom"}[status]
        return client.get(path)

    return make


@pytest.mark.parametrize("status", sorted(ERROR_TITLES))
@pytest.mark.parametrize(
    ("language", "html_lang"), [(None, "zh-CN"), ("zh_CN", "zh-CN"), ("en", "en")]
)
def test_error_pages_exist_in_both_languages_without_a_traceback(
    error_client, status, language, html_lang
):
    response = error_client(status, language)

    body = text(response)
    chinese, english = ERROR_TITLES[status]
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert f'<html lang="{html_lang}">' in body
    assert (english if html_lang == "en" else chinese) in body
    assert "Traceback" not in body
    assert "secret internals" not in body
    assert_security_headers(response)


@pytest.mark.parametrize(
    ("environment", "shows_body"), [("development", True), ("production", False)]
)
def test_console_mail_prints_message_bodies_in_development_only(
    app, runner, environment, shows_body
):
    with app.app_context():
        from careapp.services.mail import queue_email

        queue_email("wang@example.com", "Reset your password", "https://example/reset/SECRET")
        db.session.commit()
    app.config.update(CAREAPP_ENV=environment, MAIL_BACKEND="console")

    output = runner.invoke(args=["jobs", "run"]).output

    assert "Reset your password" in output
    assert ("SECRET" in output) is shows_body


def test_used_up_attempts_pause_the_password_and_mail_the_owner_one_sign_in_link(limited_app, user):
    user(Role.PARENT, email="wang@example.com")
    client = limited_app.test_client()
    client.set_cookie("lang", "en")
    for number in range(3):
        login(client, "wang@example.com", "guess", environ_base={"REMOTE_ADDR": f"10.0.0.{number}"})

    paused = login(client, "wang@example.com", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    again = login(client, "wang@example.com", environ_base={"REMOTE_ADDR": "10.0.0.8"})

    assert paused.status_code == again.status_code == 429
    assert "Signing in with a password is paused for this account" in text(paused)
    with limited_app.app_context():
        links = db.session.scalars(
            sa.select(OutboxMessage.body).where(OutboxMessage.recipient == "wang@example.com")
        ).all()
    assert len(links) == 1, "one link per link lifetime, however often the stranger tries"
    link_path = re.search(r"https?://[^/]+(/login/link/\S+)", links[0]).group(1)
    owner = limited_app.test_client()
    assert owner.get(link_path).status_code == 302
    assert owner.get("/parents/").status_code == 200
    assert limited_app.test_client().get(link_path).status_code == 400, "the link works once"


def test_a_copied_session_cookie_stops_working_when_its_owner_signs_out(app, user):
    user(Role.PARENT, email="wang@example.com")
    client = app.test_client()
    login(client, "wang@example.com")
    cookie = client.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    assert thief.get("/parents/").status_code == 200

    client.post("/logout")

    assert thief.get("/parents/").status_code == 302


def test_signing_out_everywhere_ends_every_session_of_the_account(app, user):
    user(Role.PARENT, email="wang@example.com")
    phone, computer = app.test_client(), app.test_client()
    login(phone, "wang@example.com")
    login(computer, "wang@example.com")

    phone.post("/account/sessions/end")

    assert phone.get("/parents/").status_code == 302
    assert computer.get("/parents/").status_code == 302


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(app, user):
    user(Role.PARENT, email="wang@example.com")
    phone, computer = app.test_client(), app.test_client()
    login(phone, "wang@example.com")
    login(computer, "wang@example.com")

    changed = phone.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "password": "a-brand-new-password-7",
            "confirm": "a-brand-new-password-7",
        },
    )

    assert changed.status_code == 302
    assert phone.get("/parents/").status_code == 200
    assert computer.get("/parents/").status_code == 302


@pytest.mark.parametrize(
    ("setting", "later"),
    [
        ("SESSION_IDLE_MINUTES", timedelta(minutes=12 * 60 + 1)),
        ("SESSION_LIFETIME_DAYS", timedelta(days=31)),
    ],
)
def test_a_session_ends_after_its_idle_time_and_its_lifetime(
    app, user, monkeypatch, setting, later
):
    user(Role.PARENT, email="wang@example.com")
    client = app.test_client()
    login(client, "wang@example.com")
    if setting == "SESSION_LIFETIME_DAYS":
        app.config["SESSION_IDLE_MINUTES"] = 60 * 24 * 365
    moved = clock.now() + later
    monkeypatch.setattr("careapp.clock._system_now", lambda: moved)

    assert client.get("/parents/").status_code == 302


def test_sign_ups_from_one_address_are_limited(app, client):
    app.config["SIGNUP_LIMIT_PER_IP"] = "3 per hour"
    statuses = [
        client.post(
            "/register",
            data={
                "email": f"new{number}@example.com",
                "display_name": "王女士",
                "role": "parent",
                "password": "a-brand-new-password-7",
                "confirm": "a-brand-new-password-7",
            },
        ).status_code
        for number in range(4)
    ]

    assert statuses == [200, 200, 200, 429]
