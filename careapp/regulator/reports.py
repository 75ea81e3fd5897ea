"""The bureau's queue of reports of a concern: read them, take them up, answer, close."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import joinedload
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from careapp import clock
from careapp.extensions import db
from careapp.forms import SiteForm
from careapp.models import Complaint
from careapp.regulator import bp
from careapp.services import complaints, regions
from careapp.services.transitions import AlreadyMoved


class AnswerForm(SiteForm):
    """The bureau's answer, which the reporter reads."""

    reply = TextAreaField(
        _l("Answer (the reporter reads it; the institution does not)"),
        validators=[
            DataRequired(message=_l("Please write the answer.")),
            Length(max=4000, message=_l("Please use at most %(max)d characters.")),
        ],
    )


class CloseForm(SiteForm):
    """Close a report, with a last word for the reporter if any."""

    reply = TextAreaField(
        _l("Last word to the reporter (optional)"),
        validators=[
            Optional(),
            Length(max=4000, message=_l("Please use at most %(max)d characters.")),
        ],
    )


def _load(report_id: int) -> Complaint:
    """The report with what its page shows; 404 when there is none."""
    return db.first_or_404(
        db.select(Complaint)
        .options(
            joinedload(Complaint.institution),
            joinedload(Complaint.township),
            joinedload(Complaint.reporter),
        )
        .where(Complaint.id == report_id)
    )


@bp.get("/reports")
def reports():
    """Open reports, child safety first, then by deadline; then the latest answered. Of one
    region with ``?region=CODE`` (404 for an unknown code), else of every region."""
    every = regions.all_regions()
    code = request.args.get("region")
    region = regions.chosen_region(every, code, None) if code else None
    if code and region is None:
        abort(404)
    region_id = region.id if region is not None else None
    return render_template(
        "regulator/reports/queue.html",
        queue=complaints.open_queue(region_id),
        done=complaints.recently_done(region_id=region_id),
        today=clock.today(),
        regions=every,
        region=region,
    )


def _report_page(report: Complaint, answer_form=None, close_form=None, status: int = 200):
    page = render_template(
        "regulator/reports/report.html",
        report=report,
        today=clock.today(),
        take_up_form=SiteForm(prefix="take"),
        answer_form=answer_form or AnswerForm(prefix="answer", formdata=None),
        close_form=close_form or CloseForm(prefix="close", formdata=None),
    )
    return page, status


@bp.get("/reports/<id:report_id>")
def report(report_id: int):
    """One report with who sent it and how to reach them (seen by the bureau only)."""
    return _report_page(_load(report_id))


def _moved(message: str, report: Complaint):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("regulator.report", report_id=report.id))


def _already_moved(report: Complaint):
    db.session.rollback()
    flash(_("Someone else changed this report first; here it is as it stands now."), "error")
    return redirect(url_for("regulator.report", report_id=report.id))


@bp.post("/reports/<id:report_id>/take-up")
def take_up_report(report_id: int):
    """Start handling a report."""
    found = _load(report_id)
    if not SiteForm(prefix="take").validate_on_submit():
        return _report_page(found, status=400)
    try:
        complaints.take_up(found, current_user)
    except AlreadyMoved:
        return _already_moved(found)
    return _moved(_("You are handling this report now."), found)


@bp.post("/reports/<id:report_id>/answer")
def answer_report(report_id: int):
    """Answer a report; the reporter reads the answer with the tracking number."""
    found = _load(report_id)
    form = AnswerForm(prefix="answer")
    if not form.validate_on_submit():
        return _report_page(found, answer_form=form, status=400)
    try:
        complaints.answer(found, current_user, form.reply.data.strip(), clock.now())
    except AlreadyMoved:
        return _already_moved(found)
    return _moved(_("The answer is saved; the reporter can read it now."), found)


@bp.post("/reports/<id:report_id>/close")
def close_report(report_id: int):
    """Close a report."""
    found = _load(report_id)
    form = CloseForm(prefix="close")
    if not form.validate_on_submit():
        return _report_page(found, close_form=form, status=400)
    try:
        complaints.close(found, current_user, (form.reply.data or "").strip(), clock.now())
    except AlreadyMoved:
        return _already_moved(found)
    return _moved(_("The report is closed."), found)
