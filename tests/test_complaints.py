"""Reports of a concern (投诉举报): anyone reports, follows with a number; the bureau answers."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from careapp import clock
from careapp.extensions import db
from careapp.models import Complaint, OutboxMessage, ReportStatus, Role, Status, User
from careapp.services import complaints
from careapp.services.transitions import AlreadyMoved
from careapp.working_days import add_working_days

NUMBER = re.compile(r"<code>([2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4})</code>")
FEES = {"category": "fees", "description": "押金退托后一个月仍未退还。"}
SAFETY = {"category": "child_safety", "description": "看到老师推搡孩子。"}


def send_report(client, institution_id: int, data: dict = FEES) -> str:
    """Report a concern about an institution; the tracking number shown once."""
    sent = client.post(f"/institutions/{institution_id}/report", data=data)
    assert sent.status_code == 302
    assert sent.location.endswith("/report/sent")
    return NUMBER.search(client.get("/report/sent").get_data(as_text=True)).group(1)


def stored(app) -> list[Complaint]:
    """Every stored report, oldest first."""
    with app.app_context():
        found = list(db.session.scalars(sa.select(Complaint).order_by(Complaint.id)))
        db.session.expunge_all()
        return found


def status_of(client, number: str) -> str:
    """The status page's answer for ``number``, as text."""
    response = client.post("/report/status", data={"number": number})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def result_section(html: str) -> str:
    """The result part of the status page."""
    return html[html.index('id="result"') :]


# --- reporting ----------------------------------------------------------------------------


def test_institution_page_links_to_the_report_form(client, institution):
    filed = institution()

    page = client.get(f"/institutions/{filed}?lang=en").get_data(as_text=True)

    assert f'href="/institutions/{filed}/report"' in page
    assert "Report a concern about this institution" in page


def test_report_gets_a_tracking_number_shown_only_once_and_a_working_day_deadline(
    app, client, institution
):
    filed = institution()

    number = send_report(client, filed)
    again = client.get("/report/sent")

    assert again.status_code == 302
    assert again.location.endswith("/report/status")
    [report] = stored(app)
    assert report.status == ReportStatus.RECEIVED
    assert report.institution_id == filed
    assert not report.is_urgent
    assert report.due_on == add_working_days(clock.today(), 15)
    # Only a digest is kept: the number itself is in no column.
    with app.app_context():
        row = db.session.execute(sa.select(Complaint.__table__)).one()
    assert number.replace("-", "") not in " ".join(str(value) for value in row)


def test_deadline_follows_the_configured_working_days(app, client, institution):
    app.config["REPORT_ANSWER_WORKING_DAYS"] = 5
    filed = institution()

    send_report(client, filed)

    assert stored(app)[0].due_on == add_working_days(clock.today(), 5)


def test_tracking_numbers_are_long_and_use_no_ambiguous_character():
    numbers = {complaints.new_tracking_number() for _ in range(500)}

    assert len(numbers) == 500
    assert all(len(number) == 12 for number in numbers)
    assert not set("".join(numbers)) & set("01OILUV")


def test_signed_in_parent_is_recorded_as_the_reporter_for_the_bureau_only(
    app, client, auth, institution, user
):
    filed = institution()
    parent = user(Role.PARENT)
    auth.login(parent)

    send_report(client, filed, FEES | {"contact": "13800138000"})

    [report] = stored(app)
    assert (report.reporter_id, report.contact) == (parent, "13800138000")


def test_report_about_unfiled_care_names_the_place_and_township(app, client, township):
    township("chendai", name="陈埭镇")

    sent = client.post(
        "/report",
        data={
            "place_name": "某小区家中看护点",
            "place_address": "陈埭镇某小区 3 栋",
            "township": "chendai",
            "category": "unfiled_care",
            "description": "有人在家中照看七八个幼儿。",
        },
    )

    assert sent.status_code == 302
    [report] = stored(app)
    assert (report.institution_id, report.place_name) == (None, "某小区家中看护点")
    with app.app_context():
        assert db.session.get(Complaint, report.id).township.code == "chendai"


