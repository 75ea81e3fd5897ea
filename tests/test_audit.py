"""The regulator's audit log: filing decisions and staff views of children's records (issue 7).

Entries are never changed; a view of a child's record keeps ids only, never the child's name.
"""

import re
from datetime import UTC, date, datetime, time, timedelta
from html import unescape

import pytest
import sqlalchemy as sa
from downloads import read_csv
from stdnum.cn import ric

from careapp import clock
from careapp.extensions import db
from careapp.models import (
    Booking,
    CareType,
    Child,
    ChildRecordView,
    ClassKind,
    FilingAction,
    FilingDecision,
    Inspection,
    InspectionStatus,
    Institution,
    Role,
    Status,
    User,
)
from careapp.services import audit, booking, complaints, quality, staff

CHILD_NAME = "张小明"
OFFERS = {CareType.FULL_DAY: (12, 36, 2800), CareType.HOURLY: (12, 36, 30)}
TODDLERS = (ClassKind.TODDLER, 15, 3)
RETURN_REASON = "缺少消防验收意见书"
REJECT_REASON = "举办者不具备资质"
DEREGISTER_REASON = "举办者申请停止办学"


# --- reading responses ---------------------------------------------------------------------


def page_text(response) -> str:
    """A response body with entities decoded."""
    return unescape(response.get_data(as_text=True))


def plain(html: str) -> str:
    """``html`` without tags, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def log_rows(response) -> list[list[str]]:
    """The log's rows as cell texts: when, who, what, institution, detail."""
    html = page_text(response)
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.DOTALL)[1]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL) for row in rows]
    return [[plain(cell) for cell in row] for row in cells if len(row) == 5]


def log_times(response) -> list[str]:
    """When each listed entry happened (local time, to the minute), as listed."""
    return [row[0] for row in log_rows(response)]


def field_error(response, field_id: str) -> str | None:
    """The error message shown with the filter ``field_id``, if any."""
    found = re.search(rf'<p class="error" id="{field_id}-error">(.*?)</p>', page_text(response))
    return found[1] if found else None


def input_value(response, field_id: str) -> str | None:
    """The value the ``<input>`` with ``field_id`` is filled with."""
    found = re.search(rf'<input[^>]*\bid="{field_id}"[^>]*>', page_text(response))
    value = re.search(r'\bvalue="([^"]*)"', found[0]) if found else None
    return value[1] if value else None


# --- accounts and records ------------------------------------------------------------------


@pytest.fixture
def bureau(user):
    """The county health bureau's account."""
    return user(Role.REGULATOR, email="bureau@example.com", display_name="晋江市卫健局")


@pytest.fixture
def second_reviewer(user):
    """Another regulator account."""
    return user(Role.REGULATOR, email="second@health.example.com", display_name="Second Reviewer")


@pytest.fixture
def owner(user):
    """An institution account."""
    return user(Role.INSTITUTION, email="staff@example.com", display_name="向阳花托育")


@pytest.fixture
def sign_in(client, auth):
    """Sign ``client`` (reading English) in as another account; returns the client."""
    client.set_cookie("lang", "en")

    def switch(user_id: int):
        auth.logout()
        assert auth.login(user_id).status_code == 302
        return client

    return switch


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """An aware UTC time."""
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def add_decision(app, institution_id, actor_id, action, created_at, reason="") -> None:
    """A filing decision recorded at ``created_at``."""
    with app.app_context():
        db.session.add(
            FilingDecision(
                institution_id=institution_id,
                actor_id=actor_id,
                action=action,
                reason=reason,
                created_at=created_at,
            )
        )
        db.session.commit()


def add_view(app, institution_id, viewer_id, booking_id, child_id, viewed_at) -> None:
    """A view of a child's record at ``viewed_at``."""
    with app.app_context():
        db.session.add(
            ChildRecordView(
                institution_id=institution_id,
                viewer_id=viewer_id,
                booking_id=booking_id,
                child_id=child_id,
                viewed_at=viewed_at,
            )
        )
        db.session.commit()


def views(app) -> list[tuple[int, int, int, int]]:
    """Every recorded view as (viewer, institution, booking, child)."""
    with app.app_context():
        rows = db.session.scalars(sa.select(ChildRecordView).order_by(ChildRecordView.id))
        return [(r.viewer_id, r.institution_id, r.booking_id, r.child_id) for r in rows]


# --- decisions through the regulator's pages -----------------------------------------------


