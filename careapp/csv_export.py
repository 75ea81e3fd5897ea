"""CSV downloads that Excel opens correctly and never runs as formulas."""

import csv
import io
from collections.abc import Iterable

from flask import Response

#: A cell starting with one of these is a formula to a spreadsheet; it gets a leading quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """A value as text a spreadsheet will not run as a formula (``None`` is empty)."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def csv_response(filename: str, header: Iterable, rows: Iterable[Iterable]) -> Response:
    """A CSV attachment, UTF-8 with a BOM so that Excel reads Chinese, every cell escaped."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(csv_cell(value) for value in header)
    for row in rows:
        writer.writerow(csv_cell(value) for value in row)
    return Response(
        "\ufeff" + buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )
