"""The parent's own data: download it all (JSON, CSV) or delete the account."""

import json

from flask import Response, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from careapp import clock
from careapp.csv_export import csv_response
from careapp.database import run_in_transaction
from careapp.extensions import db
from careapp.models import User
from careapp.parents import bp
from careapp.parents.forms import DeleteAccountForm
from careapp.services import data_export, erasure


@bp.get("/data")
def my_data():
    """What careapp keeps about the account: the two downloads, and deleting the account."""
    return render_template("parents/my_data.html")


@bp.get("/data/export.json")
def export_json():
    """The whole account as one JSON file."""
    document = data_export.account_document(current_user)
    return Response(
        json.dumps(document, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={"Content-Disposition": "attachment; filename=careapp-account.json"},
    )


@bp.get("/data/export.csv")
def export_csv():
    """The whole account as one CSV file: section, record, field, value."""
    document = data_export.account_document(current_user)
    header = (_("Section"), _("Record"), _("Field"), _("Value"))
    return csv_response("careapp-account.csv", header, data_export.csv_rows(document))


@bp.route("/account/delete", methods=["GET", "POST"])
def delete_account():
    """Delete the account and everything in it, after the parent has confirmed."""
    form = DeleteAccountForm()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("parents/delete_account.html", form=form), status
    user_id = current_user.id
    run_in_transaction(
        lambda: erasure.erase_account(db.session.get(User, user_id), clock.local_now())
    )
    erasure.checkpoint()
    logout_user()
    session.clear()
    flash(_("Your account and everything in it have been deleted."), "success")
    return redirect(url_for("public.index"))
