"""The bureau's lifetime ban list (终身禁入), its alerts, and filing documents for review."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import StringField
from wtforms.validators import DataRequired, Length, ValidationError

from careapp import clock
from careapp.downloads import document_response
from careapp.extensions import db
from careapp.forms import DateField, SiteForm
from careapp.models import Institution
from careapp.regulator import bp
from careapp.services import documents, staff


class BanForm(SiteForm):
    """A person the bureau bars from childcare work for life."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=40)])
    id_number = StringField(
        _l("Resident identity card number"),
        validators=[DataRequired(), Length(max=20)],
        render_kw={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"},
    )
    decided_on = DateField(_l("Decided on"), validators=[DataRequired()])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])

    def validate_id_number(self, field) -> None:
        """A valid resident identity card number."""
        if not staff.is_valid_id_number(field.data):
            raise ValidationError(
                _l("This is not a valid ID card number. Please check every character.")
            )


def _render_bans(form: BanForm, status: int = 200):
    page = render_template(
        "regulator/bans.html",
        bans=staff.ban_list(),
        alerts=staff.ban_alerts(),
        employed=staff.banned_people_employed(),
        form=form,
    )
    return page, status


@bp.get("/bans")
def bans():
    """The ban list, attempts to employ banned people, and banned people on a register."""
    return _render_bans(BanForm(decided_on=clock.today()))


@bp.post("/bans")
def add_ban():
    """Put a person on the ban list."""
    form = BanForm()
    if not form.validate_on_submit():
        return _render_bans(form, 400)
    try:
        staff.add_ban(
            current_user,
            form.name.data,
            form.id_number.data,
            form.reason.data,
            form.decided_on.data,
        )
    except staff.StaffError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return _render_bans(form, 409)
    db.session.commit()
    flash(_("The person is on the lifetime ban list."), "success")
    return redirect(url_for("regulator.bans"))


@bp.get("/institutions/<id:institution_id>/documents/<id:document_id>")
def review_document(institution_id: int, document_id: int):
    """A document of an application, for the reviewer."""
    institution = db.session.get(Institution, institution_id)
    if institution is None:
        abort(404)
    document = documents.document_of(institution, document_id)
    if document is None:
        abort(404)
    return document_response(document)
