"""Supervision: random draws, recording inspections, answers, closure and what the public sees."""

import threading
from collections import Counter
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from conftest import AuthActions

from careapp import clock
from careapp.database import run_in_transaction
from careapp.extensions import db
from careapp.models import (
    CacheScope,
    CacheVersion,
    ChecklistItem,
    Finding,
    FindingSource,
    FindingStatus,
    Inspection,
    InspectionDraw,
    InspectionStatus,
    Institution,
    ItemResult,
    OutboxMessage,
    Role,
    Status,
    User,
)
from careapp.services import findings, inspections
from careapp.services.findings import FindingError
from careapp.services.inspections import FindingInput, FollowUp, InspectionError, draw_list


@pytest.fixture
def bureau(app, user):
    """Three regulator accounts: the bureau's inspectors; the first one draws and records."""
    return [user(Role.REGULATOR, display_name=f"检查员{n}") for n in range(1, 4)]


@pytest.fixture
def owner(user):
    """The institution account that keeps the inspected institution."""
    return user(Role.INSTITUTION)


@pytest.fixture
def kept(institution, owner):
    """A filed institution kept by ``owner``."""
    return institution("晋江市被检查托育园", owner_id=owner)


def _login(app, user_id: int, language: str = "en"):
    client = app.test_client()
    client.set_cookie("lang", language)
    assert AuthActions(client, app).login(user_id).status_code == 302
    return client


def _actor(user_id: int) -> User:
    return db.session.get(User, user_id)


def _plan(app, institution_id: int, inspector_ids: list[int]) -> int:
    """A planned inspection of ``institution_id`` with a team, outside a draw."""
    with app.app_context():
        inspection = Inspection(
            institution_id=institution_id,
            inspectors=[_actor(member) for member in inspector_ids],
        )
        db.session.add(inspection)
        db.session.commit()
        return inspection.id


def _results(failed=()) -> dict:
    return {
        item: ItemResult.FAILED if item in failed else ItemResult.PASSED for item in ChecklistItem
    }


def _record(app, inspection_id, bureau, inspected_on, failed=(), due_on=None) -> list[int]:
    """Record an inspection through the service; returns the ids of its findings."""
    with app.app_context():
        findings = {item: FindingInput(f"{item} 整改", due_on) for item in failed}
        recorded = inspections.record(
            inspection_id,
            _actor(bureau[0]),
            inspected_on,
            bureau[:2],
            _results(failed),
            findings,
            "",
            clock.now(),
            clock.today(),
        )
        db.session.commit()
        return [finding.id for finding in recorded.findings]


def _answer(finding_id, owner, text):
    """The institution answers the finding, as its inspections page does."""
    finding = db.session.get(Finding, finding_id)
    findings.answer(finding, _actor(owner), text, clock.now())


def _put_right(finding_id, inspector, closed_on):
    """The bureau closes the finding as put right on ``closed_on``, as its inspection page does."""
    finding = db.session.get(Finding, finding_id)
    findings.close(
        finding, _actor(inspector), FindingStatus.PUT_RIGHT, closed_on, "", clock.today()
    )


def _close(app, finding_id, bureau, closed_on):
    with app.app_context():
        _put_right(finding_id, bureau[0], closed_on)
        db.session.commit()


def _form(inspected_on: date, inspectors, failed: dict | None = None) -> dict:
    """The record form's data: every item passed except ``failed`` (item → (text, due))."""
    failed = failed or {}
    data = {"inspected_on": inspected_on.isoformat(), "inspectors": [str(i) for i in inspectors]}
    for item in ChecklistItem:
        data[f"result_{item}"] = "failed" if item in failed else "passed"
        if item in failed:
            text, due = failed[item]
            data[f"finding_{item}"] = text
            data[f"due_{item}"] = due.isoformat() if due else ""
    return data


# --- the draw -------------------------------------------------------------------------------


def test_same_seed_over_the_same_pool_draws_the_same_list():
    pool = [(i, 30 + i) for i in range(1, 41)]

    first = draw_list(20261130, 8, pool, [7, 8, 9, 10], 2)
    again = draw_list(20261130, 8, list(reversed(pool)), [10, 9, 8, 7], 2)
    other = draw_list(20261131, 8, pool, [7, 8, 9, 10], 2)

    assert first == again
    assert first != other
    assert len({line.institution_id for line in first}) == 8
    assert all(len(set(line.inspector_ids)) == 2 for line in first)


