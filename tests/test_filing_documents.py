"""Filing documents: scans of the declared materials, seen only by the institution and the bureau.

A file is accepted by its content (PDF, JPEG or PNG magic bytes), never its name or the
browser's Content-Type, up to a configured size, stored outside the web root under a random
name, served as an attachment that browsers do not sniff, and kept once a reviewer has seen it.
"""

import io
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import pytest
import sqlalchemy as sa
from test_access_matrix import complete_declarations

from careapp.extensions import db
from careapp.models import ChangeRequest, FilingDocument, Institution, Role, Status

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
HTML = b"<html><script>alert(document.cookie)</script></html>"


@pytest.fixture
def uploads(app, tmp_path) -> Path:
    """Documents go to a folder of the test's own; small files keep the tests quick."""
    folder = tmp_path / "uploads"
    app.config["UPLOAD_FOLDER"] = str(folder)
    app.config["UPLOAD_MAX_BYTES"] = 4 * 1024
    return folder


@pytest.fixture
def owner(user):
    return user(Role.INSTITUTION)


@pytest.fixture
def draft(institution, owner):
    return institution("草稿托育园", status=Status.DRAFT, owner_id=owner, **complete_declarations())


@pytest.fixture
def english(client):
    client.set_cookie("lang", "en")
    return client


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def upload(client, institution_id: int, content: bytes, name: str = "licence.pdf", **fields):
    data = {"kind": "registration", "file": (io.BytesIO(content), name)} | fields
    return client.post(
        f"/institutions/{institution_id}/documents",
        data=data,
        content_type="multipart/form-data",
    )


def raw_upload(client, institution_id: int, content: bytes):
    """An upload whose body is built here: the test client spools a large form to a
    temporary file that nobody closes when the application refuses to read it."""
    boundary = "careapp-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\n'
            f'registration\r\n--{boundary}\r\nContent-Disposition: form-data; name="file";'
            f' filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return client.post(
        f"/institutions/{institution_id}/documents",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def stored_documents(app, institution_id: int) -> list[FilingDocument]:
    with app.app_context():
        found = db.session.scalars(
            sa.select(FilingDocument).where(FilingDocument.institution_id == institution_id)
        ).all()
        db.session.expunge_all()
        return list(found)


def set_status(app, institution_id: int, status: Status, submitted_at=None) -> None:
    with app.app_context():
        found = db.session.get(Institution, institution_id)
        found.status = status
        found.submitted_at = submitted_at
        if status == Status.FILED:
            found.filing_number, found.filed_on = "JJ-TY-2026-0999", datetime.now(UTC).date()
        db.session.commit()


