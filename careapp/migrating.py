"""Flask-Migrate, bound to the app only when something migrates.

Flask-Migrate imports Alembic and Mako, 12 MB in every process: a gunicorn worker that only
serves pages never needs them. ``init_app`` leaves a stand-in under
``app.extensions["migrate"]`` and a ``flask db`` group that load Flask-Migrate at their first
use, so ``flask db upgrade`` and ``flask_migrate.upgrade()`` work as before.
"""

import click
from flask import Flask
from flask.cli import AppGroup

from careapp.config import PROJECT_ROOT
from careapp.extensions import db

MIGRATIONS = PROJECT_ROOT / "migrations"


def init_app(app: Flask) -> None:
    """Leave stand-ins for Flask-Migrate's configuration and its ``flask db`` group."""
    app.extensions["migrate"] = _NotLoaded(app)
    commands = CommandsLoadingMigrate(app)
    commands.commands.update(app.cli.commands)
    app.cli = commands


def bind(app: Flask):
    """Flask-Migrate's configuration of ``app``, loading Flask-Migrate at the first call."""
    if isinstance(app.extensions.get("migrate"), _NotLoaded):
        from flask_migrate import Migrate  # here, not at the top: see the module's docstring

        Migrate(app, db, directory=str(MIGRATIONS))
    return app.extensions["migrate"]


class _NotLoaded:
    """Stands for Flask-Migrate's configuration until something reads it."""

    def __init__(self, app: Flask):
        self._app = app

    def __getattr__(self, name: str):
        return getattr(bind(self._app), name)


class CommandsLoadingMigrate(AppGroup):
    """The app's commands, where Flask-Migrate's ``db`` group is loaded when asked for."""

    def __init__(self, app: Flask):
        super().__init__()
        self._app = app

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The commands' names, ``db`` among them."""
        return sorted({*super().list_commands(ctx), "db"})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command ``cmd_name``; asked for ``db``, Flask-Migrate registers its group."""
        if cmd_name == "db":
            bind(self._app)
        return super().get_command(ctx, cmd_name)