def test_draw_favours_institutions_not_inspected_for_longest():
    pool = [(1, 700), (2, 7), (3, 7), (4, 7)]

    winners = Counter(draw_list(seed, 1, pool, [1, 2], 2)[0].institution_id for seed in range(400))

    # Weight 700 against 3 × 7: drawn first about 97% of the time.
    assert winners[1] > 360


def test_draw_never_draws_more_than_the_pool():
    assert len(draw_list(1, 10, [(1, 5), (2, 5)], [1, 2], 2)) == 2


def test_weights_count_days_since_the_last_inspection_or_else_the_filing(app, bureau, institution):
    today = clock.today()
    never = institution("从未检查", filed_on=today - timedelta(days=400))
    lately = institution("刚检查过", filed_on=today - timedelta(days=400))
    institution("草稿", status=Status.DRAFT)
    _record(app, _plan(app, lately, bureau), bureau, today - timedelta(days=10))
    planned = institution("已排检查")
    _plan(app, planned, bureau)

    with app.app_context():
        pool = dict(inspections.candidate_pool(today))

    assert pool == {never: 400, lately: 10}


def test_bureau_draws_a_list_that_records_seed_size_who_when_and_reproduces(
    app, bureau, institution
):
    ids = [institution(f"托育园{n}") for n in range(6)]
    client = _login(app, bureau[0])
    with app.app_context():
        before = draw_list(4242, 3, inspections.candidate_pool(clock.today()), bureau, 2)

    response = client.post(
        "/regulator/inspections/draws", data={"size": "3", "team_size": "2", "seed": "4242"}
    )

    with app.app_context():
        record = db.session.scalar(sa.select(InspectionDraw))
        planned = db.session.scalars(sa.select(Inspection).order_by(Inspection.id)).all()
        assert response.status_code == 302
        assert response.location == f"/regulator/inspections/draws/{record.id}"
        assert (record.seed, record.size, record.team_size, record.drawn_by_id) == (
            4242,
            3,
            2,
            bureau[0],
        )
        assert record.drawn_on == clock.today()
        assert record.result == [line.as_json() for line in before]
        assert {i for i, _w in record.pool["institutions"]} == set(ids)
        assert [p.institution_id for p in planned] == [line.institution_id for line in before]
        assert all(len(p.inspectors) == 2 and p.status == "planned" for p in planned)
        assert inspections.reproduces(record)
    page = client.get(f"/regulator/inspections/draws/{record.id}")
    assert page.status_code == 200
    assert b"4242" in page.data
    assert b"The same seed over the same pool gives the same list." in page.data


def test_a_planned_institution_is_not_drawn_again_until_recorded(app, bureau, institution):
    only = institution("唯一的托育园")
    client = _login(app, bureau[0])

    first = client.post("/regulator/inspections/draws", data={"size": "1", "team_size": "2"})
    second = client.post("/regulator/inspections/draws", data={"size": "1", "team_size": "2"})

    assert first.status_code == 302
    assert second.status_code == 400
    assert b"No filed institution is waiting for an inspection." in second.data
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Inspection.id))) == 1
        assert db.session.scalar(sa.select(Inspection.institution_id)) == only


def test_two_planned_inspections_of_one_institution_are_refused_by_the_database(app, bureau, kept):
    _plan(app, kept, bureau)

    with pytest.raises(sa.exc.IntegrityError):
        _plan(app, kept, bureau)


def test_draw_needs_two_inspectors(app, user, institution):
    lonely = user(Role.REGULATOR)
    institution()
    client = _login(app, lonely)

    response = client.post("/regulator/inspections/draws", data={"size": "1", "team_size": "2"})

    assert response.status_code == 400
    assert b"There are only 1 inspectors: too few for teams of 2." in response.data
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(InspectionDraw.id))) == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"size": "0", "team_size": "2"}, b"Please enter a number from 1 to 50."),
        ({"size": "3", "team_size": "1"}, b"Please enter a number from 2 to 5."),
        ({"size": "", "team_size": "2"}, b"Please enter how many institutions to draw."),
        ({"size": "3", "team_size": "2", "seed": "-1"}, b"Please enter a number from 0 to"),
    ],
)
def test_draw_form_refuses_bad_numbers_and_keeps_what_was_typed(
    app, bureau, institution, data, message
):
    institution()
    client = _login(app, bureau[0])

    response = client.post("/regulator/inspections/draws", data=data)

    assert response.status_code == 400
    assert message in response.data
    assert f'value="{data["size"]}"'.encode() in response.data or not data["size"]


