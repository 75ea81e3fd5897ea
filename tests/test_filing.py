"""The filing workflow (登记 → 备案 → 变更 → 注销), driven through the real forms.

An institution applies and submits; the county health bureau returns, files or rejects it;
later the institution changes registered facts with approval, and the bureau revokes the filing
(撤销备案).
Only a filed institution is ever public.
"""

import itertools
import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from html import unescape
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from stdnum.cn import uscc as uscc_codec

from careapp import clock, working_days
from careapp.extensions import db
from careapp.models import (
    Authority,
    CareType,
    ChangeRequest,
    ChangeStatus,
    FilingDecision,
    FilingEvent,
    Institution,
    Nature,
    Region,
    Role,
    Status,
    Township,
    TownshipKind,
    User,
)
from careapp.services import filing
from careapp.validators import organisation_code_check

NAME = "晋江市向阳花托育中心"
RENAMED = "晋江市向日葵托育中心"
RETURN_REASON = "The lease contract is missing its second page."
REJECT_REASON = "The premises are above a petrol station."
DEREGISTER_REASON = "The institution closed for good."

FILING_NUMBER = re.compile(r"^JJ-TY-\d{4}-\d{4}$")

# --- building form data -----------------------------------------------------------------

_serials = itertools.count(1)


def make_uscc(authority_digit: str = "5") -> str:
    """A valid, unique credit code issued by the authority whose first character is given."""
    organisation = f"MA{next(_serials):06d}"
    body = f"{authority_digit}1350582{organisation}{organisation_code_check(organisation)}"
    return body + uscc_codec.calc_check_digit(body)


def in_years(start: date, years: int) -> date:
    """``start`` moved by whole years; 29 February becomes 28 February."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        return start.replace(year=start.year + years, day=28)


BLANK_CLASS = {"kind": "", "name": "", "capacity": "", "carers": ""}
TODDLER_CLASS = {"kind": "toddler", "name": "托小班", "capacity": "15", "carers": "3"}
OLDER_TODDLER_CLASS = {"kind": "older_toddler", "name": "托大班", "capacity": "20", "carers": "3"}
FULL_DAY = {
    "offered": "y",
    "opens_at": "08:00",
    "closes_at": "17:30",
    "price_yuan": "2800",
    "min_age_months": "12",
    "max_age_months": "36",
}
HOURLY = {
    "offered": "y",
    "opens_at": "08:00",
    "closes_at": "18:00",
    "price_yuan": "40",
    "min_age_months": "12",
    "max_age_months": "36",
}
NOT_OFFERED = {
    "opens_at": "",
    "closes_at": "",
    "price_yuan": "",
    "min_age_months": "",
    "max_age_months": "",
}
#: The form shows this many class rows; a browser sends every one of them.
CLASS_ROWS = 6


def class_fields(rows) -> dict:
    """The ``classes-N-*`` fields of the form, empty rows included."""
    rows = list(rows) + [BLANK_CLASS] * (CLASS_ROWS - len(rows))
    return {
        f"classes-{index}-{name}": value
        for index, row in enumerate(rows)
        for name, value in row.items()
    }


def offer_fields(offers: dict) -> dict:
    """The ``offers-<care type>-*`` fields; care types not in ``offers`` are left unticked."""
    return {
        f"offers-{care_type}-{name}": value
        for care_type in CareType.values()
        for name, value in offers.get(care_type, NOT_OFFERED).items()
    }


def profile_form(township_id: int, *, classes=None, offers=None, **changes) -> dict:
    """A complete, valid application as a browser posts it; ``None`` leaves a field out."""
    today = clock.today()
    data = {
        "name": NAME,
        "name_en": "",
        "nature": "inclusive",
        "authority": "civil_affairs",
        "uscc": make_uscc("5"),
        "registered_on": (today - timedelta(days=400)).isoformat(),
        "township_id": str(township_id),
        "address": "青阳街道世纪大道 88 号",
        "address_en": "",
        "phone": "0595-85661234",
        "public_phone": "0595-85661234",
        "coordinate_system": "wgs84",
        "latitude": "24.8105",
        "longitude": "118.579",
        "description": "两个班，提供全日托和计时托。",
        "description_en": "",
        "lease_ends_on": (in_years(today, 4)).isoformat(),
        "health_evaluation_on": (today - timedelta(days=30)).isoformat(),
        "fire_acceptance_on": (today - timedelta(days=60)).isoformat(),
        "serves_meals": "y",
        "food_licence_number": "JY23505820012345",
        "food_licence_expires_on": in_years(today, 2).isoformat(),
        "staff_count": "8",
        "certified_staff_count": "7",
        "staff_health_checked_on": (today - timedelta(days=90)).isoformat(),
        "cctv_covers_all_areas": "y",
        "cctv_retention_days": "90",
        "commitment_accepted": "y",
    }
    data |= class_fields(classes if classes is not None else (TODDLER_CLASS, OLDER_TODDLER_CLASS))
    data |= offer_fields(offers if offers is not None else {"full_day": FULL_DAY, "hourly": HOURLY})
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


#: The "Filing declarations" part of the form, not shown once an institution is filed.
DECLARATIONS_FIELDSET = tuple(name for name in filing.DECLARATION_FIELDS if name != "registered_on")


def filed_edit_form(data: dict, **changes) -> dict:
    """What the edit form of a filed institution posts: no filing declarations on it."""
    edited = {name: value for name, value in data.items() if name not in DECLARATIONS_FIELDSET}
    return edited | changes


# --- reading responses ------------------------------------------------------------------


def text(response) -> str:
    """The response body as text, HTML entities decoded."""
    return unescape(response.get_data(as_text=True))


def field_error(response, field_id: str) -> str | None:
    """The error message shown under the form field ``field_id``, if any."""
    found = re.search(
        rf'<p class="error" id="{re.escape(field_id)}-error">(.*?)</p>', text(response)
    )
    return found[1] if found else None


def input_value(response, field_id: str) -> str | None:
    """The value an ``<input>`` of the page is filled with."""
    found = re.search(rf'<input[^>]*\bid="{re.escape(field_id)}"[^>]*>', text(response))
    if found is None:
        return None
    value = re.search(r'\bvalue="([^"]*)"', found[0])
    return value[1] if value else None


def path_of(response) -> str:
    """The path a redirect points to."""
    return urlsplit(response.location).path


def flashed(client, category: str = "error") -> list[str]:
    """Messages waiting to be shown to ``client`` in ``category``."""
    with client.session_transaction() as session:
        return [str(message) for kind, message in session.get("_flashes", []) if kind == category]


def search_results(response) -> dict[int, str]:
    """The institutions of a search page: id → name shown."""
    found = re.findall(
        r'<h3><a href="/institutions/(\d+)(?:[?#][^"]*)?">(.*?)</a></h3>', text(response)
    )
    return {int(number): name for number, name in found}


def registry_cards(response) -> list[tuple[str, str, str]]:
    """The events of the /registry page as (event type, institution name, summary line)."""
    cards = re.findall(
        r'<strong class="event-(\w+)">.*?</strong></p>\s*<h3>(.*?)</h3>\s*<p>(.*?)</p>',
        text(response),
        flags=re.DOTALL,
    )
    return [
        (event_type, re.sub(r"<[^>]+>", "", name).strip(), summary.strip())
        for event_type, name, summary in cards
    ]


def public_presence(visitor, institution_id: int) -> dict:
    """Where an institution can be found by anybody: search, detail page, API list, API detail."""
    search = visitor.get("/")
    api_list = visitor.get("/api/v1/institutions", query_string={"per_page": 100})
    assert search.status_code == 200
    assert api_list.status_code == 200
    return {
        "search": institution_id in search_results(search),
        "detail": visitor.get(f"/institutions/{institution_id}").status_code,
        "api_list": institution_id in [item["id"] for item in api_list.json["items"]],
        "api_detail": visitor.get(f"/api/v1/institutions/{institution_id}").status_code,
    }


HIDDEN = {"search": False, "detail": 404, "api_list": False, "api_detail": 404}
LISTED = {"search": True, "detail": 200, "api_list": True, "api_detail": 200}


def api_events(visitor, institution_id: int) -> list[dict]:
    """The public disclosure events of one institution from the API."""
    response = visitor.get("/api/v1/registry/events", query_string={"per_page": 100})
    assert response.status_code == 200
    return [item for item in response.json["items"] if item["institution_id"] == institution_id]


# --- reading the database ---------------------------------------------------------------


def stored(app, institution_id: int, *names: str):
    """Attributes of the stored institution (one value, or a tuple for several names)."""
    with app.app_context():
        found = db.session.get(Institution, institution_id)
        values = tuple(getattr(found, name) for name in names)
    return values[0] if len(names) == 1 else values


def decisions(app, institution_id: int) -> list[tuple[str, int, str]]:
    """The recorded decisions as (action, actor id, reason), oldest first."""
    with app.app_context():
        rows = db.session.scalars(
            sa.select(FilingDecision)
            .where(FilingDecision.institution_id == institution_id)
            .order_by(FilingDecision.id)
        )
        return [(str(row.action), row.actor_id, row.reason) for row in rows]


def decision_times(app, institution_id: int) -> list[datetime]:
    """When each decision was recorded, oldest first, in UTC."""
    with app.app_context():
        times = db.session.scalars(
            sa.select(FilingDecision.created_at)
            .where(FilingDecision.institution_id == institution_id)
            .order_by(FilingDecision.id)
        )
        return [as_utc(moment) for moment in times]


def as_utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC time (SQLite hands back naive UTC times)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def change_requests(app, institution_id: int) -> list[tuple[str, dict, str]]:
    """The institution's change requests as (status, proposed facts, reason), oldest first."""
    with app.app_context():
        rows = db.session.scalars(
            sa.select(ChangeRequest)
            .where(ChangeRequest.institution_id == institution_id)
            .order_by(ChangeRequest.id)
        )
        return [(str(row.status), dict(row.proposed), row.reason) for row in rows]


