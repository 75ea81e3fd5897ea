"""A parent's shortlist of institutions: in the session while signed out, on the account once
signed in (merged at sign-in). Only filed institutions are ever kept or shown."""

import sqlalchemy as sa
from flask import session
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from careapp import clock
from careapp.extensions import db
from careapp.models import Institution, ShortlistEntry, User, publicly_listed

#: Institutions a shortlist holds at most.
MAX_ENTRIES = 20
#: Where a signed-out visitor's shortlist is kept in the session.
SESSION_KEY = "shortlist"


class ShortlistFull(Exception):
    """The shortlist already holds ``MAX_ENTRIES`` institutions."""


def _public_ids(ids: list[int]) -> list[int]:
    """``ids`` that are filed institutions, in the given order."""
    if not ids:
        return []
    query = publicly_listed().with_only_columns(Institution.id).where(Institution.id.in_(ids))
    public = set(db.session.scalars(query))
    return [institution_id for institution_id in ids if institution_id in public]


def _session_ids() -> list[int]:
    """The ids a signed-out visitor's session holds (whatever their state now)."""
    kept = session.get(SESSION_KEY) or []
    return [value for value in kept if isinstance(value, int)][:MAX_ENTRIES]


def _account_ids(user: User) -> list[int]:
    """The ids of filed institutions on ``user``'s shortlist, oldest first."""
    query = (
        sa.select(ShortlistEntry.institution_id)
        .join(Institution, Institution.id == ShortlistEntry.institution_id)
        .where(ShortlistEntry.user_id == user.id)
        .where(publicly_listed().whereclause)
        .order_by(ShortlistEntry.created_at, ShortlistEntry.id)
    )
    return list(db.session.scalars(query))


def starred_ids() -> list[int]:
    """The filed institutions on the current visitor's shortlist, in the order starred."""
    if current_user.is_authenticated:
        return _account_ids(current_user)
    return _public_ids(_session_ids())


def add(institution_id: int) -> bool:
    """Star a filed institution; False when it is not public. Raises ``ShortlistFull``."""
    if not _public_ids([institution_id]):
        return False
    if current_user.is_authenticated:
        _add_to_account(current_user, [institution_id])
        return True
    kept = _public_ids(_session_ids())
    if institution_id not in kept:
        if len(kept) >= MAX_ENTRIES:
            raise ShortlistFull
        session[SESSION_KEY] = [*kept, institution_id]
    return True


def remove(institution_id: int) -> None:
    """Take an institution off the current visitor's shortlist (nothing if it is not there)."""
    if current_user.is_authenticated:
        db.session.execute(
            sa.delete(ShortlistEntry).where(
                ShortlistEntry.user_id == current_user.id,
                ShortlistEntry.institution_id == institution_id,
            )
        )
        return
    kept = _session_ids()
    if institution_id in kept:
        session[SESSION_KEY] = [value for value in kept if value != institution_id]


def _add_to_account(user: User, ids: list[int], strict: bool = True) -> None:
    """Add filed ``ids`` to ``user``'s shortlist under a lock on the account row; past the cap
    raise ``ShortlistFull`` (``strict``) or drop the rest (a merge)."""
    db.session.execute(sa.select(User.id).where(User.id == user.id).with_for_update())
    kept = _account_ids(user)
    for institution_id in _public_ids(ids):
        if institution_id in kept:
            continue
        if len(kept) >= MAX_ENTRIES:
            if strict:
                raise ShortlistFull
            return
        db.session.add(
            ShortlistEntry(user_id=user.id, institution_id=institution_id, created_at=clock.now())
        )
        kept.append(institution_id)
    db.session.flush()


def take_from_session() -> list[int]:
    """The signed-out shortlist, read before the session is cleared at sign-in."""
    return _session_ids()


def merge_into_account(user: User, ids: list[int]) -> None:
    """At sign-in: add the signed-out shortlist to the account's, up to the cap."""
    if ids:
        _add_to_account(user, ids, strict=False)


def shortlisted_institutions(ids: list[int]) -> list[Institution]:
    """The filed institutions among ``ids``, in that order, with what lists and compares show."""
    if not ids:
        return []
    query = (
        publicly_listed()
        .where(Institution.id.in_(ids))
        .options(joinedload(Institution.township), selectinload(Institution.offers))
    )
    found = {institution.id: institution for institution in db.session.scalars(query).unique()}
    return [found[institution_id] for institution_id in ids if institution_id in found]