@pytest.mark.parametrize("status", [Status.DRAFT, Status.UNDER_REVIEW, Status.DEREGISTERED])
def test_only_filed_institutions_can_be_reported_by_their_page(app, client, institution, status):
    hidden = institution(status=status)

    assert client.get(f"/institutions/{hidden}/report").status_code == 404
    assert client.post(f"/institutions/{hidden}/report", data=FEES).status_code == 404
    assert stored(app) == []


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"description": "x"}, "category", "Please choose what it is about."),
        ({"category": "fees"}, "description", "Please describe what happened."),
        (FEES | {"category": "unfiled_care"}, "category", "Not a valid choice."),
        (FEES | {"contact": "not a contact"}, "contact", "phone number or an e-mail"),
        (FEES | {"description": "长" * 2001}, "description", "at most 2000"),
    ],
)
def test_invalid_report_is_shown_again_with_what_was_typed(
    app, client, institution, data, field, message
):
    filed = institution()

    response = client.post(f"/institutions/{filed}/report?lang=en", data=data)

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{field}-error"' in page
    assert message in page
    if "description" in data and len(data["description"]) < 100:
        assert data["description"] in page
    assert stored(app) == []


def test_report_form_is_short_small_and_needs_no_script(client, institution):
    filed = institution()

    response = client.get(f"/institutions/{filed}/report")

    page = response.get_data(as_text=True)
    form = page[
        page.index('<form method="post"') : page.index("</form>", page.index('<form method="post"'))
    ]
    assert len(response.data) < 60_000
    assert len(re.findall(r"<(?:select|textarea|input)(?![^>]*type=\"hidden\")", form)) == 3
    assert '<label for="category">' in form
    assert '<label for="contact">' in form
    assert "<script" not in form


def test_reports_are_rate_limited_per_address(app, client, institution):
    app.config["REPORT_LIMIT_PER_IP"] = "2 per hour"
    filed = institution()

    answers = [
        client.post(f"/institutions/{filed}/report", data=FEES).status_code for _ in range(3)
    ]

    assert answers == [302, 302, 429]
    assert len(stored(app)) == 2


# --- following a report -------------------------------------------------------------------


def test_reporter_follows_the_status_with_the_number_in_any_case_and_spacing(
    app, client, institution
):
    filed = institution("晋江市小橡树托育中心")
    number = send_report(client, filed, FEES | {"contact": "parent@example.com"})

    page = status_of(client, " " + number.lower().replace("-", " ") + " ")

    assert "晋江市小橡树托育中心" in page
    assert "已收到" in page
    # What was reported and who reported it stay off the status page.
    assert FEES["description"] not in page
    assert "parent@example.com" not in page


def test_unknown_and_mistyped_numbers_look_the_same(client, institution):
    number = send_report(client, institution())
    wrong = number[:-1] + ("A" if number[-1] != "A" else "B")

    answers = {
        result_section(status_of(client, text)) for text in (wrong, "ZZZZ", "0000-1111-OOOO")
    }

    assert len(answers) == 1
    assert number not in answers.pop()


def test_status_lookups_are_rate_limited_per_address(app, client):
    app.config["REPORT_STATUS_LIMIT_PER_IP"] = "3 per 10 minutes"

    answers = [
        client.post("/report/status", data={"number": "ABCD-EFGH-JKMN"}).status_code
        for _ in range(4)
    ]

    assert answers == [200, 200, 200, 429]


# --- the bureau ---------------------------------------------------------------------------


@pytest.fixture
def regulator(app, user, auth):
    """A signed-in regulator account with an e-mail address; its id."""
    account = user(Role.REGULATOR, email="bureau@example.com")
    return account


def test_child_safety_report_tops_the_queue_and_alerts_the_regulator_at_once(
    app, client, auth, institution, regulator
):
    filed = institution()
    send_report(client, filed, FEES)
    send_report(client, filed, SAFETY)
    with app.app_context():
        mails = list(db.session.scalars(sa.select(OutboxMessage)))
    auth.login(regulator)

    page = client.get("/regulator/reports?lang=en").get_data(as_text=True)

    assert [mail.recipient for mail in mails] == ["bureau@example.com"]
    assert SAFETY["description"] not in mails[0].body  # the mail links, it does not tell
    first, second = (report.id for report in stored(app))
    assert page.index(f"Report {second}") < page.index(f"Report {first}")
    assert 'class="urgent"' in page


def test_bureau_takes_up_answers_and_closes_and_the_reporter_reads_the_answer(
    app, client, auth, institution, regulator
):
    number = send_report(client, institution())
    report_id = stored(app)[0].id
    auth.login(regulator)

    steps = [
        client.post(f"/regulator/reports/{report_id}/take-up"),
        client.post(
            f"/regulator/reports/{report_id}/answer",
            data={"answer-reply": "已约谈机构，押金已退还。"},
        ),
        client.post(f"/regulator/reports/{report_id}/close", data={}),
    ]

    assert [step.status_code for step in steps] == [302, 302, 302]
    [report] = stored(app)
    assert (report.status, report.handled_by_id) == (ReportStatus.CLOSED, regulator)
    auth.logout()
    page = status_of(client, number)
    assert "已约谈机构，押金已退还。" in page
    assert "已结束" in page