def pending_change_id(app, institution_id: int) -> int:
    """The id of the institution's pending change request."""
    with app.app_context():
        return db.session.scalar(
            sa.select(ChangeRequest.id).where(
                ChangeRequest.institution_id == institution_id,
                ChangeRequest.status == ChangeStatus.PENDING,
            )
        )


# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture
def township_id(app, township):
    """Qingyang, in Jinjiang, whose filing numbers start with ``JJ``."""
    found = township("qingyang")
    with app.app_context():
        db.session.get(Township, found).region.filing_prefix = "JJ"
        db.session.commit()
    return found


@pytest.fixture
def owner(user):
    """An institution account."""
    return user(Role.INSTITUTION, display_name="向阳花托育")


@pytest.fixture
def regulator(user):
    """A county health bureau account."""
    return user(Role.REGULATOR, display_name="晋江市卫健局")


@pytest.fixture
def act_as(client, auth):
    """Switch ``client`` (reading English) to another account."""
    client.set_cookie("lang", "en")

    def switch(user_id: int) -> None:
        auth.logout()
        response = auth.login(user_id)
        assert response.status_code == 302

    return switch


@pytest.fixture
def visitor(app):
    """An anonymous client reading the public site in English."""
    anonymous = app.test_client()
    anonymous.set_cookie("lang", "en")
    return anonymous


def apply(client, data: dict) -> int:
    """Post the application form; returns the new institution's id."""
    response = client.post("/institutions/new", data=data)
    assert response.status_code == 302, field_errors(response)
    found = re.fullmatch(r"/institutions/(\d+)/status", path_of(response))
    assert found, response.location
    return int(found[1])


def field_errors(response) -> list[tuple[str, str]]:
    """Every field error on a page, for assertion messages."""
    return re.findall(r'<p class="error" id="([^"]+)-error">(.*?)</p>', text(response))


def submit(client, institution_id: int):
    """Press "Submit for filing"."""
    response = client.post(f"/institutions/{institution_id}/submit")
    assert response.status_code == 302
    assert path_of(response) == f"/institutions/{institution_id}/status"
    return response


def approve(client, institution_id: int):
    """Press "File this institution…" on the review page, then "Yes" on the confirmation."""
    confirmation = client.get(f"/regulator/institutions/{institution_id}/approve")
    assert confirmation.status_code == 200
    submitted = re.search(r'name="submitted" type="hidden" value="([^"]*)"', text(confirmation))
    response = client.post(
        f"/regulator/institutions/{institution_id}/approve", data={"submitted": submitted[1]}
    )
    assert response.status_code == 302
    assert path_of(response) == f"/regulator/institutions/{institution_id}"
    return response


@pytest.fixture
def file_via_forms(app, client, act_as, owner, regulator):
    """Factory: apply, submit and file an institution through the forms; returns its id.

    The client is left signed in as the institution account.
    """

    def make(data: dict) -> int:
        act_as(owner)
        institution_id = apply(client, data)
        submit(client, institution_id)
        act_as(regulator)
        approve(client, institution_id)
        act_as(owner)
        assert stored(app, institution_id, "status") == Status.FILED
        return institution_id

    return make


# --- the whole way: apply, return, resubmit, file ----------------------------------------


def test_application_is_returned_corrected_and_filed_and_public_only_once_filed(
    app, client, act_as, visitor, owner, regulator, township_id
):
    started = datetime.now(UTC)
    act_as(owner)
    assert client.get("/institutions/new").status_code == 200

    institution_id = apply(client, profile_form(township_id))

    assert stored(app, institution_id, "status", "owner_id") == (Status.DRAFT, owner)
    assert public_presence(visitor, institution_id) == HIDDEN

    submit(client, institution_id)

    assert stored(app, institution_id, "status") == Status.UNDER_REVIEW
    assert stored(app, institution_id, "submitted_at") is not None
    assert public_presence(visitor, institution_id) == HIDDEN

    act_as(regulator)
    refused = client.post(
        f"/regulator/institutions/{institution_id}/return", data={"return-reason": "  "}
    )

    assert refused.status_code == 400
    assert field_error(refused, "return-reason") == "Please give the reason."
    assert stored(app, institution_id, "status") == Status.UNDER_REVIEW

    returned = client.post(
        f"/regulator/institutions/{institution_id}/return",
        data={"return-reason": RETURN_REASON},
    )

    assert returned.status_code == 302
    assert path_of(returned) == f"/regulator/institutions/{institution_id}"
    assert stored(app, institution_id, "status") == Status.RETURNED
    assert public_presence(visitor, institution_id) == HIDDEN

    act_as(owner)
    status_page = client.get(f"/institutions/{institution_id}/status")
    assert status_page.status_code == 200
    assert f"Reason: {RETURN_REASON}" in text(status_page)
    assert client.get(f"/institutions/{institution_id}/edit").status_code == 200

    corrected = client.post(
        f"/institutions/{institution_id}/edit",
        data=profile_form(township_id, address="青阳街道世纪大道 90 号"),
    )

    assert corrected.status_code == 302
    assert path_of(corrected) == f"/institutions/{institution_id}/status"
    assert stored(app, institution_id, "status", "address") == (
        Status.RETURNED,
        "青阳街道世纪大道 90 号",
    )

    submit(client, institution_id)

    assert stored(app, institution_id, "status") == Status.UNDER_REVIEW
    assert public_presence(visitor, institution_id) == HIDDEN

    act_as(regulator)
    approve(client, institution_id)

    status, number, filed_on = stored(app, institution_id, "status", "filing_number", "filed_on")
    assert status == Status.FILED
    assert FILING_NUMBER.match(number)
    assert number.startswith(f"JJ-TY-{clock.today().year}-")
    assert filed_on == clock.today()
    assert public_presence(visitor, institution_id) == LISTED
    detail = visitor.get(f"/api/v1/institutions/{institution_id}").json
    assert (detail["name"], detail["filing_number"], detail["filed_on"]) == (
        NAME,
        number,
        clock.today().isoformat(),
    )
    assert number in text(visitor.get(f"/institutions/{institution_id}"))
    assert ("filed", NAME) in [
        (kind, name) for kind, name, _ in registry_cards(visitor.get("/registry"))
    ]
    assert [(e["type"], e["date"]) for e in api_events(visitor, institution_id)] == [
        ("filed", clock.today().isoformat()),
        ("registered", (clock.today() - timedelta(days=400)).isoformat()),
    ]
    assert decisions(app, institution_id) == [
        ("submitted", owner, ""),
        ("returned", regulator, RETURN_REASON),
        ("submitted", owner, ""),
        ("approved", regulator, ""),
    ]
    times = decision_times(app, institution_id)
    assert times == sorted(times)
    assert started - timedelta(seconds=1) <= times[0] <= times[-1] <= datetime.now(UTC)


