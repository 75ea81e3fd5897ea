"""Bookable places for the demo: weekly schedules, standing places and a demo child."""

from collections import Counter
from datetime import date, timedelta

import sqlalchemy as sa

from careapp.extensions import db
from careapp.models import CareType, Institution, Slot, Status, User
from careapp.services import booking

#: Hourly care is cut into blocks of this length.
HOURLY_BLOCK_MINUTES = 180
WEEKDAYS = "12345"
DEMO_CHILD = ("王小宝", 20)  # name, age in months


def _first_of_next_months(today: date, count: int) -> list[date]:
    days, current = [], today.replace(day=1)
    for _ in range(count):
        current = (current + timedelta(days=32)).replace(day=1)
        days.append(current)
    return days


def _class_for(institution: Institution, care_type: CareType):
    """The first class whose age band overlaps the offer's ages."""
    offer = institution.offer_for(care_type)
    for care_class in institution.classes:
        standard = care_class.standard
        if standard.min_age_months < offer.max_age_months and (
            offer.min_age_months < standard.max_age_months
        ):
            return care_class
    return None


def _seed_institution(institution: Institution, today: date, counts: Counter) -> None:
    for offer in institution.offers:
        care_type = CareType(offer.care_type)
        care_class = _class_for(institution, care_type)
        if care_class is None:
            continue
        if care_type in (CareType.HOURLY, CareType.TEMPORARY):
            schedule = booking.add_schedule(
                care_class,
                care_type=care_type,
                weekdays=WEEKDAYS,
                starts_at=offer.opens_at,
                ends_at=offer.closes_at,
                block_minutes=HOURLY_BLOCK_MINUTES if care_type == CareType.HOURLY else None,
                capacity=min(3, care_class.capacity),
                valid_from=today,
                valid_until=None,
            )
            counts["schedules"] += 1
            counts["slots"] += booking.generate_slots(
                schedule, today, today + timedelta(days=booking.GENERATE_DAYS_AHEAD)
            )
            continue
        for first_day in _first_of_next_months(today, 2):
            booking.add_slot(
                care_class,
                care_type,
                first_day,
                offer.opens_at,
                offer.closes_at,
                min(2, care_class.capacity),
                today,
            )
            counts["slots"] += 1


def seed_places(today: date, parent: User) -> dict[str, int]:
    """Schedules and slots for filed institutions without slots, and the parent's child."""
    counts: Counter[str] = Counter(schedules=0, slots=0, children=0)
    planned = sa.select(Slot.institution_id)
    institutions = db.session.scalars(
        sa.select(Institution)
        .where(Institution.status == Status.FILED, Institution.id.not_in(planned))
        .order_by(Institution.id)
    )
    for institution in institutions:
        _seed_institution(institution, today, counts)
    if not booking.children_of(parent):
        name, months = DEMO_CHILD
        booking.add_child(
            parent,
            name=name,
            birth_date=today - timedelta(days=months * 30 + 15),
            notes="",
            consent=True,
        )
        counts["children"] += 1
    db.session.flush()
    return dict(counts)
