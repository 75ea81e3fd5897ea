"""An institution's steps after filing: answer a follow-up finding, ask for its 注销."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from careapp import clock
from careapp.extensions import db
from careapp.institutions import bp
from careapp.institutions.follow_up_forms import AnswerForm, DeregistrationForm
from careapp.models import FindingSource, Institution, Status
from careapp.services import filing, findings, follow_up


def _load_own(institution_id: int) -> Institution:
    """The signed-in account's institution, or 404 (also for other people's)."""
    institution = filing.owned_institution(current_user, institution_id)
    if institution is None:
        abort(404)
    return institution


def _to_status(institution: Institution):
    return redirect(url_for("institutions.status", institution_id=institution.id))


def _refused(error: findings.FindingError, institution: Institution):
    """Nothing of a refused step is kept; the status page says why."""
    db.session.rollback()
    flash(str(error.message), "error")
    return _to_status(institution)


@bp.route("/<id:institution_id>/findings/<id:finding_id>", methods=["GET", "POST"])
def answer_follow_up_finding(institution_id: int, finding_id: int):
    """A follow-up finding of the bureau, and what the institution did to put it right."""
    institution = _load_own(institution_id)
    finding = findings.finding_of(institution, finding_id, FindingSource.FOLLOW_UP)
    if finding is None:
        abort(404)
    form = AnswerForm(data={"answer": finding.answer} if finding.answer else None)
    if finding.is_open and form.validate_on_submit():
        try:
            findings.answer(finding, current_user, form.answer.data, clock.now())
        except findings.FindingError as error:
            return _refused(error, institution)
        db.session.commit()
        flash(_("Your answer is sent to the county health bureau."), "success")
        return _to_status(institution)
    status = 400 if form.errors else 200
    return (
        render_template(
            "institutions/finding.html",
            institution=institution,
            finding=finding,
            form=form,
            today=clock.today(),
        ),
        status,
    )


@bp.route("/<id:institution_id>/deregister", methods=["GET", "POST"])
def request_deregistration(institution_id: int):
    """注销: after deregistering with its registration authority, the institution asks the
    bureau to record it."""
    institution = _load_own(institution_id)
    if institution.status != Status.FILED:
        abort(404)
    pending = follow_up.pending_deregistration(institution)
    form = DeregistrationForm()
    if pending is None and form.validate_on_submit():
        try:
            follow_up.request_deregistration(
                institution,
                current_user,
                form.deregistered_on.data,
                form.reason.data,
                clock.today(),
            )
        except filing.FilingError as error:
            form.deregistered_on.errors.append(error.message)
        else:
            db.session.commit()
            flash(_("The county health bureau will record your deregistration."), "success")
            return _to_status(institution)
    status = 400 if form.errors else 200
    return (
        render_template(
            "institutions/deregister.html", institution=institution, form=form, pending=pending
        ),
        status,
    )