def test_owner_sees_the_filing_number_and_timeline_on_the_status_page(
    app, client, file_via_forms, township_id
):
    institution_id = file_via_forms(profile_form(township_id))

    page = client.get(f"/institutions/{institution_id}/status")

    number = stored(app, institution_id, "filing_number")
    assert page.status_code == 200
    assert f"Filing number {number}, filed on {clock.today().isoformat()}" in text(page)
    assert "Your institution is filed and listed publicly." in text(page)


# --- reject ------------------------------------------------------------------------------


def test_rejected_application_needs_a_reason_and_is_never_public(
    app, client, act_as, visitor, owner, regulator, township_id
):
    act_as(owner)
    institution_id = apply(client, profile_form(township_id))
    submit(client, institution_id)
    act_as(regulator)

    refused = client.post(f"/regulator/institutions/{institution_id}/reject", data={})

    assert refused.status_code == 400
    assert field_error(refused, "reject-reason") == "Please give the reason."
    assert stored(app, institution_id, "status") == Status.UNDER_REVIEW

    rejected = client.post(
        f"/regulator/institutions/{institution_id}/reject", data={"reject-reason": REJECT_REASON}
    )

    assert rejected.status_code == 302
    assert path_of(rejected) == f"/regulator/institutions/{institution_id}"
    assert stored(app, institution_id, "status", "filing_number") == (Status.REJECTED, None)
    assert public_presence(visitor, institution_id) == HIDDEN
    assert api_events(visitor, institution_id) == []
    assert NAME not in text(visitor.get("/registry"))
    assert decisions(app, institution_id)[-1] == ("rejected", regulator, REJECT_REASON)

    act_as(owner)
    assert f"Reason: {REJECT_REASON}" in text(client.get(f"/institutions/{institution_id}/status"))
    submit(client, institution_id)
    assert stored(app, institution_id, "status") == Status.REJECTED
    assert len(flashed(client)) == 1
    edit = client.get(f"/institutions/{institution_id}/edit")
    assert edit.status_code == 302
    assert path_of(edit) == f"/institutions/{institution_id}/status"

    act_as(regulator)
    assert client.get(f"/regulator/institutions/{institution_id}/approve").status_code == 302
    client.post(f"/regulator/institutions/{institution_id}/approve", data={"submitted": "x"})
    assert stored(app, institution_id, "status") == Status.REJECTED
    assert public_presence(visitor, institution_id) == HIDDEN


# --- the decision page: one box per decision, and filing is confirmed -------------------


def decision_forms(response) -> list[str]:
    """The forms of the review page's decision section, in order."""
    section = re.search(
        r'<section aria-labelledby="decide-heading".*?</section>', text(response), re.S
    )
    return re.findall(r"<form .*?</form>", section[0], re.S)


def test_each_decision_has_its_own_fieldset_with_its_reason_between_legend_and_button(
    app, client, act_as, owner, regulator, township_id
):
    act_as(owner)
    institution_id = apply(client, profile_form(township_id))
    submit(client, institution_id)
    act_as(regulator)

    forms = decision_forms(client.get(f"/regulator/institutions/{institution_id}"))

    shapes = [
        (
            re.search(r"<legend>(.*?)</legend>", form)[1],
            re.findall(r'<textarea[^>]*id="([^"]+)"', form),
            re.findall(r'<button type="submit"[^>]*>(.*?)</button>', form),
            form.count("<fieldset>"),
        )
        for form in forms
    ]
    assert shapes == [
        ("File this institution", [], ["File this institution…"], 1),
        ("Return for correction", ["return-reason"], ["Return for correction"], 1),
        ("Reject", ["reject-reason"], ["Reject the application"], 1),
    ]
    assert 'method="get"' in forms[0]
    for form in forms[1:]:
        legend, box, button = (form.index(mark) for mark in ("<legend>", "<textarea", "<button"))
        assert legend < box < button


def test_filing_asks_for_confirmation_and_one_tap_publishes_nothing(
    app, client, act_as, visitor, owner, regulator, township_id
):
    act_as(owner)
    institution_id = apply(client, profile_form(township_id))
    submit(client, institution_id)
    act_as(regulator)

    asked = client.get(f"/regulator/institutions/{institution_id}/approve")
    one_tap = client.post(f"/regulator/institutions/{institution_id}/approve")

    assert asked.status_code == 200
    assert "lists it publicly at once" in text(asked)
    assert "Yes, file and publish it" in text(asked)
    assert one_tap.status_code == 302
    assert path_of(one_tap) == f"/regulator/institutions/{institution_id}/approve"
    assert stored(app, institution_id, "status") == Status.UNDER_REVIEW
    assert public_presence(visitor, institution_id) == HIDDEN

    approve(client, institution_id)
    assert stored(app, institution_id, "status") == Status.FILED


def test_confirmation_of_an_application_resubmitted_since_files_nothing(
    app, client, act_as, visitor, owner, regulator, township_id
):
    act_as(owner)
    institution_id = apply(client, profile_form(township_id))
    submit(client, institution_id)
    act_as(regulator)
    page = text(client.get(f"/regulator/institutions/{institution_id}/approve"))
    confirmed = re.search(r'name="submitted" type="hidden" value="([^"]*)"', page)[1]
    with app.app_context():
        found = db.session.get(Institution, institution_id)
        found.submitted_at = found.submitted_at + timedelta(seconds=1)  # returned and resubmitted
        db.session.commit()

    response = client.post(
        f"/regulator/institutions/{institution_id}/approve", data={"submitted": confirmed}
    )

    assert path_of(response) == f"/regulator/institutions/{institution_id}"
    assert "changed after you opened the confirmation" in flashed(client)[0]
    assert stored(app, institution_id, "status") == Status.UNDER_REVIEW
    assert "approved" not in [action for action, _actor, _reason in decisions(app, institution_id)]


@pytest.mark.parametrize("action", ["approve", "return", "reject"])
def test_a_decision_on_an_application_decided_meanwhile_changes_nothing(
    app, applicant, owner, regulator, action
):
    institution_id = applicant(Status.UNDER_REVIEW)

    with app.test_request_context("/?lang=en"):
        found = db.session.get(Institution, institution_id)  # read as "under review"
        actor = db.session.get(User, regulator)
        found.township, found.offers, found.classes  # noqa: B018  (loaded while current)
        # Keep what was read, as a request that read it a moment ago holds it.
        db.session.expunge_all()
        db.session.rollback()
        with db.engine.begin() as other:  # another regulator returns it meanwhile
            other.execute(
                sa.update(Institution)
                .where(Institution.id == institution_id)
                .values(status=Status.RETURNED)
            )
        found, actor = db.session.merge(found, load=False), db.session.merge(actor, load=False)
        with pytest.raises(filing.FilingError, match="decided already"):
            perform(action, found, actor, clock.today())
        db.session.rollback()

    assert stored(app, institution_id, "status", "filing_number") == (Status.RETURNED, None)
    assert decisions(app, institution_id) == []


