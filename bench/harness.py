"""What the benchmarks share: bench databases, gunicorn, signed-in parents, timing.

The scripts in this folder run from the repository root (``.venv/bin/python bench/NAME.py``),
so this module is imported as ``harness``.
"""

import functools
import http.client
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import time as at
from datetime import timedelta
from pathlib import Path

import flask
import flask_login
import psycopg
import sqlalchemy as sa
from argon2 import PasswordHasher
from flask_wtf.csrf import generate_csrf
from psycopg import sql
from sqlalchemy.engine import make_url
from stdnum.cn import uscc

from careapp import clock
from careapp.config import PROJECT_ROOT
from careapp.extensions import db
from careapp.models import (
    Authority,
    CareOffer,
    Institution,
    Nature,
    Role,
    Status,
    Township,
    User,
)
from careapp.services import booking, sessions

#: The maintenance database used to create and drop the bench databases.
ADMIN_URL = os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
#: Signs the session cookies made here and checked by gunicorn's workers; bench data only.
SECRET_KEY = "careapp-bench-only-secret-not-for-production"
#: Sent with every request: Flask-Login's strong session protection hashes it into the session.
USER_AGENT = "careapp-bench/1"
#: gunicorn's sync workers, the same for every app a benchmark serves.
WORKERS = 4
#: Seconds to wait for gunicorn to answer its health path, and for one request.
STARTUP_TIMEOUT = 30
REQUEST_TIMEOUT = 60


class BenchError(RuntimeError):
    """Something a benchmark needs is missing; the message says what to do."""


# --- databases -----------------------------------------------------------------------------


def bench_url(database: str) -> str:
    """The SQLAlchemy URL of ``database`` on the server of ADMIN_URL."""
    admin = make_url(ADMIN_URL)
    return admin.set(drivername="postgresql+psycopg", database=database).render_as_string(
        hide_password=False
    )


def admin_conninfo() -> str:
    """ADMIN_URL in the form psycopg connects with."""
    return make_url(ADMIN_URL).set(drivername="postgresql").render_as_string(hide_password=False)


def require_postgresql() -> None:
    """Raise BenchError with a clear message unless the PostgreSQL of ADMIN_URL answers."""
    try:
        with psycopg.connect(admin_conninfo(), connect_timeout=5) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        raise BenchError(
            f"PostgreSQL is needed at {make_url(ADMIN_URL).render_as_string()} "
            f"(set BENCH_ADMIN_URL to use another server): {error}"
        ) from None


def drop_database(database: str) -> None:
    """Drop ``database``, closing any connection still open to it."""
    with psycopg.connect(admin_conninfo(), autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
        )


def create_database(database: str) -> None:
    """Drop and recreate ``database``."""
    drop_database(database)
    with psycopg.connect(admin_conninfo(), autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


@contextmanager
def demo_database(database: str):
    """``database`` created afresh, migrated and filled with the demo (``flask seed-demo``);
    yields its URL and drops it afterwards."""
    url = bench_url(database)
    create_database(database)
    try:
        flask_command(url, "db", "upgrade")
        flask_command(url, "seed-demo")
        yield url
    finally:
        drop_database(database)


def flask_command(database_url: str, *arguments: str) -> None:
    """Run ``flask --app careapp ARGUMENTS`` on ``database_url``, as an operator would."""
    env = dict(os.environ, DATABASE_URL=database_url, CAREAPP_ENV="development")
    command = [sys.executable, "-m", "flask", "--app", "careapp", *arguments]
    subprocess.run(command, cwd=PROJECT_ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


# --- data ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parent:
    """A signed-in parent ready to post the booking form."""

    cookie: str
    csrf_token: str
    child_id: int


def filed_institution(township: Township, number: int, care_types, care_class) -> Institution:
    """A filed bench institution (``number`` 0-9) with ``care_class`` and offers of
    ``care_types`` for children of 12 to 36 months, open 8:00 to 17:30."""
    body = f"5235058200000000{number}"
    institution = Institution(
        name=f"晋江市压测托育中心{number}",
        township=township,
        address=f"世纪大道 {number} 号",
        phone="0595-85661234",
        nature=Nature.INCLUSIVE,
        authority=Authority.CIVIL_AFFAIRS,
        uscc=body + uscc.calc_check_digit(body),
        status=Status.FILED,
        filing_number=f"JJ-TY-BENCH-{number:04d}",
        filed_on=clock.local_now().date() - timedelta(days=365),
    )
    for care_type in care_types:
        institution.offers.append(
            CareOffer(
                care_type=care_type,
                opens_at=at(8),
                closes_at=at(17, 30),
                price_yuan=150,
                min_age_months=12,
                max_age_months=36,
            )
        )
    institution.classes.append(care_class)
    db.session.add(institution)
    db.session.flush()
    return institution


def build_parents(total: int, prefix: str = "parent") -> list[tuple[User, int]]:
    """``total`` parent accounts with one two-year-old child each; returns (user, child id)."""
    # Nobody signs in with it (sessions are made directly); any argon2id hash will do.
    password_hash = PasswordHasher().hash("bench-password-42")
    users = [
        User(
            email=f"{prefix}{number:03d}@bench.invalid",
            password_hash=password_hash,
            role=Role.PARENT,
            display_name=f"压测家长{number}",
            language="zh_CN",
            email_confirmed_at=clock.now(),
        )
        for number in range(total)
    ]
    db.session.add_all(users)
    db.session.flush()
    # About 26 months old tomorrow: inside the older toddlers' 24-36 and the offer's 12-36.
    birth_date = clock.local_now().date() - timedelta(days=800)
    return [
        (
            user,
            booking.add_child(
                user, name=f"王小{number}", birth_date=birth_date, notes="", consent=True
            ).id,
        )
        for number, user in enumerate(users)
    ]


def sign_in(app: flask.Flask, accounts: list[tuple[int, int]]) -> list[Parent]:
    """A session cookie and form token per (user id, child id), made in-process (no HTTP logins).

    Each parent gets its own application context: Flask-WTF caches the form token in ``g``,
    so a shared context would hand every session after the first the first one's token.
    """
    serializer = app.session_interface.get_signing_serializer(app)
    parents = []
    for user_id, child_id in accounts:
        with (
            app.app_context(),
            app.test_request_context(
                headers={"User-Agent": USER_AGENT}, environ_base={"REMOTE_ADDR": "127.0.0.1"}
            ),
        ):
            user = db.session.get(User, user_id)
            user.login_token = sessions.start(user, clock.now())  # a server-side session
            db.session.commit()
            flask_login.login_user(user)
            token = generate_csrf()
            parents.append(Parent(serializer.dumps(dict(flask.session)), token, child_id))
    return parents


# --- gunicorn ------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(app_spec: str, port: int, env: dict, log_folder: Path) -> subprocess.Popen:
    """gunicorn serving ``app_spec`` with WORKERS sync workers and nothing else set, so that
    every app a benchmark compares runs under the same server settings."""
    command = [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS)]
    command += ["--worker-class", "sync", "--bind", f"127.0.0.1:{port}"]
    if has_control_socket():
        # Each server its own: by default every gunicorn on the machine shares one path.
        command += ["--control-socket", str(log_folder / "gunicorn.ctl")]
    command.append(app_spec)
    log_folder.mkdir(parents=True, exist_ok=True)
    with (
        (log_folder / "stdout.log").open("wb") as stdout,
        (log_folder / "stderr.log").open("wb") as stderr,
    ):
        return subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=stdout, stderr=stderr)