# --- what is accepted ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "name", "content_type"),
    [
        (PDF, "营业执照.pdf", "application/pdf"),
        (PNG, "scan.png", "image/png"),
        (JPEG, "photo.jpeg", "image/jpeg"),
        (PNG, "named-wrongly.pdf", "image/png"),
    ],
)
def test_a_pdf_jpeg_or_png_is_stored_under_a_random_name_as_what_its_content_is(
    app, english, auth, owner, draft, uploads, content, name, content_type
):
    auth.login(owner)

    response = upload(english, draft, content, name)

    assert response.status_code == 302
    assert response.location.endswith(f"/institutions/{draft}/documents")
    [document] = stored_documents(app, draft)
    assert (document.content_type, document.original_name, document.size_bytes) == (
        content_type,
        name,
        len(content),
    )
    assert name not in document.stored_name
    assert (uploads / document.stored_name).read_bytes() == content
    assert not any(Path(app.root_path).parent.joinpath("careapp", "static").rglob(name))


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (HTML, "licence.pdf"),
        (b"GIF89a" + b"\x00" * 32, "licence.png"),
        (b"MZ\x90\x00" + b"\x00" * 32, "licence.jpg"),
        (b"", "licence.pdf"),
    ],
)
def test_other_content_is_refused_whatever_the_name_and_nothing_is_written(
    app, english, auth, owner, draft, uploads, content, name
):
    auth.login(owner)

    response = english.post(
        f"/institutions/{draft}/documents",
        data={"kind": "registration", "file": (io.BytesIO(content), name, "application/pdf")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 400
    assert "Only PDF, JPEG and PNG files are accepted." in text(response) or (
        "The file is empty." in text(response)
    )
    assert stored_documents(app, draft) == []
    assert not uploads.exists() or list(uploads.iterdir()) == []


def test_a_file_over_the_limit_is_refused_with_a_translated_message(
    app, english, auth, owner, draft, uploads
):
    auth.login(owner)

    response = upload(english, draft, PDF + b"0" * 5 * 1024)

    assert response.status_code == 400
    assert "The file is larger than 4 KB." in text(response)
    assert stored_documents(app, draft) == []


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_a_body_far_over_the_limit_gets_a_translated_message_not_a_bare_413(
    app, client, auth, owner, draft, uploads, language
):
    app.config["UPLOAD_MAX_BYTES"] = 1024 * 1024
    client.set_cookie("lang", language)
    auth.login(owner)

    response = raw_upload(client, draft, PDF + b"0" * 2 * 1024 * 1024)

    assert response.status_code == 302
    page = text(client.get(response.location))
    message = "The file is larger than 1 MB." if language == "en" else "文件超过 1 MB。"
    assert message in page
    assert stored_documents(app, draft) == []


def test_other_routes_keep_the_small_body_limit(app, english, auth, owner, draft, uploads):
    app.config["UPLOAD_MAX_BYTES"] = 8 * 1024 * 1024
    auth.login(owner)

    response = english.post(
        f"/institutions/{draft}/staff",
        data={"name": "x" * (2 * 1024 * 1024)},
    )

    assert response.status_code == 413


# --- who sees a document ----------------------------------------------------------------------


def test_owner_and_bureau_download_it_as_an_attachment_nobody_else_reaches_it(
    app, client, auth, owner, user, draft, uploads
):
    auth.login(owner)
    upload(client, draft, HTML.replace(b"<html>", b"%PDF-1.4<html>"), "x.pdf")
    [document] = stored_documents(app, draft)
    own_path = f"/institutions/{draft}/documents/{document.id}"
    review_path = f"/regulator/institutions/{draft}/documents/{document.id}"

    own = client.get(own_path)
    auth.logout()
    auth.login(user(Role.REGULATOR))
    reviewed = client.get(review_path)
    auth.logout()
    observed = {
        "anonymous": (client.get(own_path).status_code, client.get(review_path).status_code)
    }
    for role in (Role.INSTITUTION, Role.PARENT, Role.PROVIDER):
        auth.login(user(role))
        observed[str(role)] = (
            client.get(own_path).status_code,
            client.get(review_path).status_code,
        )
        auth.logout()

    for response in (own, reviewed):
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/pdf"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "no-store" in response.headers["Cache-Control"]
    assert observed == {
        "anonymous": (302, 302),
        "institution": (404, 403),
        "parent": (403, 403),
        "provider": (403, 403),
    }


def test_a_document_of_another_institution_is_404_even_for_the_bureau(
    app, client, auth, owner, user, draft, institution, uploads
):
    other = institution("另一家", status=Status.DRAFT, owner_id=owner, **complete_declarations())
    auth.login(owner)
    upload(client, draft, PDF)
    [document] = stored_documents(app, draft)

    mixed = client.get(f"/institutions/{other}/documents/{document.id}")
    auth.logout()
    auth.login(user(Role.REGULATOR))
    reviewed = client.get(f"/regulator/institutions/{other}/documents/{document.id}")

    assert (mixed.status_code, reviewed.status_code) == (404, 404)


def test_the_reviewer_sees_each_declaration_beside_its_documents(
    app, english, auth, owner, user, draft, uploads
):
    auth.login(owner)
    upload(english, draft, PDF, "fire.pdf", kind="fire_acceptance")
    auth.logout()
    auth.login(user(Role.REGULATOR))

    page = text(english.get(f"/regulator/institutions/{draft}"))

    section = page[page.index("Declarations and documents") :]
    fire = section[section.index("Fire-safety acceptance") :]
    assert fire.index("Passed on") < fire.index("fire.pdf") < fire.index("Food business licence")
    assert "No document uploaded." in section


# --- kept with the decision ---------------------------------------------------------------------


def test_a_draft_document_can_be_deleted_and_its_file_goes(
    app, english, auth, owner, draft, uploads
):
    auth.login(owner)
    upload(english, draft, PDF)
    [document] = stored_documents(app, draft)

    response = english.post(f"/institutions/{draft}/documents/{document.id}/delete")

    assert response.status_code == 302
    assert stored_documents(app, draft) == []
    assert not (uploads / document.stored_name).exists()


def test_documents_a_reviewer_has_seen_stay_and_new_ones_can_be_added_after_a_return(
    app, english, auth, owner, draft, uploads
):
    auth.login(owner)
    upload(english, draft, PDF, "seen.pdf")
    set_status(app, draft, Status.UNDER_REVIEW, datetime.now(UTC))
    during_review = upload(english, draft, PDF, "late.pdf")
    set_status(app, draft, Status.RETURNED, datetime.now(UTC))
    upload(english, draft, PNG, "correction.png")
    seen, correction = stored_documents(app, draft)

    refused = english.post(f"/institutions/{draft}/documents/{seen.id}/delete")
    allowed = english.post(f"/institutions/{draft}/documents/{correction.id}/delete")

    assert during_review.status_code == 400
    assert "while the application is under review" in text(during_review)
    assert (refused.status_code, allowed.status_code) == (302, 302)
    assert [document.original_name for document in stored_documents(app, draft)] == ["seen.pdf"]
    assert (uploads / seen.stored_name).exists()
    page = text(english.get(f"/institutions/{draft}/documents"))
    assert "Delete seen.pdf" not in page


def test_a_filed_institutions_new_document_goes_with_its_pending_change(
    app, english, auth, owner, institution, uploads
):
    filed = institution("已备案托育园", owner_id=owner, **complete_declarations())
    with app.app_context():
        change = ChangeRequest(
            institution_id=filed, proposed={"name": "新名"}, submitted_by_id=owner
        )
        db.session.add(change)
        db.session.commit()
        change_id = change.id
    auth.login(owner)

    upload(english, filed, PDF)
    [document] = stored_documents(app, filed)
    refused = english.post(f"/institutions/{filed}/documents/{document.id}/delete")

    assert document.change_request_id == change_id
    assert refused.status_code == 302
    assert len(stored_documents(app, filed)) == 1


def test_documents_page_reads_in_chinese(app, client, auth, owner, draft, uploads):
    client.set_cookie("lang", "zh_CN")
    auth.login(owner)

    page = text(client.get(f"/institutions/{draft}/documents"))

    assert "备案材料" in page
    assert "上传" in page
    assert "Filing documents" not in page
    assert "Upload" not in page


def test_no_file_is_left_behind_when_the_record_is_not_committed(
    app, english, auth, owner, draft, uploads, monkeypatch
):
    auth.login(owner)

    def fail():
        raise RuntimeError("the database went away")

    with app.app_context():
        monkeypatch.setattr(db.session, "commit", fail)
        response = upload(english, draft, PDF)

    assert response.status_code == 500
    assert list(uploads.iterdir()) == []
