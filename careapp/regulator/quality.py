"""The bureau records quality assessments and designates demonstration institutions (示范)."""

import sqlalchemy as sa
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from careapp import clock
from careapp.extensions import db
from careapp.forms import DateField, SiteForm
from careapp.labels import QUALITY_GRADE_LABELS
from careapp.models import Institution, Status
from careapp.regulator import bp
from careapp.services import quality
from careapp.services.quality import QualityError


def _not_in_future(form, field) -> None:
    if field.data is not None and field.data > clock.today():
        raise ValidationError(_l("The date cannot be in the future."))


def _required_text(message, length: int):
    return [
        DataRequired(message=message),
        Length(max=length, message=_l("Please use at most %(max)d characters.")),
    ]


class AssessmentForm(SiteForm):
    """A quality assessment: grade, date, assessor and the standard applied."""

    grade = SelectField(
        _l("Grade"), validators=[DataRequired(message=_l("Please choose the grade."))]
    )
    assessed_on = DateField(
        _l("Assessed on"),
        default=clock.today,
        validators=[DataRequired(message=_l("Please enter the date.")), _not_in_future],
    )
    assessor = StringField(
        _l("Assessor"), validators=_required_text(_l("Please name the assessor."), 120)
    )
    standard = StringField(
        _l("Standard applied"),
        validators=_required_text(_l("Please name the standard applied."), 200),
    )


class DesignationForm(SiteForm):
    """A demonstration designation from a date."""

    title = StringField(
        _l("Title conferred"),
        validators=_required_text(_l("Please give the title conferred."), 120),
    )
    designated_on = DateField(
        _l("Designated on"),
        default=clock.today,
        validators=[DataRequired(message=_l("Please enter the date.")), _not_in_future],
    )


class RevokeForm(SiteForm):
    """Revoke the standing designation on a date, saying why."""

    revoked_on = DateField(
        _l("Revoked on"),
        default=clock.today,
        validators=[DataRequired(message=_l("Please enter the date.")), _not_in_future],
    )
    reason = TextAreaField(
        _l("Reason"), validators=_required_text(_l("Please give the reason."), 500)
    )


def _load_filed(institution_id: int) -> Institution:
    """A filed institution; 404 for any other (only filed ones are assessed and shown)."""
    return db.first_or_404(
        sa.select(Institution).where(
            Institution.id == institution_id, Institution.status == Status.FILED
        )
    )


def _assessment_form(**kwargs) -> AssessmentForm:
    form = AssessmentForm(prefix="assessment", **kwargs)
    form.grade.choices = [("", _("Choose…"))] + [
        (grade.value, str(text)) for grade, text in QUALITY_GRADE_LABELS.items()
    ]
    return form


def _quality_page(institution: Institution, status: int = 200, **forms):
    page = render_template(
        "regulator/quality.html",
        institution=institution,
        assessments=quality.assessments_of(institution),
        designations=quality.designations_of(institution),
        assessment_form=forms.get("assessment") or _assessment_form(formdata=None),
        designation_form=forms.get("designation")
        or DesignationForm(prefix="designation", formdata=None),
        revoke_form=forms.get("revoke") or RevokeForm(prefix="revoke", formdata=None),
    )
    return page, status


def _saved(message: str, institution: Institution):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("regulator.quality", institution_id=institution.id))


@bp.get("/institutions/<id:institution_id>/quality", endpoint="quality")
def quality_page(institution_id: int):
    """A filed institution's assessments and designations, with the forms to add them."""
    return _quality_page(_load_filed(institution_id))


@bp.post("/institutions/<id:institution_id>/quality/assessments")
def record_assessment(institution_id: int):
    """Record a quality assessment; the public page shows the latest grade."""
    institution = _load_filed(institution_id)
    form = _assessment_form()
    if not form.validate_on_submit():
        return _quality_page(institution, 400, assessment=form)
    quality.record_assessment(
        institution,
        form.grade.data,
        form.assessed_on.data,
        form.assessor.data.strip(),
        form.standard.data.strip(),
        current_user,
    )
    return _saved(_("The assessment is recorded."), institution)


@bp.post("/institutions/<id:institution_id>/quality/designation")
def designate(institution_id: int):
    """Designate a demonstration institution."""
    institution = _load_filed(institution_id)
    form = DesignationForm(prefix="designation")
    if not form.validate_on_submit():
        return _quality_page(institution, 400, designation=form)
    try:
        quality.designate(
            institution, form.title.data.strip(), form.designated_on.data, current_user
        )
    except QualityError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return _quality_page(_load_filed(institution_id), 409, designation=form)
    return _saved(_("The institution is a demonstration institution now."), institution)


@bp.post("/institutions/<id:institution_id>/quality/designation/revoke")
def revoke_designation(institution_id: int):
    """Revoke the standing demonstration designation."""
    institution = _load_filed(institution_id)
    form = RevokeForm(prefix="revoke")
    if not form.validate_on_submit():
        return _quality_page(institution, 400, revoke=form)
    try:
        quality.revoke(institution, form.revoked_on.data, form.reason.data.strip(), current_user)
    except QualityError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return _quality_page(_load_filed(institution_id), 409, revoke=form)
    return _saved(_("The designation is revoked."), institution)
