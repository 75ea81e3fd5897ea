"""CSV downloads that Excel opens correctly and never runs as formulas."""

import csv
import io
from collections.abc import Iterable, Iterator

from flask import Response, stream_with_context

#: A cell starting with one of these is a formula to a spreadsheet; it gets a leading quote.
FORMULA_STARTS = frozenset("=+-@\t\r")
#: Rows written per piece of a streamed download.
ROWS_PER_CHUNK = 1000


def csv_cell(value) -> str:
    """A value as text a spreadsheet will not run as a formula (``None`` is empty)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in FORMULA_STARTS else text


def csv_text(header: Iterable, rows: Iterable[Iterable]) -> Iterator[str]:
    """The CSV text in pieces of ``ROWS_PER_CHUNK`` rows: a BOM, the header, the rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([csv_cell(value) for value in header])
    for count, row in enumerate(rows, start=1):
        writer.writerow([csv_cell(value) for value in row])
        if count % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_response(filename: str, header: Iterable, rows: Iterable[Iterable]) -> Response:
    """A CSV attachment, UTF-8 with a BOM so that Excel reads Chinese, every cell escaped;
    written while it is sent, so ``rows`` may be a generator over the whole register."""
    return Response(
        stream_with_context(csv_text(header, rows)),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )
