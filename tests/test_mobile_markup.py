"""Mobile-first markup: a small self-hosted stylesheet, phone keyboards and autofill, visible
labels, inline errors tied to their fields, 44px touch targets and a printable confirmation.
"""

import re
from datetime import time, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from careapp import clock
from careapp.extensions import db
from careapp.models import (
    CareType,
    Institution,
    OrganisationType,
    Provider,
    Role,
    Slot,
    User,
)
from careapp.services import booking

STYLESHEET = Path(__file__).resolve().parent.parent / "careapp" / "static" / "style.css"
MAX_STYLESHEET_BYTES = 15 * 1024
PUBLIC_PAGES = ["/", "/courses", "/registry", "/login", "/register", "/password/forgot"]
#: Controls a person fills in (hidden inputs and buttons need no label).
UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}
TOUCH_TARGETS = [
    "input",
    "select",
    "textarea",
    "button",
    ".button",
    ".lang a",
    ".main-nav a",
    ".account-nav a",
    ".account-nav button",
    ".pages a",
    ".subnav a",
    ".card a",
    "footer.site a",
    "summary",
    "label.choice",
    ".reset",
]
HOURLY = {CareType.HOURLY: (6, 36, 30)}
#: Rules that style the inside of a server-drawn SVG chart, where px are user units that scale
#: with the chart's viewBox.
SVG_CHART = (".chart-", ".bar")


# --- reading pages and the stylesheet -------------------------------------------------------


