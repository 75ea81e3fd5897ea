"""careapp: the public register, search and booking of care for children under 3."""

from flask import Flask

from careapp.config import PROJECT_ROOT, load_config
from careapp.extensions import babel, csrf, db, migrate


def create_app(config: dict | None = None) -> Flask:
    """Build the application; ``config`` overrides values read from the environment."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    app.config.update(load_config(config))
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    """Bind the unbound extensions and the request hooks that go with them."""
    from careapp import database, i18n, security

    database.prepare_engine_options(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    babel.init_app(app, locale_selector=i18n.select_language)
    csrf.init_app(app)
    i18n.init_app(app)
    security.init_app(app)


def register_blueprints(app: Flask) -> None:
    """Mount one blueprint per audience."""
    from careapp.api import bp as api_bp
    from careapp.api import health_bp
    from careapp.public import bp as public_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(health_bp)


def register_errorhandlers(app: Flask) -> None:
    """Translated error pages for people, the JSON error shape for programs."""
    from careapp import errors

    errors.init_app(app)


def register_commands(app: Flask) -> None:
    """Add the ``flask --app careapp`` commands."""
    from careapp import cli

    cli.init_app(app)
