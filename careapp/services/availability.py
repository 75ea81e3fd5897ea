"""One availability: the places a child can book, as search, pages, the API and booking see them.

A slot's places left are the fewer of two: the places its inventory still has, and the room
its class (and a home-based point as a whole) has at every moment the slot covers
(``careapp.services.occupancy``). Search cards, the institution page, the availability API,
the booking form and the booking itself all count through ``Rooms.free_for``.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager

from careapp.extensions import db
from careapp.models import (
    CareClass,
    CareOffer,
    CareType,
    Institution,
    Inventory,
    Nature,
    Slot,
    SlotStatus,
)
from careapp.models.booking import STANDING_CARE_TYPES
from careapp.models.provision import CLASS_STANDARDS
from careapp.services.occupancy import build_rooms, closed_days, holds_children, load_rooms

#: Search cards look this many days ahead for the next free place.
CARD_DAYS = 14
#: Candidate slots read per institution for its card's next free place before the rest: the
#: first with room left is nearly always among them.
FIRST_CANDIDATES = 3
#: Slots in time order.
SLOT_ORDER = (Slot.on_date, Slot.starts_at, Slot.care_type, Slot.id)


@dataclass(frozen=True)
class Opening:
    """A slot as parents see it: when, what and how many places are left."""

    slot: Slot
    remaining: int


@dataclass(frozen=True)
class Wanted:
    """What a family looks for; every field is optional."""

    care_type: CareType | str | None = None
    age_months: int | None = None
    #: Slots that start at or before this local time are over.
    not_before: datetime | None = None

    def suits(self, slot: Slot, institution: Institution) -> bool:
        """Whether ``slot`` is one this family could book (before counting places)."""
        if self.care_type is not None and slot.care_type != self.care_type:
            return False
        offer = institution.offer_for(CareType(slot.care_type))
        if offer is None:
            return False
        if self.age_months is not None and not (
            slot.care_class.accepts_age(self.age_months) and offer.accepts_age(self.age_months)
        ):
            return False
        return self.not_before is None or slot.starts > self.not_before


def openings(
    institutions: Sequence[Institution], first: date, last: date, wanted: Wanted = Wanted()
) -> dict[int, list[Opening]]:
    """Each institution's open slots from ``first`` to ``last`` that suit ``wanted``, with
    the places left, in time order. Two statements whatever the number of institutions."""
    by_id = {institution.id: institution for institution in institutions}
    if not by_id:
        return {}
    slots = _open_slots(list(by_id), first, last)
    home_based = {i.id for i in institutions if i.nature == Nature.HOME_BASED}
    rooms = build_rooms(slots, closed_days(set(by_id), first), home_based, first)
    found: dict[int, list[Opening]] = defaultdict(list)
    for slot in slots:
        institution = by_id[slot.institution_id]
        if first <= slot.on_date <= last and wanted.suits(slot, institution):
            remaining = min(slot.inventory.remaining, rooms.free_for(slot))
            found[slot.institution_id].append(Opening(slot, remaining))
    return found


def _open_slots(institution_ids: list[int], first: date, last: date) -> list[Slot]:
    """Open slots to show (``first`` to ``last``) and those holding children in the same
    classes on later days or as standing places: what the class counts come from."""
    query = (
        sa.select(Slot)
        .join(Slot.inventory)
        .join(Slot.care_class)
        .where(Slot.institution_id.in_(institution_ids), Slot.status == SlotStatus.OPEN)
        .where(
            sa.or_(
                Slot.on_date.between(first, last),
                sa.and_(Inventory.taken > 0, Slot.care_type.in_(STANDING_CARE_TYPES)),
                sa.and_(Inventory.taken > 0, Slot.on_date > last),
            )
        )
        .options(contains_eager(Slot.inventory), contains_eager(Slot.care_class))
        .order_by(*SLOT_ORDER)
    )
    return list(db.session.scalars(query))


def next_free_places(
    institutions: Sequence[Institution], today: date, wanted: Wanted, days: int = CARD_DAYS
) -> dict[int, Opening | None]:
    """Each institution's first suitable opening with a place left in the next ``days``
    days (``CARD_DAYS`` unless given), or None.

    Reads each institution's first ``FIRST_CANDIDATES`` slots of the fortnight that may suit
    ``wanted`` and have places in their inventory, with the slots holding children in the
    same rooms; only an institution whose first candidates all lack room has the rest of its
    candidates read (one more statement).
    """
    last = today + timedelta(days=days - 1)
    by_id = {institution.id: institution for institution in institutions}
    if not by_id:
        return {}
    closed = closed_days(set(by_id), today)
    found, unsettled = _first_free(by_id, today, last, wanted, closed, FIRST_CANDIDATES)
    if unsettled:
        rest = {institution_id: by_id[institution_id] for institution_id in unsettled}
        found.update(_first_free(rest, today, last, wanted, closed, None)[0])
    return found


def _first_free(
    by_id: dict[int, Institution],
    first: date,
    last: date,
    wanted: Wanted,
    closed: dict[int, frozenset[date]],
    candidates: int | None,
) -> tuple[dict[int, Opening | None], set[int]]:
    """Each institution's first opening with a place left among its first ``candidates``
    candidate slots (all with None), and the institutions whose every candidate read lacked
    room while more may follow."""
    slots = _card_slots(list(by_id), first, last, wanted, candidates)
    home_based = {i.id for i in by_id.values() if i.nature == Nature.HOME_BASED}
    rooms = build_rooms(slots, closed, home_based, first)
    found: dict[int, Opening | None] = dict.fromkeys(by_id)
    tried: dict[int, int] = defaultdict(int)
    for slot in slots:
        if found[slot.institution_id] is not None or not _may_be_free(slot, first, last):
            continue
        if candidates is not None and tried[slot.institution_id] >= candidates:
            # A slot read only because it holds children may lie after a candidate not read.
            continue
        tried[slot.institution_id] += 1
        if wanted.suits(slot, by_id[slot.institution_id]):
            remaining = min(slot.inventory.remaining, rooms.free_for(slot))
            if remaining > 0:
                found[slot.institution_id] = Opening(slot, remaining)
    if candidates is None:
        return found, set()
    return found, {
        key for key, opening in found.items() if opening is None and tried[key] >= candidates
    }


def _may_be_free(slot: Slot, first: date, last: date) -> bool:
    """Whether ``slot`` lies in the window with a place left in its inventory (a slot read
    only because it holds children may not)."""
    return first <= slot.on_date <= last and slot.inventory.remaining > 0


def _card_slots(
    institution_ids: list[int], first: date, last: date, wanted: Wanted, candidates: int | None
) -> list[Slot]:
    """In time order: each institution's first ``candidates`` (all with None) open slots from
    ``first`` to ``last`` that may suit ``wanted`` and have places in their inventory, and the
    open slots holding children in the institutions' classes from ``first`` on (what the rooms
    count)."""
    holding_children = (
        sa.select(Slot.id)
        .join(Slot.inventory)
        .where(Slot.institution_id.in_(institution_ids), holds_children(first))
    )
    may_suit = _may_suit(institution_ids, first, last, wanted)
    suiting = sa.select(Slot.id).join(Slot.inventory).join(Slot.care_class).where(*may_suit)
    if candidates is not None:
        suiting = _first_of_each_institution(suiting, candidates)
    # One list of ids, not an OR of both conditions: an OR makes the database scan every slot.
    query = (
        sa.select(Slot)
        .join(Slot.inventory)
        .join(Slot.care_class)
        .where(Slot.id.in_(sa.union_all(suiting, holding_children)))
        .options(contains_eager(Slot.inventory), contains_eager(Slot.care_class))
        .order_by(*SLOT_ORDER)
    )
    return list(db.session.scalars(query))


def _first_of_each_institution(suiting: sa.Select, candidates: int) -> sa.Select:
    """The ids ``suiting`` selects, only each institution's first ``candidates`` of them."""
    rank = sa.func.row_number().over(partition_by=Slot.institution_id, order_by=SLOT_ORDER)
    ranked = suiting.add_columns(rank.label("rank")).subquery()
    return sa.select(ranked.c.id).where(ranked.c.rank <= candidates)


