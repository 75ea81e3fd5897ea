"""Report a concern (投诉举报): about a filed institution or about unfiled care, and follow
it with its tracking number. Anyone may report, signed in or not; nothing here is public."""

import re

import sqlalchemy as sa
from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from careapp import clock
from careapp.extensions import db, limiter
from careapp.forms import SiteForm
from careapp.i18n import current_language
from careapp.labels import REPORT_CATEGORY_LABELS
from careapp.models import Region, ReportCategory, Township
from careapp.public import bp
from careapp.services import complaints, regions, search
from careapp.validators import china_phone

#: Where the number of a report just sent waits, to be shown once.
SENT_KEY = "report_tracking_number"
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _contact_check(form, field) -> None:
    """An optional contact: a Chinese phone number or an e-mail address."""
    text = (field.data or "").strip()
    if text and not (china_phone(text) or EMAIL_PATTERN.match(text)):
        raise ValidationError(_l("Please enter a phone number or an e-mail address."))


class ReportForm(SiteForm):
    """A concern about a filed institution: what kind, what happened, how to reach you."""

    category = SelectField(
        _l("What is it about?"),
        validators=[DataRequired(message=_l("Please choose what it is about."))],
    )
    description = TextAreaField(
        _l("What happened?"),
        validators=[
            DataRequired(message=_l("Please describe what happened.")),
            Length(max=2000, message=_l("Please use at most %(max)d characters.")),
        ],
    )
    contact = StringField(
        _l("Your phone or e-mail (optional)"),
        validators=[Optional(), Length(max=254), _contact_check],
    )

    def offer_categories(self, categories) -> None:
        """Fill the category menu with ``categories``, a prompt first."""
        self.category.choices = [("", _("Choose…"))] + [
            (category.value, str(REPORT_CATEGORY_LABELS[category])) for category in categories
        ]


class PlaceReportForm(ReportForm):
    """A concern about care the reporter names: a place not on the register."""

    place_name = StringField(
        _l("Name of the place or of the person running it"),
        validators=[
            DataRequired(message=_l("Please name the place.")),
            Length(max=120, message=_l("Please use at most %(max)d characters.")),
        ],
    )
    place_address = StringField(
        _l("Address (optional)"),
        validators=[
            Optional(),
            Length(max=200, message=_l("Please use at most %(max)d characters.")),
        ],
    )
    #: Chosen first where the register holds several regions: the township menu then lists
    #: that region's townships only, so that the page stays small however many there are.
    region = SelectField(_l("Region (optional)"), validators=[Optional()])
    list_townships = SubmitField(_l("List its townships"))
    township = SelectField(_l("Township (optional)"), validators=[Optional()])


class StatusForm(SiteForm):
    """A tracking number to look up."""

    number = StringField(
        _l("Tracking number"),
        validators=[
            DataRequired(message=_l("Please enter the tracking number.")),
            Length(max=40, message=_l("Please use at most %(max)d characters.")),
        ],
    )


def _report_limit() -> str:
    return current_app.config["REPORT_LIMIT_PER_IP"]


def _status_limit() -> str:
    return current_app.config["REPORT_STATUS_LIMIT_PER_IP"]


def _sent(report: complaints.NewReport):
    """File the report, keep its number for the next page, and go there."""
    reporter = current_user if current_user.is_authenticated else None
    _complaint, number = complaints.file_report(report, reporter, clock.now())
    db.session.commit()
    session[SENT_KEY] = number
    return redirect(url_for("public.report_sent"))


@bp.route("/institutions/<id:institution_id>/report", methods=["GET", "POST"])
@limiter.limit(_report_limit, methods=["POST"])
def report_institution(institution_id: int):
    """Report a concern about a filed institution."""
    institution = search.get_public_institution(institution_id)
    if institution is None:
        abort(404)
    form = ReportForm()
    form.offer_categories([c for c in ReportCategory if c != ReportCategory.UNFILED_CARE])
    if form.validate_on_submit():
        return _sent(
            complaints.NewReport(
                category=form.category.data,
                description=form.description.data.strip(),
                contact=(form.contact.data or "").strip() or None,
                institution=institution,
                township=institution.township,
            )
        )
    page = render_template("public/reports/new.html", form=form, institution=institution)
    return page, 400 if form.errors else 200


