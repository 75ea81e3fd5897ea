"""A live server with the demo data and a headless Chromium driven by Playwright."""

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from careapp import clock, create_app
from careapp.demo import seed_demo
from careapp.demo.accounts import DEMO_ACCOUNTS, seed_accounts
from careapp.demo.courses import seed_courses
from careapp.demo.inspections import seed_inspections
from careapp.demo.places import seed_places
from careapp.demo.quality import seed_quality
from careapp.demo.staff import seed_staff
from careapp.extensions import db
from careapp.models import Role
from careapp.services.accounts import find_user

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
PHONE = {"width": 390, "height": 844}


def chromium_path() -> str | None:
    """Debian's Chromium, or the one CHROMIUM_PATH names."""
    candidate = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
    return candidate if Path(candidate).exists() else shutil.which("chromium")


CHROMIUM = chromium_path()

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium at /usr/bin/chromium or CHROMIUM_PATH"
)


def pytest_collection_modifyitems(items):
    """Every test in this folder is a browser test and skips without Chromium."""
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            if CHROMIUM is None:
                item.add_marker(
                    pytest.mark.skip(reason="no Chromium at /usr/bin/chromium or CHROMIUM_PATH")
                )


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The app with the demo data, served on a free local port in a thread."""
    database = tmp_path_factory.mktemp("live") / "live.sqlite3"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
            "SECRET_KEY": "browser-tests",
            "RATELIMIT_STORAGE_URI": "memory://",
            # Every page case posts from this one address: room for the report forms' cases.
            "REPORT_LIMIT_PER_IP": "100 per hour",
            "REPORT_STATUS_LIMIT_PER_IP": "100 per 10 minutes",
        }
    )
    with app.app_context():
        db.create_all()
        seed_demo("jinjiang", clock.today())
        seed_accounts(clock.today())
        seed_staff(clock.today())
        seed_places(clock.today(), find_user(DEMO_ACCOUNTS[Role.PARENT][0]))
        seed_courses(clock.today())
        # As ``seed-demo`` does: the demo grades, reports and inspections exist before any
        # test adds its own (each seeds only into an empty table).
        seed_quality(clock.today())
        seed_inspections(clock.today())
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium that makes no background connections."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def phone(browser):
    """A fresh phone-sized page (390 × 844), Chinese unless a test switches."""
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def sign_in(page, base: str, email: str, password: str = "demo-password-1") -> None:
    """Sign ``page`` in through the real form and wait for the account's home page."""
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form:has(input[name=password]) button[type=submit]")
    assert "/login" not in page.url, "sign-in failed for " + email


@pytest.fixture
def phone_as(browser, live_server):
    """A factory of phone-sized pages signed in as a demo account (``role`` → page)."""
    base, _ = live_server
    contexts = []

    def open_as(email: str, language: str = "zh-CN"):
        context = browser.new_context(viewport=PHONE, locale=language)
        contexts.append(context)
        page = context.new_page()
        sign_in(page, base, email)
        return page

    yield open_as
    for context in contexts:
        context.close()


@pytest.fixture
def page_for(browser, live_server):
    """A factory of fresh English phone-sized pages, signed in when given an e-mail address."""
    base, _ = live_server
    contexts = []

    def open_page(email: str | None = None):
        context = browser.new_context(viewport=PHONE, locale="en")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        if email is not None:
            sign_in(page, base, email)
        return page

    yield open_page
    for context in contexts:
        context.close()
