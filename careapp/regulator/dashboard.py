"""The bureau's dashboard of targets, its figures as CSV, and the settings behind them."""

from decimal import Decimal

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from careapp import clock
from careapp.access import or_404
from careapp.csv_export import csv_response
from careapp.extensions import db
from careapp.i18n import current_language
from careapp.labels import label
from careapp.models import Region, RegionTargets, Township, TownshipFamilies
from careapp.public.statistics import current_region, township_sort
from careapp.regulator import bp
from careapp.regulator.forms import (
    OperatorListForm,
    RegionRulesForm,
    RegionTargetsForm,
    TownshipFiguresForm,
)
from careapp.regulator.inspections import dashboard_overdue
from careapp.services import complaints, filing, operators, policy_rules, regions, statistics
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
        overdue_reports=complaints.overdue(clock.today(), region.id),
        queue=[
            (item, filing.waiting_working_days(item, clock.today()), filing.review_deadline(item))
            for item in filing.review_queue()
            if item.township.region_id == region.id
        ],
        **dashboard_overdue(region.id),
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
        (_("Registered operators that applied for filing"), figures.applied_share),
        (_("Places in inclusive (普惠) institutions"), figures.inclusive_places),
        (_("Families with children under 3 reached by guidance"), figures.guidance.families),
        (_("Newborn families reached by guidance"), figures.guidance.newborn_families),
        (_("Certified staff of filed institutions"), figures.certified_staff),
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


def _operators_table(figures: RegionFigures, language: str):
    header = (_("USCC"), _("Name"), _("Registration authority"), _("Registered on"))
    rows = (
        (
            operator.uscc,
            operator.name,
            label("authority", operator.authority),
            operator.registered_on,
        )
        for operator in statistics.operators_not_applied(figures.region)
    )
    return header, rows


