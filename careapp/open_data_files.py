"""Whole-register downloads kept as files: built once per register version by ``jobs run``,
served as a file (length, ETag, conditional GET, ranges) while that version is current.

A file is named by its download, language and the version of the ``register`` scope of the
page cache (``careapp/cache.py``) it was read under: institutions, townships, regions, offers,
classes and disclosure events, every table the downloads read. A change to any of them bumps
that version in its own transaction, so from its commit on the file no longer matches and the
endpoints stream the download from the database until the next ``jobs run`` builds the new
one: never stale. Bookings and slots (scope ``places``) leave the files current.

A build reads the version and the register in one snapshot, writes a temporary file of a name
of its own and renames it into place: two builds at once each write a whole file of the same
content, and the later rename wins.
"""

import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from flask import Response, current_app, send_file, url_for
from flask_babel import force_locale

from careapp.cache import database_versions
from careapp.config import INSTANCE_DIR
from careapp.csv_export import csv_text
from careapp.models import CacheScope
from careapp.services import open_data

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Download:
    """One whole-register download that is kept as a file."""

    name: str
    suffix: str
    mimetype: str
    #: The download's text in pieces, in a language, its pages linked by a page-address maker.
    text: Callable[[str, open_data.PageUrl, int], Iterator[str]]
    attachment: str | None = None


def _hsds_text(language: str, page_url: open_data.PageUrl, batch_size: int) -> Iterator[str]:
    """The HSDS document's text."""
    return open_data.hsds_document_text(language, page_url, batch_size)


def _csv_text(language: str, _page_url: open_data.PageUrl, batch_size: int) -> Iterator[str]:
    """The institutions spreadsheet's text."""
    return csv_text(open_data.csv_header(), open_data.csv_rows(language, batch_size))


DOWNLOADS = {
    "hsds": Download("hsds", ".json", "application/json", _hsds_text),
    "institutions": Download(
        "institutions", ".csv", "text/csv", _csv_text, attachment="institutions.csv"
    ),
}


def files_dir() -> Path | None:
    """Where the files are kept: ``OPEN_DATA_DIR``, by default ``instance/open-data``; None
    when it is ``off``, or unset under ``TESTING`` (tests choose a folder of their own)."""
    configured = current_app.config.get("OPEN_DATA_DIR") or ""
    if configured.lower() == "off" or (not configured and current_app.testing):
        return None
    return Path(configured) if configured else INSTANCE_DIR / "open-data"


def register_version() -> int:
    """The register's current version (0 before its first change)."""
    return database_versions((CacheScope.REGISTER,))[0]


def file_name(download: Download, language: str, version: int) -> str:
    """The name of ``download``'s file in ``language`` at register ``version``."""
    return f"{download.name}-{language}-v{version}{download.suffix}"


def _etag(download: Download, language: str, version: int) -> str:
    """The entity tag of a kept file: it changes exactly when the register does."""
    return f"{download.name}-{language}-v{version}"


def send_current(name: str, language: str) -> Response | None:
    """The file of the register's current version, or None when none is built yet."""
    folder = files_dir()
    if folder is None:
        return None
    download = DOWNLOADS[name]
    version = register_version()
    path = folder / file_name(download, language, version)
    try:
        response = send_file(
            path,
            mimetype=download.mimetype,
            as_attachment=download.attachment is not None,
            download_name=download.attachment or path.name,
            etag=_etag(download, language, version),
            conditional=True,
        )
    except FileNotFoundError:  # not built yet, or an older version just removed
        return None
    if download.attachment is None:  # as when streamed: no file name of the version's
        del response.headers["Content-Disposition"]
    return response


def page_url_maker() -> open_data.PageUrl:
    """Institution page addresses as ``url_for`` makes them here, the address built once:
    a download links to every institution."""
    mark = 987654321  # an id no institution has; where it stands, any id goes
    address = url_for("public.institution", institution_id=mark, _external=True)
    before, after = address.split(str(mark), 1)
    return lambda institution_id: f"{before}{institution_id}{after}"


def _write_atomically(folder: Path, name: str, chunks: Iterator[str]) -> None:
    """``chunks`` as the UTF-8 file ``folder/name``, which appears whole or not at all."""
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as output:
            for chunk in chunks:
                output.write(chunk)
            output.flush()
            os.fsync(output.fileno())
        os.chmod(temporary, 0o644)  # served by the web server too, not only by this user
        os.replace(temporary, folder / name)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _remove_older(folder: Path, download: Download, language: str, version: int) -> None:
    """Delete the files of versions before ``version``, and what builds of them that were
    killed left (a client still reading a deleted file keeps it)."""
    prefix = f"{download.name}-{language}-v"
    for path in (*folder.glob(f"{prefix}*"), *folder.glob(f".{prefix}*.part")):
        number = path.name.lstrip(".").removeprefix(prefix).split(".", 1)[0]
        if number.isascii() and number.isdigit() and int(number) < version:
            path.unlink(missing_ok=True)


def build(name: str, language: str) -> bool:
    """Build ``name``'s file in ``language`` unless the current version's exists; whether it
    built one."""
    folder = files_dir()
    if folder is None:
        return False
    folder.mkdir(parents=True, exist_ok=True)
    download = DOWNLOADS[name]
    batch_size = current_app.config.get("OPEN_DATA_BATCH_SIZE", open_data.BATCH_SIZE)
    site = current_app.test_request_context(base_url=current_app.config["SITE_URL"])
    with site, force_locale(language), open_data.one_snapshot():
        version = register_version()
        target = file_name(download, language, version)
        if (folder / target).exists():
            return False
        chunks = download.text(language, page_url_maker(), batch_size)
        _write_atomically(folder, target, chunks)
    _remove_older(folder, download, language, version)
    return True


def build_all() -> int:
    """Build every download's file in every language whose current version is missing;
    how many were built. A folder that cannot be written only costs the files (logged):
    the downloads are then streamed, and the jobs before this step are done."""
    built = 0
    for name in DOWNLOADS:
        for language in current_app.config["LANGUAGES"]:
            try:
                built += build(name, language)
            except OSError as error:
                log.error("open-data file %s (%s) not built: %s", name, language, error)
    return built
