"""China's working days: official holidays off, make-up working days (调休) on.

Every deadline the policies count in working days (filing within 5, follow-up within 15,
answers to reports) is counted here, from ``chinese_calendar``'s table.
"""

from datetime import date, timedelta

import chinese_calendar


def is_working_day(day: date) -> bool:
    """Whether ``day`` is a working day in China; Monday to Friday for years the table lacks."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end``."""
    if end <= start:
        return 0
    days = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        days += is_working_day(current)
    return days


def add_working_days(start: date, days: int) -> date:
    """The day on which ``days`` working days after ``start`` have passed (the deadline)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        remaining -= is_working_day(current)
    return current