def submitted(client, institution_id: int) -> str:
    """The submission the confirmation page of filing carries."""
    page = client.get(f"/regulator/institutions/{institution_id}/approve").get_data(as_text=True)
    return re.search(r'name="submitted" type="hidden" value="([^"]*)"', page)[1]


def decide_everything(client, ids: dict[str, int]) -> None:
    """Approve, return, reject and revoke (撤销备案) through the regulator's forms."""
    base = "/regulator/institutions"
    responses = [
        client.post(
            f"{base}/{ids['approve']}/approve",
            data={"submitted": submitted(client, ids["approve"])},
        ),
        client.post(f"{base}/{ids['return']}/return", data={"return-reason": RETURN_REASON}),
        client.post(f"{base}/{ids['reject']}/reject", data={"reject-reason": REJECT_REASON}),
        client.post(
            f"{base}/{ids['deregister']}/revoke",
            data={"reason": DEREGISTER_REASON, "effective_on": clock.today().isoformat()},
        ),
    ]
    assert [response.status_code for response in responses] == [302] * 4


@pytest.fixture
def decided(institution, owner, bureau, sign_in):
    """Four institutions decided by the bureau through its pages; returns their ids."""
    submitted = {"status": Status.UNDER_REVIEW, "owner_id": owner,
                 "submitted_at": datetime.now(UTC)}  # fmt: skip
    ids = {
        "approve": institution("甲托育", name_en="Alpha Care", **submitted),
        "return": institution("乙托育", name_en="Beta Care", **submitted),
        "reject": institution("丙托育", name_en="Gamma Care", **submitted),
        "deregister": institution("丁托育", name_en="Delta Care", owner_id=owner),
    }
    decide_everything(sign_in(bureau), ids)
    return ids


def test_decisions_made_on_the_regulators_pages_are_in_the_log_with_who_what_and_why(
    client, decided
):
    response = client.get("/regulator/audit")

    assert response.status_code == 200
    who = "晋江市卫健局 bureau@example.com · The county health bureau"
    assert [row[1:] for row in log_rows(response)] == [
        [who, "Filing revoked", f"丁托育 ({decided['deregister']})", DEREGISTER_REASON],
        [who, "Rejected", f"丙托育 ({decided['reject']})", REJECT_REASON],
        [who, "Returned for correction", f"乙托育 ({decided['return']})", RETURN_REASON],
        [who, "Filed", f"甲托育 ({decided['approve']})", ""],
    ]
    assert "4 entries" in plain(page_text(response))


def test_decision_entries_link_to_the_institution(client, decided):
    html = page_text(client.get("/regulator/audit"))

    assert f'href="/regulator/institutions/{decided["return"]}"' in html


def test_refused_decision_leaves_no_entry(app, institution, bureau, sign_in):
    institution_id = institution("乙托育", status=Status.UNDER_REVIEW)
    client = sign_in(bureau)

    response = client.post(
        f"/regulator/institutions/{institution_id}/return", data={"return-reason": "  "}
    )

    assert response.status_code == 400
    assert log_rows(client.get("/regulator/audit")) == []


# --- children's records --------------------------------------------------------------------


def today() -> date:
    """Today at the site."""
    return clock.local_now().date()


@pytest.fixture
def filed(institution, owner):
    """The owner's filed institution with full-day and hourly care and a toddler class."""
    return institution("向阳花托育中心", owner_id=owner, offers=OFFERS, classes=(TODDLERS,))


@pytest.fixture
def book(app, user):
    """Factory: a new parent books ``care_type`` in two days for a child; returns ids."""

    def make(institution_id: int, care_type: CareType, starts: time = time(9)) -> dict:
        parent_id = user(Role.PARENT, email=f"parent-{care_type}@example.com")
        with app.app_context():
            found = db.session.get(Institution, institution_id)
            slot = booking.add_slot(found.classes[0], care_type, today() + timedelta(days=2),
                                    starts, time(starts.hour + 2), 3, today())  # fmt: skip
            parent = db.session.get(User, parent_id)
            child = booking.add_child(parent, name=CHILD_NAME, notes="花生过敏", consent=True,
                                      birth_date=today() - timedelta(days=548))  # fmt: skip
            made = booking.book(
                parent, child.id, slot, booking.new_request_key(), clock.local_now()
            )
            db.session.commit()
            return {"booking": made.id, "child": child.id, "slot": slot.id}

    return make


