"""Supervision by random inspection (双随机、一公开): draw, record, answer, close.

Policy 000 四(二)1: "相关职能部门随机抽查 … 联合检查"; 000 四(二)2: "综合监管、信息公开、诚信记录
… 进行信息化全程管理"; 004 item 13: "联动巡查、违法查处、诚信评价、动态管理". Institutions and
inspectors are drawn at random from a recorded seed, weighted towards the institutions not
inspected for longest; each inspection's findings are followed (careapp.services.findings)
until the bureau closes them.
"""

import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from careapp.extensions import db
from careapp.models import (
    MIN_INSPECTORS,
    ChecklistItem,
    FollowUp,
    Inspection,
    InspectionDraw,
    InspectionResult,
    InspectionStatus,
    Institution,
    ItemResult,
    Role,
    Status,
    User,
)
from careapp.services.errors import CareappError
from careapp.services.findings import inspection_finding
from careapp.services.mail import N_, queue_email

#: The largest draw the bureau can ask for at once.
MAX_DRAW_SIZE = 50
#: The largest team sent to one institution.
MAX_TEAM_SIZE = 5
#: The largest seed accepted (it is stored as a signed 64-bit integer).
MAX_SEED = 2**62
#: Inspections an institution's public page shows, newest first.
PUBLIC_INSPECTIONS = 5


class InspectionError(CareappError):
    """A supervision step that cannot be taken; ``message`` says why."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


# --- the draw ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Drawn:
    """One line of a draw: the institution and the inspectors sent to it."""

    institution_id: int
    inspector_ids: tuple[int, ...]

    def as_json(self) -> dict:
        """The line as stored in ``InspectionDraw.result``."""
        return {"institution": self.institution_id, "inspectors": list(self.inspector_ids)}


def new_seed() -> int:
    """A fresh random seed for a draw the bureau did not give a seed for."""
    return secrets.randbelow(2**31)


def inspectors() -> list[User]:
    """The bureau's inspectors: its active regulator accounts, by id."""
    query = (
        sa.select(User)
        .where(User.role == Role.REGULATOR, User.is_active_account.is_(True))
        .order_by(User.id)
    )
    return list(db.session.scalars(query))


def weight(last_seen: date, today: date) -> int:
    """Days since the last inspection (or the filing): the longer, the likelier (at least 1)."""
    return max(1, (today - last_seen).days)


def candidate_pool(today: date) -> list[tuple[int, int]]:
    """Filed institutions without a planned inspection, by id, each with its weight."""
    last_inspected = (
        sa.select(Inspection.institution_id, sa.func.max(Inspection.inspected_on).label("last"))
        .where(Inspection.status == InspectionStatus.RECORDED)
        .group_by(Inspection.institution_id)
        .subquery()
    )
    planned = sa.select(Inspection.institution_id).where(
        Inspection.status == InspectionStatus.PLANNED
    )
    query = (
        sa.select(Institution.id, Institution.filed_on, last_inspected.c.last)
        .outerjoin(last_inspected, last_inspected.c.institution_id == Institution.id)
        .where(Institution.status == Status.FILED, Institution.id.not_in(planned))
        .order_by(Institution.id)
    )
    return [
        (institution_id, weight(last or filed_on or today, today))
        for institution_id, filed_on, last in db.session.execute(query)
    ]


def draw_list(
    seed: int,
    size: int,
    pool: Sequence[tuple[int, int]],
    inspector_ids: Sequence[int],
    team_size: int = MIN_INSPECTORS,
) -> list[Drawn]:
    """Draw ``size`` institutions from ``pool`` (id, weight) without replacement, each with a
    team of ``team_size`` inspectors. A pure function: the same seed over the same pool and
    inspectors draws the same list, in whatever order they are given.

    Weighted sampling by Efraimidis–Spirakis: each candidate gets the key ``u ** (1 / weight)``
    for a uniform ``u``; the largest keys win, so a weight twice as large is twice as likely
    to be drawn first.
    """
    rng = random.Random(seed)
    keyed = [
        (rng.random() ** (1 / max(1, w)), institution_id) for institution_id, w in sorted(pool)
    ]
    chosen = [institution_id for _key, institution_id in sorted(keyed, reverse=True)[:size]]
    team_from = sorted(inspector_ids)
    return [
        Drawn(institution_id, tuple(sorted(rng.sample(team_from, team_size))))
        for institution_id in chosen
    ]


def _check_draw(size: int, team_size: int, inspector_count: int) -> None:
    if not 1 <= size <= MAX_DRAW_SIZE:
        raise InspectionError(
            _l("Please draw from 1 to %(most)d institutions.", most=MAX_DRAW_SIZE)
        )
    if not MIN_INSPECTORS <= team_size <= MAX_TEAM_SIZE:
        raise InspectionError(
            _l(
                "A team has from %(least)d to %(most)d inspectors.",
                least=MIN_INSPECTORS,
                most=MAX_TEAM_SIZE,
            )
        )
    if inspector_count < team_size:
        raise InspectionError(
            _l(
                "There are only %(count)d inspectors: too few for teams of %(team)d.",
                count=inspector_count,
                team=team_size,
            )
        )