@functools.cache
def has_control_socket() -> bool:
    """Whether this gunicorn has a control socket (version 24 and later)."""
    command = [sys.executable, "-m", "gunicorn", "--help"]
    return "--control-socket" in subprocess.run(command, capture_output=True, text=True).stdout


def stop(server: subprocess.Popen) -> None:
    """Stop a server this benchmark started, killing it if it does not stop in 10 s."""
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def get(port: int, path: str, timeout: float = 5) -> int:
    """The status of a GET on the bench server."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"User-Agent": USER_AGENT})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def wait_until_healthy(server: subprocess.Popen, port: int, path: str = "/healthz") -> None:
    """Return once ``path`` answers 200; raise if gunicorn exits or never answers."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {server.returncode}")
        try:
            if get(port, path) == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer {path} within {STARTUP_TIMEOUT} s")


def warm_up(port: int, path: str = "/healthz", count: int = WORKERS * 4) -> None:
    """``count`` concurrent GETs of ``path``, so workers have loaded what it needs."""
    threads = [
        threading.Thread(target=get, args=(port, path, REQUEST_TIMEOUT), daemon=True)
        for _ in range(count)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(REQUEST_TIMEOUT)


def print_server_log(log_folder: Path, lines: int = 80) -> None:
    """The end of gunicorn's stderr, where the app logs tracebacks."""
    text = (log_folder / "stderr.log").read_text(errors="replace").splitlines()
    print(f"\n--- last {lines} lines of {log_folder}/stderr.log ---", file=sys.stderr)
    print("\n".join(text[-lines:]), file=sys.stderr)


def require_program(name: str, hint: str) -> str:
    """The path of program ``name``; BenchError saying how to install it when missing."""
    found = shutil.which(name)
    if found is None:
        raise BenchError(f"{name} is needed and was not found on PATH: {hint}")
    return found


# --- in-process timing ---------------------------------------------------------------------


def percentile(sorted_values: list[float], share: float) -> float:
    """The nearest-rank percentile of already sorted values."""
    return sorted_values[max(0, math.ceil(share * len(sorted_values)) - 1)]


@contextmanager
def statements_of(engine: sa.Engine) -> Iterator[list[str]]:
    """Collect every SQL statement ``engine`` sends to the database inside the block."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_rest) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def measure(
    client, engine: sa.Engine, path: str, rounds: int, check: Callable[[object], None] | None = None
) -> tuple[float, float, int]:
    """p50 and p95 in milliseconds over ``rounds`` GETs of ``path``, and the statements the
    first one ran (after one untimed request that fills what is loaded once)."""
    client.get(path)
    with statements_of(engine) as statements:
        response = client.get(path)
    if check is not None:
        check(response)
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    timings.sort()
    return statistics.median(timings), percentile(timings, 0.95), len(statements)
