"""Error pages in both languages for people and the JSON error shape for programs."""

import sqlalchemy as sa
from flask import Flask, current_app, g, jsonify, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from careapp.extensions import db

ERROR_TITLES = {
    400: _l("The request could not be understood"),
    403: _l("You may not open this page"),
    404: _l("Page not found"),
    405: _l("That action is not allowed here"),
    413: _l("What was sent is too large"),
    429: _l("Too many attempts"),
    500: _l("Something went wrong on our side"),
    503: _l("The service is unavailable"),
}

ERROR_EXPLANATIONS = {
    400: _l("Please check what you entered and try again."),
    403: _l("Your account does not have access to this page."),
    404: _l("There is nothing public at this address. It may have been removed."),
    405: _l("Please go back and use the page's own buttons."),
    413: _l("Please send less: a form here never needs more than a few pages of text."),
    429: _l("Please wait a minute before you try again."),
    500: _l("The error has been recorded. Please try again in a moment."),
    503: _l("Please try again in a few minutes."),
}

ERROR_CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


def wants_json() -> bool:
    """Whether the request came to the API rather than a page."""
    return request.path.startswith("/api/") or request.path == "/healthz"


def json_error(status: int, message: str, code: str | None = None):
    """The API's error response: ``{"error": {"code", "message"}}`` with ``status``."""
    body = {"error": {"code": code or ERROR_CODES.get(status, "error"), "message": str(message)}}
    return jsonify(body), status


def _render_error(status: int):
    """The error page or JSON body for ``status``."""
    title = ERROR_TITLES.get(status, ERROR_TITLES[500])
    explanation = ERROR_EXPLANATIONS.get(status, ERROR_EXPLANATIONS[500])
    if wants_json():
        return json_error(status, title)
    return render_template(
        "errors/error.html", status=status, title=title, explanation=explanation
    ), status


def handle_http_error(error: HTTPException):
    """Render any HTTP error the framework or a view raised (a 405 keeps its Allow header)."""
    response = make_response(_render_error(error.code or 500))
    for name, value in error.get_headers():
        if name == "Allow":
            response.headers[name] = value
    return response


def handle_csrf_error(error: CSRFError):
    """An expired or missing form token.

    A page form is shown again with what the user typed and a friendly message: the request
    goes through the usual guards once more, without the global check, and the form's own
    token check refuses to act on it. Anything else gets the 400 page.
    """
    if wants_json() or request.method != "POST" or g.get("csrf_retry") or request.url_rule is None:
        return _render_error(400)
    g.csrf_retry = True
    try:
        response = make_response(current_app.preprocess_request() or current_app.dispatch_request())
    except HTTPException as refused:
        # The page itself refused (a bad form, an object that is not the user's, a limit):
        # its own answer stands.
        return _render_error(refused.code or 400)
    response.status_code = 400
    return response


def handle_database_unavailable(error: sa.exc.OperationalError):
    """The database is down, or did not answer in time: a translated 503, not a 500."""
    try:
        db.session.rollback()
    except sa.exc.SQLAlchemyError:
        pass  # the connection is gone; the session starts afresh with the next request
    current_app.logger.error(
        "Database unavailable on %s %s: %s", request.method, request.path, error.orig
    )
    return _render_error(503)


def handle_unexpected_error(error: Exception):
    """Roll back and show the generic error page; the traceback goes to the log only."""
    db.session.rollback()
    if not isinstance(error, HTTPException):
        current_app.logger.exception("Unhandled error on %s %s", request.method, request.path)
    if isinstance(error, HTTPException):
        return handle_http_error(error)
    return _render_error(InternalServerError.code)


def init_app(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(sa.exc.OperationalError, handle_database_unavailable)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected_error)