# --- recording --------------------------------------------------------------------------------


def test_recording_needs_a_finding_and_deadline_for_each_failed_item(app, bureau, kept):
    inspection_id = _plan(app, kept, bureau)
    client = _login(app, bureau[0])
    yesterday = clock.today() - timedelta(days=1)

    response = client.post(
        f"/regulator/inspections/{inspection_id}/record",
        data=_form(yesterday, bureau[:2], {ChecklistItem.FIRE: ("", None)}),
    )

    assert response.status_code == 400
    assert b"Please describe what must be put right." in response.data
    assert b"Please enter the deadline." in response.data
    with app.app_context():
        assert db.session.get(Inspection, inspection_id).status == InspectionStatus.PLANNED


def test_recording_needs_two_inspectors(app, bureau, kept):
    inspection_id = _plan(app, kept, bureau)
    client = _login(app, bureau[0])

    response = client.post(
        f"/regulator/inspections/{inspection_id}/record",
        data=_form(clock.today(), bureau[:1]),
    )

    assert response.status_code == 400
    assert b"Please choose at least 2 inspectors." in response.data


def test_bureau_records_an_inspection_with_findings_and_the_institution_is_told(app, bureau, kept):
    inspection_id = _plan(app, kept, bureau)
    client = _login(app, bureau[0])
    today = clock.today()
    with app.app_context():
        before = db.session.get(CacheVersion, str(CacheScope.REGISTER))
        before = before.version if before else 0

    response = client.post(
        f"/regulator/inspections/{inspection_id}/record",
        data=_form(
            today - timedelta(days=2),
            bureau[1:3],
            {
                ChecklistItem.CCTV: ("午睡室无监控", today + timedelta(days=20)),
                ChecklistItem.DRILLS: ("本学期未开展消防演练", today + timedelta(days=30)),
            },
        ),
    )

    assert response.status_code == 302
    assert response.location == f"/regulator/inspections/{inspection_id}"
    with app.app_context():
        recorded = db.session.get(Inspection, inspection_id)
        assert recorded.status == InspectionStatus.RECORDED
        assert recorded.inspected_on == today - timedelta(days=2)
        assert [user.id for user in recorded.inspectors] == bureau[1:3]
        assert len(recorded.results) == len(ChecklistItem)
        assert [(f.item, f.status) for f in recorded.findings] == [
            (ChecklistItem.CCTV, FindingStatus.OPEN),
            (ChecklistItem.DRILLS, FindingStatus.OPEN),
        ]
        assert not recorded.passed
        mail = db.session.scalar(sa.select(OutboxMessage))
        assert "2" in mail.body
        assert db.session.get(CacheVersion, str(CacheScope.REGISTER)).version > before
    page = client.get(f"/regulator/inspections/{inspection_id}")
    assert "午睡室无监控" in page.get_data(as_text=True)


def test_an_inspection_is_recorded_once_only(app, bureau, kept):
    inspection_id = _plan(app, kept, bureau)
    _record(app, inspection_id, bureau, clock.today())

    with app.app_context(), pytest.raises(InspectionError):
        inspections.record(
            inspection_id,
            _actor(bureau[0]),
            clock.today(),
            bureau[:2],
            _results(),
            {},
            "",
            clock.now(),
            clock.today(),
        )
    client = _login(app, bureau[0])
    response = client.get(f"/regulator/inspections/{inspection_id}/record")
    assert response.location == f"/regulator/inspections/{inspection_id}"


def test_inspection_date_cannot_be_in_the_future(app, bureau, kept):
    inspection_id = _plan(app, kept, bureau)

    with pytest.raises(InspectionError):
        _record(app, inspection_id, bureau, clock.today() + timedelta(days=1))


# --- answers and closure -------------------------------------------------------------------


