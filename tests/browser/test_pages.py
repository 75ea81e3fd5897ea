"""Every page type in a real Chromium at phone size: weight, no sideways scroll, accessibility.

Each page is checked in both languages, signed in as the demo account of its audience: axe
finds no serious or critical violation, nothing scrolls sideways at 390 px, ``<html lang>``
names the language, and a full-page screenshot lands in ``artifacts/<name>-<language>.png``.
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import NotFound

from careapp import clock
from careapp.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
from careapp.extensions import db
from careapp.models import (
    Course,
    Finding,
    FindingSource,
    Institution,
    Region,
    Role,
    Slot,
    SlotStatus,
    Status,
    TokenPurpose,
    Township,
    publicly_listed,
)
from careapp.models.base import utcnow
from careapp.models.filing import ChangeRequest
from careapp.models.staff import StaffMember
from careapp.services import booking, courses, family, filing, sessions
from careapp.services.accounts import create_user, find_user

from .conftest import PHONE, sign_in

PAGE_BUDGET_BYTES = 60 * 1024
LANGUAGES = ("zh_CN", "en")
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}


@dataclass(frozen=True)
class PageCase:
    """A page type: its path (``{record}`` placeholders), who sees it and how to reach it."""

    name: str
    path: str
    role: Role | None = None
    #: The HTTP status the page answers with.
    status: int = 200
    #: Submit the page's main form empty, so that it shows its inline errors.
    submit_empty: bool = False
    #: Check the page as printed (the confirmation a parent prints).
    media: str = "screen"
    #: Where the empty form's answer is, when its form posts elsewhere.
    lands_at: str | None = None


PAGES = [
    # public
    PageCase("search", "/"),
    PageCase("search-results", "/?township=chendai&care_type=full_day"),
    PageCase("search-empty", "/?q=nothing-matches-this"),
    PageCase("institution", "/institutions/{public_institution}"),
    PageCase("registry", "/registry"),
    PageCase("courses", "/courses"),
    PageCase("course", "/courses/{public_course}"),
    PageCase("login", "/login"),
    # The first form of the sign-in page asks for an SMS code; its errors show at its address.
    PageCase("login-errors", "/login", submit_empty=True, lands_at="/login/phone/code"),
    PageCase("register", "/register"),
    PageCase("register-errors", "/register", submit_empty=True),
    PageCase("forgot-password", "/password/forgot"),
    PageCase("forgot-password-errors", "/password/forgot", submit_empty=True),
    PageCase("reset-password", "/password/reset/{reset_token}"),
    PageCase("reset-password-errors", "/password/reset/{reset_token}", submit_empty=True),
    PageCase("reset-invalid", "/password/reset/not-a-token", status=400),
    PageCase("sign-in-link-invalid", "/login/link/not-a-token", status=400),
    PageCase("sign-up-link-invalid", "/register/confirm/not-a-token", status=400),
    PageCase("statistics", "/statistics"),
    PageCase("map", "/map"),
    PageCase("shortlist", "/shortlist"),
    PageCase("compare", "/compare?ids={compare_ids}&lat=24.78&lng=118.55"),
    PageCase("not-found", "/no-such-page", status=404),
    # parent
    PageCase("parent-home", "/parents/", Role.PARENT),
    PageCase("child-new", "/parents/children/new", Role.PARENT),
    PageCase("child-new-errors", "/parents/children/new", Role.PARENT, submit_empty=True),
    PageCase("child-delete", "/parents/children/{child}/delete", Role.PARENT),
    PageCase("book", "/parents/book/{open_slot}", Role.PARENT),
    PageCase("bookings", "/parents/bookings", Role.PARENT),
    PageCase("booking", "/parents/bookings/{booking}", Role.PARENT),
    PageCase("booking-print", "/parents/bookings/{booking}", Role.PARENT, media="print"),
    PageCase("booking-cancel", "/parents/bookings/{booking}/cancel", Role.PARENT),
    PageCase("calendar", "/parents/calendar", Role.PARENT),
    PageCase("family", "/parents/family", Role.PARENT),
    PageCase("family-errors", "/parents/family", Role.PARENT, submit_empty=True),
    PageCase("family-revoke", "/parents/family/{invitation}/revoke", Role.PARENT),
    PageCase("course-session", "/parents/courses/sessions/{course_session}", Role.PARENT),
    PageCase("course-series", "/parents/courses/{public_course}/series", Role.PARENT),
    PageCase("change-password", "/account/password", Role.PARENT),
    PageCase("change-password-errors", "/account/password", Role.PARENT, submit_empty=True),
    PageCase("logout", "/logout", Role.PARENT),
    PageCase("account-settings", "/account/settings", Role.PARENT),
    # institution
    PageCase("institution-home", "/institutions/mine", Role.INSTITUTION),
    PageCase("institution-new", "/institutions/new", Role.INSTITUTION),
    PageCase("institution-new-errors", "/institutions/new", Role.INSTITUTION, submit_empty=True),
    PageCase("institution-edit", "/institutions/{own_institution}/edit", Role.INSTITUTION),
    PageCase("institution-status", "/institutions/{returned_institution}/status", Role.INSTITUTION),
    PageCase("places", "/institutions/{own_institution}/places", Role.INSTITUTION),
    PageCase("roster", "/institutions/{own_institution}/roster", Role.INSTITUTION),
    PageCase("applications", "/institutions/{own_institution}/applications", Role.INSTITUTION),
    PageCase(
        "institution-booking",
        "/institutions/{own_institution}/bookings/{booking}",
        Role.INSTITUTION,
    ),
    # guidance provider
    PageCase("provider-home", "/providers/", Role.PROVIDER),
    PageCase("provider-organisation", "/providers/organisation", Role.PROVIDER),
    PageCase("provider-course-new", "/providers/courses/new", Role.PROVIDER),
    PageCase(
        "provider-course-new-errors", "/providers/courses/new", Role.PROVIDER, submit_empty=True
    ),
    PageCase("provider-course", "/providers/courses/{provider_course}", Role.PROVIDER),
    # regulator
    PageCase("regulator-home", "/regulator/", Role.REGULATOR),
    PageCase("regulator-review", "/regulator/institutions/{waiting_institution}", Role.REGULATOR),
    PageCase("regulator-institutions", "/regulator/institutions", Role.REGULATOR),
    PageCase("regulator-providers", "/regulator/providers", Role.REGULATOR),
    PageCase("regulator-dashboard", "/regulator/dashboard", Role.REGULATOR),
    PageCase("regulator-region", "/regulator/regions/{region}", Role.REGULATOR),
    PageCase("regulator-township", "/regulator/townships/{township}", Role.REGULATOR),
    PageCase("regulator-audit", "/regulator/audit", Role.REGULATOR),
    PageCase("regulator-change", "/regulator/changes/{change}", Role.REGULATOR),
    PageCase(
        "regulator-confirm-filing",
        "/regulator/institutions/{waiting_institution}/approve",
        Role.REGULATOR,
    ),
    PageCase("regulator-confirm-change", "/regulator/changes/{change}/approve", Role.REGULATOR),
    PageCase(
        "regulator-revoke",
        "/regulator/institutions/{public_institution}/revoke",
        Role.REGULATOR,
    ),
    PageCase(
        "regulator-revoke-errors",
        "/regulator/institutions/{public_institution}/revoke",
        Role.REGULATOR,
        submit_empty=True,
    ),
    # --- follow-up: the institution's 注销 and its answer to a finding of the bureau
    PageCase(
        "institution-deregister", "/institutions/{own_institution}/deregister", Role.INSTITUTION
    ),
    PageCase(
        "institution-deregister-errors",
        "/institutions/{own_institution}/deregister",
        Role.INSTITUTION,
        submit_empty=True,
    ),
    PageCase(
        "institution-finding",
        "/institutions/{own_institution}/findings/{follow_up_finding}",
        Role.INSTITUTION,
    ),
    # --- inspections ---
    PageCase("regulator-inspections", "/regulator/inspections", Role.REGULATOR),
    PageCase(
        "regulator-inspection-draw",
        "/regulator/inspections/draws/{inspection_draw}",
        Role.REGULATOR,
    ),
    PageCase(
        "regulator-inspection", "/regulator/inspections/{recorded_inspection}", Role.REGULATOR
    ),
    PageCase(
        "regulator-inspection-record",
        "/regulator/inspections/{planned_inspection}/record",
        Role.REGULATOR,
    ),
    PageCase(
        "regulator-inspection-record-errors",
        "/regulator/inspections/{planned_inspection}/record",
        Role.REGULATOR,
        submit_empty=True,
    ),
    PageCase(
        "institution-inspections", "/institutions/{own_institution}/inspections", Role.INSTITUTION
    ),
    # --- staff ---
    PageCase("staff-register", "/institutions/{own_institution}/staff", Role.INSTITUTION),
    PageCase(
        "staff-register-errors",
        "/institutions/{own_institution}/staff",
        Role.INSTITUTION,
        submit_empty=True,
    ),
    PageCase(
        "staff-edit", "/institutions/{own_institution}/staff/{staff_member}/edit", Role.INSTITUTION
    ),
    PageCase("documents", "/institutions/{own_institution}/documents", Role.INSTITUTION),
    PageCase(
        "documents-errors",
        "/institutions/{own_institution}/documents",
        Role.INSTITUTION,
        submit_empty=True,
    ),
    PageCase("regulator-bans", "/regulator/bans", Role.REGULATOR),
    PageCase("regulator-bans-errors", "/regulator/bans", Role.REGULATOR, submit_empty=True),
    # --- pages: reports of concerns, privacy, quality, indicators and region rules ---
    PageCase("report-place", "/report"),
    PageCase("report-place-errors", "/report", submit_empty=True),
    PageCase("report-institution", "/institutions/{public_institution}/report"),
    PageCase(
        "report-institution-errors", "/institutions/{public_institution}/report", submit_empty=True
    ),
    PageCase("report-status", "/report/status"),
    PageCase("report-status-errors", "/report/status", submit_empty=True),
    PageCase("privacy", "/privacy"),
    PageCase("my-data", "/parents/data", Role.PARENT),
    PageCase("delete-account", "/parents/account/delete", Role.PARENT),
    PageCase("delete-account-errors", "/parents/account/delete", Role.PARENT, submit_empty=True),
    PageCase("regulator-reports", "/regulator/reports", Role.REGULATOR),
    PageCase("regulator-report", "/regulator/reports/{institution_report}", Role.REGULATOR),
    PageCase("regulator-report-unfiled", "/regulator/reports/{unfiled_report}", Role.REGULATOR),
    PageCase(
        "regulator-quality", "/regulator/institutions/{public_institution}/quality", Role.REGULATOR
    ),
    PageCase(
        "regulator-quality-errors",
        "/regulator/institutions/{public_institution}/quality",
        Role.REGULATOR,
        submit_empty=True,
        lands_at="/regulator/institutions/{public_institution}/quality/assessments",
    ),
    PageCase("regulator-operators", "/regulator/regions/{region}/operators", Role.REGULATOR),
    PageCase(
        "regulator-operators-errors",
        "/regulator/regions/{region}/operators",
        Role.REGULATOR,
        submit_empty=True,
    ),
    PageCase("regulator-region-rules", "/regulator/regions/{region}/rules", Role.REGULATOR),
    PageCase(
        "regulator-region-rules-errors",
        "/regulator/regions/{region}/rules",
        Role.REGULATOR,
        submit_empty=True,
    ),
    PageCase(
        "regulator-region-errors", "/regulator/regions/{region}", Role.REGULATOR, submit_empty=True
    ),
    PageCase(
        "regulator-township-errors",
        "/regulator/townships/{township}",
        Role.REGULATOR,
        submit_empty=True,
    ),
]

#: GET routes that answer with something other than an HTML page, and so have no PageCase.
NOT_PAGES = {
    "static": "the stylesheet",
    "health.healthz": "a plain health check for the load balancer",
    "parents.export_child": "a JSON download of a child's data",
    "public.favicon": "the site's icon",
    "institutions.download_document": "a filing document, as an attachment",  # staff
    "regulator.review_document": "a filing document, as an attachment",  # staff
    # pages: reached by the post of a report, checked by its own test below
    "public.report_sent": "the tracking number, shown once after a report is sent",
}
NOT_PAGE_PREFIXES = ("api.",)  # the JSON API
DOWNLOAD_SUFFIXES = (".csv", ".ics", ".json")  # CSV exports, calendar feeds, JSON documents


# --- records the pages show ----------------------------------------------------------------


def _first(query) -> int | str:
    """The first id ``query`` selects; fails loudly when the demo data lacks one."""
    found = db.session.scalar(query.limit(1))
    assert found is not None, f"the demo data has no row for {query}"
    return found


def _own_institution(owner, status: Status) -> int:
    """The id of the institution account's institution in ``status``."""
    return next(i.id for i in filing.institutions_of(owner) if i.status == status)


