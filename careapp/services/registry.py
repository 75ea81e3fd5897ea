"""The public disclosure list (信息公示) and the operators' register listing."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import contains_eager, joinedload

from careapp.extensions import db
from careapp.models import (
    EventType,
    FilingEvent,
    Institution,
    Status,
    Township,
    disclosed_events,
)
from careapp.services.errors import InvalidParameters
from careapp.services.params import Page, ParamReader
from careapp.services.search import known_township_codes


@dataclass(frozen=True)
class EventFilter:
    """Which disclosure events to list."""

    township: str | None = None
    event_type: str | None = None
    since: date | None = None


def parse_event_filter(args: Mapping[str, str]) -> EventFilter:
    """An event filter from query parameters; raises InvalidParameters."""
    reader = ParamReader(args)
    township = reader.choice("township", known_township_codes(), _l("There is no such township."))
    event_type = reader.choice("type", EventType.values(), _l("There is no such event type."))
    since = reader.iso_date("since")
    if reader.errors:
        raise InvalidParameters(reader.errors)
    return EventFilter(township, event_type, since)


def list_events(event_filter: EventFilter, page: int, per_page: int) -> Page:
    """One page of public filing events, newest first, with institution and township loaded."""
    query = disclosed_events().join(Institution.township)
    if event_filter.township:
        query = query.where(Township.code == event_filter.township)
    if event_filter.event_type:
        query = query.where(FilingEvent.event_type == event_filter.event_type)
    if event_filter.since:
        query = query.where(FilingEvent.occurred_on >= event_filter.since)
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(query.with_only_columns(FilingEvent.id).subquery())
    )
    rows = db.session.scalars(
        query.options(contains_eager(FilingEvent.institution).contains_eager(Institution.township))
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return Page(list(rows), total, page, per_page)


def list_register(status: str | None = None) -> list[Institution]:
    """Every institution, whatever its state, for operators; optionally of one status."""
    query = (
        sa.select(Institution).options(joinedload(Institution.township)).order_by(Institution.id)
    )
    if status:
        query = query.where(Institution.status == Status(status))
    return list(db.session.scalars(query))


def register_page(status: str | None, page: int, per_page: int) -> Page:
    """One page of the register for operators, whatever the state (or of one status), in id
    order, with townships: two statements however large the register."""
    query = sa.select(Institution)
    if status:
        query = query.where(Institution.status == Status(status))
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(query.with_only_columns(Institution.id).subquery())
    )
    rows = db.session.scalars(
        query.options(joinedload(Institution.township))
        .order_by(Institution.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return Page(list(rows), total, page, per_page)