def test_opening_a_booking_records_one_view_with_ids_only(app, owner, sign_in, filed, book):
    made = book(filed, CareType.HOURLY)
    staff = sign_in(owner)

    response = staff.get(f"/institutions/{filed}/bookings/{made['booking']}")

    assert response.status_code == 200
    assert CHILD_NAME in page_text(response)
    assert views(app) == [(owner, filed, made["booking"], made["child"])]
    with app.app_context():
        stored = db.session.execute(sa.select(ChildRecordView.__table__)).one()
    assert CHILD_NAME not in " ".join(str(value) for value in stored)


def test_each_opening_is_recorded(app, owner, sign_in, filed, book):
    made = book(filed, CareType.HOURLY)
    staff = sign_in(owner)

    for _ in range(2):
        assert staff.get(f"/institutions/{filed}/bookings/{made['booking']}").status_code == 200

    assert len(views(app)) == 2


def test_view_is_in_the_log_and_its_download_without_the_childs_name(
    app, owner, bureau, sign_in, filed, book
):
    made = book(filed, CareType.HOURLY)
    sign_in(owner).get(f"/institutions/{filed}/bookings/{made['booking']}")
    client = sign_in(bureau)

    response = client.get("/regulator/audit")
    download = client.get("/regulator/audit.csv")

    detail = f"Booking {made['booking']}, child {made['child']}"
    assert [row[1:] for row in log_rows(response)] == [
        [
            "向阳花托育 staff@example.com · A childcare institution",
            "Viewed a child's booking record",
            f"向阳花托育中心 ({filed})",
            detail,
        ]
    ]
    assert CHILD_NAME not in page_text(response)
    rows = read_csv(download)
    assert rows[1][1:] == [
        "Viewed a child's booking record",
        "向阳花托育",
        "staff@example.com",
        "A childcare institution",
        "向阳花托育中心",
        str(filed),
        detail,
    ]
    assert CHILD_NAME not in download.get_data(as_text=True)


def test_masked_lists_and_the_export_record_no_view(app, owner, sign_in, filed, book):
    book(filed, CareType.HOURLY)
    book(filed, CareType.FULL_DAY, starts=time(8))
    staff = sign_in(owner)
    day = (today() + timedelta(days=2)).isoformat()
    base = f"/institutions/{filed}"

    for url in (
        f"{base}/places",
        f"{base}/roster?date={day}",
        f"{base}/applications",
        f"{base}/bookings.csv",
    ):
        assert staff.get(url).status_code == 200, url

    assert views(app) == []


def test_booking_of_another_institution_is_not_found_and_not_recorded(
    app, institution, user, sign_in, filed, book
):
    made = book(filed, CareType.HOURLY)
    other_owner = user(Role.INSTITUTION)
    other = institution("别家托育", owner_id=other_owner, offers=OFFERS, classes=(TODDLERS,))
    staff = sign_in(other_owner)

    assert staff.get(f"/institutions/{other}/bookings/{made['booking']}").status_code == 404
    assert staff.get(f"/institutions/{filed}/bookings/{made['booking']}").status_code == 404
    assert views(app) == []


def test_view_of_a_deleted_childs_record_stays_in_the_log(app, owner, bureau, sign_in, filed, book):
    made = book(filed, CareType.HOURLY)
    sign_in(owner).get(f"/institutions/{filed}/bookings/{made['booking']}")
    with app.app_context():
        booking.delete_child(db.session.get(Child, made["child"]), clock.local_now())
        db.session.commit()
        assert db.session.get(Booking, made["booking"]) is None

    response = sign_in(bureau).get("/regulator/audit")

    assert [row[4] for row in log_rows(response)] == [
        f"Booking {made['booking']}, child {made['child']}"
    ]


# --- filters -------------------------------------------------------------------------------

#: The entries of the filter tests by their local (Beijing, UTC+8) time as the log shows it.
SUBMITTED = "2025-02-28 09:00"  # 2025-02-28 01:00 UTC, by the institution, Beta
APPROVED = "2025-03-01 10:00"  # 2025-03-01 02:00 UTC, by the bureau, Alpha
RETURNED = "2025-03-02 01:00"  # 2025-03-01 17:00 UTC, by the second reviewer, Beta
VIEWED = "2025-03-02 23:30"  # 2025-03-02 15:30 UTC, by the institution, Alpha
DEREGISTERED = "2025-03-03 00:30"  # 2025-03-02 16:30 UTC, by the bureau, Alpha