def _booking_at(institution_id: int, parent) -> int:
    """A booking of the demo child at the institution: the first slot that takes the child
    and that the family may still cancel, whatever the hour (the cancel page shows it)."""
    child = booking.children_of(parent)[0]
    slots = db.session.scalars(
        sa.select(Slot)
        .where(Slot.institution_id == institution_id, Slot.status == SlotStatus.OPEN)
        .order_by(Slot.on_date, Slot.starts_at)
    )
    db.session.commit()
    for slot in slots:
        now = clock.local_now()
        try:
            made = booking.book(parent, child.id, slot, booking.new_request_key(), now)
        except booking.BookingError:
            db.session.rollback()
            continue
        if not booking.can_cancel(made, now):
            db.session.rollback()
            continue
        db.session.commit()
        return made.id
    raise AssertionError("no slot of the demo institution takes the demo child")


def _registered_session(provider_user, parent) -> tuple[int, int]:
    """The provider's first course, with the demo parent registered for one of its sessions."""
    course = courses.courses_of(courses.provider_of(provider_user))[0]
    session = course.sessions[0]
    if courses.registration_of(parent, session) is None:
        courses.register(parent, session, 1, booking.new_request_key(), clock.local_now())
    db.session.commit()
    return course.id, session.id


def _change_request(regulator) -> int:
    """A pending change of a filed institution's name, waiting for the regulator."""
    institution = db.session.scalar(
        publicly_listed().where(Institution.owner_id.is_(None)).order_by(Institution.id.desc())
    )
    change = filing.pending_change(institution)
    if change is None:
        change = ChangeRequest(
            institution=institution,
            proposed={"name": institution.name + "（新名称）"},
            submitted_by_id=regulator.id,
        )
        db.session.add(change)
        db.session.commit()
    return change.id


