"""Views of the regulator blueprint: load → check → act → commit → redirect."""

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from careapp import clock
from careapp.extensions import db
from careapp.models import (
    FOLLOW_UP_WORKING_DAYS,
    ChangeRequest,
    FindingSource,
    FindingStatus,
    Institution,
    Status,
    Township,
)
from careapp.regulator import bp
from careapp.regulator.forms import (
    ApproveForm,
    CloseFindingForm,
    FindingForm,
    ReasonForm,
    RecordForm,
    RejectForm,
    ReturnForm,
    RevokeForm,
)
from careapp.services import documents, filing, findings, follow_up, registry, staff
from careapp.services.errors import InvalidParameters
from careapp.services.params import parse_paging

#: Institutions per page of the register list unless ``per_page`` says otherwise, and at most.
REGISTER_PER_PAGE = 50
REGISTER_MAX_PER_PAGE = 200


def _load_institution(institution_id: int) -> Institution:
    query = (
        sa.select(Institution)
        .where(Institution.id == institution_id)
        .options(
            joinedload(Institution.township),
            selectinload(Institution.classes),
            selectinload(Institution.offers),
        )
    )
    institution = db.session.scalar(query)
    if institution is None:
        abort(404)
    return institution


def _decided(message: str, institution: Institution):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("regulator.review", institution_id=institution.id))


@bp.get("/")
def home():
    """The review queue and the changes waiting for a decision."""
    today = clock.today()
    queue = filing.review_queue()
    return render_template(
        "regulator/home.html",
        queue=[
            (item, filing.waiting_working_days(item, today), filing.is_overdue(item, today))
            for item in queue
        ],
        deadlines={item.id: filing.review_deadline(item) for item in queue},
        changes=filing.pending_changes(),
        limit=filing.REVIEW_LIMIT_WORKING_DAYS,
        deregistrations=follow_up.pending_deregistrations(),
        findings=findings.open_follow_up_findings(),
        today=today,
    )


@bp.get("/institutions")
def institutions():
    """The whole register, whatever the status, optionally of one status, a page at a time."""
    status = request.args.get("status")
    if status not in Status.values():
        status = None
    try:
        page_number, per_page = parse_paging(request.args, REGISTER_PER_PAGE, REGISTER_MAX_PER_PAGE)
    except InvalidParameters:
        abort(400)
    return render_template(
        "regulator/institutions.html",
        page=registry.register_page(status, page_number, per_page),
        status=status,
        statuses=list(Status),
    )


def _render_review(institution: Institution, status: int = 200, **forms):
    """The review page with the decision forms its state allows; ``forms`` replace defaults."""
    today = clock.today()
    follow_ups = findings.follow_up_findings_of(institution)
    forms = {
        "return_form": ReturnForm(prefix="return"),
        "reject_form": RejectForm(prefix="reject"),
        "finding_form": FindingForm(prefix="finding"),
        **forms,
        "close_forms": {
            **{
                finding.id: CloseFindingForm(prefix=f"close-{finding.id}")
                for finding in follow_ups
                if finding.is_open
            },
            **forms.get("close_forms", {}),
        },
    }
    page = render_template(
        "regulator/review.html",
        institution=institution,
        decisions=filing.decisions_of(institution),
        problems=filing.submission_problems(institution, today),
        waited=filing.waiting_working_days(institution, today),
        overdue=filing.is_overdue(institution, today),
        limit=filing.REVIEW_LIMIT_WORKING_DAYS,
        pending=filing.pending_change(institution),
        review_materials=documents.materials_of(institution),
        review_staff=staff.register_of(institution),
        deadline=filing.review_deadline(institution),
        findings=follow_ups,
        follow_up_until=findings.follow_up_deadline(institution),
        can_record_finding=findings.can_record_finding(institution, today),
        follow_up_days=FOLLOW_UP_WORKING_DAYS,
        deregistration=follow_up.pending_deregistration(institution),
        record_form=RecordForm(),
        today=today,
        **forms,
    )
    return page, status


@bp.get("/institutions/<id:institution_id>")
def review(institution_id: int):
    """Everything about one institution, with the decisions its state allows."""
    return _render_review(_load_institution(institution_id))


