"""An institution's own inspections: the bureau's findings, each answered with what was done."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from careapp import clock
from careapp.access import or_404
from careapp.database import run_in_transaction
from careapp.forms import SiteForm
from careapp.institutions import bp
from careapp.models import FindingSource
from careapp.services import filing, findings, inspections


class AnswerForm(SiteForm):
    """What the institution did to put a finding right."""

    answer = TextAreaField(
        _l("What you did to put it right"),
        validators=[
            DataRequired(message=_l("Please say what you did.")),
            Length(max=2000, message=_l("Please keep it under %(max)d characters.")),
        ],
    )


def _answer_forms(found, posted: dict | None = None) -> dict:
    forms = {
        finding.id: AnswerForm(
            prefix=f"answer-{finding.id}", formdata=None, data={"answer": finding.answer}
        )
        for inspection in found
        for finding in inspection.findings
        if not finding.is_closed
    }
    forms.update(posted or {})
    return forms


def _render(institution, status: int = 200, posted: dict | None = None):
    found = inspections.inspections_of(institution)
    page = render_template(
        "institutions/inspections.html",
        institution=institution,
        inspections=found,
        answer_forms=_answer_forms(found, posted),
        follow_up=inspections.follow_up,
        today=clock.today(),
    )
    return page, status


@bp.get("/<id:institution_id>/inspections")
def inspections_page(institution_id: int):
    """The bureau's inspections of the account's institution, with their findings."""
    institution = or_404(filing.owned_institution(current_user, institution_id))
    return _render(institution)


@bp.post("/<id:institution_id>/inspections/findings/<id:finding_id>/answer")
def answer_finding(institution_id: int, finding_id: int):
    """Answer a finding with what was done; the bureau then closes it."""
    institution = or_404(filing.owned_institution(current_user, institution_id))
    finding = or_404(findings.finding_of(institution, finding_id, FindingSource.INSPECTION))
    form = AnswerForm(prefix=f"answer-{finding.id}")
    if not form.validate_on_submit():
        return _render(institution, 400, {finding.id: form})
    try:
        run_in_transaction(
            lambda: findings.answer(finding, current_user, form.answer.data, clock.now())
        )
    except findings.FindingError as error:
        flash(str(error.message), "error")
    else:
        flash(_("Your answer is sent to the county health bureau."), "success")
    return redirect(url_for("institutions.inspections_page", institution_id=institution.id))