def _finding(institution_id: int, regulator) -> int:
    """A follow-up finding of the bureau on the demo institution, open for its answer."""
    finding = Finding(
        source=FindingSource.FOLLOW_UP,
        institution_id=institution_id,
        found_on=clock.today(),
        description="消防通道堆放杂物，未保持畅通",
        due_on=clock.today() + timedelta(days=10),
        recorded_by_id=regulator.id,
    )
    db.session.add(finding)
    db.session.commit()
    return finding.id


def _reset_token() -> str:
    """A fresh password-reset token of a throwaway parent account."""
    user = create_user(
        email=f"reset-{uuid.uuid4().hex[:8]}@example.com",
        password=DEMO_PASSWORD,
        role=Role.PARENT,
        display_name="Reset",
    )
    db.session.commit()
    token = sessions.issue(user, TokenPurpose.RESET_PASSWORD, timedelta(hours=1), utcnow())
    db.session.commit()
    return token


def _invitation(parent) -> int:
    """The demo parent's invitation of a family member's mobile number."""
    invitation = next(iter(family.members_of(parent)), None)
    if invitation is None:
        invitation = family.invite(parent, "139 0595 0001")
        db.session.commit()
    return invitation.id


def _open_slot(institution_id: int) -> int:
    """A slot of the institution with places left (the page a parent books from)."""
    slots = db.session.scalars(
        sa.select(Slot)
        .where(Slot.institution_id == institution_id, Slot.status == SlotStatus.OPEN)
        .order_by(Slot.on_date.desc())
    )
    return next(slot.id for slot in slots if slot.inventory.remaining > 0)


