"""Two ways off the register, and the 登记 disclosed (policy 002 (四): 登记、备案、变更、注销).

注销 is the institution's act after it deregisters with its registration authority: it tells the
bureau, which records it. 撤销备案 is the bureau's action against an institution that does not
comply. Both delist the institution at once and end its bookings; the register discloses them
as two different events.
"""

import re
from datetime import date, timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from careapp import clock
from careapp.extensions import db
from careapp.models import (
    Authority,
    DeregistrationRequest,
    EventType,
    FilingEvent,
    Institution,
    RequestStatus,
    Role,
    Slot,
    Status,
    User,
)
from careapp.services import filing, follow_up
from careapp.services.open_data import EVENT_FIELDS

CLOSING = "生源不足，停止办学"
NOTICE = "未按承诺落实消防整改，撤销备案"


def text(response) -> str:
    """The page as plain text, tags removed and spaces collapsed."""
    html = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


@pytest.fixture
def regulator(user):
    return user(Role.REGULATOR, display_name="晋江市卫健局")


@pytest.fixture
def owner(user):
    return user(Role.INSTITUTION, display_name="向阳花托育")


@pytest.fixture
def filed(institution, owner):
    """A filed institution of ``owner``, registered with civil affairs in 2023."""
    return institution(
        "向阳花托育园",
        name_en="Sunflower Care",
        owner_id=owner,
        registered_on=date(2023, 5, 8),
        authority=Authority.CIVIL_AFFAIRS,
    )


@pytest.fixture
def act_as(client, auth):
    """Switch ``client`` (reading English) to another account."""
    client.set_cookie("lang", "en")

    def switch(user_id: int):
        auth.logout()
        assert auth.login(user_id).status_code == 302
        return client

    return switch


def api_events(client, institution_id: int) -> list[tuple[str, str, str]]:
    items = client.get("/api/v1/registry/events?per_page=100", headers={"Accept-Language": "en"})
    return [
        (item["type"], item["date"], item["summary"])
        for item in items.json["items"]
        if item["institution_id"] == institution_id
    ]


def leave(app, kind: str, institution_id: int, owner: int, regulator: int) -> None:
    """Take the institution off the register, by 注销 or by 撤销备案, through the services."""
    today = clock.today()
    with app.test_request_context("/?lang=en"):
        found = db.session.get(Institution, institution_id)
        bureau = db.session.get(User, regulator)
        if kind == "deregistered":
            request = follow_up.request_deregistration(
                found, db.session.get(User, owner), today - timedelta(days=1), CLOSING, today
            )
            follow_up.record_deregistration(request, bureau, today)
        else:
            filing.revoke(found, bureau, NOTICE, today)
        db.session.commit()


# --- 注销: the institution asks, the bureau records -----------------------------------------


def test_the_institution_deregisters_and_the_bureau_records_it(
    app, client, act_as, filed, owner, regulator
):
    yesterday = clock.today() - timedelta(days=1)
    institution_client = act_as(owner)
    assert institution_client.get(f"/institutions/{filed}/deregister").status_code == 200

    unconfirmed = institution_client.post(
        f"/institutions/{filed}/deregister",
        data={"deregistered_on": yesterday.isoformat(), "reason": CLOSING},
    )
    future = institution_client.post(
        f"/institutions/{filed}/deregister",
        data={
            "deregistered_on": (clock.today() + timedelta(days=3)).isoformat(),
            "reason": CLOSING,
            "confirmed": "y",
        },
    )
    asked = institution_client.post(
        f"/institutions/{filed}/deregister",
        data={"deregistered_on": yesterday.isoformat(), "reason": CLOSING, "confirmed": "y"},
    )

    assert unconfirmed.status_code == 400
    assert "Please confirm." in text(unconfirmed)
    assert CLOSING in unconfirmed.get_data(as_text=True), "keeps what was typed"
    assert future.status_code == 400
    assert "Deregister with your registration authority first" in text(future)
    assert asked.status_code == 302
    with app.app_context():
        assert db.session.get(Institution, filed).status == Status.FILED, "until recorded"
    assert "The bureau will record it." in text(institution_client.get(asked.location))

    reviewer = act_as(regulator)
    assert "向阳花托育园" in text(reviewer.get("/regulator/"))
    review = text(reviewer.get(f"/regulator/institutions/{filed}"))
    assert f"deregistered with its registration authority on {yesterday.isoformat()}" in review
    recorded = reviewer.post(f"/regulator/institutions/{filed}/deregistration")
    again = reviewer.post(f"/regulator/institutions/{filed}/deregistration")

    assert recorded.status_code == 302
    assert again.status_code == 404
    with app.app_context():
        assert db.session.get(Institution, filed).status == Status.DEREGISTERED
        request = db.session.scalar(sa.select(DeregistrationRequest))
        assert (request.status, request.recorded_on) == (RequestStatus.RECORDED, clock.today())
    assert client.get(f"/institutions/{filed}").status_code == 404
    (event,) = [e for e in api_events(client, filed) if e[0] == "deregistered"]
    assert event[1] == clock.today().isoformat()
    assert yesterday.isoformat() in event[2]
    assert CLOSING in event[2]