@pytest.fixture
def entries(app, institution, owner, bureau, second_reviewer) -> dict[str, int]:
    """Five entries on different days; returns the institutions' ids."""
    alpha = institution("甲托育", owner_id=owner)
    beta = institution("乙托育", status=Status.RETURNED)
    add_decision(app, beta, owner, FilingAction.SUBMITTED, at(date(2025, 2, 28), 1))
    add_decision(app, alpha, bureau, FilingAction.APPROVED, at(date(2025, 3, 1), 2))
    add_decision(app, beta, second_reviewer, FilingAction.RETURNED, at(date(2025, 3, 1), 17),
                 reason="缺少材料")  # fmt: skip
    add_view(app, alpha, owner, booking_id=7, child_id=9, viewed_at=at(date(2025, 3, 2), 15, 30))
    add_decision(app, alpha, bureau, FilingAction.DEREGISTERED, at(date(2025, 3, 2), 16, 30),
                 reason="停止办学")  # fmt: skip
    return {"alpha": alpha, "beta": beta}


@pytest.fixture
def log(sign_in, bureau, entries):
    """A client signed in as the bureau, with the five entries in the log."""
    return sign_in(bureau)


def test_log_lists_every_entry_newest_first_in_local_time(log):
    assert log_times(log.get("/regulator/audit")) == [
        DEREGISTERED,
        VIEWED,
        RETURNED,
        APPROVED,
        SUBMITTED,
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param({"action": "approved"}, [APPROVED], id="action"),
        pytest.param({"action": "child_record_viewed"}, [VIEWED], id="action-view"),
        pytest.param({"actor": "SECOND"}, [RETURNED], id="actor-name-any-case"),
        pytest.param({"actor": "health.example"}, [RETURNED], id="actor-email"),
        pytest.param({"actor": "卫健"}, [DEREGISTERED, APPROVED], id="actor-chinese-name"),
        pytest.param({"actor": "staff@"}, [VIEWED, SUBMITTED], id="actor-institution"),
        pytest.param({"actor": "nobody"}, [], id="actor-unknown"),
        pytest.param({"actor": "_"}, [], id="actor-underscore-is-no-wildcard"),
        pytest.param({"actor": "%"}, [], id="actor-percent-is-no-wildcard"),
        # Local days: 2025-03-02 runs from 2025-03-01 16:00 to 2025-03-02 16:00 UTC.
        pytest.param({"from": "2025-03-02"}, [DEREGISTERED, VIEWED, RETURNED], id="from"),
        pytest.param({"to": "2025-03-01"}, [APPROVED, SUBMITTED], id="to"),
        pytest.param({"from": "2025-03-02", "to": "2025-03-02"}, [VIEWED, RETURNED], id="one-day"),
        pytest.param(
            {"action": "deregistered", "actor": "bureau"}, [DEREGISTERED], id="action-and-actor"
        ),
    ],
)
def test_log_filters(log, query, expected):
    response = log.get("/regulator/audit", query_string=query)

    assert response.status_code == 200
    assert log_times(response) == expected


def test_log_filters_by_institution(log, entries):
    beta = log.get("/regulator/audit", query_string={"institution": entries["beta"]})
    alpha = log.get("/regulator/audit", query_string={"institution": entries["alpha"]})

    assert log_times(beta) == [RETURNED, SUBMITTED]
    assert log_times(alpha) == [DEREGISTERED, VIEWED, APPROVED]


def test_log_keeps_the_chosen_filters_in_the_form(log):
    response = log.get(
        "/regulator/audit",
        query_string={"action": "returned", "actor": "second", "from": "2025-03-01"},
    )

    html = page_text(response)
    assert '<option value="returned" selected>' in html
    assert input_value(response, "actor") == "second"
    assert input_value(response, "from") == "2025-03-01"


@pytest.mark.parametrize(
    ("field", "query", "message"),
    [
        ("from", {"from": "2025-02-30"},
         "Please enter a date as YYYY-MM-DD, for example 2024-05-01."),
        ("to", {"to": "03/02/2025"}, "Please enter a date as YYYY-MM-DD, for example 2024-05-01."),
        ("to", {"from": "2025-03-02", "to": "2025-03-01"},
         "The last day must not be before the first day."),
        ("action", {"action": "deleted"}, "Please choose an action from the list."),
        ("institution", {"institution": "abc"}, "Please enter a whole number."),
        ("actor", {"actor": "x" * 101}, "Please use at most 100 characters."),
    ],
)  # fmt: skip
def test_bad_filter_is_refused_next_to_its_field_and_what_was_typed_is_kept(
    log, field, query, message
):
    response = log.get("/regulator/audit", query_string=query)

    assert response.status_code == 400
    assert field_error(response, field) == message
    assert f'aria-describedby="{field}-error"' in page_text(response)
    if field != "action":
        assert input_value(response, field) == query[field]
    assert "Download these entries" not in page_text(response)