@pytest.fixture(scope="module")
def records(live_server) -> dict[str, object]:
    """The ids the page paths need, made or found in the demo data once."""
    _, app = live_server
    with app.app_context():
        parent, owner, provider_user, regulator = (
            find_user(DEMO_ACCOUNTS[role][0])
            for role in (Role.PARENT, Role.INSTITUTION, Role.PROVIDER, Role.REGULATOR)
        )
        own_institution = _own_institution(owner, Status.FILED)
        provider_course, course_session = _registered_session(provider_user, parent)
        found = {
            "public_institution": _first(
                publicly_listed().with_only_columns(Institution.id).order_by(Institution.id)
            ),
            "compare_ids": ",".join(
                str(i)
                for i in db.session.scalars(
                    publicly_listed().with_only_columns(Institution.id).limit(4)
                )
            ),
            "public_course": _first(sa.select(Course.id).order_by(Course.id)),
            "reset_token": _reset_token(),
            "child": booking.children_of(parent)[0].id,
            "booking": _booking_at(own_institution, parent),
            "course_session": course_session,
            "own_institution": own_institution,
            "returned_institution": _own_institution(owner, Status.RETURNED),
            "provider_course": provider_course,
            "waiting_institution": filing.review_queue()[0].id,
            "change": _change_request(regulator),
            "region": _first(sa.select(Region.code).order_by(Region.id)),
            "township": _first(sa.select(Township.code).order_by(Township.id)),
            "open_slot": _open_slot(own_institution),
            "invitation": _invitation(parent),
            "follow_up_finding": _finding(own_institution, regulator),
            **_inspection_records(),  # --- inspections ---
            "staff_member": _first(  # staff
                sa.select(StaffMember.id).where(StaffMember.institution_id == own_institution)
            ),
            **_report_records(),  # pages
        }
    return found


