"""The four demo accounts, and the demo institutions the institution account keeps."""

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from careapp.extensions import db
from careapp.models import FilingAction, FilingDecision, Institution, Role, Status, User
from careapp.services.accounts import create_user, find_user

DEMO_PASSWORD = "demo-password-1"
DEMO_ACCOUNTS = {
    Role.PARENT: ("parent@example.com", "王秀英"),
    Role.INSTITUTION: ("institution@example.com", "小橡树托育"),
    Role.PROVIDER: ("provider@example.com", "晋江市妇幼保健院"),
    Role.REGULATOR: ("regulator@example.com", "晋江市卫生健康局"),
}
#: The institution account keeps one institution in each of these states.
KEPT_STATUSES = (Status.FILED, Status.DRAFT, Status.RETURNED, Status.UNDER_REVIEW)


def seed_accounts(today: date) -> dict[str, int]:
    """Create the missing demo accounts and give the institution account its institutions."""
    counts: Counter[str] = Counter(accounts=0)
    users = {}
    for role, (email, name) in DEMO_ACCOUNTS.items():
        user = find_user(email)
        if user is None:
            user = create_user(email=email, password=DEMO_PASSWORD, role=role, display_name=name)
            counts["accounts"] += 1
        users[role] = user
    _hand_over_institutions(users[Role.INSTITUTION], users[Role.REGULATOR], today)
    _date_waiting_applications(users[Role.REGULATOR], today)
    db.session.flush()
    return dict(counts)


def _hand_over_institutions(owner: User, regulator: User, today: date) -> None:
    """Give ``owner`` the first unowned institution of each kept status, once."""
    for status in KEPT_STATUSES:
        already = db.session.scalar(
            sa.select(Institution.id).where(
                Institution.owner_id == owner.id, Institution.status == status
            )
        )
        if already:
            continue
        institution = db.session.scalar(
            sa.select(Institution)
            .where(Institution.status == status, Institution.owner_id.is_(None))
            .order_by(Institution.id)
        )
        if institution is None:
            continue
        institution.owner_id = owner.id
        if status == Status.RETURNED:
            db.session.add(
                FilingDecision(
                    institution=institution,
                    actor_id=regulator.id,
                    action=FilingAction.RETURNED,
                    reason="消防验收日期未填写，请补充后重新提交。",
                )
            )


def _date_waiting_applications(regulator: User, today: date) -> None:
    """Give every application under review a submission time, some of them overdue."""
    waiting = db.session.scalars(
        sa.select(Institution)
        .where(Institution.status == Status.UNDER_REVIEW, Institution.submitted_at.is_(None))
        .order_by(Institution.id)
    )
    for days_ago, institution in zip((9, 3, 1, 0, 0), waiting, strict=False):
        submitted = datetime.combine(today - timedelta(days=days_ago), time(9, 30), tzinfo=UTC)
        institution.submitted_at = submitted
        institution.commitment_accepted = True
