"""Engine settings and transactions that keep SQLite and PostgreSQL safe for many writers."""

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import make_url

from careapp.extensions import db

#: Milliseconds a SQLite connection waits for a lock before giving up.
SQLITE_BUSY_TIMEOUT_MS = 5000
#: How often a transaction is tried when the database reports a lock or serialization conflict.
TRANSACTION_ATTEMPTS = 5
#: PostgreSQL states worth retrying: serialization failure, deadlock, lock not available.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
#: A pooled connection unused for longer than this is tried with ``SELECT 1`` before use.
PING_AFTER_IDLE_SECONDS = 10.0
#: Server connections are replaced after this long, before a server or firewall drops them.
POOL_RECYCLE_SECONDS = 1800

Result = TypeVar("Result")


def is_sqlite(url: str) -> bool:
    """Whether ``url`` names a SQLite database."""
    return make_url(url).get_backend_name() == "sqlite"


def prepare_engine_options(app: Flask) -> None:
    """Timeouts that keep a slow or silent database from holding a request: a connection is
    given up after ``DATABASE_CONNECT_TIMEOUT`` seconds, a statement after
    ``DATABASE_STATEMENT_TIMEOUT_MS``; SQLite gets its folder and its lock timeout."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    if not is_sqlite(url):
        options.setdefault("pool_timeout", app.config["DATABASE_CONNECT_TIMEOUT"])
        options.setdefault("pool_recycle", POOL_RECYCLE_SECONDS)
        connect_args = options.setdefault("connect_args", {})
        connect_args.setdefault("connect_timeout", app.config["DATABASE_CONNECT_TIMEOUT"])
        timeout = app.config["DATABASE_STATEMENT_TIMEOUT_MS"]
        connect_args.setdefault("options", f"-c statement_timeout={timeout}")
        return
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    options.setdefault("connect_args", {})["timeout"] = SQLITE_BUSY_TIMEOUT_MS / 1000


@sa.event.listens_for(sa.engine.Engine, "connect")
def _configure_sqlite_connection(dbapi_connection, _record) -> None:
    """Foreign keys, WAL, a busy timeout and secure deletes; SQLAlchemy, not the driver,
    opens transactions."""
    if not _is_sqlite_connection(dbapi_connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    # Deleted rows are overwritten with zeros, so an erased child's name is not left in
    # free pages of the file (PIPL Art. 47).
    cursor.execute("PRAGMA secure_delete = ON")
    _ensure_math_functions(dbapi_connection, cursor)
    cursor.close()
    dbapi_connection.isolation_level = None


#: The math functions the near-me distance uses in SQL, for a SQLite built without its own.
SQLITE_MATH_FUNCTIONS = {
    "radians": math.radians,
    "sin": math.sin,
    "cos": math.cos,
    "asin": math.asin,
    "sqrt": math.sqrt,
}


def _ensure_math_functions(dbapi_connection, cursor) -> None:
    """Register Python's math functions when this SQLite lacks SQLITE_ENABLE_MATH_FUNCTIONS."""
    try:
        cursor.execute("SELECT asin(0), radians(0)")
        return
    except Exception:  # sqlite3.OperationalError: no such function
        pass
    for name, function in SQLITE_MATH_FUNCTIONS.items():
        dbapi_connection.create_function(
            name,
            1,
            lambda value, f=function: None if value is None else f(value),
            deterministic=True,
        )


def _is_sqlite_connection(dbapi_connection) -> bool:
    return type(dbapi_connection).__module__.startswith("sqlite3")


def ping(dbapi_connection) -> None:
    """Send ``SELECT 1``; raises when the server has gone."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT 1")
    finally:
        cursor.close()


@sa.event.listens_for(sa.pool.Pool, "checkin")
def _note_idle_since(dbapi_connection, record) -> None:
    """Remember when a connection went back to the pool."""
    if dbapi_connection is not None:
        record.info["idle_since"] = time.monotonic()


@sa.event.listens_for(sa.pool.Pool, "checkout")
def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
    """Try a server connection that sat unused for a while before handing it out.

    Instead of ``pool_pre_ping``, which costs a round trip on every request: a connection in
    steady use has just worked, and one that failed mid-use makes SQLAlchemy drop the whole
    pool. Raising DisconnectionError makes the pool replace the connection and try again.
    """
    idle_since = record.info.pop("idle_since", None)
    if idle_since is None or _is_sqlite_connection(dbapi_connection):
        return
    if time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
        return
    try:
        ping(dbapi_connection)
    except Exception as error:
        raise sa.exc.DisconnectionError("the database dropped an idle connection") from error


@sa.event.listens_for(sa.engine.Engine, "begin")
def _begin_sqlite_transaction(connection) -> None:
    """BEGIN IMMEDIATE for writing transactions takes SQLite's write lock up front."""
    if connection.dialect.name != "sqlite":
        return
    writing = connection.get_execution_options().get("careapp_write", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


def begin_write() -> None:
    """Open the session's transaction as a writing one (BEGIN IMMEDIATE on SQLite)."""
    if not db.session().in_transaction():
        db.session.connection(execution_options={"careapp_write": True})


def is_retryable(error: sa.exc.DBAPIError) -> bool:
    """Whether ``error`` is a lock or serialization conflict that a new attempt may avoid."""
    state = getattr(error.orig, "sqlstate", None)
    if state in RETRYABLE_SQLSTATES:
        return True
    message = str(error.orig).lower()
    return "database is locked" in message or "database table is locked" in message


def run_in_transaction(work: Callable[[], Result], attempts: int = TRANSACTION_ATTEMPTS) -> Result:
    """Run ``work`` and commit, retrying a bounded number of times on lock conflicts."""
    for attempt in range(1, attempts + 1):
        begin_write()
        try:
            result = work()
            db.session.commit()
            return result
        except sa.exc.DBAPIError as error:
            db.session.rollback()
            if attempt == attempts or not is_retryable(error):
                raise
            time.sleep(0.01 * 2**attempt)
        except Exception:
            db.session.rollback()
            raise
    raise AssertionError("unreachable")
