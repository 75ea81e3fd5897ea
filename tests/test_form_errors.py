"""The error banner above every form names each field in error and links to it.

A long form (the filing application is 7,700 px on a phone) that reloads with "please correct
the marked fields" and nothing marked, or with no way to reach the mark, cannot be finished.
Every error, including one about a group of fields ("add at least one class"), is listed in
the banner as "field: problem", and the link leads to an element of the page that shows it.
"""

import re
from html import unescape

import pytest

from careapp.models import ProviderStatus, Role
from tests.test_filing import BLANK_CLASS, class_fields, profile_form
from tests.test_institution_places import OFFERS, TODDLERS, schedule_data
from tests.test_providers import course_data

SUMMARY = re.compile(r'<div class="alert error-summary" role="alert">(.*?)</div>', re.DOTALL)
LINK = re.compile(r'<a href="#([^"]+)">(.*?)</a>', re.DOTALL)
FIELD_ERROR = re.compile(r'<p class="error" id="([^"]+)-error">')


def summary_links(response) -> list[tuple[str, str]]:
    """The banner's links as (target id, text), after checking each target is on the page."""
    body = unescape(response.get_data(as_text=True))
    found = SUMMARY.search(body)
    assert found, "no error summary on the page"
    links = LINK.findall(found[1])
    for target, _text in links:
        assert f'id="{target}"' in body, f"#{target} leads nowhere"
    return links


def assert_every_error_is_listed(response) -> list[tuple[str, str]]:
    """Each error shown beside a field has its line in the banner, linking to that field."""
    links = summary_links(response)
    linked = {re.sub(r"-(0|error)$", "", target) for target, _text in links}
    shown = set(FIELD_ERROR.findall(unescape(response.get_data(as_text=True))))
    assert shown <= linked, f"errors not in the banner: {shown - linked}"
    return links


@pytest.fixture
def township_id(township):
    return township("qingyang")


@pytest.fixture
def signed_in(client, auth, user):
    """Sign ``client`` in, reading English, as a new account of ``role``; returns its id."""

    def sign_in(role: Role) -> int:
        account = user(role)
        auth.login(account)
        client.set_cookie("lang", "en")
        return account

    return sign_in


def test_filing_draft_without_a_class_links_the_banner_to_the_classes(
    client, signed_in, township_id
):
    signed_in(Role.INSTITUTION)

    response = client.post(
        "/institutions/new", data=profile_form(township_id, classes=[BLANK_CLASS])
    )

    assert response.status_code == 200
    assert assert_every_error_is_listed(response) == [
        ("classes", "Classes: Add at least one class.")
    ]
    body = response.get_data(as_text=True)
    assert re.search(
        r'<fieldset class="group" id="classes"[^>]*aria-describedby="classes-error"', body
    )
    assert '<p class="error" id="classes-error">Add at least one class.</p>' in body


def test_filing_form_lists_every_error_in_the_order_of_the_form_with_its_part(
    client, signed_in, township_id
):
    signed_in(Role.INSTITUTION)
    data = profile_form(township_id, address="", **{"offers-full_day-price_yuan": ""})
    data |= class_fields([{"kind": "toddler", "name": "", "capacity": "40", "carers": "3"}])

    response = client.post("/institutions/new", data=data)

    assert [target for target, _ in assert_every_error_is_listed(response)] == [
        "address",
        "classes-0-capacity",
        "offers-full_day-price_yuan",
    ]
    texts = [unescape(text) for _, text in summary_links(response)]
    assert texts[0] == "Address: This field is required."
    assert texts[1].startswith("Classes, row 1 · Places: A class of this type may have at most")
    assert texts[2] == "Full-day care · Price in yuan: Enter the price."


def test_a_group_of_check_boxes_links_to_its_first_box(app, client, auth, user, institution):
    owner = user(Role.INSTITUTION)
    filed = institution(owner_id=owner, offers=OFFERS, classes=(TODDLERS,))
    auth.login(owner)
    client.set_cookie("lang", "en")

    response = client.post(
        f"/institutions/{filed}/schedules",
        data=schedule_data(app, filed, **{"schedule-weekdays": []}),
    )

    assert ("schedule-weekdays-0", "Days of the week: Choose at least one day of the week.") in (
        assert_every_error_is_listed(response)
    )


def test_course_form_errors_each_link_to_their_field(client, signed_in, app, township_id):
    from tests.test_providers import Provider, db

    account = signed_in(Role.PROVIDER)
    with app.app_context():
        db.session.add(
            Provider(
                user_id=account,
                name="晋江市妇幼保健院",
                organisation_type="mch_hospital",
                phone="0595-85661234",
                status=ProviderStatus.VERIFIED,
            )
        )
        db.session.commit()

    response = client.post(
        "/providers/courses/new",
        data=course_data(township_id, title="", address="", weeks="99"),
    )

    targets = [target for target, _ in assert_every_error_is_listed(response)]
    assert targets == ["title", "address", "weeks"]


def test_child_form_without_consent_links_to_the_box(client, signed_in):
    signed_in(Role.PARENT)

    response = client.post(
        "/parents/children/new", data={"name": "", "birth_date": "2025-13-01", "notes": ""}
    )

    targets = [target for target, _ in assert_every_error_is_listed(response)]
    assert targets == ["name", "birth_date", "consent-0"]


def test_search_errors_name_their_field_and_link_to_its_message(client):
    client.set_cookie("lang", "en")

    response = client.get("/?age_months=abc&care_type=nap&page=x")

    assert response.status_code == 400
    links = summary_links(response)
    assert ("care_type-error", "Care type: There is no such care type.") in links
    assert ("age_months-error", "Age in months: Please enter a whole number.") in links
    assert "Page number: " in unescape(response.get_data(as_text=True))


def test_course_search_errors_name_their_field_in_chinese(client):
    client.set_cookie("lang", "zh_CN")

    response = client.get("/courses?from=2026-02-30")

    links = summary_links(response)
    assert [target for target, _ in links] == ["from-error"]
    assert links[0][1].startswith("开始日期")
