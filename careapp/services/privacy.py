"""Children's names (masked in lists, first name only in messages) and how long their data
is kept."""

import calendar
from datetime import date, datetime

from flask import current_app

#: Months a child's details are kept after its last booking ends (PIPL Art. 19, 47), unless
#: ``CHILD_DATA_RETENTION_MONTHS`` says otherwise.
DEFAULT_RETENTION_MONTHS = 12

#: Two-character Chinese surnames (复姓) that keep both characters as the surname.
COMPOUND_SURNAMES = frozenset(
    {"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "令狐", "夏侯"}
)


def _is_chinese(name: str) -> bool:
    return all("\u4e00" <= character <= "\u9fff" for character in name)


def mask_name(name: str) -> str:
    """Mask all but the ends: ``张小明`` → ``张*明``, ``李明`` → ``李*``, ``Tom`` → ``T**``."""
    name = name.strip()
    if not name:
        return ""
    if " " in name:
        return " ".join(part[0] + "*" * (len(part) - 1) for part in name.split())
    if len(name) <= 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def first_name(name: str) -> str:
    """The given name alone: ``张小明`` → ``小明``, ``欧阳娜娜`` → ``娜娜``."""
    name = name.strip()
    if " " in name:
        return name.split()[0]
    if _is_chinese(name) and len(name) >= 2:
        surname_length = 2 if name[:2] in COMPOUND_SURNAMES and len(name) > 2 else 1
        return name[surname_length:]
    return name


def retention_months() -> int:
    """How many months a child's details are kept after its last booking ends."""
    return int(current_app.config.get("CHILD_DATA_RETENTION_MONTHS", DEFAULT_RETENTION_MONTHS))


def months_before(day: date, months: int) -> date:
    """The same day ``months`` months earlier (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def staff_see_child_in_full(made, now: datetime) -> bool:
    """Whether institution staff may see a booking's child by full name, with notes (``now``
    local): only while the booking holds a place and is not over; a standing place runs
    until it is given up. PIPL Art. 19: kept no longer than the purpose needs."""
    if not made.is_active:
        return False
    slot = made.slot
    return slot.is_standing or datetime.combine(slot.on_date, slot.ends_at) > now