@bp.get("/institutions/<id:institution_id>/approve")
def confirm_approve(institution_id: int):
    """Ask once more before filing: filing publishes the institution at once."""
    institution = _load_institution(institution_id)
    if institution.status != Status.UNDER_REVIEW:
        return redirect(url_for("regulator.review", institution_id=institution.id))
    form = ApproveForm(submitted=filing.submission_stamp(institution))
    return render_template(
        "regulator/confirm_approve.html",
        institution=institution,
        form=form,
        problems=filing.submission_problems(institution, clock.today()),
    )


@bp.post("/institutions/<id:institution_id>/approve")
def approve(institution_id: int):
    """File the institution, once confirmed on the confirmation page."""
    institution = _load_institution(institution_id)
    form = ApproveForm()
    if not form.validate_on_submit():
        abort(400)
    if not form.submitted.data:
        # Not from the confirmation page (an old page, a script): ask there first.
        return redirect(url_for("regulator.confirm_approve", institution_id=institution.id))
    if not filing.is_unchanged_since(institution, form.submitted.data):
        flash(
            _(
                "The application changed after you opened the confirmation. Nothing was"
                " decided: please review it again."
            ),
            "error",
        )
        return redirect(url_for("regulator.review", institution_id=institution.id))
    try:
        filing.approve(institution, current_user, clock.today())
    except filing.FilingError as error:
        flash(str(error.message), "error")
        return redirect(url_for("regulator.review", institution_id=institution.id))
    return _decided(
        _(
            "Filed with number %(number)s; the institution is public now.",
            number=institution.filing_number,
        ),
        institution,
    )


def _decide_with_reason(institution_id: int, prefix: str, decide, message: str):
    """Return or reject: the form must give a reason, else the review page shows the error."""
    institution = _load_institution(institution_id)
    form = (ReturnForm if prefix == "return" else RejectForm)(prefix=prefix)
    if form.validate_on_submit():
        try:
            decide(institution, current_user, form.reason.data)
        except filing.FilingError as error:
            flash(str(error.message), "error")
            return redirect(url_for("regulator.review", institution_id=institution.id))
        return _decided(message, institution)
    return _render_review(institution, 400, **{f"{prefix}_form": form})


@bp.post("/institutions/<id:institution_id>/return")
def return_application(institution_id: int):
    """Return the application for correction."""
    return _decide_with_reason(
        institution_id,
        "return",
        filing.return_application,
        _("The application was returned with your reason."),
    )


@bp.post("/institutions/<id:institution_id>/reject")
def reject(institution_id: int):
    """Reject the application."""
    return _decide_with_reason(
        institution_id, "reject", filing.reject, _("The application was rejected.")
    )


def _refused(error: filing.FilingError | findings.FindingError, institution: Institution):
    """Nothing of a refused step is kept; the review page says why."""
    db.session.rollback()
    flash(str(error.message), "error")
    return redirect(url_for("regulator.review", institution_id=institution.id))


@bp.route("/institutions/<id:institution_id>/revoke", methods=["GET", "POST"])
def revoke(institution_id: int):
    """撤销备案: revoke a filed institution's filing with a public notice; delisted at once."""
    institution = _load_institution(institution_id)
    if institution.status != Status.FILED:
        abort(404)
    form = RevokeForm()
    if form.validate_on_submit():
        try:
            filing.revoke(institution, current_user, form.reason.data, form.effective_on.data)
        except filing.FilingError as error:
            return _refused(error, institution)
        return _decided(
            _("The filing was revoked; the institution is no longer listed."), institution
        )
    status = 400 if form.errors else 200
    return render_template("regulator/revoke.html", institution=institution, form=form), status


@bp.post("/institutions/<id:institution_id>/findings")
def record_finding(institution_id: int):
    """Record and publish a problem found within 15 working days of filing."""
    institution = _load_institution(institution_id)
    form = FindingForm(prefix="finding")
    if not form.validate_on_submit():
        return _render_review(institution, 400, finding_form=form)
    try:
        findings.record_follow_up(
            institution, current_user, form.finding.data, form.put_right_by.data, clock.today()
        )
    except findings.FindingError as error:
        return _refused(error, institution)
    return _decided(
        _("The finding is recorded and published; the institution is told."), institution
    )