class Markup(HTMLParser):
    """The form controls, labels and external references of one HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.controls: list[dict] = []
        self.tables: list[dict] = []
        self.label_targets: set[str] = set()
        self.references: list[str] = []
        self.scripts = 0
        self.ids: dict[str, dict] = {}
        self._open_labels = 0
        self._stack: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        attributes["<tag>"] = tag
        attributes["<in-label>"] = self._open_labels > 0
        attributes["<parent>"] = self._stack[-1] if self._stack else None
        attributes["<text>"] = ""
        if "id" in attributes:
            self.ids[attributes["id"]] = attributes
        if tag == "label":
            self._open_labels += 1
            if attributes.get("for"):
                self.label_targets.add(attributes["for"])
        if tag == "script":
            self.scripts += 1
        for name in ("src", "href"):
            if name in attributes and tag in ("script", "link", "img", "iframe", "source"):
                self.references.append(attributes[name])
        if tag in ("input", "select", "textarea"):
            self.controls.append(attributes)
        if tag == "table":
            self.tables.append(attributes)
        if tag not in ("input", "br", "meta", "link", "img", "hr", "source"):
            self._stack.append(attributes)

    def handle_endtag(self, tag):
        if tag == "label":
            self._open_labels -= 1
        while self._stack:
            if self._stack.pop()["<tag>"] == tag:
                break

    def handle_data(self, data):
        for element in self._stack:
            element["<text>"] += data

    def control(self, name: str) -> dict:
        """The one control called ``name``."""
        found = [c for c in self.controls if c.get("name") == name]
        assert len(found) == 1, f"{len(found)} controls named {name}"
        return found[0]


def unlabelled_fields(page: Markup) -> list[str]:
    """The names of the fields on ``page`` that have no label."""
    fields = [c for c in page.controls if c.get("type") not in UNLABELLED_TYPES]
    assert fields
    return [
        c.get("name", "")
        for c in fields
        if not c["<in-label>"] and c.get("id") not in page.label_targets
    ]


def markup(response, status: int = 200) -> Markup:
    """The parsed page of ``response``, which answered ``status``."""
    assert response.status_code == status, response.status_code
    parsed = Markup()
    parsed.feed(response.get_data(as_text=True))
    return parsed


def without_comments(css: str) -> str:
    """The stylesheet without its comments."""
    return re.sub(r"/\*.*?\*/", "", css, flags=re.S)


def css_rules(css: str) -> list[tuple[str, list[str], dict[str, str]]]:
    """Every rule as ``(media, selectors, declarations)``; media is "" outside @media."""
    css = without_comments(css)
    rules = []
    media_block = re.compile(r"@media([^{]+)\{((?:[^{}]*\{[^{}]*\})*)\s*\}")
    for match in media_block.finditer(css):
        rules += _plain_rules(match.group(2), match.group(1).strip())
    return rules + _plain_rules(media_block.sub("", css), "")


def _plain_rules(css: str, media: str) -> list[tuple[str, list[str], dict[str, str]]]:
    rules = []
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        declarations = {}
        for declaration in body.split(";"):
            if ":" in declaration:
                name, value = declaration.split(":", 1)
                declarations[name.strip()] = value.strip()
        names = [" ".join(s.split()) for s in selectors.split(",")]
        rules.append((media, names, declarations))
    return rules


def at_least_44px(value: str) -> bool:
    """Whether a CSS length is 44px or more (a rem or em counted as 16px, the default)."""
    number, unit = re.fullmatch(r"([\d.]+)(px|rem|em)", value).groups()
    return float(number) * (1 if unit == "px" else 16) >= 44


def declared(rules, selector: str, prop: str, media: str = "") -> list[str]:
    """The values of ``prop`` in the rules that list ``selector`` itself, in ``media``."""
    return [
        declarations[prop]
        for rule_media, selectors, declarations in rules
        if rule_media == media and selector in selectors and prop in declarations
    ]


@pytest.fixture
def stylesheet() -> str:
    """The text of the one stylesheet."""
    return STYLESHEET.read_text(encoding="utf-8")


@pytest.fixture
def english(client):
    """The test client, reading English."""
    client.set_cookie("lang", "en")
    return client


@pytest.fixture
def signed_in(client, auth, user):
    """Factory: the client signed in as a new account of ``role``."""

    def sign_in(role: Role):
        auth.login(user(role))
        return client

    return sign_in


@pytest.fixture
def provider_client(app, signed_in):
    """The client signed in as a guidance provider whose organisation is registered."""
    client = signed_in(Role.PROVIDER)
    with app.app_context():
        account = db.session.scalar(db.select(User).filter_by(role=Role.PROVIDER))
        db.session.add(
            Provider(
                user_id=account.id,
                name="晋江市妇幼保健院",
                organisation_type=OrganisationType.MCH_HOSPITAL,
                phone="0595-85661234",
            )
        )
        db.session.commit()
    return client


@pytest.fixture
def confirmed_booking(app, institution, user):
    """A parent's confirmed booking of hourly care tomorrow: ``(parent_id, booking_id)``."""
    parent_id = user(Role.PARENT)
    institution_id = institution(offers=HOURLY)
    with app.app_context():
        parent = db.session.get(User, parent_id)
        today = clock.local_now().date()
        care_class = db.session.get(Institution, institution_id).classes[0]
        slot = booking.add_slot(
            care_class, CareType.HOURLY, today + timedelta(days=1), time(9), time(11), 3, today
        )
        child = booking.add_child(
            parent,
            name="王小红",
            birth_date=today - timedelta(days=548),
            notes="",
            consent=True,
        )
        made = booking.book(
            parent,
            child.id,
            db.session.get(Slot, slot.id),
            booking.new_request_key(),
            clock.local_now(),
        )
        db.session.commit()
        return parent_id, made.id


# --- the stylesheet -----------------------------------------------------------------------


def test_stylesheet_is_at_most_15_kb(stylesheet):
    assert len(stylesheet.encode("utf-8")) <= MAX_STYLESHEET_BYTES


def test_stylesheet_loads_nothing_from_another_host(stylesheet):
    css = without_comments(stylesheet)
    assert "@import" not in css
    assert "@font-face" not in css
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", css)


def test_stylesheet_uses_system_fonts(stylesheet):
    body_font = declared(css_rules(stylesheet), "body", "font")
    assert body_font
    assert "system-ui" in body_font[0]
    assert body_font[0].rstrip().endswith("sans-serif")


def test_the_stylesheet_is_served_from_this_site(english):
    with english.get("/static/style.css") as response:
        assert response.status_code == 200
        assert response.mimetype == "text/css"


@pytest.mark.parametrize("target", TOUCH_TARGETS)
def test_touch_targets_are_at_least_44px_tall(stylesheet, target):
    heights = declared(css_rules(stylesheet), target, "min-height")
    assert heights
    assert all(at_least_44px(height) for height in heights), heights


