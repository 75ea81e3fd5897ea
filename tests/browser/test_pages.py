"""Key pages in a real Chromium at phone size: weight, no sideways scroll, accessibility."""

from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from careapp.extensions import db
from careapp.models import publicly_listed

PAGE_BUDGET_BYTES = 60 * 1024


def first_public_institution(app) -> int:
    with app.app_context():
        return db.session.scalar(publicly_listed().with_only_columns(sa.text("id")).limit(1))


def page_paths(app) -> dict[str, str]:
    institution_id = first_public_institution(app)
    return {
        "search": "/",
        "search-results": "/?township=chendai&care_type=full_day",
        "search-empty": "/?q=nothing-matches-this",
        "institution": f"/institutions/{institution_id}",
        "registry": "/registry",
        "courses": "/courses",
        "login": "/login",
        "register": "/register",
        "not-found": "/no-such-page",
    }


def transferred_bytes(page, url: str) -> tuple[int, set[str]]:
    """Bytes received for ``url`` and everything it loads, and the hosts it asked."""
    sizes: list[int] = []
    hosts: set[str] = set()

    def on_response(response):
        hosts.add(urlsplit(response.url).netloc)
        body = response.body() if response.status < 300 else b""
        sizes.append(len(body) + sum(len(k) + len(v) for k, v in response.headers.items()))

    page.on("response", on_response)
    page.goto(url, wait_until="networkidle")
    page.remove_listener("response", on_response)
    return sum(sizes), hosts


@pytest.mark.parametrize("name", ["search", "institution"])
def test_page_weighs_at_most_60_kb_and_asks_no_other_host(live_server, phone, name):
    base, app = live_server
    total, hosts = transferred_bytes(phone, base + page_paths(app)[name])
    assert total <= PAGE_BUDGET_BYTES
    assert hosts == {urlsplit(base).netloc}


@pytest.mark.parametrize("language", ["zh_CN", "en"])
@pytest.mark.parametrize(
    "name",
    [
        "search",
        "search-results",
        "search-empty",
        "institution",
        "registry",
        "courses",
        "login",
        "register",
        "not-found",
    ],
)
def test_page_never_scrolls_sideways_and_axe_finds_nothing_serious(
    live_server, phone, artifacts, name, language
):
    from axe_playwright_python.sync_playwright import Axe

    base, app = live_server
    separator = "&" if "?" in page_paths(app)[name] else "?"
    phone.goto(f"{base}{page_paths(app)[name]}{separator}lang={language}")
    expected_lang = "zh-CN" if language == "zh_CN" else "en"
    assert phone.locator("html").get_attribute("lang") == expected_lang
    scroll_width = phone.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 390
    phone.screenshot(path=str(artifacts / f"{name}-{language}.png"), full_page=True)
    results = Axe().run(phone)
    serious = [
        violation["id"]
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
    assert serious == []