#: The dashboard's tables by the name of their CSV file.
TABLES = {
    "townships": _township_table,
    "indicators": _indicator_table,
    "fill-rates": _fill_rate_table,
    "waiting": _waiting_table,
    "operators-not-applied": _operators_table,
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


def _families_of(township: Township) -> TownshipFamilies | None:
    return db.session.get(TownshipFamilies, township.id)


def _save_families(township: Township, form: TownshipFiguresForm) -> None:
    """Keep the families figure the form holds, or remove it when the form leaves it empty."""
    families = _families_of(township)
    if form.families_under_3.data is None:
        if families is not None:
            db.session.delete(families)
        return
    if families is None:
        families = TownshipFamilies(township_id=township.id)
        db.session.add(families)
    families.families_under_3 = form.families_under_3.data
    families.newborn_families = form.newborn_families.data
    families.as_of = form.families_as_of.data


@bp.route("/townships/<code>", methods=["GET", "POST"])
def township_targets(code: str):
    """Edit a township's population, the date of the figure, its targets and its families."""
    township = or_404(db.session.scalar(sa.select(Township).where(Township.code == code)))
    families = _families_of(township)
    form = TownshipFiguresForm(
        obj=township,
        families_under_3=families.families_under_3 if families else None,
        newborn_families=families.newborn_families if families else None,
        families_as_of=families.as_of if families else None,
    )
    if form.validate_on_submit():
        for name in ("population", "population_as_of", "min_institutions"):
            setattr(township, name, getattr(form, name).data)
        township.target_places_per_1000 = form.target_places_per_1000.data
        _save_families(township, form)
        db.session.commit()
        flash(_("The figures of %(name)s are saved.", name=township.name), "success")
        return redirect(url_for("regulator.dashboard", region=township.region.code))
    status = 400 if form.errors else 200
    return render_template("regulator/township_targets.html", township=township, form=form), status


#: Region targets kept as shares (0–1) and edited as per cent.
SHARE_TARGETS = (
    "covered_share",
    "applied_share",
    "guidance_share",
    "newborn_guidance_share",
    "certified_staff_share",
)
HUNDRED = Decimal(100)


def _targets_form(targets: RegionTargets) -> RegionTargetsForm:
    shown = {
        name: None if getattr(targets, name) is None else getattr(targets, name) * HUNDRED
        for name in SHARE_TARGETS
    }
    return RegionTargetsForm(places_per_1000=targets.places_per_1000, **shown)


def _locked_targets(region: Region) -> RegionTargets:
    """The region's targets row, locked (made with the defaults when it is missing)."""
    query = sa.select(RegionTargets).where(RegionTargets.region_id == region.id).with_for_update()
    targets = db.session.scalar(query)
    if targets is None:
        targets = RegionTargets.defaults_for(region)
        db.session.add(targets)
    return targets


@bp.route("/regions/<code>", methods=["GET", "POST"])
def region_settings(code: str):
    """Edit the region's targets: places per 1,000 residents and the shares it aims for."""
    region = or_404(db.session.scalar(sa.select(Region).where(Region.code == code)))
    form = _targets_form(statistics.region_targets(region))
    if form.validate_on_submit():
        targets = _locked_targets(region)
        targets.places_per_1000 = form.places_per_1000.data
        for name in SHARE_TARGETS:
            value = getattr(form, name).data
            setattr(targets, name, None if value is None else value / HUNDRED)
        targets.updated_at = clock.now()
        db.session.commit()
        flash(
            _("The targets of %(name)s are saved.", name=region.name_for(current_language())),
            "success",
        )
        return redirect(url_for("regulator.dashboard", region=region.code))
    status = 400 if form.errors else 200
    return render_template("regulator/region_settings.html", region=region, form=form), status


@bp.route("/regions/<code>/operators", methods=["GET", "POST"])
def registered_operators(code: str):
    """Import the registration authorities' list and see the operators that have not applied."""
    region = or_404(db.session.scalar(sa.select(Region).where(Region.code == code)))
    form = OperatorListForm()
    row_errors = []
    if form.validate_on_submit():
        parsed = operators.parse_list(form.operators.data.read(), clock.today())
        row_errors = parsed.errors
        if not row_errors:
            result = operators.import_list(region, parsed.rows, clock.now())
            db.session.commit()
            flash(
                _(
                    "The list is imported: %(added)d operators added, %(updated)d updated.",
                    added=result.added,
                    updated=result.updated,
                ),
                "success",
            )
            return redirect(url_for("regulator.registered_operators", code=region.code))
        db.session.rollback()
    targets = statistics.region_targets(region)
    status = 400 if (form.errors or row_errors) else 200
    return (
        render_template(
            "regulator/operators.html",
            region=region,
            form=form,
            row_errors=row_errors,
            applied=statistics.applied_share(region, targets),
            not_applied=statistics.operators_not_applied(region),
        ),
        status,
    )


@bp.route("/regions/<code>/rules", methods=["GET", "POST"])
def region_rules(code: str):
    """Edit the region's own rules: its registration authorities and mixed-class ratio."""
    region = or_404(db.session.scalar(sa.select(Region).where(Region.code == code)))
    form = RegionRulesForm(
        data={
            "registration_authorities": region.authority_codes,
            "mixed_class_children_per_carer": region.mixed_class_children_per_carer,
        }
        if request.method == "GET"
        else None
    )
    if form.validate_on_submit():
        try:
            policy_rules.save_region_rules(
                region,
                form.registration_authorities.data,
                form.mixed_class_children_per_carer.data,
            )
        except policy_rules.RegionRulesError as error:
            form.mixed_class_children_per_carer.errors.append(str(error.message))
        else:
            db.session.commit()
            flash(_("The rules of %(name)s are saved.", name=region.name), "success")
            return redirect(url_for("regulator.region_rules", code=region.code))
    status = 400 if form.errors else 200
    return render_template("regulator/region_rules.html", region=region, form=form), status