def test_approving_a_change_asks_for_confirmation_first(
    app, client, file_via_forms, act_as, regulator, township_id
):
    data = profile_form(township_id)
    institution_id = file_via_forms(data)
    client.post(f"/institutions/{institution_id}/edit", data=filed_edit_form(data, name=RENAMED))
    change_id = pending_change_id(app, institution_id)
    act_as(regulator)

    one_tap = client.post(f"/regulator/changes/{change_id}/approve")
    asked = client.get(f"/regulator/changes/{change_id}/approve")

    assert path_of(one_tap) == f"/regulator/changes/{change_id}/approve"
    assert stored(app, institution_id, "name") == NAME
    assert "Yes, approve and publish it" in text(asked)


# --- revoke (撤销备案): the bureau's action; 注销 is the institution's (test_deregistration_kinds)


def test_revoked_institution_is_delisted_at_once_and_disclosed_with_the_notice(
    app, client, act_as, visitor, regulator, file_via_forms, township_id
):
    institution_id = file_via_forms(profile_form(township_id))
    assert public_presence(visitor, institution_id) == LISTED
    act_as(regulator)
    assert client.get(f"/regulator/institutions/{institution_id}/revoke").status_code == 200

    refused = client.post(
        f"/regulator/institutions/{institution_id}/revoke",
        data={"effective_on": clock.today().isoformat(), "reason": ""},
    )

    assert refused.status_code in (200, 400)
    assert field_error(refused, "reason") == "Please give the reason."
    assert stored(app, institution_id, "status") == Status.FILED

    response = client.post(
        f"/regulator/institutions/{institution_id}/revoke",
        data={"effective_on": clock.today().isoformat(), "reason": DEREGISTER_REASON},
    )

    assert response.status_code == 302
    assert path_of(response) == f"/regulator/institutions/{institution_id}"
    assert stored(app, institution_id, "status") == Status.DEREGISTERED
    assert public_presence(visitor, institution_id) == HIDDEN
    assert ("revoked", NAME, f"Qingyang Sub-district · {DEREGISTER_REASON}") in (
        registry_cards(visitor.get("/registry"))
    )
    assert [(e["type"], e["date"], e["summary"]) for e in api_events(visitor, institution_id)] == [
        ("revoked", clock.today().isoformat(), DEREGISTER_REASON),
        ("filed", clock.today().isoformat(), "Filed"),
        (
            "registered",
            (clock.today() - timedelta(days=400)).isoformat(),
            "Registered with civil affairs",
        ),
    ]
    assert decisions(app, institution_id)[-1] == ("revoked", regulator, DEREGISTER_REASON)
    assert client.get(f"/regulator/institutions/{institution_id}/revoke").status_code == 404


# --- every transition, allowed and refused (service level) --------------------------------

#: The lifecycle as the policies describe it: (from status, action) → the status it leads to.
ALLOWED = {
    (Status.DRAFT, "submit"): Status.UNDER_REVIEW,
    (Status.RETURNED, "submit"): Status.UNDER_REVIEW,
    (Status.UNDER_REVIEW, "approve"): Status.FILED,
    (Status.UNDER_REVIEW, "return"): Status.RETURNED,
    (Status.UNDER_REVIEW, "reject"): Status.REJECTED,
    (Status.FILED, "revoke"): Status.DEREGISTERED,
}
#: What each action is recorded as, and the reason it gives.
RECORDED = {
    "submit": ("submitted", ""),
    "approve": ("approved", ""),
    "return": ("returned", RETURN_REASON),
    "reject": ("rejected", REJECT_REASON),
    "revoke": ("revoked", DEREGISTER_REASON),
}


def perform(action: str, institution: Institution, actor: User, today: date) -> None:
    """Call the filing service for ``action``."""
    if action == "submit":
        filing.submit(institution, actor, today)
    elif action == "approve":
        filing.approve(institution, actor, today)
    elif action == "return":
        filing.return_application(institution, actor, RETURN_REASON)
    elif action == "reject":
        filing.reject(institution, actor, REJECT_REASON)
    else:
        filing.revoke(institution, actor, DEREGISTER_REASON, today)


def complete_declarations() -> dict:
    """Model values of an application that meets every filing requirement today."""
    today = clock.today()
    return {
        "latitude": Decimal("24.8105"),
        "longitude": Decimal("118.579"),
        "premises_owned": True,
        "health_evaluation_on": today - timedelta(days=30),
        "fire_acceptance_on": today - timedelta(days=30),
        "staff_count": 4,
        "certified_staff_count": 4,
        "cctv_covers_all_areas": True,
        "cctv_retention_days": 90,
        "commitment_accepted": True,
    }


@pytest.fixture
def applicant(institution, owner, township_id):
    """Factory: a complete application kept by ``owner`` in ``status``; returns its id."""

    def make(status: Status, name: str = NAME, **fields) -> int:
        values = complete_declarations() | fields
        if status == Status.UNDER_REVIEW:
            values.setdefault("submitted_at", datetime.now(UTC))
        return institution(name, status=status, owner_id=owner, **values)

    return make


def actor_for(action: str, owner: int, regulator: int) -> int:
    """The institution submits; the bureau decides everything else."""
    return owner if action == "submit" else regulator


REFUSED = [
    pytest.param(status, action, id=f"{action}-from-{status}")
    for action in RECORDED
    for status in Status
    if (status, action) not in ALLOWED
]


@pytest.mark.parametrize(("status", "action"), REFUSED)
def test_transition_from_the_wrong_state_is_refused_and_changes_nothing(
    app, applicant, owner, regulator, status, action
):
    institution_id = applicant(status)
    before = stored(app, institution_id, "status", "filing_number", "filed_on")

    with app.test_request_context("/?lang=en"):
        found = db.session.get(Institution, institution_id)
        actor = db.session.get(User, actor_for(action, owner, regulator))
        with pytest.raises(filing.FilingError):
            perform(action, found, actor, clock.today())
        db.session.commit()

    assert stored(app, institution_id, "status", "filing_number", "filed_on") == before
    assert decisions(app, institution_id) == []


@pytest.mark.parametrize(
    ("status", "action"),
    [pytest.param(status, action, id=f"{action}-from-{status}") for status, action in ALLOWED],
)
def test_transition_from_the_right_state_is_made_and_recorded_with_actor_reason_and_time(
    app, applicant, owner, regulator, status, action
):
    institution_id = applicant(status)
    actor_id = actor_for(action, owner, regulator)
    started = datetime.now(UTC)

    with app.test_request_context("/?lang=en"):
        found = db.session.get(Institution, institution_id)
        perform(action, found, db.session.get(User, actor_id), clock.today())
        db.session.commit()

    assert stored(app, institution_id, "status") == ALLOWED[(status, action)]
    assert decisions(app, institution_id) == [(RECORDED[action][0], actor_id, RECORDED[action][1])]
    (recorded_at,) = decision_times(app, institution_id)
    assert started - timedelta(seconds=1) <= recorded_at <= datetime.now(UTC)


@pytest.mark.parametrize(
    "action", [pytest.param(action, id=action) for action in ("return", "reject", "revoke")]
)
@pytest.mark.parametrize("reason", [pytest.param("", id="empty"), pytest.param("  ", id="blank")])
def test_decision_without_a_reason_is_refused(app, applicant, regulator, action, reason):
    status = Status.FILED if action == "revoke" else Status.UNDER_REVIEW
    institution_id = applicant(status)
    decide = {
        "return": lambda found, actor: filing.return_application(found, actor, reason),
        "reject": lambda found, actor: filing.reject(found, actor, reason),
        "revoke": lambda found, actor: filing.revoke(found, actor, reason, clock.today()),
    }[action]

    with app.test_request_context("/?lang=en"):
        with pytest.raises(filing.FilingError):
            decide(db.session.get(Institution, institution_id), db.session.get(User, regulator))
        db.session.rollback()

    assert stored(app, institution_id, "status") == status
    assert decisions(app, institution_id) == []


@pytest.mark.parametrize(
    "status", [s for s in Status if s not in (Status.DRAFT, Status.RETURNED)], ids=str
)
def test_application_cannot_be_edited_in_full_unless_draft_or_returned(app, applicant, status):
    institution_id = applicant(status)

    with app.test_request_context("/?lang=en"):
        found = db.session.get(Institution, institution_id)
        with pytest.raises(filing.FilingError):
            filing.update_application(found, filing.Profile({"name": RENAMED}, [], []))
        db.session.rollback()

    assert stored(app, institution_id, "name") == NAME


