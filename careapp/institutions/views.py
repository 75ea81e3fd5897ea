"""Views of the institution staff blueprint: load → check → act → commit → redirect."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from careapp import clock
from careapp.extensions import db
from careapp.forms import choices
from careapp.i18n import current_language
from careapp.institutions import bp
from careapp.institutions.forms import CLASS_ROWS, ConfirmForm, InstitutionForm
from careapp.labels import AUTHORITY_LABELS
from careapp.models import Authority, CareType, Institution, Nature, PriceRegime, Region, Status
from careapp.models.institution import DEFAULT_CANCEL_CUTOFF_HOURS, default_price_regime
from careapp.services import filing, follow_up, policy_rules, regions, staff
from careapp.services.locations import CoordinateSystem
from careapp.services.search import townships_with_counts

FORM_FACTS = filing.REGISTERED_FIELDS + filing.IMMEDIATE_FIELDS + filing.DECLARATION_FIELDS
COUNTS = ("staff_count", "certified_staff_count", "cctv_retention_days")


def _load_own(institution_id: int) -> Institution:
    """The signed-in account's institution, or 404 (also for other people's)."""
    institution = filing.owned_institution(current_user, institution_id)
    if institution is None:
        abort(404)
    return institution


def _prepared_form(
    region: Region | None, institution: Institution | None = None
) -> InstitutionForm:
    """The profile form, filled from ``institution`` on a GET, with the townships and the
    registration authorities of ``region``."""
    form = InstitutionForm(data=_form_data(institution) if institution else None)
    form.location_required = institution is not None and institution.status == Status.FILED
    form.authority.choices = _authority_choices(region, institution)
    form.township_id.choices = choices(
        (township.id, township.name_for(current_language()))
        for township, _count in townships_with_counts(region)
    )
    return form


def _application_region(every: list[Region]) -> Region | None:
    """The region of ``every`` a new application is for: named in the address, else the
    posted township's, else the only one; None while an applicant of a register of several
    has yet to choose (or the register has none). 404 for an unknown region in the address."""
    code = request.args.get("region")
    if code:
        return regions.chosen_region(every, code, None) or abort(404)
    if (posted := request.form.get("township_id", "")).isascii() and posted.isdigit():
        return policy_rules.region_of(int(posted)) or regions.chosen_region(every, None, None)
    return regions.chosen_region(every, None, None)


def _authority_choices(region: Region | None, institution: Institution | None) -> list:
    """The authorities ``region`` offers (and the institution's own, to keep it shown)."""
    offered = policy_rules.authorities_of(region)
    if institution is not None and institution.authority not in offered:
        offered.append(Authority(institution.authority))
    return choices((authority.value, AUTHORITY_LABELS[authority]) for authority in offered)


def _form_data(institution: Institution) -> dict:
    """The form's initial values from an institution."""
    data = {name: getattr(institution, name) for name in FORM_FACTS}
    data["nature"] = str(institution.nature)
    data["authority"] = str(institution.authority)
    data["price_regime"] = str(institution.price_regime)
    if institution.latitude is not None:
        # What is stored is WGS-84: shown as such, so that saving again moves nothing.
        data["coordinate_system"] = CoordinateSystem.WGS84.value
    classes = [
        {"kind": str(c.kind), "name": c.name, "capacity": c.capacity, "carers": c.carers}
        for c in institution.classes
    ]
    data["classes"] = classes + [{}] * max(0, CLASS_ROWS - len(classes))
    data["offers"] = {
        str(offer.care_type): {
            "offered": True,
            "opens_at": offer.opens_at,
            "closes_at": offer.closes_at,
            "price_yuan": offer.price_yuan,
            "min_age_months": offer.min_age_months,
            "max_age_months": offer.max_age_months,
        }
        for offer in institution.offers
    }
    return data


def _profile(form: InstitutionForm) -> filing.Profile:
    """The service's view of a validated form."""
    facts = {name: form[name].data for name in FORM_FACTS}
    facts["nature"] = Nature(facts["nature"])
    facts["latitude"], facts["longitude"] = form.wgs84_location()
    facts["authority"] = Authority(facts["authority"])
    facts["price_regime"] = (
        PriceRegime(facts["price_regime"])
        if facts["price_regime"]
        else default_price_regime(facts["nature"])
    )
    for name in COUNTS:
        facts[name] = facts[name] or 0
    if facts["cancel_cutoff_hours"] is None:
        facts["cancel_cutoff_hours"] = DEFAULT_CANCEL_CUTOFF_HOURS
    for name in (
        "name_en",
        "address_en",
        "public_phone",
        "description_en",
        "what_to_bring_en",
        "food_licence_number",
    ):
        facts[name] = (facts[name] or "").strip() or None
    facts["description"] = facts["description"] or ""
    facts["what_to_bring"] = (facts["what_to_bring"] or "").strip()
    return filing.Profile(facts, form.class_rows(), form.offer_rows())


@bp.get("/mine")
def home():
    """The account's institutions, each with its filing status and what to do next."""
    return render_template(
        "institutions/home.html", institutions=filing.institutions_of(current_user)
    )


@bp.route("/new", methods=["GET", "POST"])
def new():
    """Start a filing application (saved as a draft), in the region chosen first where the
    register holds several: its townships, authorities and class rules apply."""
    every = regions.all_regions()
    region = _application_region(every)
    if region is None and len(every) > 1:
        return render_template("institutions/choose_region.html", regions=every)
    form = _prepared_form(region)
    if form.validate_on_submit():
        institution = filing.create_application(current_user, _profile(form))
        db.session.commit()
        flash(_("Your application is saved as a draft. Submit it when it is complete."), "success")
        return redirect(url_for("institutions.status", institution_id=institution.id))
    return render_template(
        "institutions/form.html",
        form=form,
        institution=None,
        mixed_ratio=policy_rules.mixed_ratio_of(region),
    )


@bp.route("/<id:institution_id>/edit", methods=["GET", "POST"])
def edit(institution_id: int):
    """Edit an application, or a filed institution's profile (registered facts need approval)."""
    institution = _load_own(institution_id)
    if not (institution.can_edit_application or institution.status == Status.FILED):
        flash(_("This institution cannot be edited in its current state."), "error")
        return redirect(url_for("institutions.status", institution_id=institution.id))
    region = institution.township.region
    form = _prepared_form(region, institution)
    if form.validate_on_submit():
        try:
            message = _save(institution, _profile(form))
        except filing.FilingError as error:
            flash(str(error.message), "error")
        else:
            db.session.commit()
            flash(message, "success")
            return redirect(url_for("institutions.status", institution_id=institution.id))
    return render_template(
        "institutions/form.html",
        form=form,
        institution=institution,
        pending=filing.pending_change(institution),
        registered_staff=staff.facts_of(institution, clock.today()).staff,
        mixed_ratio=policy_rules.mixed_ratio_of(region),
    )


def _save(institution: Institution, profile: filing.Profile) -> str:
    """Save the edit the way the institution's state allows; the message says what happened."""
    if institution.can_edit_application:
        filing.update_application(institution, profile)
        return _("Your application is saved.")
    change = filing.update_filed_profile(institution, current_user, profile, clock.today())
    if change is None:
        return _("Your changes are public now.")
    return _(
        "Contact details, hours and prices are public now. The change of registered facts is"
        " waiting for the county health bureau's approval."
    )


@bp.get("/<id:institution_id>/status")
def status(institution_id: int):
    """The filing status, the timeline and what to do next."""
    institution = _load_own(institution_id)
    return render_template(
        "institutions/status.html",
        institution=institution,
        decisions=filing.decisions_of(institution),
        problems=filing.submission_problems(institution, clock.today())
        if institution.can_edit_application
        else [],
        pending=filing.pending_change(institution),
        waited=filing.waiting_working_days(institution, clock.today()),
        limit=filing.REVIEW_LIMIT_WORKING_DAYS,
        form=ConfirmForm(),
        care_types=list(CareType),
        today=clock.today(),
        **follow_up.owner_view(institution),
    )


@bp.post("/<id:institution_id>/submit")
def submit(institution_id: int):
    """Send the application to the county health bureau."""
    institution = _load_own(institution_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        filing.submit(institution, current_user, clock.today())
    except filing.ApplicationIncomplete as incomplete:
        for problem in incomplete.problems:
            flash(problem, "error")
    except filing.FilingError as error:
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(_("Submitted. The county health bureau answers within 5 working days."), "success")
    return redirect(url_for("institutions.status", institution_id=institution.id))
