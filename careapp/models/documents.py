"""Scans of the materials a filing application declares (备案材料)."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from careapp.extensions import db
from careapp.models.base import StrEnum, created_at_column, enum_type, one_of


class DocumentKind(StrEnum):
    """Which material a scan shows (托育机构登记和备案办法（试行）)."""

    REGISTRATION_CERTIFICATE = "registration"
    PREMISES_PROOF = "premises_proof"
    HEALTH_EVALUATION = "health_evaluation"
    FIRE_ACCEPTANCE = "fire_acceptance"
    FOOD_LICENCE = "food_licence"
    STAFF_CERTIFICATES = "staff_certificates"
    STAFF_HEALTH_CERTIFICATES = "staff_health"


class FilingDocument(db.Model):
    """One uploaded file, stored outside the web root under a random name."""

    __tablename__ = "filing_documents"
    __table_args__ = (
        one_of("kind", DocumentKind, "kind_valid"),
        sa.CheckConstraint(
            "content_type IN ('application/pdf', 'image/jpeg', 'image/png')",
            name="content_type_valid",
        ),
        sa.CheckConstraint("size_bytes > 0", name="size_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        sa.ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[DocumentKind] = mapped_column(enum_type(DocumentKind))
    #: The name the file had on the uploader's device, cleaned; shown, never used as a path.
    original_name: Mapped[str] = mapped_column(sa.String(120))
    #: The random file name in the upload folder.
    stored_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: What the content is (checked by its first bytes), not what the browser said.
    content_type: Mapped[str] = mapped_column(sa.String(40))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    #: A change request it was sent with, when the institution was filed already.
    change_request_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("change_requests.id", ondelete="SET NULL")
    )
    uploaded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = created_at_column()

    def __repr__(self) -> str:
        return f"<FilingDocument {self.id} {self.kind}>"