@bp.post("/institutions/<id:institution_id>/findings/<id:finding_id>/close")
def close_follow_up_finding(institution_id: int, finding_id: int):
    """Close a follow-up finding: put right or not; the outcome is published."""
    institution = _load_institution(institution_id)
    finding = findings.finding_of(institution, finding_id, FindingSource.FOLLOW_UP)
    if finding is None:
        abort(404)
    form = CloseFindingForm(prefix=f"close-{finding.id}")
    if not form.validate_on_submit():
        if not finding.is_open:
            return redirect(url_for("regulator.review", institution_id=institution.id))
        return _render_review(institution, 400, close_forms={finding.id: form})
    try:
        today = clock.today()
        findings.close(
            finding, current_user, FindingStatus(form.outcome.data), today, form.note.data, today
        )
    except findings.FindingError as error:
        return _refused(error, institution)
    return _decided(_("The finding is closed and its outcome published."), institution)


@bp.post("/institutions/<id:institution_id>/deregistration")
def record_deregistration(institution_id: int):
    """Record the institution's own 注销: it leaves the register, its bookings end."""
    institution = _load_institution(institution_id)
    declared = follow_up.pending_deregistration(institution)
    if declared is None:
        abort(404)
    if not RecordForm().validate_on_submit():
        abort(400)
    try:
        follow_up.record_deregistration(declared, current_user, clock.today())
    except filing.FilingError as error:
        return _refused(error, institution)
    return _decided(
        _("The deregistration is recorded; the institution is no longer listed."), institution
    )


def _load_change(change_id: int) -> ChangeRequest:
    change = db.session.get(ChangeRequest, change_id)
    if change is None:
        abort(404)
    return change


@bp.get("/changes/<id:change_id>")
def change(change_id: int):
    """A change request: the public facts beside the proposed ones."""
    change_request = _load_change(change_id)
    townships = {t.id: t for t in db.session.scalars(sa.select(Township))}
    return render_template(
        "regulator/change.html",
        change=change_request,
        institution=change_request.institution,
        townships=townships,
        reject_form=ReasonForm(prefix="reject"),
    )


@bp.get("/changes/<id:change_id>/approve")
def confirm_approve_change(change_id: int):
    """Ask once more before approving a change: its facts are public at once."""
    change_request = _load_change(change_id)
    if not change_request.is_pending:
        return redirect(url_for("regulator.change", change_id=change_id))
    return render_template(
        "regulator/confirm_change.html",
        change=change_request,
        institution=change_request.institution,
        form=ApproveForm(submitted="change"),
    )


@bp.post("/changes/<id:change_id>/approve")
def approve_change(change_id: int):
    """Approve a change, once confirmed: the public page shows the new facts from now."""
    change_request = _load_change(change_id)
    form = ApproveForm()
    if not form.validate_on_submit():
        abort(400)
    if form.submitted.data != "change":
        return redirect(url_for("regulator.confirm_approve_change", change_id=change_id))
    try:
        filing.approve_change(change_request, current_user, clock.today())
    except filing.FilingError as error:
        flash(str(error.message), "error")
        return redirect(url_for("regulator.change", change_id=change_id))
    return _decided(_("The change was approved and is public now."), change_request.institution)


@bp.post("/changes/<id:change_id>/reject")
def reject_change(change_id: int):
    """Refuse a change; the public facts stay as they were."""
    change_request = _load_change(change_id)
    form = ReasonForm(prefix="reject")
    if not form.validate_on_submit():
        flash(_("Please give the reason."), "error")
        return redirect(url_for("regulator.change", change_id=change_id))
    try:
        filing.reject_change(change_request, current_user, form.reason.data)
    except filing.FilingError as error:
        flash(str(error.message), "error")
        return redirect(url_for("regulator.change", change_id=change_id))
    return _decided(_("The change was not approved."), change_request.institution)