@pytest.mark.parametrize("status", [s for s in Status if s != Status.FILED], ids=str)
def test_only_a_filed_institution_can_ask_for_a_change(app, applicant, owner, status):
    institution_id = applicant(status)

    with app.test_request_context("/?lang=en"):
        found = db.session.get(Institution, institution_id)
        with pytest.raises(filing.FilingError):
            filing.update_filed_profile(
                found,
                db.session.get(User, owner),
                filing.Profile({"name": RENAMED}, [], []),
                clock.today(),
            )
        db.session.rollback()

    assert change_requests(app, institution_id) == []


@pytest.mark.parametrize("decide", ["approve", "reject"])
def test_decided_change_cannot_be_decided_again(app, applicant, owner, regulator, decide):
    institution_id = applicant(Status.FILED)
    with app.test_request_context("/?lang=en"):
        found = db.session.get(Institution, institution_id)
        change = ChangeRequest(institution=found, proposed={"name": RENAMED}, submitted_by_id=owner)
        db.session.add(change)
        filing.reject_change(change, db.session.get(User, regulator), REJECT_REASON)
        db.session.commit()

        decide_again = {
            "approve": lambda actor: filing.approve_change(change, actor, clock.today()),
            "reject": lambda actor: filing.reject_change(change, actor, "Again."),
        }[decide]
        actor = db.session.get(User, regulator)
        with pytest.raises(filing.FilingError):
            decide_again(actor)
        db.session.rollback()

    assert stored(app, institution_id, "name") == NAME
    assert change_requests(app, institution_id) == [("rejected", {"name": RENAMED}, REJECT_REASON)]


def test_pending_change_cannot_be_approved_once_the_institution_is_deregistered(
    app, applicant, owner, regulator
):
    institution_id = applicant(Status.FILED)
    with app.test_request_context("/?lang=en"):
        found = db.session.get(Institution, institution_id)
        change = ChangeRequest(institution=found, proposed={"name": RENAMED}, submitted_by_id=owner)
        db.session.add(change)
        filing.revoke(found, db.session.get(User, regulator), DEREGISTER_REASON, clock.today())
        db.session.commit()

        with pytest.raises(filing.FilingError):
            filing.approve_change(change, db.session.get(User, regulator), clock.today())
        db.session.rollback()

    assert stored(app, institution_id, "name", "status") == (NAME, Status.DEREGISTERED)
    with app.app_context():
        changed = db.session.scalars(
            sa.select(FilingEvent).where(
                FilingEvent.institution_id == institution_id, FilingEvent.event_type == "changed"
            )
        ).all()
    assert changed == []


# --- what submission requires -------------------------------------------------------------


def _lease_needed() -> str:
    return in_years(clock.today(), 3).isoformat()


MISSING_DECLARATIONS = [
    pytest.param(
        lambda today: {"lease_ends_on": (in_years(today, 3) - timedelta(days=1)).isoformat()},
        "The premises must be owned or leased until at least {lease}.",
        id="lease-one-day-short-of-3-years",
    ),
    pytest.param(
        lambda today: {"lease_ends_on": ""},
        "The premises must be owned or leased until at least {lease}.",
        id="neither-owned-nor-leased",
    ),
    pytest.param(
        lambda today: {"health_evaluation_on": ""},
        "Declare the date the health evaluation was passed.",
        id="no-health-evaluation-date",
    ),
    pytest.param(
        lambda today: {"fire_acceptance_on": ""},
        "Declare the date of the fire-safety acceptance.",
        id="no-fire-acceptance",
    ),
    pytest.param(
        lambda today: {"food_licence_number": ""},
        "Serving meals needs a food business licence that is still valid.",
        id="meals-without-food-licence",
    ),
    pytest.param(
        lambda today: {"food_licence_expires_on": (today - timedelta(days=1)).isoformat()},
        "Serving meals needs a food business licence that is still valid.",
        id="meals-with-expired-food-licence",
    ),
    pytest.param(
        lambda today: {"cctv_retention_days": "89"},
        "CCTV must cover every area children use and keep recordings 90 days.",
        id="cctv-kept-89-days",
    ),
    pytest.param(
        lambda today: {"cctv_covers_all_areas": None},
        "CCTV must cover every area children use and keep recordings 90 days.",
        id="cctv-not-in-every-area",
    ),
    pytest.param(
        lambda today: {"commitment_accepted": None},
        "Accept the filing commitment letter.",
        id="commitment-not-accepted",
    ),
    pytest.param(
        lambda today: {"staff_count": "0", "certified_staff_count": "0"},
        "Declare your staff and how many hold a childcare certificate.",
        id="no-staff-declared",
    ),
]


@pytest.mark.parametrize(("changes", "problem"), MISSING_DECLARATIONS)
def test_submission_is_refused_with_the_problem_when_a_declaration_is_missing(
    app, client, act_as, owner, township_id, changes, problem
):
    today = clock.today()
    act_as(owner)
    institution_id = apply(client, profile_form(township_id, **changes(today)))

    response = client.post(f"/institutions/{institution_id}/submit")

    expected = problem.format(lease=in_years(today, 3).isoformat())
    assert response.status_code == 302
    assert path_of(response) == f"/institutions/{institution_id}/status"
    assert flashed(client) == [expected]
    assert expected in text(client.get(f"/institutions/{institution_id}/status"))
    assert stored(app, institution_id, "status", "submitted_at") == (Status.DRAFT, None)
    assert decisions(app, institution_id) == []


def test_home_based_point_with_more_than_5_children_cannot_be_submitted(
    app, client, act_as, owner, township_id
):
    home_group = {"kind": "home_group", "name": "家庭托育", "capacity": "3", "carers": "1"}
    act_as(owner)
    institution_id = apply(
        client,
        profile_form(
            township_id,
            nature="home_based",
            classes=(home_group, home_group | {"name": "家庭托育二"}),
        ),
    )

    submit(client, institution_id)

    assert flashed(client) == ["A home-based care point takes at most 5 children."]
    assert stored(app, institution_id, "status") == Status.DRAFT


def test_submission_lists_every_problem_at_once(app, client, act_as, owner, township_id):
    act_as(owner)
    institution_id = apply(
        client,
        profile_form(
            township_id,
            lease_ends_on="",
            health_evaluation_on="",
            fire_acceptance_on="",
            commitment_accepted=None,
        ),
    )

    submit(client, institution_id)

    assert flashed(client) == [
        f"The premises must be owned or leased until at least {_lease_needed()}.",
        "Declare the date the health evaluation was passed.",
        "Declare the date of the fire-safety acceptance.",
        "Accept the filing commitment letter.",
    ]
    assert stored(app, institution_id, "status") == Status.DRAFT


def test_lease_of_exactly_3_years_or_owned_premises_are_enough(
    app, client, act_as, owner, township_id
):
    act_as(owner)
    leased = apply(client, profile_form(township_id, lease_ends_on=_lease_needed()))
    owned = apply(client, profile_form(township_id, premises_owned="y", lease_ends_on=""))

    submit(client, leased)
    submit(client, owned)

    assert stored(app, leased, "status") == Status.UNDER_REVIEW
    assert stored(app, owned, "status") == Status.UNDER_REVIEW


@pytest.mark.parametrize(
    ("today", "lease_ends_on", "complete"),
    [
        pytest.param(date(2028, 2, 29), date(2031, 2, 28), True, id="leap-day-lease-to-28-feb"),
        pytest.param(date(2028, 2, 29), date(2031, 2, 27), False, id="leap-day-lease-too-short"),
        pytest.param(date(2026, 3, 1), date(2029, 3, 1), True, id="exactly-3-years"),
        pytest.param(date(2026, 3, 1), date(2029, 2, 28), False, id="one-day-short"),
    ],
)
def test_lease_rule_counts_3_years_from_the_filing_date(
    app, applicant, today, lease_ends_on, complete
):
    institution_id = applicant(Status.DRAFT, premises_owned=False, lease_ends_on=lease_ends_on)

    with app.test_request_context("/?lang=en"):
        found = db.session.get(Institution, institution_id)
        problems = filing.submission_problems(found, today)

    assert any(problem.startswith("The premises") for problem in problems) is not complete


