"""Regions: one deployment may serve a county, a province or the whole country.

A visitor chooses the region first (``?region=CODE`` in the URL, or a township, which lies in
one region); township menus then show that region's townships only, so that a page stays small
however many townships the register holds.
"""

import sqlalchemy as sa

from careapp.extensions import db
from careapp.models import Region, Township


def all_regions() -> list[Region]:
    """Every region, in code order."""
    return list(db.session.scalars(sa.select(Region).order_by(Region.code)))


def region_codes() -> set[str]:
    """Codes of every region (a few, or a few hundred for the whole country)."""
    return set(db.session.scalars(sa.select(Region.code)))


class TownshipCodes:
    """The register's township codes, checked one at a time (``code in TownshipCodes()``):
    validating one code never reads every township of the country."""

    def __contains__(self, code: object) -> bool:
        query = sa.select(Township.id).where(Township.code == code).limit(1)
        return db.session.scalar(query) is not None


def region_id(code: str) -> sa.ScalarSelect:
    """The id of the region with ``code``, as a subquery."""
    return sa.select(Region.id).where(Region.code == code).scalar_subquery()


def townships_in(code: str) -> sa.Select:
    """The ids of the townships of the region with ``code``."""
    return sa.select(Township.id).where(Township.region_id == region_id(code))


def chosen_region(
    regions: list[Region], region_code: str | None, township_code: str | None
) -> Region | None:
    """The region a page is about: the one asked for, else the chosen township's, else the
    only one; None while a visitor of a many-region register has yet to choose."""
    if region_code:
        return next((region for region in regions if region.code == region_code), None)
    if township_code:
        query = sa.select(Township.region_id).where(Township.code == township_code)
        found = db.session.scalar(query)
        return next((region for region in regions if region.id == found), None)
    return regions[0] if len(regions) == 1 else None