# --- inspections ---
def _inspection_records() -> dict[str, int]:
    """The demo inspections (added once), and a draw, a recorded and a planned inspection."""
    from careapp.demo.inspections import seed_inspections
    from careapp.models import Inspection, InspectionDraw, InspectionStatus

    seed_inspections(clock.today())
    db.session.commit()
    by_status = sa.select(Inspection.id).order_by(Inspection.id)
    return {
        "inspection_draw": _first(sa.select(InspectionDraw.id).order_by(InspectionDraw.id)),
        "recorded_inspection": _first(
            by_status.where(Inspection.status == InspectionStatus.RECORDED)
        ),
        "planned_inspection": _first(
            by_status.where(Inspection.status == InspectionStatus.PLANNED)
        ),
    }


# --- pages ---
def _report_records() -> dict[str, int]:
    """The demo grades and reports (added once): a report about a filed institution and one
    about unfiled care."""
    from careapp.demo.quality import seed_quality
    from careapp.models import Complaint

    seed_quality(clock.today())
    db.session.commit()
    by_id = sa.select(Complaint.id).order_by(Complaint.id)
    return {
        "institution_report": _first(by_id.where(Complaint.institution_id.is_not(None))),
        "unfiled_report": _first(by_id.where(Complaint.institution_id.is_(None))),
    }


# --- one signed-in phone per audience and language -----------------------------------------


@pytest.fixture(scope="module")
def phone_for(browser, live_server):
    """A factory of phone pages, one per (role, language), signed in once and reused."""
    base, _ = live_server
    pages, contexts = {}, []

    def open_page(role: Role | None, language: str):
        if (role, language) not in pages:
            context = browser.new_context(viewport=PHONE, locale=HTML_LANG[language])
            context.add_cookies([{"name": "lang", "value": language, "url": base}])
            contexts.append(context)
            page = context.new_page()
            if role is not None:
                sign_in(page, base, DEMO_ACCOUNTS[role][0])
            pages[role, language] = page
        return pages[role, language]

    yield open_page
    for context in contexts:
        context.close()


def submit_empty(page):
    """Clear the main form's fields, send it and return the response to the post."""
    form = page.locator("main form.stack").first
    form.evaluate(CLEAR_FIELDS)
    with page.expect_navigation() as navigation:
        form.locator("button[type=submit]").first.click()
    return navigation.value


CLEAR_FIELDS = """form => form.querySelectorAll("input:not([type=hidden]), textarea").forEach(
    input => { if (input.type === "checkbox" || input.type === "radio") input.checked = false;
               else input.value = ""; })"""


def show(page, base: str, case: PageCase, records: dict) -> None:
    """Open the page of ``case``, submitting its form empty when the case asks for errors."""
    path = case.path.format(**records)
    response = page.goto(base + path)
    assert response.status == case.status
    if case.submit_empty:
        assert submit_empty(page).status in (200, 400)
    lands_at = urlsplit((case.lands_at or case.path).format(**records)).path
    assert urlsplit(page.url).path == lands_at, "redirected away"