def test_institution_answers_its_finding_and_another_institution_cannot(
    app, bureau, kept, owner, user, institution
):
    today = clock.today()
    [finding] = _record(app, _plan(app, kept, bureau), bureau, today, [ChecklistItem.FOOD], today)
    stranger = user(Role.INSTITUTION)
    theirs = institution("别人的托育园", owner_id=stranger)
    client = _login(app, owner)

    page = client.get(f"/institutions/{kept}/inspections")
    empty = client.post(
        f"/institutions/{kept}/inspections/findings/{finding}/answer",
        data={f"answer-{finding}-answer": "  "},
    )
    answered = client.post(
        f"/institutions/{kept}/inspections/findings/{finding}/answer",
        data={f"answer-{finding}-answer": "已补办食品经营许可证"},
    )
    intruder = _login(app, stranger)
    foreign = intruder.post(
        f"/institutions/{theirs}/inspections/findings/{finding}/answer",
        data={f"answer-{finding}-answer": "冒名"},
    )

    assert page.status_code == 200
    assert f"{ChecklistItem.FOOD} 整改" in page.get_data(as_text=True)
    assert empty.status_code == 400
    assert b"Please say what you did." in empty.data
    assert answered.status_code == 302
    assert foreign.status_code == 404
    assert intruder.get(f"/institutions/{kept}/inspections").status_code == 404
    with app.app_context():
        stored = db.session.get(Finding, finding)
        assert (stored.status, stored.answer, stored.answered_by_id) == (
            FindingStatus.ANSWERED,
            "已补办食品经营许可证",
            owner,
        )


def test_a_closed_finding_cannot_be_answered_or_closed_again(app, bureau, kept, owner):
    today = clock.today()
    [finding] = _record(app, _plan(app, kept, bureau), bureau, today, [ChecklistItem.FIRE], today)
    _close(app, finding, bureau, today)

    with app.app_context():
        with pytest.raises(FindingError):
            _answer(finding, owner, "晚了")
        with pytest.raises(FindingError):
            _put_right(finding, bureau[0], today)
        assert db.session.get(Finding, finding).status == FindingStatus.PUT_RIGHT


@pytest.mark.parametrize(
    ("closed_after_days", "in_time", "follow_up"),
    [(5, True, FollowUp.IN_TIME), (10, True, FollowUp.IN_TIME), (11, False, FollowUp.LATE)],
)
def test_closing_a_finding_records_whether_it_was_put_right_in_time(
    app, bureau, kept, closed_after_days, in_time, follow_up
):
    inspected = clock.today() - timedelta(days=30)
    due = inspected + timedelta(days=10)
    inspection_id = _plan(app, kept, bureau)
    [finding] = _record(app, inspection_id, bureau, inspected, [ChecklistItem.RATIOS], due)
    client = _login(app, bureau[0])

    response = client.post(
        f"/regulator/inspections/{inspection_id}/findings/{finding}/close",
        data={
            f"close-{finding}-closed_on": (
                inspected + timedelta(days=closed_after_days)
            ).isoformat()
        },
    )

    assert response.status_code == 302
    with app.app_context():
        stored = db.session.get(Finding, finding)
        assert stored.status == FindingStatus.PUT_RIGHT
        assert stored.closed_in_time is in_time
        [summary] = inspections.public_summary(
            db.session.get(Inspection, inspection_id).institution, clock.today()
        )
        assert summary.follow_up == follow_up


def test_closing_refuses_a_date_before_the_inspection_or_in_the_future(app, bureau, kept):
    inspected = clock.today() - timedelta(days=3)
    inspection_id = _plan(app, kept, bureau)
    [finding] = _record(app, inspection_id, bureau, inspected, [ChecklistItem.SAFETY], inspected)
    client = _login(app, bureau[0])

    early = client.post(
        f"/regulator/inspections/{inspection_id}/findings/{finding}/close",
        data={f"close-{finding}-closed_on": (inspected - timedelta(days=1)).isoformat()},
    )
    future = client.post(
        f"/regulator/inspections/{inspection_id}/findings/{finding}/close",
        data={f"close-{finding}-closed_on": (clock.today() + timedelta(days=1)).isoformat()},
    )
    wrong_inspection = client.post(
        f"/regulator/inspections/{inspection_id + 1}/findings/{finding}/close",
        data={f"close-{finding}-closed_on": clock.today().isoformat()},
    )

    assert early.status_code == future.status_code == 302
    assert wrong_inspection.status_code == 404
    with app.app_context():
        assert db.session.get(Finding, finding).status == FindingStatus.OPEN


