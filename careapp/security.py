"""Response headers that every page carries."""

from flask import Flask, current_app, g, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from careapp import clock
from careapp.database import begin_write
from careapp.extensions import csrf, login_manager
from careapp.models import User
from careapp.services import sessions

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Blueprints whose pages are about one account and must never be cached.
ACCOUNT_BLUEPRINTS = frozenset({"auth", "parents", "institutions", "providers", "regulator"})

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


#: Browsers use HTTPS only for a year, on this host and its subdomains (production only).
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"


def security_headers(config) -> dict[str, str]:
    """The security headers every answer of an app with ``config`` carries."""
    if config["CAREAPP_ENV"] == "production":
        return {**SECURITY_HEADERS, "Strict-Transport-Security": STRICT_TRANSPORT_SECURITY}
    return SECURITY_HEADERS


def add_security_headers(response):
    """Add the security headers unless a view set its own."""
    for name, value in security_headers(current_app.config).items():
        response.headers.setdefault(name, value)
    return response


def forbid_caching_of_account_pages(response):
    """Pages of or for a signed-in account are not stored by browsers or proxies."""
    if request.blueprint in ACCOUNT_BLUEPRINTS or current_user.is_authenticated:
        response.headers["Cache-Control"] = "no-store"
        response.vary.add("Cookie")
    return response


def check_csrf_token() -> None:
    """CSRF check of every unsafe request (skipped once when a form is shown again)."""
    if current_app.config["WTF_CSRF_ENABLED"] and not g.get("csrf_retry"):
        csrf.protect(apply_exemptions=True)


def begin_writing_request() -> None:
    """Requests that change things run in one writing transaction from their first query."""
    if request.method in UNSAFE_METHODS:
        begin_write()


@login_manager.user_loader
def load_user(cookie_value: str) -> User | None:
    """The account of the live server-side session the session cookie names."""
    return sessions.resume(cookie_value, clock.now(), request.method in UNSAFE_METHODS)


def init_app(app: Flask) -> None:
    """Attach the header hooks and configure sign-in."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.before_request(check_csrf_token)
    app.before_request(begin_writing_request)
    app.after_request(add_security_headers)
    app.after_request(forbid_caching_of_account_pages)
