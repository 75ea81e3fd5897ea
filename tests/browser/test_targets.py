"""Touch targets and the header, measured in Chromium on a phone and on a phone zoomed to 200 %.

The README promises targets of at least 44 × 44 px. A phone 390 px wide zoomed to 200 % lays
the page out 195 CSS px wide (and 422 tall), which is what the zoomed check uses. Every link
and button a person taps is measured, except links inside running text (WCAG 2.5.8's inline
exception). The header must leave most of the first screen to the page.
"""

import pytest

from careapp.demo.accounts import DEMO_ACCOUNTS
from careapp.models import Role
from tests.browser.conftest import PHONE, sign_in
from tests.browser.test_pages import records as records  # the ids the paths need

#: 390 × 844 zoomed to 200 %: the CSS viewport a zoomed phone lays the page out in.
ZOOMED = {"width": PHONE["width"] // 2, "height": PHONE["height"] // 2}
VIEWPORTS = {"phone": PHONE, "zoomed": ZOOMED}
#: The share of the first screen the header may take.
HEADER_SHARE = {"phone": 0.2, "zoomed": 0.25}
MIN_TARGET = 44

#: Key pages of the journeys: (name, path, signed in as a parent).
KEY_PAGES = [
    ("search", "/", False),
    ("search-results", "/?township=chendai&care_type=temporary", False),
    ("institution", "/institutions/{public_institution}", False),
    ("courses", "/courses", False),
    ("course", "/courses/{public_course}", False),
    ("parent-home", "/parents/", True),
    ("bookings", "/parents/bookings", True),
    ("booking", "/parents/bookings/{booking}", True),
    ("book", "/parents/book/{open_slot}", True),
]

#: Every visible thing a person taps that is smaller than the minimum, with its size.
SMALL_TARGETS = """min => {
  const inRunningText = el => el.tagName === "A" && el.closest("p, .hint, small, label, figcaption")
    && getComputedStyle(el).display === "inline";
  const targets = document.querySelectorAll("a[href], button, summary, select, .button, "
    + "input:not([type=hidden]):not([type=checkbox]):not([type=radio])");
  const small = [];
  for (const el of targets) {
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height || getComputedStyle(el).visibility === "hidden") continue;
    if (el.classList.contains("skip") || inRunningText(el)) continue;
    if (box.width < min - 0.5 || box.height < min - 0.5) {
      small.push(`${el.tagName.toLowerCase()} "${el.textContent.trim().slice(0, 20)}" `
        + `${Math.round(box.width)}×${Math.round(box.height)}`);
    }
  }
  return small;
}"""


@pytest.fixture(scope="module", params=list(VIEWPORTS))
def screens(request, browser, live_server):
    """Two pages at one viewport, signed out and signed in as the demo parent (Chinese)."""
    base, _ = live_server
    viewport = VIEWPORTS[request.param]
    contexts = [browser.new_context(viewport=viewport, locale="zh-CN") for _ in range(2)]
    anonymous, parent = (context.new_page() for context in contexts)
    sign_in(parent, base, DEMO_ACCOUNTS[Role.PARENT][0])
    yield request.param, {False: anonymous, True: parent}
    for context in contexts:
        context.close()


@pytest.mark.parametrize(("name", "path", "signed_in"), KEY_PAGES, ids=[p[0] for p in KEY_PAGES])
def test_every_target_is_at_least_44_px_each_way(
    live_server, screens, records, name, path, signed_in
):
    base, _ = live_server
    _viewport, pages = screens
    page = pages[signed_in]

    response = page.goto(base + path.format(**records))

    assert response.status == 200
    assert page.evaluate(SMALL_TARGETS, MIN_TARGET) == []


@pytest.mark.parametrize("signed_in", [False, True], ids=["signed-out", "signed-in"])
def test_header_leaves_the_first_screen_to_the_page(live_server, screens, signed_in):
    base, _ = live_server
    viewport, pages = screens
    page = pages[signed_in]
    page.goto(base + "/")

    height = page.locator("header.site").bounding_box()["height"]

    assert height <= VIEWPORTS[viewport]["height"] * HEADER_SHARE[viewport]


def test_zoomed_menu_opens_and_closes_without_script(browser, live_server):
    base, _ = live_server
    context = browser.new_context(viewport=ZOOMED, locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, base, DEMO_ACCOUNTS[Role.PARENT][0])
        page.goto(base + "/")
        account = page.locator("nav.account-nav")
        assert account.count() == 1
        assert not account.is_visible()

        page.get_by_role("link", name="菜单").click()

        assert account.is_visible()
        assert page.get_by_role("link", name="我的主页").is_visible()
        page.get_by_role("link", name="关闭菜单").click()
        assert not account.is_visible()
    finally:
        context.close()


def test_township_cards_show_on_a_phone_and_the_table_on_a_wide_screen(browser, live_server):
    base, _ = live_server
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(base + "/statistics")
        assert page.locator(".township-cards").is_visible()
        assert not page.locator(".township-table").is_visible()
        page.set_viewport_size({"width": 1024, "height": 768})
        assert not page.locator(".township-cards").is_visible()
        assert page.locator(".township-table").is_visible()
    finally:
        context.close()