def _place_choices(form: PlaceReportForm) -> tuple[Region | None, bool]:
    """Fill the region and township menus. Returns the region chosen (in the form, else in the
    URL, else the only one), whose townships the township menu lists, and whether there are
    several to choose from. 404 for an unknown region in the URL."""
    language = current_language()
    every = regions.all_regions()
    form.region.choices = [("", _("I don't know"))] + [
        (region.code, region.name_for(language)) for region in every
    ]
    asked = request.args.get("region")
    if asked and all(region.code != asked for region in every):
        abort(404)
    if not form.is_submitted() and asked:
        form.region.data = asked
    region = regions.chosen_region(every, form.region.data or asked, None)
    form.township.choices = [("", _("I don't know"))]
    if region is not None:
        townships = sa.select(Township).where(Township.region_id == region.id)
        ordered = townships.order_by(Township.position, Township.id)
        form.township.choices += [
            (t.code, t.name_for(language)) for t in db.session.scalars(ordered)
        ]
    return region, len(every) > 1


def _listing_townships() -> bool:
    """Whether this POST only asks for a region's townships (it sends no report)."""
    return "list_townships" in request.form


@bp.route("/report", methods=["GET", "POST"])
@limiter.limit(_report_limit, methods=["POST"], exempt_when=_listing_townships)
def report_place():
    """Report care someone runs without filing, or a concern about a place by its name."""
    form = PlaceReportForm(category=ReportCategory.UNFILED_CARE.value)
    form.offer_categories(list(ReportCategory))
    region, many_regions = _place_choices(form)
    if form.list_townships.data:
        # The region was chosen: the same form again, with what was typed and its townships.
        form.township.data = ""
        return _report_form(form, region, many_regions)
    if form.validate_on_submit():
        township = db.session.scalar(sa.select(Township).where(Township.code == form.township.data))
        return _sent(
            complaints.NewReport(
                category=form.category.data,
                description=form.description.data.strip(),
                contact=(form.contact.data or "").strip() or None,
                place_name=form.place_name.data.strip(),
                place_address=(form.place_address.data or "").strip() or None,
                township=township if form.township.data else None,
            )
        )
    page = _report_form(form, region, many_regions)
    return page, 400 if form.errors else 200


def _report_form(form: PlaceReportForm, region: Region | None, many_regions: bool) -> str:
    """The report form about a place the reporter names."""
    return render_template(
        "public/reports/new.html",
        form=form,
        institution=None,
        region=region,
        many_regions=many_regions,
    )


@bp.get("/report/sent")
def report_sent():
    """The tracking number of the report just sent, shown this once."""
    number = session.pop(SENT_KEY, None)
    if number is None:
        return redirect(url_for("public.report_status"))
    page = render_template(
        "public/reports/sent.html",
        number=complaints.formatted(number),
        working_days=current_app.config["REPORT_ANSWER_WORKING_DAYS"],
    )
    # Shown once: no copy in the browser's cache or history either.
    return page, 200, {"Cache-Control": "no-store"}


@bp.route("/report/status", methods=["GET", "POST"])
@limiter.limit(_status_limit, methods=["POST"])
def report_status():
    """Follow a report by its tracking number (posted, so it stays out of addresses and logs)."""
    form = StatusForm()
    found = None
    looked = False
    if form.validate_on_submit():
        looked = True
        found = complaints.find_by_number(form.number.data)
    page = render_template("public/reports/status.html", form=form, report=found, looked=looked)
    return page, 400 if form.errors else 200