# --- the credit code (USCC) in the form ----------------------------------------------------


@pytest.mark.parametrize(
    ("authority", "digit"),
    [
        pytest.param("staffing_office", "1", id="staffing-office-1"),
        pytest.param("civil_affairs", "5", id="civil-affairs-5"),
        pytest.param("market_regulation", "9", id="market-regulation-9"),
        pytest.param("administrative_approval", "5", id="administrative-approval-5"),
        pytest.param("administrative_approval", "9", id="administrative-approval-9"),
    ],
)
def test_credit_code_of_the_chosen_authority_is_accepted(
    app, client, act_as, owner, township_id, authority, digit
):
    code = make_uscc(digit)
    with app.app_context():
        # A county with a 行政审批服务局 offers it (policy 004 item 10).
        region = db.session.get(Township, township_id).region
        region.registration_authorities += ",administrative_approval"
        db.session.commit()
    act_as(owner)

    institution_id = apply(client, profile_form(township_id, authority=authority, uscc=code))

    assert stored(app, institution_id, "uscc", "authority") == (code, Authority(authority))


def _bad_check_character(code: str) -> str:
    wrong = next(c for c in "0123456789ABCDEFGHJKLMNPQRTUWXY" if c != code[-1])
    return code[:-1] + wrong


def _bad_organisation_check(code: str) -> str:
    """``code`` with a wrong 17th character but a final check character that fits it."""
    wrong = next(c for c in "0123456789" if c != code[16])
    body = code[:16] + wrong
    return body + uscc_codec.calc_check_digit(body)


def _with(code: str, index: int, char: str) -> str:
    return code[:index] + char + code[index + 1 :]


WRONG_AUTHORITY = "This code does not belong to the registration authority you chose."
FINAL_CHECK = (
    "The last character, the check character of the whole code, does not match:"
    " please check every character."
)
ORGANISATION_CHECK = (
    "The 17th character, the check digit of the organisation code (characters 9 to 17),"
    " does not match: please check characters 9 to 17."
)
CHARACTERS = "A credit code holds only digits and capital letters other than I, O, S, V and Z."
FIRST_CHARACTER = (
    "The first character, the registration authority's code, must be a digit from 1 to 9."
)
FIRST_EIGHT = (
    "Characters 1 to 8 (registration authority, kind of organisation and area code) must be digits."
)


@pytest.mark.parametrize(
    ("authority", "code", "message"),
    [
        pytest.param(
            "civil_affairs", _bad_check_character(make_uscc("5")), FINAL_CHECK, id="check-char"
        ),
        pytest.param(
            "civil_affairs",
            _bad_organisation_check(make_uscc("5")),
            ORGANISATION_CHECK,
            id="organisation-check-digit",
        ),
        pytest.param(
            "civil_affairs",
            _with(make_uscc("5"), 11, "7" if make_uscc("5")[11] != "7" else "8"),
            ORGANISATION_CHECK,
            id="typo-in-organisation-code",
        ),
        pytest.param(
            "civil_affairs",
            make_uscc("5")[:-1],
            "A credit code has 18 characters; this one has 17.",
            id="17-characters",
        ),
        pytest.param(
            "civil_affairs",
            make_uscc("5") + "1",
            "A credit code has 18 characters; this one has 19.",
            id="19-characters",
        ),
        pytest.param("civil_affairs", _with(make_uscc("5"), 12, "I"), CHARACTERS, id="letter-I"),
        pytest.param("civil_affairs", _with(make_uscc("5"), 0, "0"), FIRST_CHARACTER, id="first-0"),
        pytest.param("civil_affairs", _with(make_uscc("5"), 3, "A"), FIRST_EIGHT, id="area-letter"),
        pytest.param("civil_affairs", make_uscc("9"), WRONG_AUTHORITY, id="9-with-civil-affairs"),
        pytest.param(
            "market_regulation", make_uscc("5"), WRONG_AUTHORITY, id="5-with-market-regulation"
        ),
        pytest.param("staffing_office", make_uscc("9"), WRONG_AUTHORITY, id="9-with-staffing"),
        pytest.param("civil_affairs", make_uscc("1"), WRONG_AUTHORITY, id="1-with-civil-affairs"),
    ],
)
def test_bad_credit_code_is_refused_on_its_field_and_what_was_typed_is_kept(
    app, client, act_as, owner, township_id, authority, code, message
):
    act_as(owner)

    response = client.post(
        "/institutions/new",
        data=profile_form(township_id, authority=authority, uscc=code, address="罗山街道 7 号"),
    )

    assert response.status_code == 200
    assert field_error(response, "uscc") == message
    assert input_value(response, "uscc") == code
    assert f'<a href="#uscc">Unified social credit code: {message}</a>' in text(response)
    assert input_value(response, "name") == NAME
    assert input_value(response, "address") == "罗山街道 7 号"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Institution.id))) == 0


# --- class caps and carer ratios in the form ----------------------------------------------


@pytest.mark.parametrize(
    ("kind", "capacity", "carers", "message"),
    [
        pytest.param(
            "toddler",
            "16",
            "4",
            "A class of this type may have at most 15 children.",
            id="toddler-16",
        ),
        pytest.param(
            "toddler",
            "11",
            "2",
            "With 2 carers this class may have at most 10 children"
            " (one carer for every 5 children).",
            id="toddler-11-with-2-carers",
        ),
        pytest.param(
            "infant",
            "11",
            "4",
            "A class of this type may have at most 10 children.",
            id="infant-11",
        ),
        pytest.param(
            "infant",
            "7",
            "2",
            "With 2 carers this class may have at most 6 children"
            " (one carer for every 3 children).",
            id="infant-7-with-2-carers",
        ),
        pytest.param(
            "older_toddler",
            "21",
            "3",
            "A class of this type may have at most 20 children.",
            id="older-toddler-21",
        ),
        pytest.param(
            "mixed", "19", "4", "A class of this type may have at most 18 children.", id="mixed-19"
        ),
        pytest.param(
            "home_group",
            "6",
            "2",
            "A class of this type may have at most 5 children.",
            id="home-group-6",
        ),
    ],
)
def test_class_over_its_cap_or_carer_ratio_is_refused_in_the_form(
    app, client, act_as, owner, township_id, kind, capacity, carers, message
):
    row = {"kind": kind, "name": "一班", "capacity": capacity, "carers": carers}
    act_as(owner)

    response = client.post("/institutions/new", data=profile_form(township_id, classes=(row,)))

    assert response.status_code == 200
    assert field_error(response, "classes-0-capacity") == message
    assert input_value(response, "classes-0-capacity") == capacity
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Institution.id))) == 0


# --- changes (变更) ------------------------------------------------------------------------


