"""Views of family members: the guardian's page and the invitee's answers."""

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from careapp.access import or_404, safe_next
from careapp.database import run_in_transaction
from careapp.institutions.forms import ConfirmForm
from careapp.parents import bp
from careapp.parents.forms import InviteForm, RevokeForm
from careapp.services import family
from careapp.services.privacy import mask_name


def _render_family(form: InviteForm, status: int = 200):
    return (
        render_template(
            "parents/family.html",
            form=form,
            members=family.members_of(current_user),
            actions=family.recent_actions(current_user),
            child_name=lambda child: mask_name(child.name),
            me=current_user.id,
            national_number=family.national_number,
        ),
        status,
    )


@bp.route("/family", methods=["GET", "POST"])
def family_members():
    """家庭成员: invite by mobile number, see members and what they did, revoke."""
    form = InviteForm()
    if not form.validate_on_submit():
        return _render_family(form, 400 if form.is_submitted() else 200)
    try:
        run_in_transaction(lambda: family.invite(current_user, form.phone.data))
    except family.FamilyError as error:
        form.phone.errors.append(str(error.message))
        return _render_family(form, 400)
    except sa.exc.IntegrityError:  # the same number invited by another request at this moment
        form.phone.errors.append(_("This number is invited already."))
        return _render_family(form, 400)
    flash(
        _("The invitation is sent. It waits until the owner of that number accepts it."),
        "success",
    )
    return redirect(url_for("parents.family_members"))


@bp.route("/family/<id:invitation_id>/revoke", methods=["GET", "POST"])
def revoke_member(invitation_id: int):
    """Ask once, then withdraw an invitation or end a membership."""
    invitation = or_404(family.guardian_invitation(current_user, invitation_id))
    form = RevokeForm()
    if not form.validate_on_submit():
        form.seen.data = str(invitation.status)
        return render_template(
            "parents/family_revoke.html",
            form=form,
            national_number=family.national_number(invitation.phone),
            accepted=invitation.status == "accepted",
        )
    try:
        run_in_transaction(lambda: family.revoke(current_user, invitation, form.seen.data))
    except family.InvitationSettled as done:
        flash(str(done.message), "info")
    else:
        flash(_("Done: this number can no longer book for your children."), "success")
    return redirect(url_for("parents.family_members"))


def _answer(invitation_id: int, accept: bool):
    invitation = or_404(family.invitation_for_invitee(current_user, invitation_id))
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        run_in_transaction(lambda: family.answer(current_user, invitation, accept))
    except family.InvitationSettled as done:
        flash(str(done.message), "info")
    except family.FamilyError as error:
        flash(str(error.message), "error")
    else:
        if accept:
            flash(_("You can now book care for this family's children."), "success")
        else:
            flash(_("You have declined the invitation."), "success")
    # On the way to a booking, an accepted invitation goes straight back to the booking form.
    target = safe_next(request.args.get("next"))
    if accept and target:
        return redirect(target)
    return redirect(url_for("parents.home", next=target) if target else url_for("parents.home"))


@bp.post("/invitations/<id:invitation_id>/accept")
def accept_invitation(invitation_id: int):
    """Accept a guardian's invitation to book for their children."""
    return _answer(invitation_id, True)


@bp.post("/invitations/<id:invitation_id>/decline")
def decline_invitation(invitation_id: int):
    """Decline a guardian's invitation."""
    return _answer(invitation_id, False)