def test_a_second_deregistration_request_waits_for_the_first(app, filed, owner):
    today = clock.today()
    with app.test_request_context("/?lang=en"):
        found = db.session.get(Institution, filed)
        actor = db.session.get(User, owner)
        follow_up.request_deregistration(found, actor, today, "", today)
        with pytest.raises(filing.FilingError):
            follow_up.request_deregistration(found, actor, today, "", today)
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count(DeregistrationRequest.id))) == 1


def test_recording_twice_at_once_leaves_the_register_once(app, filed, owner, regulator):
    today = clock.today()
    with app.test_request_context("/?lang=en"):
        request = follow_up.request_deregistration(
            db.session.get(Institution, filed), db.session.get(User, owner), today, "", today
        )
        db.session.commit()
        stale = db.session.get(DeregistrationRequest, request.id)
        assert stale.is_pending
        with app.test_request_context("/?lang=en"):
            follow_up.record_deregistration(
                db.session.get(DeregistrationRequest, request.id),
                db.session.get(User, regulator),
                today,
            )
            db.session.commit()
        with pytest.raises(filing.FilingError):
            follow_up.record_deregistration(stale, db.session.get(User, regulator), today)
        db.session.rollback()
        events = db.session.scalars(
            sa.select(FilingEvent.event_type).where(FilingEvent.institution_id == filed)
        ).all()

    assert sorted(events) == ["deregistered", "filed"]


# --- 撤销备案: the bureau's own action ------------------------------------------------------


def test_the_bureau_revokes_a_filing_with_its_notice(app, client, act_as, filed, owner, regulator):
    reviewer = act_as(regulator)
    review = text(reviewer.get(f"/regulator/institutions/{filed}"))
    assert "Revoke the filing (撤销备案)" in review
    assert "Deregister this institution" not in review

    empty = reviewer.post(
        f"/regulator/institutions/{filed}/revoke",
        data={"effective_on": clock.today().isoformat(), "reason": ""},
    )
    revoked = reviewer.post(
        f"/regulator/institutions/{filed}/revoke",
        data={"effective_on": clock.today().isoformat(), "reason": NOTICE},
    )

    assert empty.status_code == 400
    assert revoked.status_code == 302
    with app.app_context():
        assert db.session.get(Institution, filed).status == Status.DEREGISTERED
    assert ("revoked", clock.today().isoformat(), NOTICE) in api_events(client, filed)
    status_page = text(act_as(owner).get(f"/institutions/{filed}/status"))
    assert (
        f"The county health bureau revoked the filing on {clock.today().isoformat()}."
        in status_page
    )


# --- both: distinct register events, the same effect on bookings ------------------------------


@pytest.mark.parametrize("kind", ["deregistered", "revoked"])
def test_both_ways_off_the_register_end_every_place_and_are_disclosed_apart(
    app, client, filed, owner, regulator, open_places, kind
):
    slots = open_places(filed)
    assert slots

    leave(app, kind, filed, owner, regulator)

    with app.app_context():
        statuses = set(db.session.scalars(sa.select(Slot.status).where(Slot.id.in_(slots))).all())
    assert statuses == {"cancelled"}
    assert client.get(f"/institutions/{filed}").status_code == 404
    assert client.get(f"/api/v1/institutions/{filed}").status_code == 404
    assert [e[0] for e in api_events(client, filed)][0] == kind
    only_this_kind = client.get(f"/api/v1/registry/events?type={kind}").json["items"]
    assert [item["type"] for item in only_this_kind] == [kind]
    label = {"deregistered": "Deregistered", "revoked": "Filing revoked"}[kind]
    client.set_cookie("lang", "en")
    assert label in text(client.get(f"/registry?type={kind}"))


def test_the_open_data_and_the_api_know_every_event_type(client):
    openapi = client.get("/api/v1/openapi.json").get_data(as_text=True)

    assert set(EVENT_FIELDS) == set(EventType)
    for kind in ("registered", "filed", "changed", "deregistered", "revoked"):
        assert f'"{kind}"' in openapi
    assert client.get("/api/v1/registry/events?type=registered").status_code == 200
    assert client.get("/api/v1/registry/events?type=revoked").status_code == 200


# --- 登记: disclosed with its date and authority ------------------------------------------------


