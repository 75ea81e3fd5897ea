"""The bureau's dashboard of targets, its figures as CSV, and the settings behind them."""

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from careapp import clock
from careapp.access import or_404
from careapp.csv_export import csv_response
from careapp.extensions import db
from careapp.i18n import current_language
from careapp.labels import label
from careapp.models import Region, Township
from careapp.public.statistics import current_region, township_sort
from careapp.regulator import bp
from careapp.regulator.forms import RegisteredCountForm, TownshipTargetsForm
from careapp.services import filing, regions, statistics
from careapp.services.statistics import RegionFigures


def _figures(region: Region) -> RegionFigures:
    return statistics.region_figures(region, clock.today(), clock.local_now())


@bp.get("/dashboard")
def dashboard():
    """Township and region figures against their targets."""
    region = current_region()
    figures = _figures(region)
    sort, descending = township_sort()
    return render_template(
        "regulator/dashboard.html",
        figures=figures,
        townships=statistics.sorted_townships(figures.townships, sort, descending),
        sort=sort,
        descending=descending,
        regions=regions.all_regions(),
        chart_target=statistics.shared_target(figures.townships),
        queue=[
            (item, filing.waiting_working_days(item, clock.today()), filing.review_deadline(item))
            for item in filing.review_queue()
            if item.township.region_id == region.id
        ],
    )


def _percent(value) -> str:
    """A share as a percentage with one decimal, empty for no share."""
    return "" if value is None else f"{value * 100:.1f}"


def _met(value: bool | None) -> str:
    """Whether a target is met, in words."""
    if value is None:
        return ""
    return _("met") if value else _("missed")


def _township_table(figures: RegionFigures, language: str):
    header = (
        _("Code"),
        _("Township"),
        _("Filed institutions"),
        _("Minimum filed institutions"),
        _("Minimum met"),
        _("Places"),
        _("Residents"),
        _("Figure dated"),
        _("Places per 1,000 residents"),
        _("Target places per 1,000 residents"),
        _("Target met"),
        _("Covered"),
    )
    rows = (
        (
            row.township.code,
            row.township.name_for(language),
            row.filed_institutions,
            row.min_institutions,
            _met(row.meets_minimum),
            row.places,
            row.population,
            row.township.population_as_of,
            row.places_per_1000,
            row.target_places_per_1000,
            _met(row.meets_places_target),
            _("yes") if row.covered else _("no"),
        )
        for row in figures.townships
    )
    return header, rows


def _indicator_table(figures: RegionFigures, language: str):
    header = (
        _("Indicator"),
        _("Count"),
        _("Out of"),
        _("Share (%)"),
        _("Target (%)"),
        _("Target met"),
    )
    measures = (
        (_("Townships with a filed institution"), figures.covered_townships),
        (_("Registered institutions that are filed"), figures.filed_share),
        (_("Places in inclusive (普惠) institutions"), figures.inclusive_places),
        (_("Families reached by a course in the last 12 months"), figures.families_reached),
    )
    rows = (
        (
            name,
            measure.part,
            measure.whole,
            _percent(measure.share),
            _percent(measure.target),
            _met(measure.meets_target),
        )
        for name, measure in measures
    )
    return header, rows


def _fill_rate_table(figures: RegionFigures, language: str):
    header = (_("Care type"), _("Places taken"), _("Places offered"), _("Fill rate (%)"))
    rows = (
        (label("care_type", rate.care_type), rate.taken, rate.offered, _percent(rate.share))
        for rate in figures.fill_rates
    )
    return header, rows


def _waiting_table(figures: RegionFigures, language: str):
    today = clock.today()
    header = (
        _("Institution"),
        _("Township"),
        _("Submitted"),
        _("Working days waiting"),
        _("Within the limit"),
        _("Answer due"),
    )
    rows = (
        (
            item.name_for(language),
            item.township.name_for(language),
            item.submitted_at.date() if item.submitted_at else "",
            filing.waiting_working_days(item, today),
            _met(not filing.is_overdue(item, today)),
            filing.review_deadline(item) or "",
        )
        for item in filing.review_queue()
        if item.township.region_id == figures.region.id
    )
    return header, rows


#: The dashboard's tables by the name of their CSV file.
TABLES = {
    "townships": _township_table,
    "indicators": _indicator_table,
    "fill-rates": _fill_rate_table,
    "waiting": _waiting_table,
}


@bp.get("/dashboard/<table>.csv")
def dashboard_csv(table: str):
    """One table of the dashboard as a CSV file for Excel."""
    build = TABLES.get(table)
    if build is None:
        abort(404)
    region = current_region()
    header, rows = build(_figures(region), current_language())
    return csv_response(f"{region.code}-{table}-{clock.today().isoformat()}.csv", header, rows)


@bp.route("/townships/<code>", methods=["GET", "POST"])
def township_targets(code: str):
    """Edit a township's population, the date of the figure, and its targets."""
    township = or_404(db.session.scalar(sa.select(Township).where(Township.code == code)))
    form = TownshipTargetsForm(obj=township)
    if form.validate_on_submit():
        form.populate_obj(township)
        db.session.commit()
        flash(_("The figures of %(name)s are saved.", name=township.name), "success")
        return redirect(url_for("regulator.dashboard", region=township.region.code))
    status = 400 if form.errors else 200
    return render_template("regulator/township_targets.html", township=township, form=form), status


@bp.route("/regions/<code>", methods=["GET", "POST"])
def region_settings(code: str):
    """Enter how many institutions are registered in the region, or clear it to derive it."""
    region = or_404(db.session.scalar(sa.select(Region).where(Region.code == code)))
    form = RegisteredCountForm(obj=region)
    if form.validate_on_submit():
        region.registered_institutions = form.registered_institutions.data
        region.registered_as_of = (
            form.registered_as_of.data if form.registered_institutions.data is not None else None
        )
        db.session.commit()
        flash(_("The count of registered institutions is saved."), "success")
        return redirect(url_for("regulator.dashboard", region=region.code))
    derived = statistics.applied_count(region)
    status = 400 if form.errors else 200
    return (
        render_template(
            "regulator/region_settings.html", region=region, form=form, derived=derived
        ),
        status,
    )
