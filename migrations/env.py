"""Alembic environment for careapp, run through Flask-Migrate (``flask db ...``)."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db
config.set_main_option(
    "sqlalchemy.url", target_db.engine.url.render_as_string(hide_password=False).replace("%", "%%")
)


def run_migrations_offline() -> None:
    """Emit SQL for the configured URL without connecting."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_db.metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _skip_empty_autogenerate(migration_context, revision, directives) -> None:
    """Write no revision file when autogenerate finds no change."""
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def run_migrations_online() -> None:
    """Run migrations over a connection of the application's engine."""
    configure_args = dict(current_app.extensions["migrate"].configure_args)
    configure_args.setdefault("process_revision_directives", _skip_empty_autogenerate)
    configure_args.setdefault("render_as_batch", True)
    configure_args.setdefault("compare_type", True)
    with target_db.engine.connect() as connection:
        _sqlite_foreign_keys(connection, enabled=False)
        context.configure(
            connection=connection, target_metadata=target_db.metadata, **configure_args
        )
        with context.begin_transaction():
            _no_statement_timeout(connection)
            context.run_migrations()
        _sqlite_foreign_keys(connection, enabled=True)


def _no_statement_timeout(connection) -> None:
    """Lift the requests' statement timeout for this migration's transaction: a migration
    may rewrite a whole table (millions of rows at the country's size)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL statement_timeout = 0")


def _sqlite_foreign_keys(connection, enabled: bool) -> None:
    """Turn SQLite's foreign keys off while migrating, and back on after.

    Batch mode alters a SQLite table by copying it and dropping the old one; with foreign
    keys on, that drop would first delete every row pointing at the table (cascading to
    bookings, attendance, …). The pragma only works outside a transaction, so it goes to the
    driver's connection directly.
    """
    if connection.dialect.name != "sqlite":
        return
    driver = connection.connection.driver_connection
    driver.execute(f"PRAGMA foreign_keys = {'ON' if enabled else 'OFF'}")
    if enabled:
        broken = driver.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"the migration left rows pointing nowhere: {broken[:5]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