def test_name_change_waits_for_approval_then_is_public_and_disclosed(
    app, client, act_as, visitor, owner, regulator, file_via_forms, township_id
):
    data = profile_form(township_id)
    institution_id = file_via_forms(data)

    response = client.post(
        f"/institutions/{institution_id}/edit", data=filed_edit_form(data, name=RENAMED)
    )

    assert response.status_code == 302
    assert path_of(response) == f"/institutions/{institution_id}/status"
    assert change_requests(app, institution_id) == [("pending", {"name": RENAMED}, "")]
    assert stored(app, institution_id, "name", "status") == (NAME, Status.FILED)
    assert search_results(visitor.get("/"))[institution_id] == NAME
    assert f"<h1>{NAME}</h1>" in text(visitor.get(f"/institutions/{institution_id}"))
    assert visitor.get(f"/api/v1/institutions/{institution_id}").json["name"] == NAME
    assert RENAMED not in text(visitor.get(f"/institutions/{institution_id}"))
    assert decisions(app, institution_id)[-1] == ("change_submitted", owner, "")

    act_as(regulator)
    change_id = pending_change_id(app, institution_id)
    assert f'href="/regulator/changes/{change_id}"' in text(client.get("/regulator/"))
    page = client.get(f"/regulator/changes/{change_id}")
    assert page.status_code == 200
    assert NAME in text(page)
    assert RENAMED in text(page)

    assert client.get(f"/regulator/changes/{change_id}/approve").status_code == 200
    approved = client.post(f"/regulator/changes/{change_id}/approve", data={"submitted": "change"})

    assert approved.status_code == 302
    assert path_of(approved) == f"/regulator/institutions/{institution_id}"
    assert stored(app, institution_id, "name") == RENAMED
    assert change_requests(app, institution_id) == [("approved", {"name": RENAMED}, "")]
    assert search_results(visitor.get("/"))[institution_id] == RENAMED
    assert f"<h1>{RENAMED}</h1>" in text(visitor.get(f"/institutions/{institution_id}"))
    assert visitor.get(f"/api/v1/institutions/{institution_id}").json["name"] == RENAMED
    assert ("changed", RENAMED) in [
        (kind, name) for kind, name, _ in registry_cards(visitor.get("/registry"))
    ]
    assert [(e["type"], e["date"], e["summary"]) for e in api_events(visitor, institution_id)][
        0
    ] == ("changed", clock.today().isoformat(), "Changed: name")
    assert decisions(app, institution_id)[-1] == ("change_approved", regulator, "")


def test_rejected_capacity_change_keeps_the_public_classes(
    app, client, act_as, visitor, owner, regulator, file_via_forms, township_id
):
    data = profile_form(township_id)
    institution_id = file_via_forms(data)
    smaller = TODDLER_CLASS | {"capacity": "12"}

    response = client.post(
        f"/institutions/{institution_id}/edit",
        data=filed_edit_form(data) | class_fields((smaller, OLDER_TODDLER_CLASS)),
    )

    assert response.status_code == 302
    ((status, proposed, _),) = change_requests(app, institution_id)
    assert status == "pending"
    assert [row["capacity"] for row in proposed["classes"]] == [12, 20]
    public_classes = visitor.get(f"/api/v1/institutions/{institution_id}").json["classes"]
    assert [c["capacity"] for c in public_classes] == [15, 20]

    act_as(regulator)
    change_id = pending_change_id(app, institution_id)
    unexplained = client.post(f"/regulator/changes/{change_id}/reject", data={"reject-reason": ""})
    assert unexplained.status_code == 302
    assert flashed(client) == ["Please give the reason."]
    assert change_requests(app, institution_id)[0][0] == "pending"

    rejected = client.post(
        f"/regulator/changes/{change_id}/reject", data={"reject-reason": REJECT_REASON}
    )

    assert rejected.status_code == 302
    assert change_requests(app, institution_id)[0][0::2] == ("rejected", REJECT_REASON)
    public = visitor.get(f"/api/v1/institutions/{institution_id}").json
    assert [c["capacity"] for c in public["classes"]] == [15, 20]
    assert public["capacity"] == 35
    assert [e["type"] for e in api_events(visitor, institution_id)] == ["filed", "registered"]
    assert decisions(app, institution_id)[-1] == ("change_rejected", regulator, REJECT_REASON)


@pytest.mark.parametrize(
    ("changes", "field", "expected"),
    [
        pytest.param({"public_phone": "0595-85667788"}, "phone", "0595-85667788", id="phone"),
        pytest.param(
            {"offers-full_day-price_yuan": "3100"},
            "offers",
            3100,
            id="full-day-price",
        ),
        pytest.param(
            {"description": "新增户外活动场地。"},
            "description",
            "新增户外活动场地。",
            id="description",
        ),
    ],
)
def test_contact_details_and_prices_change_at_once_without_a_change_request(
    app, client, visitor, file_via_forms, township_id, changes, field, expected
):
    data = profile_form(township_id)
    institution_id = file_via_forms(data)

    response = client.post(
        f"/institutions/{institution_id}/edit", data=filed_edit_form(data, **changes)
    )

    assert response.status_code == 302
    assert flashed(client, "success") == ["Your changes are public now."]
    public = visitor.get(f"/api/v1/institutions/{institution_id}").json
    if field == "offers":
        assert [o["price_yuan"] for o in public["offers"] if o["care_type"] == "full_day"] == [
            expected
        ]
    else:
        assert public[field] == expected
    assert change_requests(app, institution_id) == []
    assert [e["type"] for e in api_events(visitor, institution_id)] == ["filed", "registered"]
    assert stored(app, institution_id, "status") == Status.FILED


def test_second_change_while_one_is_pending_is_refused_with_a_message(
    app, client, file_via_forms, township_id
):
    data = profile_form(township_id)
    institution_id = file_via_forms(data)
    client.post(f"/institutions/{institution_id}/edit", data=filed_edit_form(data, name=RENAMED))

    response = client.post(
        f"/institutions/{institution_id}/edit",
        data=filed_edit_form(data, address="青阳街道世纪大道 100 号"),
    )

    assert response.status_code == 200
    assert "A change is already waiting for approval. Please wait for the decision." in text(
        response
    )
    assert change_requests(app, institution_id) == [("pending", {"name": RENAMED}, "")]
    assert stored(app, institution_id, "name", "address") == (NAME, data["address"])


# --- the review queue and its 5-working-day limit -----------------------------------------


def queue_rows(response) -> dict[str, tuple[bool, str]]:
    """The review queue: institution name → (marked overdue, text of the row)."""
    section = text(response).split('id="changes-heading"')[0]
    rows = re.findall(r"<tr( class=\"overdue\")?>(.*?)</tr>", section, flags=re.DOTALL)
    result = {}
    for overdue, row in rows:
        name = re.search(r"<a [^>]*>(.*?)</a>", row)
        if name:
            result[name[1]] = (bool(overdue), re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)))
    return result


def test_review_queue_shows_working_days_waited_and_marks_applications_over_the_limit(
    app, client, act_as, applicant, regulator
):
    today = clock.today()
    at_ten = time(10, tzinfo=UTC)
    applicant(Status.UNDER_REVIEW, "今天提交托育园", submitted_at=datetime.combine(today, at_ten))
    applicant(
        Status.UNDER_REVIEW,
        "一周前提交托育园",
        submitted_at=datetime.combine(today - timedelta(days=7), at_ten),
    )
    applicant(
        Status.UNDER_REVIEW,
        "两周前提交托育园",
        submitted_at=datetime.combine(today - timedelta(days=14), at_ten),
    )
    applicant(Status.DRAFT, "草稿托育园")
    act_as(regulator)

    response = client.get("/regulator/")

    assert response.status_code == 200
    rows = queue_rows(response)
    assert set(rows) == {"今天提交托育园", "一周前提交托育园", "两周前提交托育园"}
    assert rows["今天提交托育园"][0] is False
    assert "0 working days" in rows["今天提交托育园"][1]
    assert rows["一周前提交托育园"][0] is False
    assert "5 working days" in rows["一周前提交托育园"][1]
    assert "Over the limit" not in rows["一周前提交托育园"][1]
    assert rows["两周前提交托育园"][0] is True
    assert "10 working days" in rows["两周前提交托育园"][1]
    assert "Over the limit" in rows["两周前提交托育园"][1]
    assert list(rows) == ["两周前提交托育园", "一周前提交托育园", "今天提交托育园"]


def test_review_page_of_an_overdue_application_says_so(app, client, act_as, applicant, regulator):
    submitted = datetime.combine(clock.today() - timedelta(days=14), time(10, tzinfo=UTC))
    institution_id = applicant(Status.UNDER_REVIEW, submitted_at=submitted)
    act_as(regulator)

    page = text(client.get(f"/regulator/institutions/{institution_id}"))

    assert "Waiting 10 of 5 working days." in page
    assert "Over the limit" in page


