"""The 15-working-day follow-up after filing (告知承诺) and the bureau's 5-working-day answer.

Under the national 托育机构登记和备案办法（试行） the bureau files within 5 working days of complete
materials; a problem it finds within 15 working days of filing is told to the institution and
published. Working days are China's: holidays off, make-up days on.
"""

import re
from datetime import UTC, date, datetime, time, timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from careapp import clock
from careapp.extensions import db
from careapp.models import (
    Finding,
    FindingSource,
    FindingStatus,
    Institution,
    OutboxMessage,
    Role,
    Status,
    User,
)
from careapp.services import findings
from careapp.working_days import add_working_days, working_days_between

FINDING = "消防通道堆放杂物，未保持畅通"
ANSWER = "已清理消防通道，并安排专人每日检查"


def text(response) -> str:
    """The page as plain text, tags removed and spaces collapsed."""
    html = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def working_days_before(day: date, count: int) -> date:
    """The day from which ``day`` is exactly ``count`` working days later."""
    start = day
    while working_days_between(start, day) < count:
        start -= timedelta(days=1)
    while working_days_between(start - timedelta(days=1), day) == count:
        start -= timedelta(days=1)
    return start


@pytest.fixture
def regulator(user):
    """A county health bureau account."""
    return user(Role.REGULATOR, display_name="晋江市卫健局")


@pytest.fixture
def owner(user):
    """An institution account."""
    return user(Role.INSTITUTION, display_name="向阳花托育")


@pytest.fixture
def filed(institution, owner):
    """Factory: an institution of ``owner`` filed ``working_days`` working days ago."""

    def make(working_days: int = 3) -> int:
        filed_on = working_days_before(clock.today(), working_days)
        return institution(
            "向阳花托育园", name_en="Sunflower Care", owner_id=owner, filed_on=filed_on
        )

    return make


@pytest.fixture
def act_as(client, auth):
    """Switch ``client`` (reading English) to another account."""
    client.set_cookie("lang", "en")

    def switch(user_id: int):
        auth.logout()
        assert auth.login(user_id).status_code == 302
        return client

    return switch


def finding_form(deadline: date, finding: str = FINDING) -> dict:
    """The regulator's finding form."""
    return {"finding-finding": finding, "finding-put_right_by": deadline.isoformat()}


def record(app, institution_id: int, regulator: int, today: date, deadline: date):
    """Record a finding through the service; returns its id."""
    with app.test_request_context("/?lang=en"):
        found = db.session.get(Institution, institution_id)
        made = findings.record_follow_up(
            found, db.session.get(User, regulator), FINDING, deadline, today
        )
        db.session.commit()
        return made.id


def finding_status(app, finding_id: int) -> str:
    with app.app_context():
        return str(db.session.get(Finding, finding_id).status)


# --- the window: 15 working days of filing ------------------------------------------------


@pytest.mark.parametrize(
    ("working_days", "allowed"),
    [
        pytest.param(0, True, id="the-filing-day"),
        pytest.param(15, True, id="the-15th-working-day"),
        pytest.param(16, False, id="the-16th-working-day"),
    ],
)
def test_a_finding_can_be_recorded_only_within_15_working_days_of_filing(
    app, filed, regulator, working_days, allowed
):
    institution_id = filed(working_days)
    today = clock.today()

    with app.test_request_context("/?lang=en"):
        found = db.session.get(Institution, institution_id)
        actor = db.session.get(User, regulator)
        if allowed:
            findings.record_follow_up(found, actor, FINDING, today + timedelta(days=10), today)
        else:
            with pytest.raises(findings.FindingError):
                findings.record_follow_up(found, actor, FINDING, today + timedelta(days=10), today)
        db.session.commit()
        count = db.session.scalar(sa.select(sa.func.count(Finding.id)))

    assert count == (1 if allowed else 0)


def test_the_follow_up_window_counts_chinas_working_days_not_weekdays(app, institution):
    # Filed the day before the 2026 National Day holiday: its days off do not count, the
    # make-up Saturday does.
    institution_id = institution("国庆前备案托育园", filed_on=date(2026, 9, 30))

    with app.app_context():
        deadline = findings.follow_up_deadline(db.session.get(Institution, institution_id))

    assert deadline == add_working_days(date(2026, 9, 30), 15)
    assert deadline > fifteen_weekdays_after(date(2026, 9, 30))


def fifteen_weekdays_after(day: date) -> date:
    """Where 15 working days would end if only Saturdays and Sundays were off."""
    counted = 0
    while counted < 15:
        day += timedelta(days=1)
        counted += day.weekday() < 5
    return day