# --- what the dashboard and the public see ------------------------------------------------


def test_overdue_findings_show_on_the_dashboard_until_closed(app, bureau, kept):
    today = clock.today()
    inspection_id = _plan(app, kept, bureau)
    overdue, pending = _record(
        app,
        inspection_id,
        bureau,
        today - timedelta(days=40),
        [ChecklistItem.FIRE, ChecklistItem.PICK_UP],
        today - timedelta(days=1),
    )
    with app.app_context():
        db.session.get(Finding, pending).due_on = today + timedelta(days=5)
        db.session.commit()
    client = _login(app, bureau[0])

    before = client.get("/regulator/dashboard").get_data(as_text=True)
    _close(app, overdue, bureau, today)
    after = client.get("/regulator/dashboard").get_data(as_text=True)

    assert "Overdue inspection findings" in before
    assert "晋江市被检查托育园" in before
    assert "Fire safety" in before
    assert "Pick-up rules" not in before
    assert "No finding is past its deadline." in after


def test_public_page_shows_date_result_and_follow_up_but_no_details(app, bureau, kept, client):
    today = clock.today()
    _record(
        app,
        _plan(app, kept, bureau),
        bureau,
        today - timedelta(days=60),
        [ChecklistItem.CCTV],
        today - timedelta(days=30),
    )
    second = _plan(app, kept, bureau)
    _record(app, second, bureau, today - timedelta(days=5))
    client.set_cookie("lang", "en")

    page = client.get(f"/institutions/{kept}").get_data(as_text=True)

    assert "Inspections by the county health bureau" in page
    assert (today - timedelta(days=60)).isoformat() in page
    assert "Findings not put right by the deadline" in page
    assert "Nothing to put right" in page
    assert f"{ChecklistItem.CCTV} 整改" not in page


def test_an_inspection_finding_is_never_a_public_notice_nor_a_follow_up_finding(
    app, bureau, kept, owner, client
):
    today = clock.today()
    inspection_id = _plan(app, kept, bureau)
    [finding] = _record(
        app, inspection_id, bureau, today - timedelta(days=3), [ChecklistItem.FOOD], today
    )
    client.set_cookie("lang", "en")

    public = client.get(f"/institutions/{kept}").get_data(as_text=True)
    registry = client.get("/registry").get_data(as_text=True)
    as_follow_up = _login(app, owner).get(f"/institutions/{kept}/findings/{finding}")

    assert f"{ChecklistItem.FOOD} 整改" not in public
    assert f"{ChecklistItem.FOOD} 整改" not in registry
    assert as_follow_up.status_code == 404
    with app.app_context():
        stored = db.session.get(Finding, finding)
        assert (stored.source, stored.institution_id, stored.inspection_id) == (
            FindingSource.INSPECTION,
            kept,
            inspection_id,
        )
        assert stored.found_on == today - timedelta(days=3)
        assert stored.recorded_by_id == bureau[0]
        assert findings.public_notices() == []


def test_public_page_cache_is_renewed_when_a_finding_is_closed(app, bureau, kept, client):
    today = clock.today()
    [finding] = _record(
        app,
        _plan(app, kept, bureau),
        bureau,
        today - timedelta(days=20),
        [ChecklistItem.STAFF_HEALTH],
        today - timedelta(days=2),
    )
    client.set_cookie("lang", "en")
    assert "not put right by the deadline" in client.get(f"/institutions/{kept}").get_data(True)

    _close(app, finding, bureau, today)

    assert "All findings put right, some late" in client.get(f"/institutions/{kept}").get_data(True)


def test_public_summary_is_empty_for_an_institution_that_is_not_filed(app, bureau, kept):
    _record(app, _plan(app, kept, bureau), bureau, clock.today())
    with app.app_context():
        found = inspections.inspection_details(1).institution
        found.status = Status.DEREGISTERED

        assert inspections.public_summary(found, clock.today()) == []


