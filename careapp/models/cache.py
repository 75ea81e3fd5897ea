"""Versions of what the public sees: a cached page is good while its scopes' versions stand."""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from careapp.extensions import db
from careapp.models.base import StrEnum


class CacheScope(StrEnum):
    """A part of the public site whose pages are cached and invalidated together."""

    #: Institutions, townships, offers, classes, disclosure events: what the register says.
    REGISTER = "register"
    #: Slots, bookings and the places they take: what is free when.
    PLACES = "places"
    #: Parenting courses, their sessions, seats and providers.
    COURSES = "courses"


class CacheVersion(db.Model):
    """One scope's version, bumped in the same transaction as any change to what it covers."""

    __tablename__ = "cache_versions"

    scope: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    version: Mapped[int] = mapped_column(sa.BigInteger, default=0)
