"""Filing documents: scans of the declared materials, stored outside the web root.

A file is accepted by what its first bytes say it is (PDF, JPEG or PNG), never by its name
or the browser's Content-Type, up to UPLOAD_MAX_BYTES, and stored under a random name.
What a reviewer has seen stays with the decision: a document uploaded before the latest
submission can never be deleted; corrections and changes add new ones.
"""

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from careapp.extensions import db
from careapp.models import (
    ChangeRequest,
    ChangeStatus,
    DocumentKind,
    FilingDocument,
    Institution,
    Status,
    User,
)
from careapp.models.base import as_utc
from careapp.services.errors import CareappError

#: Content types by the bytes a file of that type starts with, and the extension it is stored with.
SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
)
EXTENSIONS = {content_type: extension for _magic, content_type, extension in SIGNATURES}
#: Documents may be added while the application is being written, and with a change later.
UPLOAD_STATUSES = frozenset({Status.DRAFT, Status.RETURNED, Status.FILED})


class DocumentError(CareappError):
    """An upload or deletion that is not allowed; ``message`` says why, translated."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class DeclaredMaterial:
    """One declaration of the filing and the documents that back it."""

    kind: DocumentKind
    documents: list[FilingDocument]


def upload_limit() -> int:
    """The largest file accepted, in bytes."""
    return current_app.config["UPLOAD_MAX_BYTES"]


def upload_folder() -> Path:
    """Where documents are kept (created on first use)."""
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def detected_type(head: bytes) -> str | None:
    """The content type ``head`` (a file's first bytes) shows, or None if not accepted."""
    for magic, content_type, _extension in SIGNATURES:
        if head.startswith(magic):
            return content_type
    return None


def clean_name(filename: str | None) -> str:
    """A name fit to show and to offer as a download name: no path, no control characters."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    return name[:120] or "document"


def documents_of(institution: Institution) -> list[FilingDocument]:
    """The institution's documents, by kind then upload time."""
    query = (
        sa.select(FilingDocument)
        .where(FilingDocument.institution_id == institution.id)
        .order_by(FilingDocument.kind, FilingDocument.uploaded_at, FilingDocument.id)
    )
    return list(db.session.scalars(query))


def materials_of(institution: Institution) -> list[DeclaredMaterial]:
    """Every kind of material, each with its documents (one query)."""
    found = documents_of(institution)
    return [
        DeclaredMaterial(kind, [document for document in found if document.kind == kind])
        for kind in DocumentKind
    ]


def document_of(institution: Institution, document_id: int) -> FilingDocument | None:
    """Document ``document_id`` of ``institution``, or None (also for another's)."""
    return db.session.scalar(
        sa.select(FilingDocument).where(
            FilingDocument.id == document_id, FilingDocument.institution_id == institution.id
        )
    )


def can_upload(institution: Institution) -> bool:
    """Whether documents may be added in the institution's state."""
    return institution.status in UPLOAD_STATUSES


def can_delete(institution: Institution, document: FilingDocument) -> bool:
    """Whether ``document`` may still be deleted: only while the application is being
    written, and only if no reviewer has seen it (uploaded after the latest submission)."""
    if not institution.can_edit_application:
        return False
    submitted = as_utc(institution.submitted_at)
    return submitted is None or as_utc(document.uploaded_at) > submitted


def _read_limited(stream: BinaryIO) -> bytes:
    """At most one byte more than the limit: enough to know a file is too large."""
    return stream.read(upload_limit() + 1)


def _pending_change_id(institution: Institution) -> int | None:
    return db.session.scalar(
        sa.select(ChangeRequest.id).where(
            ChangeRequest.institution_id == institution.id,
            ChangeRequest.status == ChangeStatus.PENDING,
        )
    )


def _lock_status(institution: Institution) -> Status:
    return db.session.scalar(
        sa.select(Institution.status).where(Institution.id == institution.id).with_for_update()
    )


def add_document(
    institution: Institution, actor: User, kind: DocumentKind, filename: str, stream: BinaryIO
) -> FilingDocument:
    """Check and store an uploaded file: the row joins the session, then the file is written."""
    if _lock_status(institution) not in UPLOAD_STATUSES:
        raise DocumentError(
            _l("Documents cannot be added while the application is under review.")
            if institution.status == Status.UNDER_REVIEW
            else _l("Documents can no longer be added to this institution.")
        )
    content = _read_limited(stream)
    if not content:
        raise DocumentError(_l("The file is empty."))
    if len(content) > upload_limit():
        raise DocumentError(too_large_message())
    content_type = detected_type(content[:16])
    if content_type is None:
        raise DocumentError(_l("Only PDF, JPEG and PNG files are accepted."))
    stored_name = secrets.token_hex(16) + EXTENSIONS[content_type]
    document = FilingDocument(
        institution_id=institution.id,
        kind=kind,
        original_name=clean_name(filename),
        stored_name=stored_name,
        content_type=content_type,
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        change_request_id=_pending_change_id(institution)
        if institution.status == Status.FILED
        else None,
        uploaded_by_id=actor.id,
    )
    db.session.add(document)
    db.session.flush()
    # Written once the row is accepted; the caller removes it if the commit then fails.
    with file_path(document).open("xb") as target:
        target.write(content)
    return document


def limit_text() -> str:
    """The upload limit as people read it: "5 MB", or "500 KB" below a megabyte."""
    limit = upload_limit()
    if limit >= 1024 * 1024:
        return f"{limit // (1024 * 1024)} MB"
    return f"{max(1, limit // 1024)} KB"


def too_large_message():
    """The refusal of a file over the limit, with the limit."""
    return _l(
        "The file is larger than %(size)s. Please scan at a lower resolution or split it.",
        size=limit_text(),
    )


def delete_document(institution: Institution, document: FilingDocument) -> Path:
    """Delete a document not yet seen by a reviewer; returns the file to remove after commit."""
    _lock_status(institution)
    db.session.refresh(institution, ["status", "submitted_at"])
    if not can_delete(institution, document):
        raise DocumentError(
            _l("This document belongs to a submitted application and is kept with it.")
        )
    path = file_path(document)
    db.session.delete(document)
    db.session.flush()
    return path


def file_path(document: FilingDocument) -> Path:
    """Where the document's file is."""
    return upload_folder() / document.stored_name


def remove_file(path: Path) -> None:
    """Remove a deleted document's file (after the deletion is committed)."""
    path.unlink(missing_ok=True)