def test_inspection_pages_are_hidden_from_parents_other_roles_and_anonymous(
    app, bureau, kept, user
):
    inspection_id = _plan(app, kept, bureau)
    _record(app, inspection_id, bureau, clock.today(), [ChecklistItem.FOOD], clock.today())
    anonymous = app.test_client()
    parent = _login(app, user(Role.PARENT))

    assert anonymous.get(f"/regulator/inspections/{inspection_id}").status_code == 302
    assert parent.get(f"/regulator/inspections/{inspection_id}").status_code == 403
    assert parent.get(f"/institutions/{kept}/inspections").status_code == 403
    assert anonymous.get(f"/institutions/{kept}/inspections").status_code == 302


# --- both languages, size, query counts ---------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected", "absent"),
    [
        ("zh_CN", "监督检查", "Inspections by the county health bureau"),
        ("en", "Inspections by the county health bureau", "监督检查"),
    ],
)
def test_public_inspection_section_follows_the_language(
    app, bureau, kept, client, language, expected, absent
):
    _record(app, _plan(app, kept, bureau), bureau, clock.today())
    client.set_cookie("lang", language)

    page = client.get(f"/institutions/{kept}").get_data(as_text=True)

    assert expected in page
    assert absent not in page


ENGLISH_OF_THE_DESK = (
    "Draw institutions and inspectors at random",
    "Record the inspection",
    "Checklist",
    "Fire safety",
    "Passed",
    "Put right by",
)


@pytest.mark.parametrize("path", ["/regulator/inspections", "/regulator/inspections/{id}/record"])
def test_regulator_pages_are_chinese_without_english_leaking(app, bureau, kept, path):
    inspection_id = _plan(app, kept, bureau)
    client = _login(app, bureau[0], "zh_CN")

    response = client.get(path.format(id=inspection_id))
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    assert '<html lang="zh-CN"' in page
    assert [text for text in ENGLISH_OF_THE_DESK if text in page] == []
    assert len(response.data) < 60_000


def test_institution_page_is_chinese_and_small(app, bureau, kept, owner):
    _record(
        app,
        _plan(app, kept, bureau),
        bureau,
        clock.today(),
        list(ChecklistItem),
        clock.today() + timedelta(days=10),
    )
    client = _login(app, owner, "zh_CN")

    response = client.get(f"/institutions/{kept}/inspections")
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "消防安全" in page
    assert "What you did to put it right" not in page
    assert len(response.data) < 60_000


def test_desk_lists_do_not_query_per_inspection(app, bureau, institution, count_queries):
    for n in range(6):
        inspection_id = _plan(app, institution(f"托育园{n}"), bureau)
        if n % 2:
            _record(app, inspection_id, bureau, clock.today(), [ChecklistItem.FIRE], clock.today())
    client = _login(app, bureau[0])
    client.get("/regulator/inspections")

    with count_queries() as statements:
        assert client.get("/regulator/inspections").status_code == 200

    assert len(statements) <= 14


# --- at the same moment ---------------------------------------------------------------------

RACE_ROUNDS = 5


def _race(app, *works):
    """Run each ``work`` in its own thread and connection, released together; each work
    runs in one transaction. Returns "done", "refused" or the error of each."""
    start_line = threading.Barrier(len(works), timeout=60)
    outcomes = ["did not finish"] * len(works)

    def attempt(index, work):
        with app.app_context():
            try:
                start_line.wait()
                run_in_transaction(work)
                outcomes[index] = "done"
            except (InspectionError, FindingError):
                outcomes[index] = "refused"
            except Exception as error:  # noqa: BLE001 - anything else is a finding
                outcomes[index] = f"{type(error).__name__}: {error}"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=pair) for pair in enumerate(works)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(outcomes)


def test_two_bureau_staff_recording_one_inspection_at_once_record_it_once(app, bureau, institution):
    today = clock.today()
    for n in range(RACE_ROUNDS):
        inspection_id = _plan(app, institution(f"同时录入{n}"), bureau)

        def write_up(recorder, failed, inspection_id=inspection_id):
            return lambda: inspections.record(
                inspection_id,
                _actor(recorder),
                today,
                bureau[:2],
                _results(failed),
                {item: FindingInput("整改", today) for item in failed},
                "",
                clock.now(),
                today,
            )

        outcomes = _race(app, write_up(bureau[0], ()), write_up(bureau[1], (ChecklistItem.FOOD,)))

        assert outcomes == ["done", "refused"]
        with app.app_context():
            recorded = db.session.get(Inspection, inspection_id)
            findings = len(recorded.findings)
            assert len(recorded.results) == len(ChecklistItem)
            assert findings == (0 if recorded.recorded_by_id == bureau[0] else 1)


