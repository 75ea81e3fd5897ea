"""Benchmark: the CPU time and SQL statements one request of each public page costs the app.

Run from the repository root with ``make bench-page-cost`` (or
``.venv/bin/python bench/page_cost.py``). Needs PostgreSQL (``BENCH_ADMIN_URL``, default the
local server). It recreates the database ``careapp_bench_pages`` with ``flask db upgrade`` and
``flask seed-demo``, analyses it, then calls careapp's WSGI application in this process, page
cache off, as an anonymous visitor, and prints per page: the CPU milliseconds this process
spent per request (the fewest of seven batches, and their median), the wall-clock
milliseconds, the bytes and the SQL statements.

CPU time (``time.process_time``) leaves out the time spent waiting for PostgreSQL, and varies
far less than wall-clock time with what else the machine is doing: it is the figure to compare
two versions of the code with (run the script on each), where ``bench/throughput.py`` needs an
idle machine.
"""

import argparse
import io
import os
import statistics
import sys
import time
from dataclasses import dataclass

import harness
import sqlalchemy as sa

# The page cache would answer repeated requests from memory: this measures the work behind it.
os.environ["PAGE_CACHE"] = "off"
os.environ.pop("REDIS_URL", None)

from careapp import create_app  # noqa: E402
from careapp.extensions import db  # noqa: E402
from careapp.models import CareType, Institution, Status, Township  # noqa: E402

DATABASE = "careapp_bench_pages"
#: Batches per page, and requests per batch.
BATCHES = 7
REQUESTS = 40


@dataclass(frozen=True)
class Cost:
    """What one request of a page cost: CPU and wall-clock milliseconds, bytes, statements."""

    cpu_fewest: float
    cpu_median: float
    wall_median: float
    size: int
    statements: int


def page_paths(app) -> list[tuple[str, str]]:
    """(label, path) of every page measured; the filtered search and the institution page use
    the demo's first filed institution and its township."""
    with app.app_context():
        filed = sa.select(Institution).where(Institution.status == Status.FILED)
        institution = db.session.scalar(filed.order_by(Institution.id))
        township = db.session.get(Township, institution.township_id)
    search = f"/?township={township.code}&care_type={CareType.HOURLY}&age_months=20"
    return [
        ("`/healthz`", "/healthz"),
        ("search page `/`", "/"),
        ("search, township + care type + age", search),
        ("search, page 2", "/?page=2"),
        ("institution page", f"/institutions/{institution.id}"),
        ("API list `/api/v1/institutions`", "/api/v1/institutions"),
        ("`/courses`", "/courses"),
        ("`/registry`", "/registry"),
        ("`/statistics`", "/statistics"),
    ]


def call(app, path: str) -> tuple[str, bytes]:
    """GET ``path`` from the WSGI application as an anonymous phone would; status and body."""
    route, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": route,
        "QUERY_STRING": query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "localhost",
        "HTTP_USER_AGENT": "careapp-bench/1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    answered: list[str] = []
    body = app(environ, lambda status, _headers, _exc_info=None: answered.append(status))
    try:
        content = b"".join(body)
    finally:
        getattr(body, "close", lambda: None)()
    return answered[0], content


def cost_of(app, path: str) -> Cost:
    """Measure ``path``: warmed up first, then ``BATCHES`` batches of ``REQUESTS`` requests."""
    for _ in range(10):
        status, content = call(app, path)
    if not status.startswith("200"):
        raise harness.BenchError(f"{path} answered {status}")
    with harness.statements_of(db.engine) as statements:
        call(app, path)
    cpu, wall = [], []
    for _ in range(BATCHES):
        started, started_cpu = time.perf_counter(), time.process_time()
        for _ in range(REQUESTS):
            call(app, path)
        cpu.append((time.process_time() - started_cpu) * 1000 / REQUESTS)
        wall.append((time.perf_counter() - started) * 1000 / REQUESTS)
    return Cost(
        min(cpu), statistics.median(cpu), statistics.median(wall), len(content), len(statements)
    )


def main() -> None:
    """Build the demo database, measure every page and print the table."""
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    harness.require_postgresql()
    with harness.demo_database(DATABASE) as url:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            with db.engine.connect() as connection:
                connection.execute(sa.text("ANALYZE"))
                connection.commit()
            paths = page_paths(app)
            print(f"load average at start: {os.getloadavg()[0]:.1f}\n")
            print("| page | CPU ms, fewest | CPU ms, median | wall ms | KB | SQL statements |")
            print("|---|---|---|---|---|---|")
            for label, path in paths:
                cost = cost_of(app, path)
                print(
                    f"| {label} | {cost.cpu_fewest:.1f} | {cost.cpu_median:.1f} "
                    f"| {cost.wall_median:.1f} | {cost.size / 1024:.0f} | {cost.statements} |"
                )
            print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    try:
        main()
    except harness.BenchError as error:
        sys.exit(f"bench/page_cost.py: {error}")