# --- the checks ----------------------------------------------------------------------------


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


@pytest.mark.parametrize("name", ["search", "institution", "report-place", "privacy"])
def test_page_weighs_at_most_60_kb_and_asks_no_other_host(live_server, phone, records, name):
    base, _ = live_server
    case = next(case for case in PAGES if case.name == name)
    total, hosts = transferred_bytes(phone, base + case.path.format(**records))
    assert total <= PAGE_BUDGET_BYTES
    assert hosts == {urlsplit(base).netloc}


def serious_violations(page) -> list[str]:
    """axe's serious and critical violations: rule, impact and the first offending nodes."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): "
        + " | ".join(node["html"][:120] for node in violation["nodes"][:3])
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("case", PAGES, ids=[case.name for case in PAGES])
def test_page_never_scrolls_sideways_and_axe_finds_nothing_serious(
    live_server, phone_for, records, artifacts, case, language
):
    base, _ = live_server
    page = phone_for(case.role, language)
    page.emulate_media(media=case.media)
    try:
        show(page, base, case, records)
        assert page.locator("html").get_attribute("lang") == HTML_LANG[language]
        if case.submit_empty:
            assert page.locator("main .error, main [aria-invalid=true]").count() > 0
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(artifacts / f"{case.name}-{language}.png"), full_page=True)
        assert serious_violations(page) == []
    finally:
        page.emulate_media(media="screen")


def test_every_html_page_of_the_app_has_a_page_case(live_server, records):
    _, app = live_server
    adapter = app.url_map.bind("localhost")
    covered = set()
    for case in PAGES:
        try:
            covered.add(adapter.match(case.path.format(**records).split("?")[0])[0])
        except NotFound:
            continue
    pages = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods
        and rule.endpoint not in NOT_PAGES
        and not rule.endpoint.startswith(NOT_PAGE_PREFIXES)
        and not rule.rule.endswith(DOWNLOAD_SUFFIXES)
    }
    assert pages - covered == set()
    assert len({case.name for case in PAGES}) == len(PAGES), "screenshot names must differ"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_sms_code_page_fits_a_phone_and_axe_finds_nothing_serious(
    live_server, browser, artifacts, language
):
    """The page that asks for the code is reached by a post, so it has no PageCase."""
    base, _ = live_server
    context = browser.new_context(viewport=PHONE, locale=HTML_LANG[language])
    context.add_cookies([{"name": "lang", "value": language, "url": base}])
    page = context.new_page()
    try:
        page.goto(base + "/login?next=/parents/")
        page.locator("input[name=phone]").fill("13912340000")
        with page.expect_navigation():
            page.locator("form:has(input[name=phone]) button[type=submit]").first.click()
        assert page.locator("input[name=code]").count() == 1
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(artifacts / f"sms-code-{language}.png"), full_page=True)
        assert serious_violations(page) == []
    finally:
        context.close()


# --- pages ---
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_sent_report_and_its_status_fit_a_phone_and_axe_finds_nothing_serious(
    live_server, browser, artifacts, language
):
    """The tracking number is shown once, after the report's post, so it has no PageCase;
    the status it leads to is found by a post too."""
    base, _ = live_server
    context = browser.new_context(viewport=PHONE, locale=HTML_LANG[language])
    context.add_cookies([{"name": "lang", "value": language, "url": base}])
    page = context.new_page()
    try:
        page.goto(base + "/report")
        page.locator("input[name=place_name]").fill("某小区家中看护点")
        page.locator("textarea[name=description]").fill("小区内有人在家中同时照看七八个幼儿。")
        with page.expect_navigation():
            page.locator("main form.stack button[type=submit]").click()
        assert urlsplit(page.url).path == "/report/sent"
        number = page.locator(".tracking-number code").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(artifacts / f"report-sent-{language}.png"), full_page=True)
        assert serious_violations(page) == []

        page.goto(base + "/report/status")
        page.locator("input[name=number]").fill(number)
        with page.expect_navigation():
            page.locator("main form.stack button[type=submit]").click()
        assert page.locator("#result dl.facts").count() == 1
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(artifacts / f"report-status-found-{language}.png"), full_page=True)
        assert serious_violations(page) == []
    finally:
        context.close()
