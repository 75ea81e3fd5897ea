"""Only filed institutions are public; a deregistered one survives only as disclosure events."""

from datetime import date

import pytest

from careapp.extensions import db
from careapp.models import EventType, FilingEvent, Status

HIDDEN = "隐藏的托育园"
PUBLIC = "公开的托育园"

#: Every status that must never be public.
NOT_PUBLIC = [
    pytest.param(Status.DRAFT, id="draft"),
    pytest.param(Status.UNDER_REVIEW, id="under_review"),
    pytest.param(Status.RETURNED, id="returned"),
    pytest.param(Status.REJECTED, id="rejected"),
    pytest.param(Status.DEREGISTERED, id="deregistered"),
]

#: Statuses of institutions that were never filed, whose events are never disclosed.
NEVER_FILED = [
    pytest.param(Status.DRAFT, id="draft"),
    pytest.param(Status.UNDER_REVIEW, id="under_review"),
    pytest.param(Status.RETURNED, id="returned"),
    pytest.param(Status.REJECTED, id="rejected"),
]


@pytest.fixture
def add_event(app):
    """Factory: a filing event of ``institution_id``."""

    def make(institution_id: int, event_type: EventType, occurred_on: date, summary: str) -> int:
        with app.app_context():
            event = FilingEvent(
                institution_id=institution_id,
                event_type=event_type,
                occurred_on=occurred_on,
                summary=summary,
            )
            db.session.add(event)
            db.session.commit()
            return event.id

    return make


def text(response) -> str:
    """The response body as text."""
    return response.get_data(as_text=True)


def api_ids(response) -> list[int]:
    """The ids of the institutions in an API list response."""
    assert response.status_code == 200
    return [item["id"] for item in response.json["items"]]


def township_counts(client) -> dict[str, int]:
    """``institution_count`` of every township in the API, by code."""
    response = client.get("/api/v1/townships")
    assert response.status_code == 200
    return {item["code"]: item["institution_count"] for item in response.json["items"]}


# Institutions that are not public --------------------------------------------------------------


@pytest.mark.parametrize("status", NOT_PUBLIC)
@pytest.mark.parametrize("path", ["/", "/?q=隐藏", "/?township=qingyang", "/?care_type=full_day"])
def test_institution_that_is_not_filed_is_not_in_the_search_page(client, institution, status, path):
    institution(PUBLIC, township_code="qingyang")
    institution(HIDDEN, status=status, township_code="qingyang")

    response = client.get(path)

    assert response.status_code == 200
    assert HIDDEN not in text(response)


@pytest.mark.parametrize("status", NOT_PUBLIC)
def test_institution_that_is_not_filed_is_not_found_by_its_name(client, institution, status):
    institution(HIDDEN, status=status)

    response = client.get("/", query_string={"q": HIDDEN})

    assert response.status_code == 200
    assert HIDDEN not in text(response).replace(f'value="{HIDDEN}"', "")


@pytest.mark.parametrize("status", NOT_PUBLIC)
@pytest.mark.parametrize(
    "query",
    [
        pytest.param({}, id="everything"),
        pytest.param({"q": HIDDEN}, id="by-name"),
        pytest.param({"township": "qingyang"}, id="by-township"),
        pytest.param({"care_type": "full_day", "age_months": "18"}, id="by-care-type-and-age"),
        pytest.param({"per_page": "100"}, id="large-page"),
    ],
)
def test_institution_that_is_not_filed_is_not_in_the_api_list(
    client, institution, open_places, status, query
):
    public_id = institution(PUBLIC, township_code="qingyang")
    hidden_id = institution(HIDDEN, status=status, township_code="qingyang")
    open_places(public_id)

    response = client.get("/api/v1/institutions", query_string=query)

    ids = api_ids(response)
    assert hidden_id not in ids
    assert HIDDEN not in text(response)
    assert response.json["total"] == len(ids)
    assert ids == ([] if "q" in query else [public_id])


@pytest.mark.parametrize("status", NOT_PUBLIC)
@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_page_of_an_institution_that_is_not_filed_answers_404(client, institution, status, lang):
    hidden_id = institution(HIDDEN, status=status)

    response = client.get(f"/institutions/{hidden_id}", query_string={"lang": lang})

    assert response.status_code == 404
    assert HIDDEN not in text(response)


@pytest.mark.parametrize("institution_id", ["999", "0", "2147483648", "9223372036854775808"])
def test_page_of_an_id_nobody_has_answers_404(client, institution, institution_id):
    institution(PUBLIC)

    response = client.get(f"/institutions/{institution_id}")

    assert response.status_code == 404


@pytest.mark.parametrize("status", NOT_PUBLIC)
def test_api_detail_of_an_institution_that_is_not_filed_answers_404_error_shape(
    client, institution, status
):
    hidden_id = institution(HIDDEN, status=status)

    response = client.get(f"/api/v1/institutions/{hidden_id}")

    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert set(response.json) == {"error"}
    assert set(response.json["error"]) == {"code", "message"}
    assert response.json["error"]["code"] == "not_found"
    assert response.json["error"]["message"]
    assert HIDDEN not in text(response)


