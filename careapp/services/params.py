"""Parsing of query-string parameters shared by the HTML pages and the API."""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from math import ceil

from flask_babel import lazy_gettext as _l

from careapp.services.errors import InvalidParameters

MAX_TEXT_LENGTH = 100
#: Dates are accepted in these years only: no date far off reaches date arithmetic.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2100, 12, 31)
CONTROL_CHARACTER_MESSAGE = _l("Please remove the invisible control characters.")
#: A whole number as people type it, once full-width characters are read as ASCII: digits
#: only (``int`` alone also takes "1_0", "+1", "٣" and refuses "²" with an error).
WHOLE_NUMBER = re.compile(r"-?[0-9]+")
#: Digits beyond which no parameter's number is in range (and ``int`` need not read them).
MAX_DIGITS = 18
#: The full-width forms of ASCII's printable characters (U+FF01–U+FF5E), as a Chinese input
#: method types them in full-width mode, to their ASCII characters.
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}


def half_width(text: str) -> str:
    """``text`` with full-width digits, letters and signs (Ｘ, １２) as their ASCII forms."""
    return text.translate(_HALF_WIDTH)


@dataclass
class ParamReader:
    """Reads typed values out of a query string, collecting a translated error per parameter."""

    args: Mapping[str, str]
    errors: dict[str, str] = field(default_factory=dict)

    def raw(self, name: str) -> str:
        """The stripped text of ``name``, empty when absent or refused."""
        value = (self.args.get(name) or "").strip()
        if "\x00" in value:
            self.errors[name] = CONTROL_CHARACTER_MESSAGE
            return ""
        return value

    def text(self, name: str) -> str | None:
        """Free text, at most 100 characters."""
        value = self.raw(name)
        if len(value) > MAX_TEXT_LENGTH:
            self.errors[name] = _l(
                "Please use at most %(count)d characters.", count=MAX_TEXT_LENGTH
            )
            return None
        return value or None

    def integer(self, name: str, minimum: int, maximum: int) -> int | None:
        """A whole number between ``minimum`` and ``maximum``."""
        value = half_width(self.raw(name))
        if not value:
            return None
        if not WHOLE_NUMBER.fullmatch(value):
            self.errors[name] = _l("Please enter a whole number.")
            return None
        number = int(value) if len(value) <= MAX_DIGITS else None
        if number is None or not minimum <= number <= maximum:
            self.errors[name] = _l(
                "Please enter a number from %(minimum)d to %(maximum)d.",
                minimum=minimum,
                maximum=maximum,
            )
            return None
        return number

    def choice(self, name: str, allowed, message) -> str | None:
        """One of ``allowed``; ``message`` explains an unknown value."""
        value = self.raw(name)
        if not value:
            return None
        if value not in allowed:
            self.errors[name] = message
            return None
        return value

    def iso_date(self, name: str) -> date | None:
        """A date written as YYYY-MM-DD."""
        value = self.raw(name)
        if not value:
            return None
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            self.errors[name] = _l("Please enter a date as YYYY-MM-DD, for example 2024-05-01.")
            return None
        if not EARLIEST_DATE <= parsed <= LATEST_DATE:
            self.errors[name] = _l(
                "Please enter a date from %(first)d to %(last)d.",
                first=EARLIEST_DATE.year,
                last=LATEST_DATE.year,
            )
            return None
        return parsed


@dataclass(frozen=True)
class Page:
    """One page of results."""

    items: list
    total: int
    page: int
    per_page: int
    #: False when ``total`` is a lower bound: more matched than were counted.
    total_is_exact: bool = True
    #: Whether items follow this page, when the lister looked (else derived from ``total``).
    more: bool | None = None
    #: An opaque cursor that continues after this page's last item, when items follow.
    next_cursor: str | None = None
    #: A near-me search: each item's distance in km by id.
    distances: dict[int, float] | None = None
    #: A free-places search: each item's next free place (an ``availability.Opening``) by id.
    free_places: dict | None = None

    @property
    def pages(self) -> int:
        """How many pages there are (at least one); with a bounded total, as many as known."""
        counted = max(1, ceil(self.total / self.per_page))
        if self.total_is_exact:
            return counted
        return max(counted, self.page + 1 if self.has_next else self.page)

    @property
    def has_next(self) -> bool:
        """Whether a later page exists."""
        if self.more is not None:
            return self.more
        return self.page < max(1, ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        """Whether an earlier page exists."""
        return self.page > 1


def parse_paging(
    args: Mapping[str, str], default_per_page: int, max_per_page: int
) -> tuple[int, int]:
    """The requested page number and page size; raises InvalidParameters."""
    reader = ParamReader(args)
    page = reader.integer("page", 1, 100_000) or 1
    per_page = reader.integer("per_page", 1, max_per_page) or default_per_page
    if reader.errors:
        raise InvalidParameters(reader.errors)
    return page, per_page
