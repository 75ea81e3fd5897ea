"""Demo quality grades, demonstration designations and a few reports of a concern."""

from collections import Counter
from datetime import date, timedelta

import sqlalchemy as sa

from careapp.extensions import db
from careapp.models import (
    Complaint,
    Designation,
    Institution,
    QualityAssessment,
    QualityGrade,
    ReportCategory,
    Status,
)
from careapp.services.complaints import answer_deadline, digest, new_tracking_number

#: Every so many filed institutions one has been assessed, cycling through the grades.
ASSESSED_EVERY = 3
DEMO_GRADES = (QualityGrade.GOOD, QualityGrade.EXCELLENT, QualityGrade.QUALIFIED)
ASSESSOR = "晋江市卫生健康局托育机构质量评估组"
STANDARD = "托育机构质量评估标准（WS/T 821—2023）"
DESIGNATION_TITLE = "晋江市婴幼儿照护服务示范机构"


def seed_quality(today: date) -> Counter[str]:
    """Grade some filed demo institutions and designate those the demo marks as demonstration
    ones (so that the designation drives ``is_demonstration``); add two reports for the
    bureau's queue. Adds only what is missing; flushes, never commits."""
    counts: Counter[str] = Counter(assessments=0, designations=0, reports=0)
    filed = list(
        db.session.scalars(
            sa.select(Institution)
            .where(Institution.status == Status.FILED)
            .order_by(Institution.id)
        )
    )
    assessed = set(db.session.scalars(sa.select(QualityAssessment.institution_id)))
    designated = set(db.session.scalars(sa.select(Designation.institution_id)))
    for number, institution in enumerate(filed):
        if number % ASSESSED_EVERY == 0 and institution.id not in assessed:
            _assess(institution, DEMO_GRADES[number // ASSESSED_EVERY % len(DEMO_GRADES)], today)
            counts["assessments"] += 1
        if institution.is_demonstration and institution.id not in designated:
            _designate(institution, today)
            counts["designations"] += 1
    counts["reports"] = _seed_reports(filed, today)
    db.session.flush()
    return counts


def _assess(institution: Institution, grade: QualityGrade, today: date) -> None:
    assessed_on = max(institution.filed_on or today, today - timedelta(days=60))
    db.session.add(
        QualityAssessment(
            institution_id=institution.id,
            grade=grade,
            assessed_on=assessed_on,
            assessor=ASSESSOR,
            standard=STANDARD,
        )
    )
    institution.quality_grade = grade.value


def _designate(institution: Institution, today: date) -> None:
    designated_on = max(institution.filed_on or today, today - timedelta(days=120))
    db.session.add(
        Designation(
            institution_id=institution.id,
            title=DESIGNATION_TITLE,
            designated_on=designated_on,
        )
    )


def _seed_reports(filed: list[Institution], today: date) -> int:
    """A report about fees and one about unfiled care, when the queue is empty."""
    if not filed or db.session.scalar(sa.select(sa.func.count(Complaint.id))):
        return 0
    received = today - timedelta(days=30)
    reports = [
        Complaint(
            tracking_digest=digest(new_tracking_number()),
            institution_id=filed[0].id,
            township_id=filed[0].township_id,
            category=ReportCategory.FEES,
            description="入托时收取的押金在退托后一个月仍未退还。",
            due_on=answer_deadline(received),
        ),
        Complaint(
            tracking_digest=digest(new_tracking_number()),
            place_name="某小区家中看护点",
            place_address="青阳街道某小区 3 栋",
            township_id=filed[0].township_id,
            category=ReportCategory.UNFILED_CARE,
            description="小区内有人在家中同时照看七八个幼儿，未见备案信息。",
            due_on=answer_deadline(today),
        ),
    ]
    db.session.add_all(reports)
    return len(reports)