@pytest.mark.parametrize("status", NOT_PUBLIC)
def test_institution_that_is_not_filed_is_not_counted_in_its_township(client, institution, status):
    institution(PUBLIC, township_code="qingyang")
    institution(HIDDEN, status=status, township_code="qingyang")
    institution("另一家隐藏的托育园", status=status, township_code="chendai")

    assert township_counts(client) == {"qingyang": 1, "chendai": 0}


@pytest.mark.parametrize("status", NOT_PUBLIC)
def test_institution_that_is_not_filed_is_not_counted_in_the_township_choice(
    client, institution, township, status
):
    township("chendai", name="陈埭镇")
    institution(HIDDEN, status=status, township_code="chendai")

    response = client.get("/")

    assert response.status_code == 200
    assert '<option value="chendai">陈埭镇 (0)</option>' in text(response)


# The disclosure list ---------------------------------------------------------------------------


@pytest.fixture
def deregistered(institution, add_event):
    """A deregistered institution: filed on 2024-03-01, deregistered on 2025-06-30."""
    institution_id = institution("已注销的托育园", status=Status.DEREGISTERED)
    add_event(institution_id, EventType.DEREGISTERED, date(2025, 6, 30), "主动申请注销")
    return institution_id


def test_deregistered_institution_appears_in_the_registry_page_without_a_link(client, deregistered):
    response = client.get("/registry")

    assert response.status_code == 200
    body = text(response)
    assert "已注销的托育园" in body
    assert "主动申请注销" in body
    assert '<time datetime="2025-06-30">' in body
    assert '<time datetime="2024-03-01">' in body
    assert f"/institutions/{deregistered}" not in body


def test_deregistered_institution_events_are_in_the_registry_api(client, deregistered):
    response = client.get("/api/v1/registry/events")

    assert response.status_code == 200
    assert response.json["total"] == 2
    assert [
        (item["institution_id"], item["institution_name"], item["type"], item["date"])
        for item in response.json["items"]
    ] == [
        (deregistered, "已注销的托育园", "deregistered", "2025-06-30"),
        (deregistered, "已注销的托育园", "filed", "2024-03-01"),
    ]
    assert all("/institutions/" not in str(item) for item in response.json["items"])


@pytest.mark.parametrize("status", NEVER_FILED)
def test_events_of_a_never_filed_institution_never_appear(client, institution, add_event, status):
    hidden_id = institution(HIDDEN, status=status)
    add_event(hidden_id, EventType.FILED, date(2024, 5, 1), "不应公示的备案")
    add_event(hidden_id, EventType.CHANGED, date(2024, 6, 1), "不应公示的变更")
    add_event(hidden_id, EventType.DEREGISTERED, date(2024, 7, 1), "不应公示的注销")

    page = client.get("/registry")
    api = client.get("/api/v1/registry/events")
    of_type = client.get("/api/v1/registry/events?type=changed&since=2024-01-01")

    assert page.status_code == api.status_code == of_type.status_code == 200
    assert HIDDEN not in text(page)
    assert "不应公示" not in text(page)
    assert (api.json["items"], api.json["total"], api.json["next"]) == ([], 0, None)
    assert of_type.json["items"] == []


# A filed institution ---------------------------------------------------------------------------


def test_filed_institution_appears_everywhere(client, institution, add_event):
    filed_id = institution(PUBLIC, township_code="qingyang")
    add_event(filed_id, EventType.CHANGED, date(2025, 1, 15), "变更地址")

    search_page = client.get("/")
    assert search_page.status_code == 200
    assert f'<a href="/institutions/{filed_id}">{PUBLIC}</a>' in text(search_page)

    assert api_ids(client.get("/api/v1/institutions")) == [filed_id]
    assert api_ids(client.get("/api/v1/institutions", query_string={"q": PUBLIC})) == [filed_id]

    page = client.get(f"/institutions/{filed_id}")
    assert page.status_code == 200
    assert PUBLIC in text(page)

    detail = client.get(f"/api/v1/institutions/{filed_id}")
    assert detail.status_code == 200
    assert detail.json["id"] == filed_id

    assert township_counts(client) == {"qingyang": 1}

    registry_page = client.get("/registry")
    assert registry_page.status_code == 200
    assert f'<a href="/institutions/{filed_id}">{PUBLIC}</a>' in text(registry_page)
    assert "变更地址" in text(registry_page)

    events = client.get("/api/v1/registry/events")
    assert events.status_code == 200
    assert [(item["institution_id"], item["type"]) for item in events.json["items"]] == [
        (filed_id, "changed"),
        (filed_id, "filed"),
    ]