def test_filing_discloses_the_registration_with_its_date_and_authority(
    app, client, institution, owner, regulator
):
    institution_id = institution(
        "登记托育园",
        status=Status.UNDER_REVIEW,
        owner_id=owner,
        registered_on=date(2024, 6, 3),
        authority=Authority.MARKET_REGULATION,
    )
    with app.test_request_context("/?lang=en"):
        filing.approve(
            db.session.get(Institution, institution_id),
            db.session.get(User, regulator),
            clock.today(),
        )
        db.session.commit()

    assert ("registered", "2024-06-03", "Registered with market regulation") in api_events(
        client, institution_id
    )
    client.set_cookie("lang", "en")
    page = text(client.get(f"/institutions/{institution_id}"))
    assert "Registered on 2024-06-03 with Market regulation (for-profit)." in page
    client.set_cookie("lang", "zh_CN")
    zh = text(client.get(f"/institutions/{institution_id}"))
    assert "2024-06-03" in zh
    assert "Registered on" not in zh
    assert "在市场监管部门登记" in text(client.get("/registry?type=registered"))


# --- the migration backfills the 登记 of institutions filed before ----------------------------


def test_migration_0019_backfills_a_registered_event_for_filed_institutions(empty_app):
    from flask_migrate import downgrade, upgrade
    from test_migrations import _insert

    with empty_app.app_context():
        upgrade(revision="0017")
        with db.engine.begin() as connection:
            region = _insert(connection, "regions", code="jinjiang", name="晋江市")
            township = _insert(
                connection, "townships", region_id=region, code="qingyang", kind="subdistrict"
            )

            def institution(status: str, registered_on) -> int:
                made = _insert(
                    connection,
                    "institutions",
                    township_id=township,
                    status="draft",
                    nature="inclusive",
                    authority="civil_affairs",
                    registered_on=registered_on,
                )
                connection.execute(
                    sa.text(
                        "UPDATE institutions SET status = :status, filed_on = :day,"
                        " filing_number = :number WHERE id = :id"
                    ),
                    {
                        "status": status,
                        "day": date(2024, 3, 1),
                        "number": f"JJ-TY-2024-{made:04d}",
                        "id": made,
                    },
                )
                return made

            filed = institution("filed", date(2022, 4, 1))
            gone = institution("deregistered", date(2021, 2, 3))
            institution("draft", date(2020, 1, 1))
            institution("filed", None)
        upgrade(revision="0019")
        with db.engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT institution_id, occurred_on, summary, summary_en FROM filing_events"
                    " WHERE event_type = 'registered' ORDER BY institution_id"
                )
            ).all()
        downgrade(revision="0017")
        with db.engine.connect() as connection:
            left = connection.execute(sa.text("SELECT count(*) FROM filing_events")).scalar()

    assert [(row[0], str(row[1]), row[2], row[3]) for row in rows] == [
        (filed, "2022-04-01", "在民政部门登记", "Registered with civil affairs"),
        (gone, "2021-02-03", "在民政部门登记", "Registered with civil affairs"),
    ]
    assert left == 0


# --- both languages --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "path", "chinese", "english"),
    [
        pytest.param(
            "owner",
            "/institutions/{id}/deregister",
            "在登记机关注销登记的日期",
            "Date of deregistration with your registration authority",
            id="deregistration-request",
        ),
        pytest.param(
            "owner",
            "/institutions/{id}/status",
            "申请注销",
            "Deregister the institution",
            id="status-page",
        ),
        pytest.param(
            "regulator",
            "/regulator/institutions/{id}/revoke",
            "撤销备案公告",
            "Notice of revocation",
            id="revoke",
        ),
        pytest.param(
            "regulator",
            "/regulator/institutions/{id}",
            "备案后核查",
            "Follow-up after filing",
            id="review-follow-up",
        ),
    ],
)
def test_the_new_pages_read_chinese_in_chinese_and_english_in_english(
    client, auth, filed, owner, regulator, who, path, chinese, english
):
    auth.login(owner if who == "owner" else regulator)
    url = path.format(id=filed)

    client.set_cookie("lang", "zh_CN")
    zh = text(client.get(url))
    client.set_cookie("lang", "en")
    en = text(client.get(url))

    assert chinese in zh
    assert english not in zh
    assert english in en


def test_a_request_left_behind_by_a_revocation_is_no_longer_waiting(
    app, act_as, filed, owner, regulator
):
    today = clock.today()
    with app.test_request_context("/?lang=en"):
        found = db.session.get(Institution, filed)
        follow_up.request_deregistration(found, db.session.get(User, owner), today, "", today)
        filing.revoke(found, db.session.get(User, regulator), NOTICE, today)
        db.session.commit()

    reviewer = act_as(regulator)

    assert "No deregistration is waiting." in text(reviewer.get("/regulator/"))
    assert reviewer.post(f"/regulator/institutions/{filed}/deregistration").status_code == 404
