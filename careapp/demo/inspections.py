"""Demo supervision: two more inspectors, a few recorded inspections and a month's draw."""

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from careapp.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
from careapp.extensions import db
from careapp.models import (
    ChecklistItem,
    Finding,
    FindingStatus,
    Inspection,
    Institution,
    ItemResult,
    Role,
    Status,
    User,
)
from careapp.services import findings, inspections
from careapp.services.accounts import create_user, find_user
from careapp.services.inspections import FindingInput

#: The bureau's inspectors besides the demo regulator account (an inspection needs two).
DEMO_INSPECTORS = (
    ("inspector1@example.com", "陈志明（卫健局）"),
    ("inspector2@example.com", "林晓燕（消防救援大队）"),
)
#: The seed of the demo month's draw, so that every demo database draws the same list.
DEMO_SEED = 20261130


def seed_inspections(today: date) -> dict[str, int]:
    """Add the demo inspections once: a passed one, one put right late, one overdue, a draw."""
    counts: Counter[str] = Counter(inspections=0)
    if db.session.scalar(sa.select(Inspection.id).limit(1)) is not None:
        return dict(counts)
    team = _inspectors()
    filed = _filed_institutions()
    if len(filed) < 3:
        return dict(counts)
    lead = team[0]
    _overdue(filed[0], team, today)
    _passed(filed[1], team, today)
    _late(filed[2], team, today)
    drawn = inspections.draw(lead, 3, 2, DEMO_SEED, today)
    counts["inspections"] = 3 + len(drawn.inspections)
    return dict(counts)


def _inspectors() -> list[User]:
    """The demo regulator account and the two demo inspectors, made when missing."""
    regulator = find_user(DEMO_ACCOUNTS[Role.REGULATOR][0])
    team = [regulator]
    for email, name in DEMO_INSPECTORS:
        found = find_user(email)
        if found is None:
            found = create_user(
                email=email, password=DEMO_PASSWORD, role=Role.REGULATOR, display_name=name
            )
        team.append(found)
    db.session.flush()
    return team


def _filed_institutions() -> list[Institution]:
    """Filed institutions, the demo institution account's first (its page shows a finding)."""
    owner = find_user(DEMO_ACCOUNTS[Role.INSTITUTION][0])
    owner_id = owner.id if owner else -1
    query = (
        sa.select(Institution)
        .where(Institution.status == Status.FILED)
        .order_by((Institution.owner_id == owner_id).desc(), Institution.id)
        .limit(3)
    )
    return list(db.session.scalars(query))


def _results(failed: tuple[ChecklistItem, ...]) -> dict[ChecklistItem, ItemResult]:
    return {
        item: ItemResult.FAILED if item in failed else ItemResult.PASSED for item in ChecklistItem
    }


def _moment(day: date) -> datetime:
    return datetime.combine(day, time(10), tzinfo=UTC)


def _record(institution: Institution, team: list[User], on: date, findings: dict) -> Inspection:
    planned = inspections.plan(institution, team[0])
    return inspections.record(
        planned.id,
        team[0],
        on,
        [member.id for member in team[:2]],
        _results(tuple(findings)),
        findings,
        "",
        _moment(on),
        on,
    )


def _overdue(institution: Institution, team: list[User], today: date) -> None:
    """Inspected 40 days ago: fire put right in time; CCTV answered but still open, overdue."""
    on = today - timedelta(days=40)
    recorded = _record(
        institution,
        team,
        on,
        {
            ChecklistItem.FIRE: FindingInput(
                "二楼走廊灭火器压力不足，需更换并补充消防器材检查记录。", on + timedelta(days=15)
            ),
            ChecklistItem.CCTV: FindingInput(
                "午睡室未安装视频监控；录像仅保存 30 日，应不少于 90 日。", on + timedelta(days=30)
            ),
        },
    )
    fire, cctv = recorded.findings
    keeper = db.session.get(User, institution.owner_id) if institution.owner_id else None
    if keeper is not None:
        findings.answer(
            fire, keeper, "已更换灭火器 4 具，补记检查台账。", _moment(on + timedelta(days=7))
        )
        findings.answer(
            cctv, keeper, "监控设备已采购，正在安装。", _moment(on + timedelta(days=25))
        )
    _put_right(fire, team[0], on + timedelta(days=12), today)


def _put_right(finding: Finding, inspector: User, on: date, today: date) -> None:
    findings.close(finding, inspector, FindingStatus.PUT_RIGHT, on, "", today)


def _passed(institution: Institution, team: list[User], today: date) -> None:
    """Inspected 20 days ago with nothing to put right."""
    _record(institution, team, today - timedelta(days=20), {})


def _late(institution: Institution, team: list[User], today: date) -> None:
    """Inspected 90 days ago: the drill put right ten days after its deadline."""
    on = today - timedelta(days=90)
    recorded = _record(
        institution,
        team,
        on,
        {
            ChecklistItem.DRILLS: FindingInput(
                "本学期未开展应急疏散演练。", on + timedelta(days=20)
            ),
        },
    )
    _put_right(recorded.findings[0], team[0], on + timedelta(days=30), today)
