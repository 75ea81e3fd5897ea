"""One clock: the site's "now" and "today" come from here, in its time zone.

Records keep aware UTC times (``now``); care happens on local dates and hours (``today``,
``local_now``: naive times of the site's zone, ``SITE_TIME_ZONE``, Asia/Shanghai by default).
Nothing else in careapp reads the system clock; a test holds that.
"""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_TIME_ZONE = "Asia/Shanghai"


def _system_now() -> datetime:
    """The one reading of the system clock (tests move time by replacing it)."""
    return datetime.now(UTC)


def zone() -> ZoneInfo:
    """The site's time zone."""
    name = current_app.config["SITE_TIME_ZONE"] if has_app_context() else DEFAULT_TIME_ZONE
    return ZoneInfo(name)


def now() -> datetime:
    """The current moment, aware UTC."""
    return _system_now()


def local_now() -> datetime:
    """The current local time of the site, naive."""
    return to_local(now())


def today() -> date:
    """Today at the site."""
    return local_now().date()


def to_local(moment: datetime) -> datetime:
    """An aware time (naive ones are taken as UTC) as the site's naive local time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone()).replace(tzinfo=None)


def to_utc(moment: datetime) -> datetime:
    """A naive local time of the site as aware UTC (aware times pass through)."""
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    return moment.replace(tzinfo=zone()).astimezone(UTC)


def local_date(moment: datetime) -> date:
    """The site's local date of ``moment``: a naive local time or an aware one."""
    return to_local(to_utc(moment)).date()
