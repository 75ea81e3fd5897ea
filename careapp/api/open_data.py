"""Open data for the county's portal: filed institutions in the Open Referral HSDS 3.0 shape."""

from flask import jsonify, url_for

from careapp.api import bp
from careapp.i18n import current_language
from careapp.services import open_data


def _page_url(institution_id: int) -> str:
    """The absolute address of an institution's public page."""
    return url_for("public.institution", institution_id=institution_id, _external=True)


@bp.get("/open-data/hsds.json")
def hsds():
    """Filed institutions, their services, places, hours, prices and public history as HSDS."""
    document = open_data.hsds_document(
        open_data.listed_institutions(),
        open_data.listed_events(),
        current_language(),
        _page_url,
    )
    return jsonify(document)
