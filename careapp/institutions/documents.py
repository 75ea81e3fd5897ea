"""Views of an institution's filing documents: upload, download and delete its own scans."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from careapp.downloads import document_response
from careapp.errors import handle_http_error
from careapp.extensions import db
from careapp.institutions import bp
from careapp.institutions.forms import ConfirmForm
from careapp.institutions.staff_forms import DocumentForm
from careapp.institutions.views import _load_own
from careapp.models import DocumentKind, FilingDocument, Institution
from careapp.services import documents

#: Room for the form's other fields and the multipart framing beside the file itself.
FORM_OVERHEAD_BYTES = 64 * 1024
UPLOAD_ENDPOINT = "institutions.upload_document"


@bp.url_value_preprocessor
def allow_upload_size(endpoint: str | None, _values) -> None:
    """Let the upload route alone take a body of a file's size (runs before the form is read,
    the CSRF check included); every other route keeps the site's small limit."""
    if endpoint == UPLOAD_ENDPOINT:
        request.max_content_length = current_app.config["UPLOAD_MAX_BYTES"] + FORM_OVERHEAD_BYTES


@bp.errorhandler(RequestEntityTooLarge)
def upload_too_large(error: RequestEntityTooLarge):
    """A file over the limit: back to the documents page with a translated message."""
    institution_id = (request.view_args or {}).get("institution_id")
    if request.endpoint != UPLOAD_ENDPOINT or institution_id is None:
        return handle_http_error(error)
    flash(str(documents.too_large_message()), "error")
    return redirect(url_for("institutions.documents_page", institution_id=institution_id))


def _render_documents(institution: Institution, form: DocumentForm, status: int = 200):
    page = render_template(
        "institutions/staff/documents.html",
        institution=institution,
        materials=documents.materials_of(institution),
        can_upload=documents.can_upload(institution),
        can_delete=documents.can_delete,
        limit=documents.limit_text(),
        form=form,
        delete_form=ConfirmForm(),
    )
    return page, status


def _load_document(institution: Institution, document_id: int) -> FilingDocument:
    document = documents.document_of(institution, document_id)
    if document is None:
        abort(404)
    return document


@bp.get("/<id:institution_id>/documents")
def documents_page(institution_id: int):
    """The application's documents by material, with the upload form."""
    return _render_documents(_load_own(institution_id), DocumentForm())


@bp.post("/<id:institution_id>/documents")
def upload_document(institution_id: int):
    """Store an uploaded scan after checking its size and what its content is."""
    institution = _load_own(institution_id)
    form = DocumentForm()
    if not form.validate_on_submit():
        return _render_documents(institution, form, 400)
    upload = form.file.data
    try:
        document = documents.add_document(
            institution, current_user, DocumentKind(form.kind.data), upload.filename, upload.stream
        )
    except documents.DocumentError as error:
        db.session.rollback()
        institution = _load_own(institution_id)
        if not documents.can_upload(institution):
            flash(str(error.message), "error")  # the page shows no form to hold the message
        form.file.errors = [str(error.message)]
        return _render_documents(institution, form, 400)
    try:
        db.session.commit()
    except Exception:
        documents.remove_file(documents.file_path(document))  # no file without its record
        raise
    flash(_("The document is stored."), "success")
    return redirect(url_for("institutions.documents_page", institution_id=institution.id))


@bp.get("/<id:institution_id>/documents/<id:document_id>")
def download_document(institution_id: int, document_id: int):
    """The institution's own document, as a download."""
    institution = _load_own(institution_id)
    return document_response(_load_document(institution, document_id))


@bp.post("/<id:institution_id>/documents/<id:document_id>/delete")
def delete_document(institution_id: int, document_id: int):
    """Delete a document no reviewer has seen yet."""
    institution = _load_own(institution_id)
    document = _load_document(institution, document_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        path = documents.delete_document(institution, document)
    except documents.DocumentError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        documents.remove_file(path)
        flash(_("The document is deleted."), "success")
    return redirect(url_for("institutions.documents_page", institution_id=institution_id))