def draw(actor: User, size: int, team_size: int, seed: int | None, today: date) -> InspectionDraw:
    """Draw institutions and inspectors at random, record the draw and plan its inspections."""
    members = {user.id: user for user in inspectors()}
    team = list(members)
    _check_draw(size, team_size, len(team))
    pool = candidate_pool(today)
    if not pool:
        raise InspectionError(_l("No filed institution is waiting for an inspection."))
    seed = new_seed() if seed is None else seed
    drawn = draw_list(seed, size, pool, team, team_size)
    record = InspectionDraw(
        seed=seed,
        size=size,
        team_size=team_size,
        drawn_on=today,
        pool={"institutions": [list(item) for item in pool], "inspectors": team},
        result=[line.as_json() for line in drawn],
        drawn_by_id=actor.id,
    )
    db.session.add(record)
    for line in drawn:
        record.inspections.append(
            Inspection(
                institution_id=line.institution_id,
                inspectors=[members[member] for member in line.inspector_ids],
            )
        )
    db.session.flush()
    return record


def reproduces(record: InspectionDraw) -> bool:
    """Whether drawing again with the recorded seed over the recorded pool gives its result."""
    pool = [(int(i), int(w)) for i, w in record.pool["institutions"]]
    again = draw_list(record.seed, record.size, pool, record.pool["inspectors"], record.team_size)
    return [line.as_json() for line in again] == record.result


