"""One clock: the site's "now" and "today" come from careapp.clock, in the site's zone."""

import re
from datetime import UTC, date, datetime

import pytest

from careapp import clock
from careapp.config import PROJECT_ROOT

#: Ways of reading the system clock; only careapp/clock.py may use them.
READS_THE_CLOCK = re.compile(
    r"date\.today\(|datetime\.now\(|datetime\.utcnow\(|datetime\.today\(|time\.time\(|"
    r"time\.localtime\(|time\.gmtime\("
)


def test_nothing_but_the_clock_reads_the_system_clock():
    readers = [
        f"{path.relative_to(PROJECT_ROOT)}:{number}"
        for path in (PROJECT_ROOT / "careapp").rglob("*.py")
        if path.name != "clock.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if READS_THE_CLOCK.search(line)
    ]

    assert readers == []


@pytest.fixture
def at(monkeypatch):
    """Set the system clock to an aware UTC moment."""

    def set_time(moment: datetime) -> None:
        monkeypatch.setattr("careapp.clock._system_now", lambda: moment)

    return set_time


def test_today_is_the_local_date_even_when_utc_is_still_yesterday(app, at):
    at(datetime(2026, 11, 30, 17, 30, tzinfo=UTC))  # 01:30 on 1 December in Beijing

    with app.app_context():
        assert clock.today() == date(2026, 12, 1)
        assert clock.local_now() == datetime(2026, 12, 1, 1, 30)


def test_the_site_time_zone_is_a_setting(app, at):
    at(datetime(2026, 11, 30, 17, 30, tzinfo=UTC))
    app.config["SITE_TIME_ZONE"] = "Europe/Berlin"

    with app.app_context():
        assert clock.today() == date(2026, 11, 30)


def test_local_and_utc_times_convert_both_ways(app):
    with app.app_context():
        local = datetime(2026, 12, 1, 14, 0)
        assert clock.to_utc(local) == datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
        assert clock.to_local(clock.to_utc(local)) == local
