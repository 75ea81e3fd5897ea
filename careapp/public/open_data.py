"""The register as a spreadsheet anybody may download (UTF-8 with a BOM, for Excel)."""

from flask import current_app

from careapp import open_data_files
from careapp.csv_export import csv_response
from careapp.i18n import current_language
from careapp.public import bp
from careapp.services import open_data


@bp.get("/open-data/institutions.csv")
def institutions_csv():
    """Every filed institution, one row each, in the request language: the file ``jobs run``
    built for the register's current version, else written as it is read."""
    kept = open_data_files.send_current("institutions", current_language())
    if kept is not None:
        return kept
    batch_size = current_app.config.get("OPEN_DATA_BATCH_SIZE", open_data.BATCH_SIZE)
    rows = open_data.in_one_snapshot(open_data.csv_rows(current_language(), batch_size))
    return csv_response("institutions.csv", open_data.csv_header(), rows)
