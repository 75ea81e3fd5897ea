"""Demo staff registers: every demo institution that runs gets one matching its declared staff.

Each register has as many people as the institution declared, every carer certified and the
rest in support roles (so that certified counts stay as declared), and every health
certificate current, so that filed institutions meet the filing rules. One demo person is on
the bureau's lifetime ban list. Idempotent: institutions with a register are left alone.
"""

import random
from collections import Counter
from datetime import date, timedelta

import sqlalchemy as sa
from stdnum.cn import ric

from careapp.extensions import db
from careapp.models import (
    CertificateType,
    Institution,
    LifetimeBan,
    Role,
    StaffMember,
    StaffRole,
    Status,
    User,
)
from careapp.services import staff

#: Institutions whose people work there today (or will, once filed).
STAFFED_STATUSES = (Status.DRAFT, Status.RETURNED, Status.UNDER_REVIEW, Status.FILED)
SURNAMES = "陈林黄张李王吴刘蔡杨许郑洪施庄苏"
GIVEN_NAMES = "丽华 秀英 美玲 晓燕 雅琴 志强 建国 婷婷 慧敏 佳怡 文静".split()
#: Fujian divisions (Quanzhou, Sanming) for birth places of demo ID card numbers.
BIRTH_PLACES = ("350481", "350503", "350521", "350524", "350583")
CARE_ROLE_CYCLE = (StaffRole.CAREGIVER, StaffRole.CAREGIVER, StaffRole.INFANT_CARER)
CARE_CERTIFICATES = {
    StaffRole.CAREGIVER: CertificateType.CHILDCARE_WORKER,
    StaffRole.INFANT_CARER: CertificateType.INFANT_CARER,
    StaffRole.HEALTH_WORKER: CertificateType.HEALTH_TRAINING,
}
SUPPORT_ROLES = (StaffRole.MANAGER, StaffRole.COOK, StaffRole.SECURITY, StaffRole.OTHER)
DEMO_BAN_ID_NUMBER_BODY = "35048119800101999"


def demo_id_number(rng: random.Random) -> str:
    """A valid resident identity card number of a Fujian-born adult."""
    while True:
        born = date(1965, 1, 1) + timedelta(rng.randrange(365 * 37))
        body = f"{rng.choice(BIRTH_PLACES)}{born:%Y%m%d}{rng.randrange(1000):03d}"
        number = body + ric.calc_check_digit(body + "0")
        if ric.is_valid(number):
            return number


def _roles(institution: Institution) -> list[StaffRole]:
    """Care roles for the certified (one health worker among them), support roles after."""
    certified = institution.certified_staff_count
    care = [CARE_ROLE_CYCLE[index % len(CARE_ROLE_CYCLE)] for index in range(certified)]
    if care:
        care[-1] = StaffRole.HEALTH_WORKER
    support = [
        SUPPORT_ROLES[index % len(SUPPORT_ROLES)]
        for index in range(institution.staff_count - certified)
    ]
    return care + support


def _member(institution: Institution, role: StaffRole, rng: random.Random, today: date):
    checked = today - timedelta(rng.randint(10, 300))
    id_number = demo_id_number(rng)
    certificate = CARE_CERTIFICATES.get(role)
    return StaffMember(
        institution_id=institution.id,
        name=rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES),
        role=role,
        id_number_hash=staff.identity_hash(id_number),
        id_number_tail=id_number[-4:],
        certificate_type=certificate,
        certificate_number=f"FJ{rng.randrange(10**8):08d}" if certificate else None,
        health_checked_on=checked,
        health_check_expires_on=checked + timedelta(365),
        training_hours=rng.randint(40, 200) if certificate else rng.randint(0, 24),
    )


def _unstaffed() -> list[Institution]:
    has_register = sa.select(StaffMember.id).where(StaffMember.institution_id == Institution.id)
    query = (
        sa.select(Institution)
        .where(Institution.status.in_(STAFFED_STATUSES), ~has_register.exists())
        .order_by(Institution.id)
    )
    return list(db.session.scalars(query))


def _seed_ban(today: date) -> int:
    regulator = db.session.scalar(sa.select(User).where(User.role == Role.REGULATOR).limit(1))
    id_number = DEMO_BAN_ID_NUMBER_BODY + ric.calc_check_digit(DEMO_BAN_ID_NUMBER_BODY + "0")
    hashed = staff.identity_hash(id_number)
    known = db.session.scalar(sa.select(LifetimeBan.id).where(LifetimeBan.id_number_hash == hashed))
    if regulator is None or known is not None:
        return 0
    db.session.add(
        LifetimeBan(
            name="示例禁入人员",
            id_number_hash=hashed,
            id_number_tail=id_number[-4:],
            reason="演示数据：虐待婴幼儿，依法实行终身禁入。",
            decided_on=today - timedelta(200),
            created_by_id=regulator.id,
        )
    )
    return 1


def seed_staff(today: date) -> dict[str, int]:
    """Registers for the demo institutions that have none, and the demo ban; flush only."""
    db.session.flush()
    counts: Counter[str] = Counter(staff_members=0)
    for institution in _unstaffed():
        rng = random.Random(f"staff-{institution.uscc}")
        members = [_member(institution, role, rng, today) for role in _roles(institution)]
        db.session.add_all(members)
        counts["staff_members"] += len(members)
        db.session.flush()
        staff.sync_counts(institution)
    counts["lifetime_bans"] = _seed_ban(today)
    db.session.flush()
    return dict(counts)