@pytest.mark.parametrize("status", [s for s in Status if s != Status.FILED], ids=str)
def test_only_a_filed_institution_gets_a_finding(app, institution, regulator, status):
    institution_id = institution("未备案托育园", status=status, filed_on=clock.today())
    today = clock.today()

    with app.test_request_context("/?lang=en"):
        found = db.session.get(Institution, institution_id)
        with pytest.raises(findings.FindingError):
            findings.record_follow_up(
                found, db.session.get(User, regulator), FINDING, today + timedelta(days=5), today
            )
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(Finding.id))) == 0


# --- the whole follow-up through the pages ------------------------------------------------


def test_finding_is_told_published_answered_and_closed(
    app, client, act_as, filed, owner, regulator
):
    institution_id = filed(2)
    today = clock.today()
    deadline = today + timedelta(days=14)
    visitor = app.test_client()
    visitor.set_cookie("lang", "en")

    reviewer = act_as(regulator)
    review = text(reviewer.get(f"/regulator/institutions/{institution_id}"))
    assert "Record a finding" in review
    assert findings.FOLLOW_UP_WORKING_DAYS == 15
    recorded = reviewer.post(
        f"/regulator/institutions/{institution_id}/findings", data=finding_form(deadline)
    )

    assert recorded.status_code == 302
    with app.app_context():
        finding = db.session.scalar(sa.select(Finding))
        finding_id = finding.id
        told = db.session.scalars(
            sa.select(OutboxMessage).where(
                OutboxMessage.recipient == db.session.get(User, owner).email
            )
        ).all()
    assert finding.status == FindingStatus.OPEN
    assert (finding.source, finding.inspection_id, finding.item) == (
        FindingSource.FOLLOW_UP,
        None,
        None,
    )
    assert finding.found_on == today
    assert finding.due_on == deadline
    assert [message.subject for message in told] == ["县卫生健康局核查发现向阳花托育园存在问题"]
    assert FINDING in told[0].body
    assert deadline.isoformat() in told[0].body
    public = text(visitor.get(f"/institutions/{institution_id}"))
    assert "Notices of the county health bureau" in public
    assert FINDING in public
    assert f"To be put right by {deadline.isoformat()}." in public
    assert FINDING in text(visitor.get("/registry"))

    institution_client = act_as(owner)
    status_page = text(institution_client.get(f"/institutions/{institution_id}/status"))
    assert f"Put right by {deadline.isoformat()}" in status_page
    empty = institution_client.post(
        f"/institutions/{institution_id}/findings/{finding_id}", data={"answer": " "}
    )
    assert empty.status_code == 400
    assert "Please say what you did." in text(empty)
    answered = institution_client.post(
        f"/institutions/{institution_id}/findings/{finding_id}", data={"answer": ANSWER}
    )
    assert answered.status_code == 302
    assert finding_status(app, finding_id) == "answered"

    reviewer = act_as(regulator)
    assert ANSWER in text(reviewer.get(f"/regulator/institutions/{institution_id}"))
    assert "向阳花托育园" in text(reviewer.get("/regulator/"))
    closed = reviewer.post(
        f"/regulator/institutions/{institution_id}/findings/{finding_id}/close",
        data={f"close-{finding_id}-outcome": "put_right", f"close-{finding_id}-note": "复查合格"},
    )

    assert closed.status_code == 302
    assert finding_status(app, finding_id) == "put_right"
    public = text(visitor.get(f"/institutions/{institution_id}"))
    assert f"Put right ({today.isoformat()}): 复查合格" in public


def test_finding_form_keeps_what_was_typed_and_says_what_is_wrong(app, act_as, filed, regulator):
    institution_id = filed(1)
    reviewer = act_as(regulator)

    empty = reviewer.post(
        f"/regulator/institutions/{institution_id}/findings",
        data={"finding-finding": "", "finding-put_right_by": ""},
    )
    today_deadline = reviewer.post(
        f"/regulator/institutions/{institution_id}/findings",
        data=finding_form(clock.today()),
    )

    assert empty.status_code == 400
    assert "Please say what was found." in text(empty)
    assert today_deadline.status_code == 302
    assert "The deadline to put it right must be after today." in text(
        reviewer.get(today_deadline.location)
    )
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Finding.id))) == 0


def test_the_form_is_gone_once_the_window_has_passed(app, act_as, filed, regulator):
    institution_id = filed(16)
    reviewer = act_as(regulator)

    page = text(reviewer.get(f"/regulator/institutions/{institution_id}"))
    refused = reviewer.post(
        f"/regulator/institutions/{institution_id}/findings",
        data=finding_form(clock.today() + timedelta(days=9)),
    )

    assert "The follow-up period of this filing has ended." in page
    assert "Record a finding" not in page
    assert refused.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Finding.id))) == 0