MON, TUE, FRI, SAT, SUN = (
    date(2026, 11, 16),
    date(2026, 11, 17),
    date(2026, 11, 20),
    date(2026, 11, 21),
    date(2026, 11, 22),
)


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        pytest.param(MON, MON, 0, id="same-day"),
        pytest.param(MON, TUE, 1, id="monday-to-tuesday"),
        pytest.param(MON, FRI, 4, id="monday-to-friday"),
        pytest.param(FRI, SAT, 0, id="friday-to-saturday"),
        pytest.param(FRI, SUN, 0, id="friday-to-sunday"),
        pytest.param(FRI, MON + timedelta(days=7), 1, id="friday-to-monday"),
        pytest.param(SAT, SUN, 0, id="saturday-to-sunday"),
        pytest.param(SAT, MON + timedelta(days=7), 1, id="saturday-to-monday"),
        pytest.param(MON, MON + timedelta(days=7), 5, id="one-week"),
        pytest.param(MON, TUE + timedelta(days=7), 6, id="one-week-and-a-day"),
        pytest.param(MON, MON + timedelta(days=14), 10, id="two-weeks"),
        pytest.param(TUE, MON, 0, id="end-before-start"),
    ],
)
def test_working_days_between_skips_weekends(start, end, days):
    assert working_days.working_days_between(start, end) == days


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        # National Day 2026: 1–7 October off, Saturday 10 October a make-up working day.
        pytest.param(date(2026, 9, 30), date(2026, 10, 8), 1, id="national-day-week"),
        pytest.param(date(2026, 10, 8), date(2026, 10, 12), 3, id="make-up-saturday-counts"),
        # Spring Festival 2026: Saturday 14 February worked, 15–23 February off, Saturday
        # 28 February worked.
        pytest.param(date(2026, 2, 13), date(2026, 2, 24), 2, id="spring-festival"),
        pytest.param(date(2026, 2, 27), date(2026, 3, 2), 2, id="make-up-after-festival"),
    ],
)
def test_working_days_follow_chinas_holidays_and_make_up_days(start, end, days):
    assert working_days.working_days_between(start, end) == days


@pytest.mark.parametrize(
    ("start", "days", "deadline"),
    [
        pytest.param(date(2026, 11, 27), 1, date(2026, 11, 30), id="friday-plus-one"),
        pytest.param(date(2026, 9, 30), 1, date(2026, 10, 8), id="over-national-day"),
        pytest.param(date(2026, 10, 8), 2, date(2026, 10, 10), id="make-up-saturday"),
        pytest.param(date(2026, 11, 30), 0, date(2026, 11, 30), id="none"),
    ],
)
def test_a_deadline_in_working_days_lands_on_the_last_of_them(start, days, deadline):
    assert working_days.add_working_days(start, days) == deadline
    assert working_days.working_days_between(start, deadline) == days


@pytest.mark.parametrize(
    ("submitted_on", "today", "overdue"),
    [
        pytest.param(MON, MON + timedelta(days=7), False, id="5-working-days-is-within-the-limit"),
        pytest.param(MON, TUE + timedelta(days=7), True, id="6-working-days-is-over-the-limit"),
        pytest.param(FRI, FRI + timedelta(days=7), False, id="weekend-does-not-count"),
        pytest.param(FRI, MON + timedelta(days=14), True, id="over-the-limit-after-a-weekend"),
    ],
)
def test_application_is_overdue_after_5_working_days(app, applicant, submitted_on, today, overdue):
    institution_id = applicant(
        Status.UNDER_REVIEW, submitted_at=datetime.combine(submitted_on, time(10, tzinfo=UTC))
    )

    with app.app_context():
        assert filing.is_overdue(db.session.get(Institution, institution_id), today) is overdue


# --- filing numbers -------------------------------------------------------------------------


def test_filing_numbers_count_up_per_region_and_year(app, client, act_as, applicant, regulator):
    year = clock.today().year
    with app.app_context():
        yongan = Region(code="yongan", name="永安市", name_en="Yong'an", filing_prefix="YA")
        db.session.add(
            Township(
                code="yannan",
                name="燕南街道",
                kind=TownshipKind.SUBDISTRICT,
                region=yongan,
                population=60_000,
            )
        )
        db.session.commit()
    applicant(
        Status.FILED,
        "去年备案托育园",
        filing_number=f"JJ-TY-{year - 1}-0041",
        filed_on=date(year - 1, 6, 1),
    )
    first = applicant(Status.UNDER_REVIEW, "晋江一号托育园")
    other_region = applicant(Status.UNDER_REVIEW, "永安一号托育园", township_code="yannan")
    second = applicant(Status.UNDER_REVIEW, "晋江二号托育园")
    act_as(regulator)

    for institution_id in (first, other_region, second):
        approve(client, institution_id)

    assert [stored(app, i, "filing_number") for i in (first, other_region, second)] == [
        f"JJ-TY-{year}-0001",
        f"YA-TY-{year}-0001",
        f"JJ-TY-{year}-0002",
    ]
    assert all(stored(app, i, "filed_on") == clock.today() for i in (first, other_region, second))


def test_institution_account_can_file_a_kindergarten_class_registered_by_the_staffing_office(
    app, client, act_as, owner, township_id
):
    act_as(owner)

    institution_id = apply(
        client,
        profile_form(
            township_id,
            nature="kindergarten_class",
            authority="staffing_office",
            uscc=make_uscc("1"),
            classes=(OLDER_TODDLER_CLASS,),
            offers={"full_day": {**FULL_DAY, "min_age_months": "24"}},
        ),
    )
    submit(client, institution_id)

    assert stored(app, institution_id, "status", "nature") == (
        Status.UNDER_REVIEW,
        Nature.KINDERGARTEN_CLASS,
    )


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("offers-full_day-closes_at", "Enter the opening hours."),
        ("offers-full_day-opens_at", "Enter the opening hours."),
        ("offers-full_day-price_yuan", "Enter the price."),
        ("offers-full_day-max_age_months", "Enter the ages this care type accepts."),
        ("offers-full_day-min_age_months", "Enter the ages this care type accepts."),
        ("classes-0-capacity", "Enter the places and the carers of this class."),
        ("classes-0-carers", "Enter the places and the carers of this class."),
    ],
)
def test_offered_care_type_or_class_missing_a_value_is_refused_on_its_field(
    app, client, act_as, owner, township_id, field, message
):
    act_as(owner)
    client.set_cookie("lang", "en")

    response = client.post("/institutions/new", data=profile_form(township_id, **{field: ""}))

    shown_on = {
        "offers-full_day-opens_at": "offers-full_day-closes_at",
        "offers-full_day-min_age_months": "offers-full_day-max_age_months",
        "classes-0-carers": "classes-0-capacity",
    }.get(field, field)
    assert response.status_code == 200
    assert field_error(response, shown_on) == message
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Institution.id))) == 0


@pytest.mark.parametrize(
    "field",
    [
        "offers-full_day-price_yuan",
        "staff_count",
        "certified_staff_count",
        "classes-0-carers",
        "classes-0-capacity",
    ],
)
def test_numbers_beyond_any_real_value_are_refused_on_their_field(
    app, client, act_as, owner, township_id, field
):
    act_as(owner)

    response = client.post(
        "/institutions/new", data=profile_form(township_id, **{field: "99999999999999999999"})
    )

    assert response.status_code == 200
    assert field_error(response, field)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Institution.id))) == 0


@pytest.mark.parametrize("choice", ["authority", "price_regime", "nature", "classes-0-kind"])
def test_a_nul_character_beside_a_choice_not_offered_is_refused_on_its_field(
    app, client, act_as, owner, township_id, choice
):
    """A NUL character stops the fields' own checks; the policies' rules, which read the
    chosen authority, price regime, nature and class kinds, must not then read a choice that
    no check has seen (they answered 500 on "1")."""
    act_as(owner)
    client.set_cookie("lang", "en")
    data = profile_form(township_id, **{choice: "1", "address": "世纪大道\x00 88 号"})

    response = client.post("/institutions/new", data=data)

    assert response.status_code == 200
    assert field_error(response, "address") is not None
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Institution.id))) == 0