def test_bad_page_number_is_refused(log):
    response = log.get("/regulator/audit", query_string={"page": "0"})

    assert response.status_code == 400
    assert "Page number: Please enter a number from 1 to 100000." in plain(page_text(response))


def test_download_with_a_bad_filter_is_refused(log):
    response = log.get("/regulator/audit.csv", query_string={"from": "yesterday"})

    assert response.status_code == 400
    assert response.mimetype == "text/html"


# --- pages and the download ----------------------------------------------------------------


def test_log_pages_by_50(app, institution, bureau, sign_in):
    institution_id = institution("甲托育")
    first = at(date(2025, 1, 1), 0)
    for minute in range(audit.PER_PAGE + 1):
        add_decision(app, institution_id, bureau, FilingAction.APPROVED,
                     first + timedelta(minutes=minute))  # fmt: skip
    client = sign_in(bureau)

    page_one = client.get("/regulator/audit")
    page_two = client.get("/regulator/audit", query_string={"page": 2})

    assert "51 entries" in plain(page_text(page_one))
    assert len(log_rows(page_one)) == 50
    assert log_times(page_one)[0] == "2025-01-01 08:50"  # the newest: 00:50 UTC
    assert 'rel="next" href="/regulator/audit?page=2"' in page_text(page_one)
    assert "Page 1 of 2" in page_text(page_one)
    assert log_times(page_two) == ["2025-01-01 08:00"]  # the oldest: 00:00 UTC
    assert 'rel="prev"' in page_text(page_two)
    assert len(read_csv(client.get("/regulator/audit.csv"))) == 1 + 51


def test_download_holds_the_filtered_entries_for_excel(log, entries):
    rows = read_csv(log.get("/regulator/audit.csv", query_string={"action": "returned"}))

    assert rows == [
        ["When (Beijing time)", "Action", "Who", "E-mail", "Role", "Institution",
         "Institution number", "Detail"],
        ["2025-03-02 01:00:00", "Returned for correction", "Second Reviewer",
         "second@health.example.com", "The county health bureau", "乙托育",
         str(entries["beta"]), "缺少材料"],
    ]  # fmt: skip


def test_download_honours_dates_and_the_institution(log, entries):
    rows = read_csv(
        log.get(
            "/regulator/audit.csv",
            query_string={"institution": entries["alpha"], "from": "2025-03-02"},
        )
    )

    assert [(row[0], row[1], row[7]) for row in rows[1:]] == [
        ("2025-03-03 00:30:00", "Deregistered", "停止办学"),
        ("2025-03-02 23:30:00", "Viewed a child's booking record", "Booking 7, child 9"),
    ]


def test_log_links_to_the_download_with_the_same_filters(log):
    html = page_text(log.get("/regulator/audit", query_string={"action": "approved"}))

    assert 'href="/regulator/audit.csv?action=approved"' in html


# --- access --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/regulator/audit", "/regulator/audit.csv"])
@pytest.mark.parametrize("role", [Role.PARENT, Role.INSTITUTION, Role.PROVIDER])
def test_only_the_regulator_opens_the_log(client, auth, user, path, role):
    auth.login(user(role))

    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", ["/regulator/audit", "/regulator/audit.csv"])
def test_anonymous_visitor_is_sent_to_sign_in_from_the_log(client, path):
    response = client.get(path, query_string={"action": "approved"})

    assert response.status_code == 302
    assert response.location.startswith("/login?next=")
    assert path.split("/")[-1] in response.location


# --- the bureau's supervision records ------------------------------------------------------


def banned_id_number() -> str:
    """A valid resident identity card number (Beijing Dongcheng, born 1985)."""
    body = "11010119850101001"
    return body + ric.calc_check_digit(body + "0")


