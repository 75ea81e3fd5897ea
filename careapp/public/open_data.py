"""The register as a spreadsheet anybody may download (UTF-8 with a BOM, for Excel)."""

from careapp.csv_export import csv_response
from careapp.i18n import current_language
from careapp.public import bp
from careapp.services import open_data


@bp.get("/open-data/institutions.csv")
def institutions_csv():
    """Every filed institution, one row each, in the request language."""
    language = current_language()
    rows = (
        open_data.csv_row(institution, language) for institution in open_data.listed_institutions()
    )
    return csv_response("institutions.csv", open_data.csv_header(), rows)