def test_an_answer_and_a_closure_at_once_never_leave_a_closed_finding_open(
    app, bureau, kept, owner
):
    today = clock.today()
    for _round in range(RACE_ROUNDS):
        [finding] = _record(
            app, _plan(app, kept, bureau), bureau, today, [ChecklistItem.FIRE], today
        )
        outcomes = _race(
            app,
            lambda f=finding: _answer(f, owner, "已整改"),
            lambda f=finding: _put_right(f, bureau[0], today),
        )

        with app.app_context():
            stored = db.session.get(Finding, finding)
            assert stored.status == FindingStatus.PUT_RIGHT
            assert outcomes in (["done", "done"], ["done", "refused"])
            assert (stored.answer == "已整改") is (outcomes == ["done", "done"])


def test_two_draws_at_once_never_plan_one_institution_twice(app, bureau, institution):
    for n in range(3):
        institution(f"同时抽取{n}")
    client = _login(app, bureau[0])
    assert client.get("/regulator/inspections").status_code == 200

    outcomes = _race(
        app,
        lambda: inspections.draw(_actor(bureau[0]), 3, 2, 1, clock.today()),
        lambda: inspections.draw(_actor(bureau[1]), 3, 2, 2, clock.today()),
    )

    with app.app_context():
        planned = db.session.scalars(sa.select(Inspection.institution_id)).all()
        assert len(planned) == len(set(planned)) == 3
        # The loser is refused (SQLite: it drew after the winner, from an empty pool) or
        # stopped by the one-planned index (PostgreSQL: it drew at the same time).
        done = [outcome for outcome in outcomes if outcome == "done"]
        lost = [outcome for outcome in outcomes if outcome != "done"]
        assert len(done) == 1
        assert lost == ["refused"] or lost[0].startswith("IntegrityError")


def test_bureau_plans_one_inspection_by_filing_number(app, bureau, kept):
    with app.app_context():
        number = db.session.get(Institution, kept).filing_number
    client = _login(app, bureau[0])

    planned = client.post("/regulator/inspections/plan", data={"filing_number": f" {number} "})
    again = client.post("/regulator/inspections/plan", data={"filing_number": number})
    unknown = client.post("/regulator/inspections/plan", data={"filing_number": "JJ-NO-SUCH"})

    with app.app_context():
        inspection_id = db.session.scalar(sa.select(Inspection.id))
    assert planned.status_code == 302
    assert planned.location == f"/regulator/inspections/{inspection_id}/record"
    assert again.status_code == 400
    assert b"An inspection of this institution is planned already." in again.data
    assert unknown.status_code == 400
    assert b"No filed institution has this filing number." in unknown.data
    assert b'value="JJ-NO-SUCH"' in unknown.data


def test_a_draw_beaten_by_another_at_the_same_moment_answers_409_and_keeps_nothing(
    app, bureau, institution, monkeypatch
):
    institution()

    def beaten(*_args):
        raise sa.exc.IntegrityError("INSERT", {}, Exception("ix_inspections_one_planned"))

    monkeypatch.setattr(inspections, "draw", beaten)
    client = _login(app, bureau[0])

    response = client.post("/regulator/inspections/draws", data={"size": "1", "team_size": "2"})

    assert response.status_code == 409
    assert b"Another draw was made at the same moment." in response.data


def test_record_form_refuses_a_future_date_and_keeps_what_was_typed(app, bureau, kept):
    inspection_id = _plan(app, kept, bureau)
    client = _login(app, bureau[0])
    tomorrow = clock.today() + timedelta(days=1)

    response = client.post(
        f"/regulator/inspections/{inspection_id}/record",
        data=_form(tomorrow, bureau[:2], {ChecklistItem.FOOD: ("厨房无留样", tomorrow)}),
    )

    assert response.status_code == 400
    assert b"The inspection date cannot be in the future." in response.data
    assert "厨房无留样" in response.get_data(as_text=True)
