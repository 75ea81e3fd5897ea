"""Filing documents as downloads: for the institution's own pages and the bureau's review."""

import io

from flask import abort, send_file

from careapp.models import FilingDocument
from careapp.services import documents


def document_response(document: FilingDocument):
    """The file as an attachment of its checked type, never rendered nor sniffed by a browser."""
    path = documents.file_path(document)
    if not path.is_file():
        abort(404)
    # Read at once (a file is a few MB at most): no open handle outlives the request.
    response = send_file(
        io.BytesIO(path.read_bytes()),
        mimetype=document.content_type,
        as_attachment=True,
        download_name=document.original_name,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
