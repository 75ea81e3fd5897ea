"""Column helpers shared by every model module."""

import enum
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import mapped_column

from careapp import clock

#: The largest id a row may have (PostgreSQL's integer): ids read from requests are held to it.
MAX_ID = 2**31 - 1


class StrEnum(enum.StrEnum):
    """An enum whose members are stored and serialised as their lowercase value."""

    @classmethod
    def values(cls) -> list[str]:
        """Every stored value, in declaration order."""
        return [member.value for member in cls]


def enum_type(enum_cls: type[StrEnum]) -> sa.Enum:
    """A portable string column type for ``enum_cls`` (no native database enum)."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=24,
        values_callable=lambda members: [m.value for m in members],
    )


def one_of(column: str, enum_cls: type[StrEnum], name: str) -> sa.CheckConstraint:
    """A named check constraint keeping ``column`` inside the values of ``enum_cls``."""
    allowed = ", ".join(f"'{value}'" for value in enum_cls.values())
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=name)


def utcnow() -> datetime:
    """The current time in UTC, timezone-aware (a record's time, from the one clock)."""
    return clock.now()


def as_utc(moment: datetime | None) -> datetime | None:
    """``moment`` as an aware UTC time (SQLite hands back naive ones)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def created_at_column():
    """A ``created_at`` timestamp filled in by the application."""
    return mapped_column(sa.DateTime(timezone=True), default=utcnow, nullable=False)


def localized(chinese: str, english: str | None, language: str) -> str:
    """The English text when ``language`` is English and one exists, else the Chinese."""
    if language.startswith("en") and english:
        return english
    return chinese