def test_checkboxes_and_radios_are_big_and_sit_in_a_44px_label(stylesheet):
    rules = css_rules(stylesheet)
    for box in ('input[type="checkbox"]', 'input[type="radio"]'):
        assert declared(rules, box, "width") == ["1.4rem"]
        assert declared(rules, box, "height") == ["1.4rem"]
    assert declared(rules, "label.choice", "min-height") == ["44px"]


def test_no_rule_fixes_a_height_or_font_size_in_pixels(stylesheet):
    """Text zoomed to 200% must grow its boxes: px only for minimum heights and borders."""
    for media, selectors, declarations in css_rules(stylesheet):
        if all(selector.startswith(SVG_CHART) for selector in selectors):
            continue
        for prop in ("height", "max-height", "font-size", "line-height"):
            value = declarations.get(prop, "")
            assert not re.search(r"\d(px)\b", value), (media, selectors, prop, value)


def test_long_words_wrap_instead_of_widening_the_page(stylesheet):
    rules = css_rules(stylesheet)
    assert declared(rules, "body", "overflow-wrap") == ["break-word"]
    assert declared(rules, ".facts dd", "overflow-wrap") == ["anywhere"]


def test_print_styles_hide_navigation_forms_and_buttons(stylesheet):
    hidden = [
        selector
        for media, selectors, declarations in css_rules(stylesheet)
        if media == "print" and declarations.get("display", "").startswith("none")
        for selector in selectors
    ]
    for part in ("nav", "form", "button", ".button", "footer.site", ".no-print", ".print-hint"):
        assert part in hidden


# --- the base layout ----------------------------------------------------------------------


#: Pages with a script, all of it progressive enhancement: the search's "use my location".
SCRIPTED_PAGES = {"/": ["/static/near-me.js"]}


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_pages_need_no_script_and_no_asset_from_another_host(english, path):
    page = markup(english.get(path))

    scripts = SCRIPTED_PAGES.get(path, [])
    assert page.scripts == len(scripts)
    assert all(script in page.references for script in scripts)
    assert page.references
    for reference in page.references:
        assert reference.startswith("/"), reference
        assert not reference.startswith("//"), reference


def test_base_layout_has_the_language_switch_and_the_account_menu(english):
    page = english.get("/").get_data(as_text=True)

    assert 'class="lang"' in page
    assert 'hreflang="zh-CN"' in page
    assert re.search(r'<nav aria-label="Account" class="account-nav">.*?href="/login"', page, re.S)


def test_main_navigation_marks_the_current_page(english):
    page = english.get("/courses").get_data(as_text=True)

    assert '<a href="/courses" aria-current="page">' in page
    assert '<a href="/" aria-current="page">' not in page


def test_institution_tables_scroll_sideways_inside_a_labelled_region(
    english, institution, stylesheet
):
    page = markup(english.get(f"/institutions/{institution()}"))

    tables = page.tables
    assert len(tables) == 2
    for table in tables:
        region = table["<parent>"]
        assert region["class"] == "scroll-x"
        assert (region["role"], region["tabindex"]) == ("region", "0")
        assert page.ids[region["aria-labelledby"]]["<tag>"] == "h2"
    assert declared(css_rules(stylesheet), ".scroll-x", "overflow-x") == ["auto"]


# --- phone keyboards and autofill ---------------------------------------------------------


def test_register_form_brings_up_the_right_keyboards_and_autofill(english):
    page = markup(english.get("/register"))

    phone = page.control("phone")
    assert (phone["type"], phone["inputmode"], phone["autocomplete"]) == ("tel", "tel", "tel")
    email = page.control("email")
    assert (email["type"], email["autocomplete"]) == ("email", "email")
    assert page.control("password")["autocomplete"] == "new-password"
    assert page.control("confirm")["autocomplete"] == "new-password"
    assert page.control("display_name")["autocomplete"] == "name"


def test_login_form_autofills_the_current_password(english):
    page = markup(english.get("/login"))

    assert page.control("email")["type"] == "email"
    assert page.control("password")["type"] == "password"
    assert page.control("password")["autocomplete"] == "current-password"


