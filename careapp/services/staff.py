"""The staff register and who changed it, the bureau's lifetime ban list (终身禁入) and the
staff facts of filing.

ID card numbers: validated with ``stdnum.cn.ric``, then kept only as an HMAC-SHA256 keyed with
IDENTITY_HASH_KEY (else the secret key) plus their last four characters. The same person has
the same hash in every register and on the ban list, so the two match without any table
holding a readable number; without the key a hash cannot be reversed by trying every number.
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload
from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from careapp.extensions import db
from careapp.models import (
    BanAlert,
    CertificateType,
    Institution,
    LifetimeBan,
    Role,
    StaffChange,
    StaffChangeKind,
    StaffMember,
    StaffRole,
    Status,
    User,
)
from careapp.services.errors import CareappError
from careapp.services.mail import N_, queue_email
from careapp.services.params import half_width

#: While the application is under review the register is what the reviewer reads; after a
#: rejection or deregistration nobody works there any more.
EDITABLE_STATUSES = frozenset({Status.DRAFT, Status.RETURNED, Status.FILED})


class StaffError(CareappError):
    """A register change that is not allowed; ``message`` says why, translated."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class PersonBanned(StaffError):
    """The person is on the lifetime ban list. The message reveals nothing more."""

    def __init__(self):
        super().__init__(
            _l(
                "This person cannot be employed in childcare. The county health bureau has been"
                " informed."
            )
        )


@dataclass(frozen=True)
class StaffEntry:
    """What the register form says about one person (``id_number`` only when adding)."""

    name: str
    role: StaffRole
    certificate_type: CertificateType | None
    certificate_number: str | None
    health_checked_on: date
    health_check_expires_on: date
    training_hours: int
    id_number: str | None = None


@dataclass(frozen=True)
class StaffFacts:
    """What the public may know of a register: counts and shares, never people."""

    staff: int
    certified: int
    health_current: int

    @property
    def certified_percent(self) -> int:
        """Share of staff holding a qualification certificate, in whole per cent."""
        return round(100 * self.certified / self.staff) if self.staff else 0

    @property
    def health_current_percent(self) -> int:
        """Share of staff whose health certificate is current, in whole per cent."""
        return round(100 * self.health_current / self.staff) if self.staff else 0


# --- identity ------------------------------------------------------------------------------


def normalised_id_number(id_number: str) -> str:
    """The ID card number in its compact form: full-width characters as ASCII, no spaces or
    dashes, upper-case check character."""
    return "".join(half_width(id_number or "").split()).replace("-", "").upper()


def is_valid_id_number(id_number: str) -> bool:
    """Whether ``id_number`` is a valid resident identity card number: 18 characters, its
    check digit, a real birth date, and a county code that exists or existed.

    Not ``ric.is_valid``: it also wants the county to have had its code in the birth year,
    but a card takes the code of the county that issues it, so a resident of 晋江 (350582
    since 1992) born in 1980 holds 350582… and ``ric.is_valid`` refuses it.
    """
    number = normalised_id_number(id_number)
    if len(number) != 18 or not (number[:-1].isascii() and number[:-1].isdigit()):
        return False
    try:
        ric.get_birth_date(number)
    except ValidationError:
        return False
    return number[-1] == ric.calc_check_digit(number) and _county_code_known(number[:6])


def _county_code_known(code: str) -> bool:
    """Whether ``code`` names a county, in any period (stdnum's table of county codes, 4 MB,
    read at the first check and kept)."""
    return any("county" in names for _part, names in numdb.get("cn/loc").info(code))


def identity_hash(id_number: str) -> str:
    """The keyed hash that stands for a person's ID card number in every table."""
    key = current_app.config.get("IDENTITY_HASH_KEY") or current_app.config["SECRET_KEY"]
    message = ("cn.ric:" + normalised_id_number(id_number)).encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def _tail(id_number: str) -> str:
    return normalised_id_number(id_number)[-4:]


# --- the register --------------------------------------------------------------------------


def register_of(institution: Institution) -> list[StaffMember]:
    """The institution's staff, by role then name."""
    query = (
        sa.select(StaffMember)
        .where(StaffMember.institution_id == institution.id)
        .order_by(StaffMember.role, StaffMember.name, StaffMember.id)
    )
    return list(db.session.scalars(query))