def test_bureau_sees_the_reporters_identity_and_contact(
    app, client, auth, institution, user, regulator
):
    parent = user(Role.PARENT, display_name="王家长")
    auth.login(parent)
    send_report(client, institution(), FEES | {"contact": "13800138000"})
    auth.logout()
    auth.login(regulator)

    page = client.get(f"/regulator/reports/{stored(app)[0].id}").get_data(as_text=True)

    assert "王家长" in page
    assert "13800138000" in page
    assert FEES["description"] in page


def test_a_move_from_a_state_the_report_left_changes_nothing(app, client, institution, regulator):
    send_report(client, institution())
    with app.app_context():
        report = db.session.scalar(sa.select(Complaint))
        bureau = db.session.get(User, regulator)
        complaints.close(report, bureau, None, clock.now())
        db.session.commit()

        with pytest.raises(AlreadyMoved):
            complaints.answer(report, bureau, "too late", clock.now())
        db.session.rollback()

    assert (stored(app)[0].status, stored(app)[0].reply) == (ReportStatus.CLOSED, None)


def test_answering_a_closed_report_by_the_page_says_so_and_keeps_it(
    app, client, auth, institution, regulator
):
    send_report(client, institution())
    report_id = stored(app)[0].id
    auth.login(regulator)
    client.post(f"/regulator/reports/{report_id}/close")

    late = client.post(f"/regulator/reports/{report_id}/answer", data={"answer-reply": "x"})

    assert late.status_code == 302
    assert stored(app)[0].reply is None
    page = client.get(late.location).get_data(as_text=True)
    assert "已有他人先处理了此件" in page


def test_dashboard_shows_reports_past_their_deadline_only(
    app, client, auth, institution, regulator
):
    filed = institution()
    send_report(client, filed)
    send_report(client, filed)
    late, on_time = stored(app)
    with app.app_context():
        db.session.get(Complaint, late.id).due_on = clock.today() - timedelta(days=3)
        db.session.commit()
    auth.login(regulator)

    page = client.get("/regulator/dashboard?lang=en").get_data(as_text=True)

    section = page[page.index('id="overdue-reports-heading"') :]
    assert "1 report past its answer deadline" in section
    assert f"Report {late.id}<" in section
    assert f"Report {on_time.id}<" not in section


def test_the_queue_reads_in_a_fixed_number_of_statements(
    app, client, auth, institution, regulator, count_queries
):
    app.config["REPORT_LIMIT_PER_IP"] = "100 per hour"
    filed = institution()
    auth.login(regulator)
    for _ in range(2):
        send_report(client, filed)
    with count_queries() as few:
        client.get("/regulator/reports")
    for _ in range(6):
        send_report(client, filed, SAFETY)
    with count_queries() as many:
        client.get("/regulator/reports")

    assert len(many) == len(few)


# --- both languages -----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/report", "/report/status", "/institutions/{filed}/report"])
def test_report_pages_are_in_chinese_and_in_english(client, institution, path):
    url = path.format(filed=institution())

    chinese = client.get(url + "?lang=zh_CN").get_data(as_text=True)
    english = client.get(url + "?lang=en").get_data(as_text=True)

    assert "举报" in chinese
    assert "Report" not in chinese
    assert "concern" not in chinese
    assert "Report" in english or "report" in english
    assert "举报" not in english


def test_bureau_reads_a_report_about_unfiled_care_by_the_place_named(
    app, client, auth, township, regulator
):
    township("chendai", name="陈埭镇")
    client.post(
        "/report",
        data={
            "place_name": "某小区家中看护点",
            "township": "chendai",
            "category": "child_safety",
            "description": "有人在家中照看七八个幼儿。",
        },
    )
    auth.login(regulator)

    queue = client.get("/regulator/reports").get_data(as_text=True)
    page = client.get(f"/regulator/reports/{stored(app)[0].id}").get_data(as_text=True)

    assert "某小区家中看护点" in queue
    assert "未备案" in queue
    assert "陈埭镇" in page
    assert "可能危及儿童安全" in page