def test_change_password_form_separates_current_and_new_password(signed_in):
    page = markup(signed_in(Role.PARENT).get("/account/password"))

    assert page.control("current_password")["autocomplete"] == "current-password"
    assert page.control("password")["autocomplete"] == "new-password"


def test_child_form_asks_the_birth_date_with_a_date_picker(signed_in):
    page = markup(signed_in(Role.PARENT).get("/parents/children/new"))

    assert page.control("birth_date")["type"] == "date"
    assert page.control("name")["autocomplete"] == "off"
    # Consent is one tap: the guardian's own, or family's acting with the guardian's consent.
    choices = [c for c in page.controls if c.get("name") == "consent"]
    assert [c["type"] for c in choices] == ["radio", "radio"]
    assert all(c["<in-label>"] for c in choices)
    assert page.ids["consent"]["<tag>"] == "fieldset"


def test_institution_form_uses_phone_number_and_date_keyboards(signed_in):
    page = markup(signed_in(Role.INSTITUTION).get("/institutions/new"))

    phone = page.control("phone")
    assert (phone["type"], phone["inputmode"], phone["autocomplete"]) == ("tel", "tel", "tel")
    for name in ("classes-0-capacity", "classes-0-carers", "offers-hourly-price_yuan"):
        assert page.control(name)["inputmode"] == "numeric"
    for name in ("offers-full_day-min_age_months", "staff_count", "cctv_retention_days"):
        assert page.control(name)["inputmode"] == "numeric"
    for name in ("registered_on", "lease_ends_on", "health_evaluation_on"):
        assert page.control(name)["type"] == "date"
    uscc = page.control("uscc")
    assert (uscc["autocapitalize"], uscc["spellcheck"]) == ("characters", "false")


def test_provider_organisation_phone_is_a_telephone_field(signed_in):
    page = markup(signed_in(Role.PROVIDER).get("/providers/organisation"))

    phone = page.control("phone")
    assert (phone["type"], phone["inputmode"], phone["autocomplete"]) == ("tel", "tel", "tel")


def test_course_form_numbers_and_times_use_phone_keyboards(provider_client):
    page = markup(provider_client.get("/providers/courses/new"))

    for name in ("seats", "min_age_months", "max_age_months", "duration_minutes", "weeks"):
        assert page.control(name)["inputmode"] == "numeric"
    assert page.control("first_date")["type"] == "date"
    assert page.control("start_time")["type"] == "time"
    assert page.control("link")["type"] == "url"


def test_search_asks_the_age_with_the_number_keyboard(english):
    page = markup(english.get("/"))

    age = page.control("age_months")
    assert (age["type"], age["inputmode"]) == ("number", "numeric")
    assert page.control("birth_date")["type"] == "date"


# --- labels and errors --------------------------------------------------------------------

LABELLED_PAGES = [
    (None, "/"),
    (None, "/courses"),
    (None, "/registry"),
    (None, "/login"),
    (None, "/register"),
    (None, "/password/forgot"),
    (Role.PARENT, "/account/password"),
    (Role.PARENT, "/parents/children/new"),
    (Role.INSTITUTION, "/institutions/new"),
    (Role.PROVIDER, "/providers/organisation"),
]


@pytest.mark.parametrize(("role", "path"), LABELLED_PAGES)
def test_every_field_has_a_visible_label(english, auth, user, role, path):
    if role is not None:
        auth.login(user(role))

    assert unlabelled_fields(markup(english.get(path))) == []


def test_every_course_form_field_has_a_visible_label(provider_client):
    assert unlabelled_fields(markup(provider_client.get("/providers/courses/new"))) == []


def test_invalid_field_shows_its_error_next_to_it_and_keeps_the_typed_value(english):
    response = english.post(
        "/register",
        data={
            "role": "parent",
            "display_name": "Li Na",
            "email": "li.na@example.com",
            "phone": "12345",
            "password": "correct-horse-42",
            "confirm": "correct-horse-42",
        },
    )
    page = markup(response)

    phone = page.control("phone")
    assert phone["value"] == "12345"
    assert phone["aria-invalid"] == "true"
    assert "phone-error" in phone["aria-describedby"].split()
    error = page.ids["phone-error"]
    assert error["class"] == "error"
    assert error["<text>"] == "Please enter an 11-digit mainland China mobile number."
    # Next to the field: in the same wrapper as the label and the input.
    assert error["<parent>"] is phone["<parent>"]
    assert page.control("email")["value"] == "li.na@example.com"
    assert "aria-invalid" not in page.control("email")


