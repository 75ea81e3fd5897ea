"""Views of an institution's staff register: only its own account ever sees it."""

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from careapp import clock
from careapp.extensions import db
from careapp.institutions import bp
from careapp.institutions.forms import ConfirmForm
from careapp.institutions.staff_forms import StaffForm
from careapp.institutions.views import _load_own
from careapp.models import Institution, StaffMember
from careapp.services import staff


def _load_member(institution: Institution, member_id: int) -> StaffMember:
    member = staff.member_of(institution, member_id)
    if member is None:
        abort(404)
    return member


def _render_register(institution: Institution, form: StaffForm, status: int = 200):
    today = clock.today()
    page = render_template(
        "institutions/staff/register.html",
        institution=institution,
        members=staff.register_of(institution),
        facts=staff.facts_of(institution, today),
        problems=staff.staff_problems(institution, today),
        editable=staff.can_change_register(institution),
        form=form,
        remove_form=ConfirmForm(),
        today=today,
    )
    return page, status


@bp.get("/<id:institution_id>/staff")
def staff_register(institution_id: int):
    """The staff register with a form to add a person."""
    institution = _load_own(institution_id)
    return _render_register(institution, StaffForm())


@bp.post("/<id:institution_id>/staff")
def add_staff(institution_id: int):
    """Add a person; a person on the bureau's ban list is refused and the bureau told."""
    institution = _load_own(institution_id)
    form = StaffForm()
    if not form.validate_on_submit():
        return _render_register(institution, form, 400)
    try:
        staff.add_staff(institution, current_user, form.entry())
    except staff.PersonBanned as banned:
        db.session.commit()  # the bureau's alert and e-mail stand, though nobody was added
        flash(str(banned.message), "error")
        return redirect(url_for("institutions.staff_register", institution_id=institution.id))
    except staff.StaffError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return _render_register(_load_own(institution_id), form, 409)
    except sa.exc.IntegrityError:
        db.session.rollback()
        flash(_("This person is on your staff register already."), "error")
        return _render_register(_load_own(institution_id), form, 409)
    db.session.commit()
    flash(_("Added to the staff register."), "success")
    return redirect(url_for("institutions.staff_register", institution_id=institution.id))


@bp.route("/<id:institution_id>/staff/<id:member_id>/edit", methods=["GET", "POST"])
def edit_staff(institution_id: int, member_id: int):
    """Change a person's role, certificate, health check or training hours."""
    institution = _load_own(institution_id)
    member = _load_member(institution, member_id)
    form = StaffForm(obj=member, adding=False)
    if form.validate_on_submit():
        try:
            staff.update_staff(institution, current_user, member, form.entry())
        except staff.StaffError as error:
            db.session.rollback()
            flash(str(error.message), "error")
            return redirect(url_for("institutions.staff_register", institution_id=institution_id))
        db.session.commit()
        flash(_("The staff register is saved."), "success")
        return redirect(url_for("institutions.staff_register", institution_id=institution.id))
    return render_template(
        "institutions/staff/edit.html",
        institution=institution,
        member=member,
        form=form,
        editable=staff.can_change_register(institution),
    )


@bp.post("/<id:institution_id>/staff/<id:member_id>/delete")
def remove_staff(institution_id: int, member_id: int):
    """Take a person off the register."""
    institution = _load_own(institution_id)
    member = _load_member(institution, member_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        staff.remove_staff(institution, current_user, member)
    except staff.StaffError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(_("Taken off the staff register."), "success")
    return redirect(url_for("institutions.staff_register", institution_id=institution_id))
