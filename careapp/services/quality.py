"""Quality assessments and demonstration (示范) designations, recorded by the bureau.

Policy 002 (四): "健全托育机构质量评估制度". The latest grade and the standing designation are
kept on the institution (``quality_grade``, ``is_demonstration``) for search and the public
order; the change bumps the register's cache scope in the same transaction, as every change
to an institution does (careapp/cache.py).
"""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from careapp import clock
from careapp.extensions import db
from careapp.models import Designation, Institution, QualityAssessment, QualityGrade, User
from careapp.services.errors import CareappError


class QualityError(CareappError):
    """A designation that cannot be made or revoked; ``message`` says why."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class PublicQuality:
    """What the public page shows: the latest assessment and the standing designation."""

    assessment: QualityAssessment | None
    designation: Designation | None


def _locked(institution: Institution) -> Institution:
    """``institution`` with its row locked until the transaction ends (PostgreSQL)."""
    db.session.execute(
        sa.select(Institution.id).where(Institution.id == institution.id).with_for_update()
    )
    return institution


def latest_assessment(institution_id: int) -> QualityAssessment | None:
    """The institution's most recent assessment (by date, then by record)."""
    return db.session.scalar(
        sa.select(QualityAssessment)
        .where(QualityAssessment.institution_id == institution_id)
        .order_by(QualityAssessment.assessed_on.desc(), QualityAssessment.id.desc())
        .limit(1)
    )


def standing_designation(institution_id: int) -> Designation | None:
    """The institution's designation that has not been revoked, if any."""
    return db.session.scalar(
        sa.select(Designation).where(
            Designation.institution_id == institution_id, Designation.revoked_on.is_(None)
        )
    )


def record_assessment(
    institution: Institution,
    grade: str,
    assessed_on: date,
    assessor: str,
    standard: str,
    regulator: User,
) -> QualityAssessment:
    """Record an assessment; the institution's grade becomes that of its latest one."""
    _locked(institution)
    assessment = QualityAssessment(
        institution_id=institution.id,
        grade=QualityGrade(grade),
        assessed_on=assessed_on,
        assessor=assessor,
        standard=standard,
        recorded_by_id=regulator.id,
    )
    db.session.add(assessment)
    db.session.flush()
    institution.quality_grade = latest_assessment(institution.id).grade.value
    return assessment


def designate(
    institution: Institution, title: str, designated_on: date, regulator: User
) -> Designation:
    """Designate a demonstration institution from ``designated_on``; it is listed first."""
    _locked(institution)
    if standing_designation(institution.id) is not None:
        raise QualityError(_l("This institution is a demonstration institution already."))
    designation = Designation(
        institution_id=institution.id,
        title=title,
        designated_on=designated_on,
        recorded_by_id=regulator.id,
    )
    db.session.add(designation)
    institution.is_demonstration = True
    db.session.flush()
    return designation


def revoke(institution: Institution, revoked_on: date, reason: str, regulator: User) -> Designation:
    """Revoke the standing designation (compare-and-set: of two revocations one wins); who
    revoked it, and when, go to the audit log."""
    _locked(institution)
    standing = standing_designation(institution.id)
    if standing is None:
        raise QualityError(_l("This institution is not a demonstration institution."))
    if revoked_on < standing.designated_on:
        raise QualityError(_l("The revocation cannot be dated before the designation."))
    moved = db.session.execute(
        sa.update(Designation)
        .where(Designation.id == standing.id, Designation.revoked_on.is_(None))
        .values(
            revoked_on=revoked_on,
            revoke_reason=reason,
            revoked_by_id=regulator.id,
            revoked_at=clock.now(),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise QualityError(_l("This institution is not a demonstration institution."))
    db.session.refresh(standing)
    institution.is_demonstration = False
    db.session.flush()
    return standing


def public_quality(institution: Institution) -> PublicQuality:
    """The latest grade and standing designation of a public institution."""
    return PublicQuality(latest_assessment(institution.id), standing_designation(institution.id))


def assessments_of(institution: Institution) -> list[QualityAssessment]:
    """Every assessment of the institution, latest first."""
    return list(
        db.session.scalars(
            sa.select(QualityAssessment)
            .where(QualityAssessment.institution_id == institution.id)
            .order_by(QualityAssessment.assessed_on.desc(), QualityAssessment.id.desc())
        )
    )


def designations_of(institution: Institution) -> list[Designation]:
    """Every designation of the institution, latest first."""
    return list(
        db.session.scalars(
            sa.select(Designation)
            .where(Designation.institution_id == institution.id)
            .order_by(Designation.designated_on.desc(), Designation.id.desc())
        )
    )