def member_of(institution: Institution, member_id: int) -> StaffMember | None:
    """The staff member ``member_id`` of ``institution``, or None (also for another's)."""
    return db.session.scalar(
        sa.select(StaffMember).where(
            StaffMember.id == member_id, StaffMember.institution_id == institution.id
        )
    )


def can_change_register(institution: Institution) -> bool:
    """Whether the register may be changed in the institution's state."""
    return institution.status in EDITABLE_STATUSES


def _lock(institution: Institution) -> None:
    """Take the institution's row lock and check its state once more under it."""
    status = db.session.scalar(
        sa.select(Institution.status).where(Institution.id == institution.id).with_for_update()
    )
    if status not in EDITABLE_STATUSES:
        raise StaffError(
            _l("The staff register cannot be changed while the application is under review.")
            if status == Status.UNDER_REVIEW
            else _l("The staff register of this institution can no longer be changed.")
        )


def _ban_on(hashed: str) -> LifetimeBan | None:
    return db.session.scalar(sa.select(LifetimeBan).where(LifetimeBan.id_number_hash == hashed))


def add_staff(institution: Institution, actor: User, entry: StaffEntry) -> StaffMember:
    """Add a person to the register. A banned person is refused, and the bureau is told
    (the alert is added to the session: the caller commits it even though nothing else is)."""
    _lock(institution)
    hashed = identity_hash(entry.id_number)
    ban = _ban_on(hashed)
    if ban is not None:
        _alert_bureau(ban, institution, actor)
        raise PersonBanned()
    already = db.session.scalar(
        sa.select(StaffMember.id).where(
            StaffMember.institution_id == institution.id, StaffMember.id_number_hash == hashed
        )
    )
    if already is not None:
        raise StaffError(_l("This person is on your staff register already."))
    member = StaffMember(
        institution_id=institution.id,
        id_number_hash=hashed,
        id_number_tail=_tail(entry.id_number),
    )
    _fill(member, entry)
    db.session.add(member)
    db.session.flush()
    _record_change(institution, actor, member, StaffChangeKind.ADDED)
    sync_counts(institution)
    return member


def _fill(member: StaffMember, entry: StaffEntry) -> None:
    member.name = entry.name.strip()
    member.role = entry.role
    # A certificate is its type and its number together (the form asks for both).
    member.certificate_number = (entry.certificate_number or "").strip() or None
    member.certificate_type = entry.certificate_type if member.certificate_number else None
    member.health_checked_on = entry.health_checked_on
    member.health_check_expires_on = entry.health_check_expires_on
    member.training_hours = entry.training_hours


def update_staff(
    institution: Institution, actor: User, member: StaffMember, entry: StaffEntry
) -> None:
    """Change a person's role, certificate, health check or training (not who they are);
    a save that changes nothing is no change to record."""
    _lock(institution)
    _fill(member, entry)
    if db.session.is_modified(member):
        _record_change(institution, actor, member, StaffChangeKind.EDITED)
    db.session.flush()
    sync_counts(institution)


def remove_staff(institution: Institution, actor: User, member: StaffMember) -> None:
    """Take a person off the register (they left); the record of who did it stays."""
    _lock(institution)
    _record_change(institution, actor, member, StaffChangeKind.REMOVED)
    db.session.delete(member)
    db.session.flush()
    sync_counts(institution)


def _record_change(
    institution: Institution, actor: User, member: StaffMember, action: StaffChangeKind
) -> None:
    """Note for the audit log that ``actor`` did ``action`` to ``member`` (ID tail only)."""
    db.session.add(
        StaffChange(
            institution_id=institution.id,
            action=action,
            id_number_tail=member.id_number_tail,
            actor_id=actor.id,
        )
    )


def facts_of(institution: Institution, today: date) -> StaffFacts:
    """Counts of the register: everybody, the certified, those with a current health check."""
    certified = sa.and_(
        StaffMember.certificate_type.is_not(None), StaffMember.certificate_number.is_not(None)
    )
    row = db.session.execute(
        sa.select(
            sa.func.count(StaffMember.id),
            sa.func.count(sa.case((certified, 1))),
            sa.func.count(sa.case((StaffMember.health_check_expires_on >= today, 1))),
        ).where(StaffMember.institution_id == institution.id)
    ).one()
    return StaffFacts(staff=row[0], certified=row[1], health_current=row[2])


