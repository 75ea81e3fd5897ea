"""Open data for the county's portal: filed institutions in the Open Referral HSDS 3.0 shape,
as one document and in pages as the HSDS 3.0 API serves them."""

from flask import Response, current_app, jsonify, request, stream_with_context, url_for

from careapp import open_data_files
from careapp.api import bp
from careapp.i18n import current_language
from careapp.services import open_data
from careapp.services.params import Page, parse_paging


def _page_url(institution_id: int) -> str:
    """The absolute address of an institution's public page."""
    return url_for("public.institution", institution_id=institution_id, _external=True)


@bp.get("/open-data/hsds.json")
def hsds():
    """Filed institutions, their services, places, hours, prices and public history as HSDS:
    the file ``jobs run`` built for the register's current version, else written while it is
    sent (one pass over the register per array, one batch in memory)."""
    kept = open_data_files.send_current("hsds", current_language())
    if kept is not None:
        return kept
    batch_size = current_app.config.get("OPEN_DATA_BATCH_SIZE", open_data.BATCH_SIZE)
    text = open_data.hsds_document_text(
        current_language(), open_data_files.page_url_maker(), batch_size
    )
    return Response(
        stream_with_context(open_data.in_one_snapshot(text)), mimetype=current_app.json.mimetype
    )


def _hsds_page_body(page: Page) -> dict:
    """The HSDS 3.0 API's page envelope around ``page``'s records."""
    return {
        "total_items": page.total,
        "total_pages": page.pages,
        "page_number": page.page,
        "size": len(page.items),
        "first_page": page.page == 1,
        "last_page": page.page >= page.pages,
        "empty": not page.items,
        "contents": page.items,
    }


@bp.get(f"/open-data/hsds/<any({', '.join(open_data.PAGED_ARRAYS)}):array>")
def hsds_pages(array: str):
    """One page of organizations, services, service_at_locations, taxonomies or
    taxonomy_terms, as the HSDS 3.0 API lists them (``page``, ``per_page``)."""
    page_number, per_page = parse_paging(
        request.args, open_data.HSDS_PER_PAGE, open_data.HSDS_MAX_PER_PAGE
    )
    page = open_data.hsds_page(array, current_language(), _page_url, page_number, per_page)
    return jsonify(_hsds_page_body(page))