@pytest.fixture
def supervised(app, institution, bureau):
    """One of each supervision record, made through the bureau's services by ``bureau``:
    returns the institution's id."""
    institution_id = institution("向阳花托育中心")
    with app.app_context():
        regulator = db.session.get(User, bureau)
        place = db.session.get(Institution, institution_id)
        today = clock.today()
        quality.record_assessment(
            place, "good", today, "晋江市卫健局", "托育机构质量评估标准", regulator
        )
        quality.designate(place, "晋江市示范性托育机构", today, regulator)
        quality.revoke(place, today, "年度评估不合格", regulator)
        staff.add_ban(regulator, "李某", banned_id_number(), "虐待儿童", today)
        report, _number = complaints.file_report(
            complaints.NewReport(category="fees", description="收费与公示不符", institution=place),
            None,
            clock.now(),
        )
        complaints.answer(report, regulator, "已核查并责令整改。", clock.now())
        unfiled, _number = complaints.file_report(
            complaints.NewReport(
                category="unfiled_care",
                description="小区内有人无备案看护多名幼儿",
                place_name="某小区家庭看护点",
                place_address="青阳街道某小区",
            ),
            None,
            clock.now(),
        )
        complaints.answer(unfiled, regulator, "已转辖区街道核查。", clock.now())
        db.session.add(
            Inspection(
                institution_id=institution_id,
                status=InspectionStatus.RECORDED,
                inspected_on=today,
                recorded_by_id=bureau,
                recorded_at=clock.now(),
            )
        )
        db.session.commit()
    return institution_id


def test_the_bureaus_supervision_records_are_in_the_log_with_who_and_what(
    client, sign_in, bureau, supervised
):
    log = sign_in(bureau)

    rows = log_rows(log.get("/regulator/audit"))

    by_action = {row[2]: row for row in rows}
    assert set(by_action) == {
        "Recorded a quality grade",
        "Designated a demonstration institution",
        "Revoked a demonstration designation",
        "Added a person to the ban list",
        "Answered a report",
        "Recorded an inspection",
    }
    assert len(rows) == 7  # two answered reports
    assert all("晋江市卫健局" in row[1] for row in rows)
    assert by_action["Recorded a quality grade"][3] == f"向阳花托育中心 ({supervised})"
    assert by_action["Recorded a quality grade"][4] == "Good"
    assert by_action["Designated a demonstration institution"][4] == "晋江市示范性托育机构"
    assert by_action["Revoked a demonstration designation"][4] == "年度评估不合格"
    assert by_action["Added a person to the ban list"][3] == "No filed institution"
    assert by_action["Added a person to the ban list"][4] == (
        f"ID number ending {banned_id_number()[-4:]}"
    )
    assert by_action["Recorded an inspection"][4] == f"Inspected on {clock.today().isoformat()}"
    answered = [row for row in rows if row[2] == "Answered a report"]
    assert sorted(row[4] for row in answered) == ["Care without filing", "Fees or contract"]
    assert sorted(row[3] for row in answered) == [
        "No filed institution",
        f"向阳花托育中心 ({supervised})",
    ]
    page = page_text(log.get("/regulator/audit"))
    for private in ("李某", banned_id_number(), "收费与公示不符", "已核查并责令整改"):
        assert private not in page


@pytest.mark.parametrize(
    ("action", "shown"),
    [
        (audit.QUALITY_ASSESSED, 1),
        (audit.DESIGNATED, 1),
        (audit.DESIGNATION_REVOKED, 1),
        (audit.INSPECTION_RECORDED, 1),
        (audit.REPORT_ANSWERED, 2),
        (audit.BAN_RECORDED, 1),
        (audit.CHILD_RECORD_VIEWED, 0),
        (FilingAction.APPROVED.value, 0),
    ],
)
def test_the_log_filters_supervision_records_by_action(
    client, sign_in, bureau, supervised, action, shown
):
    rows = log_rows(sign_in(bureau).get("/regulator/audit", query_string={"action": action}))

    assert len(rows) == shown
    assert all(row[2] == rows[0][2] for row in rows)


def test_filtering_by_institution_leaves_out_records_about_none(
    client, sign_in, bureau, supervised
):
    rows = log_rows(
        sign_in(bureau).get("/regulator/audit", query_string={"institution": supervised})
    )

    assert sorted(row[2] for row in rows) == [
        "Answered a report",
        "Designated a demonstration institution",
        "Recorded a quality grade",
        "Recorded an inspection",
        "Revoked a demonstration designation",
    ]


def test_the_download_holds_supervision_records_without_an_institution(
    client, sign_in, bureau, supervised
):
    download = sign_in(bureau).get(
        "/regulator/audit.csv", query_string={"action": audit.BAN_RECORDED}
    )

    rows = read_csv(download)
    assert download.status_code == 200
    assert len(rows) == 2
    assert rows[1][1] == "Added a person to the ban list"
    assert rows[1][5:8] == ["", "", f"ID number ending {banned_id_number()[-4:]}"]