def recent_draws(limit: int = 12) -> list[InspectionDraw]:
    """The latest draws, newest first, with who drew them."""
    query = (
        sa.select(InspectionDraw)
        .options(joinedload(InspectionDraw.drawn_by))
        .order_by(InspectionDraw.drawn_at.desc(), InspectionDraw.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def draw_details(draw_id: int) -> InspectionDraw | None:
    """A draw with its inspections, their institutions and inspectors, or None."""
    query = (
        sa.select(InspectionDraw)
        .where(InspectionDraw.id == draw_id)
        .options(
            joinedload(InspectionDraw.drawn_by),
            selectinload(InspectionDraw.inspections).options(
                joinedload(Inspection.institution).joinedload(Institution.township),
                selectinload(Inspection.inspectors),
            ),
        )
    )
    return db.session.scalar(query)


# --- recording an inspection ---------------------------------------------------------------


@dataclass(frozen=True)
class FindingInput:
    """What the inspectors wrote about a failed item, and when it must be put right."""

    description: str
    due_on: date


def _locked(model, object_id: int):
    """The row of ``model`` with ``object_id``, locked for this transaction and read afresh."""
    query = (
        sa.select(model)
        .where(model.id == object_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return db.session.scalar(query)


def _check_recording(
    inspection: Inspection,
    inspected_on: date,
    team: list[User],
    results: dict[ChecklistItem, ItemResult],
    findings: dict[ChecklistItem, FindingInput],
    today: date,
) -> None:
    if inspection is None or inspection.status != InspectionStatus.PLANNED:
        raise InspectionError(_l("This inspection has been recorded already."))
    if inspected_on > today:
        raise InspectionError(_l("The inspection date cannot be in the future."))
    if len(team) < MIN_INSPECTORS:
        raise InspectionError(
            _l("An inspection needs at least %(count)d inspectors.", count=MIN_INSPECTORS)
        )
    if set(results) != set(ChecklistItem):
        raise InspectionError(_l("Please give a result for every checklist item."))
    failed = {item for item, result in results.items() if result == ItemResult.FAILED}
    if set(findings) != failed:
        raise InspectionError(_l("Every failed item needs a finding, and only failed items."))
    if any(finding.due_on < inspected_on for finding in findings.values()):
        raise InspectionError(_l("A deadline cannot come before the inspection."))


def record(
    inspection_id: int,
    actor: User,
    inspected_on: date,
    inspector_ids: Sequence[int],
    results: dict[ChecklistItem, ItemResult],
    findings: dict[ChecklistItem, FindingInput],
    notes: str,
    now: datetime,
    today: date,
) -> Inspection:
    """Write up a planned inspection: its date, team, checklist and findings (once only)."""
    inspection = _locked(Inspection, inspection_id)
    team = [user for user in inspectors() if user.id in set(inspector_ids)]
    _check_recording(inspection, inspected_on, team, results, findings, today)
    inspection.status = InspectionStatus.RECORDED
    inspection.inspected_on = inspected_on
    inspection.recorded_by_id = actor.id
    inspection.recorded_at = now
    inspection.notes = notes
    inspection.inspectors = team
    inspection.results = [
        InspectionResult(item=item, result=results[item]) for item in ChecklistItem
    ]
    inspection.findings = [
        inspection_finding(inspection, item, finding.description, finding.due_on)
        for item, finding in sorted(findings.items(), key=lambda pair: _item_order(pair[0]))
    ]
    db.session.flush()
    _notify_findings(inspection)
    return inspection


def _item_order(item: ChecklistItem) -> int:
    return list(ChecklistItem).index(item)


def _notify_findings(inspection: Inspection) -> None:
    """Tell the institution's account that an inspection found things to put right."""
    institution = inspection.institution
    owner = db.session.get(User, institution.owner_id) if institution.owner_id else None
    if owner is None or owner.email is None or not inspection.findings:
        return
    values = {
        "name": institution.name,
        "date": inspection.inspected_on.isoformat(),
        "count": len(inspection.findings),
    }
    with force_locale(owner.language):
        queue_email(owner.email, _(NOTICE_SUBJECT, **values), _(NOTICE_BODY, **values))


NOTICE_SUBJECT = N_("Inspection of %(name)s: findings to put right")
NOTICE_BODY = N_(
    "The county health bureau inspected %(name)s on %(date)s and recorded %(count)d findings"
    " to put right, each by its deadline. Sign in to read them and answer each with what you did."
)


def plan_by_filing_number(filing_number: str, actor: User) -> Inspection:
    """Plan an inspection of the filed institution with ``filing_number``."""
    institution = db.session.scalar(
        sa.select(Institution).where(
            Institution.filing_number == filing_number.strip(), Institution.status == Status.FILED
        )
    )
    if institution is None:
        raise InspectionError(_l("No filed institution has this filing number."))
    return plan(institution, actor)


def plan(institution: Institution, actor: User) -> Inspection:
    """Plan an inspection of a filed institution outside a draw (a complaint, a follow-up)."""
    if institution.status != Status.FILED:
        raise InspectionError(_l("Only a filed institution can be inspected."))
    if db.session.scalar(
        sa.select(Inspection.id).where(
            Inspection.institution_id == institution.id,
            Inspection.status == InspectionStatus.PLANNED,
        )
    ):
        raise InspectionError(_l("An inspection of this institution is planned already."))
    inspection = Inspection(institution=institution)
    db.session.add(inspection)
    db.session.flush()
    return inspection


# --- reading -------------------------------------------------------------------------------


def _with_institution():
    return joinedload(Inspection.institution).joinedload(Institution.township)


def planned_inspections() -> list[Inspection]:
    """Inspections drawn or planned and not yet recorded, oldest first."""
    query = (
        sa.select(Inspection)
        .where(Inspection.status == InspectionStatus.PLANNED)
        .options(_with_institution(), selectinload(Inspection.inspectors))
        .order_by(Inspection.created_at, Inspection.id)
    )
    return list(db.session.scalars(query))


def recorded_inspections(limit: int = 50) -> list[Inspection]:
    """The latest recorded inspections, newest first, with results and findings."""
    query = (
        sa.select(Inspection)
        .where(Inspection.status == InspectionStatus.RECORDED)
        .options(
            _with_institution(),
            selectinload(Inspection.results),
            selectinload(Inspection.findings),
        )
        .order_by(Inspection.inspected_on.desc(), Inspection.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def inspection_details(inspection_id: int) -> Inspection | None:
    """One inspection with everything about it, or None."""
    query = (
        sa.select(Inspection)
        .where(Inspection.id == inspection_id)
        .options(
            _with_institution(),
            selectinload(Inspection.inspectors),
            selectinload(Inspection.results),
            selectinload(Inspection.findings),
        )
    )
    return db.session.scalar(query)


def inspections_of(institution: Institution) -> list[Inspection]:
    """The recorded inspections of ``institution``, newest first, with results and findings."""
    query = (
        sa.select(Inspection)
        .where(
            Inspection.institution_id == institution.id,
            Inspection.status == InspectionStatus.RECORDED,
        )
        .options(selectinload(Inspection.results), selectinload(Inspection.findings))
        .order_by(Inspection.inspected_on.desc(), Inspection.id.desc())
    )
    return list(db.session.scalars(query))


# --- what the public sees ------------------------------------------------------------------


def follow_up(inspection: Inspection, today: date) -> str:
    """The follow-up state of a recorded inspection's findings on ``today``."""
    findings = inspection.findings
    if not findings:
        return FollowUp.NONE
    if any(finding.is_overdue(today) for finding in findings):
        return FollowUp.OVERDUE
    if not all(finding.is_closed for finding in findings):
        return FollowUp.PENDING
    if all(finding.closed_in_time for finding in findings):
        return FollowUp.IN_TIME
    return FollowUp.LATE


@dataclass(frozen=True)
class PublicInspection:
    """One line of an institution's public page: date, overall result, follow-up."""

    inspected_on: date
    passed: bool
    follow_up: str


def public_summary(institution: Institution, today: date) -> list[PublicInspection]:
    """The latest recorded inspections of a filed institution, as the public may see them."""
    if institution.status != Status.FILED:
        return []
    query = (
        sa.select(Inspection)
        .where(
            Inspection.institution_id == institution.id,
            Inspection.status == InspectionStatus.RECORDED,
        )
        .options(selectinload(Inspection.results), selectinload(Inspection.findings))
        .order_by(Inspection.inspected_on.desc(), Inspection.id.desc())
        .limit(PUBLIC_INSPECTIONS)
    )
    return [
        PublicInspection(found.inspected_on, found.passed, follow_up(found, today))
        for found in db.session.scalars(query)
    ]
