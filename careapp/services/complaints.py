"""Reports of a concern (投诉举报): filed by anyone, answered by the bureau within a deadline.

Policy 002 (四) asks for 社会监督; policies 001 (三)3 and 003 item 25 hold zero tolerance for
abuse, so a report about a child's safety is flagged first and the bureau is told at once.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from careapp import clock
from careapp.extensions import db
from careapp.models import (
    OPEN_REPORT_STATUSES,
    REPORT_STATES,
    Complaint,
    Institution,
    ReportCategory,
    Role,
    Township,
    User,
)
from careapp.services.mail import queue_email
from careapp.services.transitions import change_state
from careapp.working_days import add_working_days, working_days_between

#: Tracking numbers use letters and digits nobody confuses when reading them aloud or copying
#: them by hand: no 0/O, 1/I/L, nor U/V.
TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
#: 12 characters of 29: about 58 bits, far beyond what a rate-limited guesser can try.
TRACKING_LENGTH = 12
#: The reports a page of the bureau's queue shows at most.
QUEUE_SIZE = 200


@dataclass(frozen=True)
class NewReport:
    """What a reporter sends: the place (a filed institution, or a name and address), the
    category, what happened and an optional contact."""

    category: str
    description: str
    contact: str | None = None
    institution: Institution | None = None
    place_name: str | None = None
    place_address: str | None = None
    township: Township | None = None


def new_tracking_number() -> str:
    """A fresh, unguessable tracking number of 12 characters."""
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))


def formatted(number: str) -> str:
    """A tracking number in groups of four, as the reporter is shown it."""
    return "-".join(number[i : i + 4] for i in range(0, len(number), 4))


def normalised_number(text: str) -> str:
    """What a reporter typed, upper-cased, without spaces and dashes."""
    return "".join(ch for ch in text.upper() if ch not in " -\u3000")


def digest(number: str) -> str:
    """The stored digest of a tracking number."""
    return hashlib.sha256(normalised_number(number).encode()).hexdigest()


def answer_deadline(received_on: date) -> date:
    """The last day the bureau has to answer a report received on ``received_on``."""
    return add_working_days(received_on, current_app.config["REPORT_ANSWER_WORKING_DAYS"])


def file_report(report: NewReport, reporter: User | None, now: datetime) -> tuple[Complaint, str]:
    """Store a report and queue it for the bureau; returns it and its tracking number.

    A report about a child's safety is flagged and every regulator account is e-mailed at once.
    """
    number = new_tracking_number()
    complaint = Complaint(
        tracking_digest=digest(number),
        institution_id=report.institution.id if report.institution else None,
        place_name=None if report.institution else report.place_name,
        place_address=None if report.institution else report.place_address,
        township_id=report.township.id if report.township else None,
        category=ReportCategory(report.category),
        is_urgent=report.category == ReportCategory.CHILD_SAFETY,
        description=report.description,
        contact=report.contact or None,
        reporter_id=reporter.id if reporter is not None else None,
        received_at=now,
        due_on=answer_deadline(clock.local_date(now)),
    )
    db.session.add(complaint)
    db.session.flush()
    if complaint.is_urgent:
        _alert_regulators(complaint, report)
    return complaint, number


def _alert_regulators(complaint: Complaint, report: NewReport) -> None:
    """E-mail every active regulator account: a child may be in danger. The mail names the
    place and links to the report; what was reported stays on the site."""
    regulators = db.session.scalars(
        sa.select(User).where(
            User.role == Role.REGULATOR, User.is_active_account.is_(True), User.email.is_not(None)
        )
    )
    link = current_app.config["SITE_URL"].rstrip("/") + url_for(
        "regulator.report", report_id=complaint.id
    )
    for regulator in regulators:
        with force_locale(regulator.language):
            place = (
                report.institution.name_for(regulator.language)
                if report.institution
                else (report.place_name or "")
            )
            queue_email(
                regulator.email,
                _("Urgent: a report about a child's safety"),
                _(
                    "A report about a child's safety was received about %(place)s. Please"
                    " handle it at once:\n\n%(link)s",
                    place=place,
                    link=link,
                ),
            )


def find_by_number(text: str) -> Complaint | None:
    """The report with tracking number ``text`` (as typed), or None: an unknown number and a
    mistyped one look the same."""
    number = normalised_number(text)
    if len(number) != TRACKING_LENGTH or any(ch not in TRACKING_ALPHABET for ch in number):
        return None
    return db.session.scalar(
        sa.select(Complaint)
        .options(joinedload(Complaint.institution))
        .where(Complaint.tracking_digest == digest(number))
    )


def _listed(region_id: int | None = None) -> sa.Select:
    """Reports with what a list shows of them, loaded in the same statement; with
    ``region_id``, those of the region's townships and those whose township nobody knows
    (every region's bureau is to see those)."""
    query = sa.select(Complaint).options(
        joinedload(Complaint.institution), joinedload(Complaint.township)
    )
    if region_id is None:
        return query
    in_region = sa.select(Township.id).where(Township.region_id == region_id)
    return query.where(
        sa.or_(Complaint.township_id.is_(None), Complaint.township_id.in_(in_region))
    )


def open_queue(region_id: int | None = None) -> list[Complaint]:
    """Reports still owed an answer (of a region with ``region_id``): child safety first, then
    by deadline and arrival."""
    return list(
        db.session.scalars(
            _listed(region_id)
            .where(Complaint.status.in_(OPEN_REPORT_STATUSES))
            .order_by(Complaint.is_urgent.desc(), Complaint.due_on, Complaint.id)
            .limit(QUEUE_SIZE)
        )
    )


def recently_done(limit: int = 50, region_id: int | None = None) -> list[Complaint]:
    """Answered and closed reports (of a region with ``region_id``), latest first."""
    return list(
        db.session.scalars(
            _listed(region_id)
            .where(Complaint.status.not_in(OPEN_REPORT_STATUSES))
            .order_by(Complaint.id.desc())
            .limit(limit)
        )
    )


def overdue(today: date, region_id: int | None = None) -> list[Complaint]:
    """Open reports past their deadline (of a region with ``region_id``), child safety first,
    the longest overdue first."""
    return list(
        db.session.scalars(
            _listed(region_id)
            .where(Complaint.status.in_(OPEN_REPORT_STATUSES), Complaint.due_on < today)
            .order_by(Complaint.is_urgent.desc(), Complaint.due_on, Complaint.id)
            .limit(QUEUE_SIZE)
        )
    )


def days_overdue(complaint: Complaint, today: date) -> int:
    """Working days since the deadline passed (0 while it has not)."""
    return working_days_between(complaint.due_on, today)


def take_up(complaint: Complaint, regulator: User) -> None:
    """The bureau starts handling a report. Raises AlreadyMoved if it moved meanwhile."""
    change_state(complaint, REPORT_STATES, "take_up", handled_by_id=regulator.id)


def answer(complaint: Complaint, regulator: User, reply: str, now: datetime) -> None:
    """The bureau answers; the reporter reads ``reply`` on the status page."""
    change_state(
        complaint,
        REPORT_STATES,
        "answer",
        reply=reply,
        replied_at=now,
        handled_by_id=regulator.id,
    )


def close(complaint: Complaint, regulator: User, reply: str | None, now: datetime) -> None:
    """The bureau closes a report, with a last word for the reporter if it gives one."""
    values = {"handled_by_id": regulator.id}
    if reply:
        values |= {"reply": reply, "replied_at": now}
    change_state(complaint, REPORT_STATES, "close", **values)
