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
from careapp.models.base import MAX_ID
from careapp.services import cursors, regions
from careapp.services.errors import InvalidParameters
from careapp.services.params import Page, ParamReader
from careapp.services.search import COUNT_LIMIT


@dataclass(frozen=True)
class EventFilter:
    """Which disclosure events to list."""

    township: str | None = None
    event_type: str | None = None
    since: date | None = None
    region: str | None = None


def parse_event_filter(args: Mapping[str, str]) -> EventFilter:
    """An event filter from query parameters; raises InvalidParameters."""
    reader = ParamReader(args)
    region = reader.choice("region", regions.region_codes(), _l("There is no such region."))
    township = reader.choice("township", regions.TownshipCodes(), _l("There is no such township."))
    event_type = reader.choice("type", EventType.values(), _l("There is no such event type."))
    since = reader.iso_date("since")
    if reader.errors:
        raise InvalidParameters(reader.errors)
    return EventFilter(township, event_type, since, region)


def event_key(event: FilingEvent) -> tuple[str, int]:
    """An event's place in the disclosure order, as a cursor holds it."""
    return (event.occurred_on.isoformat(), event.id)


def parse_after(cursor: str | None) -> tuple[date, int] | None:
    """The event key of an ``after`` cursor; raises InvalidParameters for a bad one."""
    if not cursor:
        return None
    day, event_id = cursors.decode(cursor, (str, int))
    try:
        occurred_on = date.fromisoformat(day)
    except ValueError:
        raise InvalidParameters({"after": cursors.BAD_CURSOR_MESSAGE}) from None
    if not 0 < event_id <= MAX_ID:
        raise InvalidParameters({"after": cursors.BAD_CURSOR_MESSAGE})
    return occurred_on, event_id


def list_events(
    event_filter: EventFilter, page: int, per_page: int, after: tuple[date, int] | None = None
) -> Page:
    """One page of public filing events, newest first, with institution and township loaded.

    The total is exact up to ``COUNT_LIMIT`` (counted without sorting); ``after`` (an event
    key) continues after that event. Two statements, read along the events' date index.
    """
    query = disclosed_events().join(Institution.township)
    if event_filter.township:
        query = query.where(Township.code == event_filter.township)
    if event_filter.region:
        query = query.where(Township.region_id == regions.region_id(event_filter.region))
    if event_filter.event_type:
        query = query.where(FilingEvent.event_type == event_filter.event_type)
    if event_filter.since:
        query = query.where(FilingEvent.occurred_on >= event_filter.since)
    first = query.with_only_columns(FilingEvent.id).order_by(None).limit(COUNT_LIMIT + 1)
    counted = db.session.scalar(sa.select(sa.func.count()).select_from(first.subquery()))
    if after is not None:
        query = query.where(
            sa.tuple_(FilingEvent.occurred_on, FilingEvent.id)
            < sa.tuple_(sa.literal(after[0], FilingEvent.occurred_on.type), sa.literal(after[1]))
        )
    else:
        query = query.offset((page - 1) * per_page)
    rows = list(
        db.session.scalars(
            query.options(
                contains_eager(FilingEvent.institution).contains_eager(Institution.township)
            ).limit(per_page + 1)
        )
    )
    items, more = rows[:per_page], len(rows) > per_page
    following = cursors.encode(event_key(items[-1])) if more else None
    exact = counted <= COUNT_LIMIT
    return Page(items, min(counted, COUNT_LIMIT), page, per_page, exact, more, following)


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
