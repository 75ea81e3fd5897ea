"""Engine settings that keep SQLite safe for several writers."""

from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import make_url

#: Milliseconds a SQLite connection waits for a lock before giving up.
SQLITE_BUSY_TIMEOUT_MS = 5000


def is_sqlite(url: str) -> bool:
    """Whether ``url`` names a SQLite database."""
    return make_url(url).get_backend_name() == "sqlite"


def prepare_engine_options(app: Flask) -> None:
    """Create the SQLite folder and ask for WAL, a busy timeout and foreign keys."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not is_sqlite(url):
        return
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    options.setdefault("connect_args", {})["timeout"] = SQLITE_BUSY_TIMEOUT_MS / 1000


@sa.event.listens_for(sa.engine.Engine, "connect")
def _configure_sqlite_connection(dbapi_connection, _record) -> None:
    """Turn on foreign keys, WAL and the busy timeout on every new SQLite connection."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()