def sync_counts(institution: Institution) -> None:
    """Set the filing's staff facts from the register: the register is their source once it
    has anybody (an empty register leaves the declared numbers of older applications)."""
    counts = db.session.execute(
        sa.select(
            sa.func.count(StaffMember.id),
            sa.func.count(StaffMember.certificate_number),
            sa.func.min(StaffMember.health_checked_on),
        ).where(StaffMember.institution_id == institution.id)
    ).one()
    if not counts[0]:
        return
    institution.staff_count = counts[0]
    institution.certified_staff_count = counts[1]
    institution.staff_health_checked_on = counts[2]


def staff_problems(institution: Institution, today: date) -> list[str]:
    """What the register lacks for filing: every person a current health certificate, and
    every carer a qualification certificate (办法: "工作人员专业资格证明及健康合格证明")."""
    problems = []
    for member in register_of(institution):
        if not member.health_check_current(today):
            problems.append(
                _(
                    "The health certificate of %(name)s expired on %(date)s.",
                    name=member.name,
                    date=member.health_check_expires_on.isoformat(),
                )
            )
        if member.is_care_staff and not member.is_certified:
            problems.append(
                _(
                    "%(name)s looks after children but has no qualification certificate.",
                    name=member.name,
                )
            )
    return problems


def public_facts(institution: Institution, today: date) -> StaffFacts | None:
    """The register's counts for the public page, or None without a register."""
    facts = facts_of(institution, today)
    return facts if facts.staff else None


# --- the bureau's ban list -----------------------------------------------------------------


def ban_list() -> list[LifetimeBan]:
    """Every banned person, newest first."""
    query = sa.select(LifetimeBan).order_by(LifetimeBan.created_at.desc(), LifetimeBan.id.desc())
    return list(db.session.scalars(query))


def ban_alerts() -> list[BanAlert]:
    """Every attempt to employ a banned person, newest first, with institution and person."""
    query = (
        sa.select(BanAlert)
        .options(joinedload(BanAlert.ban), joinedload(BanAlert.institution))
        .order_by(BanAlert.created_at.desc(), BanAlert.id.desc())
    )
    return list(db.session.scalars(query))


def banned_people_employed() -> list[tuple[LifetimeBan, StaffMember, Institution]]:
    """Banned people who are on a staff register now (added before they were banned)."""
    query = (
        sa.select(LifetimeBan, StaffMember, Institution)
        .join(StaffMember, StaffMember.id_number_hash == LifetimeBan.id_number_hash)
        .join(Institution, Institution.id == StaffMember.institution_id)
        .order_by(Institution.id, StaffMember.id)
    )
    return [tuple(row) for row in db.session.execute(query)]


def add_ban(actor: User, name: str, id_number: str, reason: str, decided_on: date) -> LifetimeBan:
    """Put a person on the lifetime ban list (the bureau's decision)."""
    hashed = identity_hash(id_number)
    if _ban_on(hashed) is not None:
        raise StaffError(_l("This person is on the ban list already."))
    ban = LifetimeBan(
        name=name.strip(),
        id_number_hash=hashed,
        id_number_tail=_tail(id_number),
        reason=reason.strip(),
        decided_on=decided_on,
        created_by_id=actor.id,
    )
    db.session.add(ban)
    db.session.flush()
    return ban


def _alert_bureau(ban: LifetimeBan, institution: Institution, actor: User) -> None:
    """Record the attempt where the bureau sees it, and e-mail every bureau account."""
    db.session.add(BanAlert(ban_id=ban.id, institution_id=institution.id, attempted_by_id=actor.id))
    regulators = db.session.scalars(
        sa.select(User).where(User.role == Role.REGULATOR, User.email.is_not(None))
    )
    for regulator in regulators:
        with force_locale(regulator.language):
            queue_email(
                regulator.email,
                _(N_("A person on the lifetime ban list was proposed as staff")),
                _(
                    N_(
                        "%(institution)s (id %(id)d) tried to add %(name)s (ID card ending"
                        " %(tail)s) to its staff register. The entry was refused. See the ban"
                        " list for the record."
                    ),
                    institution=institution.name,
                    id=institution.id,
                    name=ban.name,
                    tail=ban.id_number_tail,
                ),
            )