def test_inline_error_is_in_the_visitors_language(client):
    response = client.post("/register", data={"phone": "12345"})
    page = markup(response)

    assert page.ids["phone-error"]["<text>"] == "请输入 11 位中国大陆手机号码。"


def test_error_keeps_the_hint_in_the_description(english):
    page = markup(english.post("/register", data={"phone": "12345"}))

    described = page.control("phone")["aria-describedby"].split()
    assert described == ["phone-hint", "phone-error"]
    assert "phone-hint" in page.ids


def test_a_missing_consent_choice_is_marked_and_described(signed_in):
    client = signed_in(Role.PARENT)
    client.set_cookie("lang", "en")
    response = client.post("/parents/children/new", data={"name": "小红", "birth_date": "2024-5-1"})
    page = markup(response)

    assert page.ids["consent"]["aria-describedby"] == "consent-error"
    assert page.ids["consent-error"]["<text>"].startswith("Please give your consent")
    assert page.control("name")["value"] == "小红"


def test_search_error_sits_next_to_the_age_field(english):
    page = markup(english.get("/?age_months=abc"), status=400)

    age = page.control("age_months")
    assert age["aria-invalid"] == "true"
    assert age["aria-describedby"].split() == ["age_months-hint", "age_months-error"]
    assert page.ids["age_months-error"]["<parent>"] is age["<parent>"]
    assert age["value"] == "abc"


def test_institution_phone_error_is_tied_to_the_phone_field(signed_in):
    client = signed_in(Role.INSTITUTION)
    client.set_cookie("lang", "en")
    page = markup(client.post("/institutions/new", data={"name": "小橡树", "phone": "12"}))

    phone = page.control("phone")
    assert phone["value"] == "12"
    assert phone["aria-invalid"] == "true"
    assert phone["aria-describedby"] == "phone-error"
    assert page.ids["phone-error"]["<parent>"] is phone["<parent>"]


# --- the printable booking confirmation -----------------------------------------------------


def test_booking_confirmation_prints_its_essentials_without_javascript(
    client, auth, confirmed_booking
):
    parent_id, booking_id = confirmed_booking
    auth.login(parent_id)
    client.set_cookie("lang", "en")
    response = client.get(f"/parents/bookings/{booking_id}")
    text = response.get_data(as_text=True)
    page = markup(response)

    assert page.scripts == 0
    assert "use your browser's Print command" in text
    assert re.search(r'<p class="print-hint no-print">', text)
    confirmation = re.search(r'<article class="confirmation">(.*?)</article>', text, re.S).group(1)
    for essential in ("王小红", "晋江市小橡树托育中心", "0595-85661234", "09:00", "Hourly care"):
        assert essential in confirmation
    cancel = re.search(r'<p class="([^"]*)"><a class="button" href="[^"]*/cancel">', text)
    assert "no-print" in cancel.group(1).split()


def test_booking_confirmation_links_the_stylesheet_that_holds_the_print_rules(
    client, auth, confirmed_booking, stylesheet
):
    parent_id, booking_id = confirmed_booking
    auth.login(parent_id)
    page = markup(client.get(f"/parents/bookings/{booking_id}"))

    assert any(ref.startswith("/static/style.css") for ref in page.references)
    assert "@media print" in stylesheet


def test_future_birth_date_error_sits_with_the_birth_date(signed_in):
    client = signed_in(Role.PARENT)
    client.set_cookie("lang", "en")
    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    page = markup(
        client.post(
            "/parents/children/new",
            data={"name": "小红", "birth_date": tomorrow, "consent": "guardian"},
        )
    )

    birth_date = page.control("birth_date")
    assert birth_date["value"] == tomorrow
    assert birth_date["aria-invalid"] == "true"
    assert page.ids["birth_date-error"]["<text>"] == "The birth date cannot be in the future."