def _may_suit(institution_ids: list[int], first: date, last: date, wanted: Wanted) -> list:
    """Conditions on a slot (joined with its inventory and class) that ``Wanted.suits`` and a
    free place imply; ``suits`` still decides."""
    offered = sa.and_(
        CareOffer.institution_id == Slot.institution_id, CareOffer.care_type == Slot.care_type
    )
    conditions = [
        Slot.institution_id.in_(institution_ids),
        Slot.status == SlotStatus.OPEN,
        Slot.on_date.between(first, last),
        Inventory.taken < Inventory.capacity,
    ]
    if wanted.care_type is not None:
        conditions.append(Slot.care_type == CareType(wanted.care_type))
    if wanted.age_months is not None:
        age = wanted.age_months
        kinds = [kind for kind, band in CLASS_STANDARDS.items() if band.accepts_age(age)]
        conditions.append(CareClass.kind.in_(kinds))
        offered = sa.and_(offered, CareOffer.min_age_months <= age, CareOffer.max_age_months > age)
    if wanted.not_before is not None:
        day, moment = wanted.not_before.date(), wanted.not_before.time()
        conditions.append(
            sa.or_(Slot.on_date > day, sa.and_(Slot.on_date == day, Slot.starts_at > moment))
        )
    return [*conditions, sa.exists().where(offered)]


def places_left(slot: Slot, today: date) -> int:
    """Places one more child could take in ``slot`` now (the booking form's count)."""
    return min(slot.inventory.remaining, load_rooms(slot.care_class, today).free_for(slot))
