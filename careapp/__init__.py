"""careapp: the public register, search and booking of care for children under 3."""

import gc

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from careapp.config import PROJECT_ROOT, load_config
from careapp.extensions import babel, csrf, db, limiter, login_manager
from careapp.models.base import MAX_ID


def create_app(config: dict | None = None) -> Flask:
    """Build the application; ``config`` overrides values read from the environment."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    app.config.update(load_config(config))
    app.json.ensure_ascii = False  # UTF-8 JSON, as the contract says
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    # Outermost, so that the page cache and Flask both see the visitor's host and scheme.
    trust_proxies(app)
    if not app.testing:
        # What start-up built lives as long as the process: leave it out of the collector's
        # full passes, which otherwise walk it and pause one page in twenty by ~90 ms.
        gc.freeze()
    return app


def trust_proxies(app: Flask) -> None:
    """Behind ``TRUSTED_PROXIES`` reverse proxies, take the client's address, scheme and host
    from their X-Forwarded headers (so limits count each visitor, not the proxy)."""
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


class IdConverter(IntegerConverter):
    """A database id in a URL: 1 up to the largest 32-bit integer; anything else is a 404.

    ASCII digits without a leading zero only: werkzeug's ``\\d+`` also takes "０１" and "٣",
    and each spelling of an id would be one more address (and page-cache entry) of one page.
    """

    regex = r"[1-9][0-9]{0,9}"

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=MAX_ID)


def register_extensions(app: Flask) -> None:
    """Bind the unbound extensions and the request hooks that go with them."""
    from careapp import cache, database, forms, fragments, i18n, maps, migrating, security

    app.url_map.converters["id"] = IdConverter
    database.prepare_engine_options(app)
    db.init_app(app)
    migrating.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_language)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    i18n.init_app(app)
    maps.init_app(app)
    security.init_app(app)
    cache.init_app(app)
    fragments.init_app(app)
    app.jinja_env.globals["error_summary"] = forms.error_summary


def register_blueprints(app: Flask) -> None:
    """Mount one blueprint per audience."""
    from careapp.api import bp as api_bp
    from careapp.api import health_bp
    from careapp.auth import bp as auth_bp
    from careapp.institutions import bp as institutions_bp
    from careapp.parents import bp as parents_bp
    from careapp.providers import bp as providers_bp
    from careapp.public import bp as public_bp
    from careapp.regulator import bp as regulator_bp

    for blueprint in (
        public_bp,
        auth_bp,
        parents_bp,
        institutions_bp,
        providers_bp,
        regulator_bp,
        api_bp,
        health_bp,
    ):
        app.register_blueprint(blueprint)


def register_errorhandlers(app: Flask) -> None:
    """Translated error pages for people, the JSON error shape for programs."""
    from careapp import errors

    errors.init_app(app)


def register_commands(app: Flask) -> None:
    """Add the ``flask --app careapp`` commands."""
    from careapp import cli

    cli.init_app(app)