# --- compare-and-set ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "second",
    [
        pytest.param(FindingStatus.PUT_RIGHT, id="close-again"),
        pytest.param(None, id="answer"),
    ],
)
def test_a_closed_finding_cannot_be_closed_or_answered_again(app, filed, owner, regulator, second):
    institution_id = filed(1)
    today = clock.today()
    finding_id = record(app, institution_id, regulator, today, today + timedelta(days=5))
    with app.test_request_context("/?lang=en"):
        # A second page opened before the first decision still holds the open finding.
        stale = db.session.get(Finding, finding_id)
        actor = db.session.get(User, regulator)
        assert stale.is_open
        with app.test_request_context("/?lang=en"):
            first = db.session.get(Finding, finding_id)
            findings.close(
                first,
                db.session.get(User, regulator),
                FindingStatus.NOT_PUT_RIGHT,
                today,
                "",
                today,
            )
            db.session.commit()
        if second is None:
            answerer = db.session.get(User, owner)
            with pytest.raises(findings.FindingError):
                findings.answer(stale, answerer, ANSWER, clock.now())
        else:
            with pytest.raises(findings.FindingError):
                findings.close(stale, actor, second, today, "", today)
        db.session.rollback()

    assert finding_status(app, finding_id) == "not_put_right"


def test_another_institutions_finding_is_not_found(app, client, act_as, filed, user, regulator):
    institution_id = filed(1)
    finding_id = record(
        app, institution_id, regulator, clock.today(), clock.today() + timedelta(days=5)
    )
    stranger = user(Role.INSTITUTION)

    response = act_as(stranger).get(f"/institutions/{institution_id}/findings/{finding_id}")

    assert response.status_code == 404


def test_a_follow_up_finding_is_not_answered_as_an_inspection_finding(
    app, act_as, filed, owner, regulator
):
    institution_id = filed(1)
    finding_id = record(
        app, institution_id, regulator, clock.today(), clock.today() + timedelta(days=5)
    )

    response = act_as(owner).post(
        f"/institutions/{institution_id}/inspections/findings/{finding_id}/answer",
        data={f"answer-{finding_id}-answer": ANSWER},
    )

    assert response.status_code == 404
    assert finding_status(app, finding_id) == "open"


def test_a_late_finding_is_flagged_for_the_bureau(app, act_as, filed, regulator):
    institution_id = filed(3)
    today = clock.today()
    finding_id = record(app, institution_id, regulator, today, today + timedelta(days=1))
    with app.app_context():
        db.session.get(Finding, finding_id).due_on = today - timedelta(days=1)
        db.session.get(Finding, finding_id).found_on = today - timedelta(days=2)
        db.session.commit()

    home = text(act_as(regulator).get("/regulator/"))

    assert "1 follow-up finding open" in home
    assert "Over the limit" in home


# --- the 5-working-day answer ----------------------------------------------------------------


def test_the_review_queue_shows_when_the_answer_is_due(app, act_as, institution, regulator):
    submitted_on = working_days_before(clock.today(), 7)
    institution_id = institution(
        "逾期托育园",
        status=Status.UNDER_REVIEW,
        submitted_at=datetime.combine(submitted_on, time(10), tzinfo=UTC),
    )
    due = add_working_days(submitted_on, 5).isoformat()
    reviewer = act_as(regulator)

    home = text(reviewer.get("/regulator/"))
    review = text(reviewer.get(f"/regulator/institutions/{institution_id}"))
    dashboard = text(reviewer.get("/regulator/dashboard"))

    assert "Answer due" in home
    assert due in home
    assert "Over the limit" in home
    assert f"Answer due by {due}." in review
    assert due in dashboard


# --- both languages ----------------------------------------------------------------------------


def test_the_public_notice_reads_chinese_on_a_chinese_page(app, filed, regulator):
    institution_id = filed(1)
    today = clock.today()
    record(app, institution_id, regulator, today, today + timedelta(days=5))
    visitor = app.test_client()
    visitor.set_cookie("lang", "zh_CN")

    page = text(visitor.get(f"/institutions/{institution_id}"))
    registry = text(visitor.get("/registry"))

    assert "卫生健康" in page or "卫健" in page
    for english in ("Notices of the county health bureau", "Follow-up finding", "Put right by"):
        assert english not in page
        assert english not in registry
    assert FINDING in page
    assert FINDING in registry
