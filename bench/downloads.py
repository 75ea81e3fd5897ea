"""Benchmark: the whole-register downloads (CSV and HSDS document) at the size of the country.

Fills a PostgreSQL database with the demo data and N filed institutions (default 126,000, the
national register of 2025), each with one to four care-type offers, one or two classes and its
filing event, written with COPY. Then fetches each download through the WSGI app in a fresh
Python process, reading the body as a client would, and prints time, bytes, SQL statements
and the process's peak resident memory (``ru_maxrss``) before and after the download; then
times the open-data step of ``jobs run`` (every kept file built) and the downloads served
from those files.

    .venv/bin/python bench/downloads.py [--url URL] [--institutions N] [--keep]

The database (``BENCH_DATABASE_URL`` or ``--url``; default ``careapp_bench_downloads`` on the
local server) is created when missing, refilled, and dropped at the end unless ``--keep``.
"""

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from careapp import clock, create_app, open_data_files
from careapp.demo import seed_demo
from careapp.extensions import db
from careapp.models import Authority, CareType, ClassKind, Institution, Nature, Township

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/careapp_bench_downloads"
DOWNLOADS = {
    "register CSV": "/open-data/institutions.csv",
    "HSDS document": "/api/v1/open-data/hsds.json",
    "HSDS page 100 of services": "/api/v1/open-data/hsds/services?page=100&per_page=100",
}
#: Classes a bench institution may have: (kind, name, capacity, carers), like the demo's.
CLASSES = (
    (ClassKind.INFANT, "乳儿班", 10, 4),
    (ClassKind.TODDLER, "托小班", 15, 3),
    (ClassKind.OLDER_TODDLER, "托大班", 20, 3),
)
INSTITUTION_COLUMNS = (
    "id, name, name_en, township_id, address, address_en, phone, description, nature,"
    " authority, uscc, status, filing_number, filed_on, is_demonstration, serves_meals,"
    " premises_owned, staff_count, certified_staff_count, cctv_covers_all_areas,"
    " cctv_retention_days, cancel_cutoff_hours, commitment_accepted, created_at, updated_at"
)
OFFER_COLUMNS = (
    "institution_id, care_type, opens_at, closes_at, price_yuan, min_age_months, max_age_months"
)
CLASS_COLUMNS = "institution_id, kind, name, capacity, carers, weekdays"
EVENT_COLUMNS = "institution_id, event_type, occurred_on, summary, summary_en, recorded_at"


def make_app(url: str, files: str = "off"):
    """The application on the bench database, in production shape (no debug, no testing);
    ``files`` is the folder of the kept downloads (off: every download is streamed)."""
    return create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "OPEN_DATA_DIR": files}
    )


def recreate_database(url: str) -> None:
    """An empty database named by ``url`` (dropped first if it exists)."""
    target = make_url(url)
    admin = sa.create_engine(
        target.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool
    )
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
    admin.dispose()


def drop_database(url: str) -> None:
    """Drop the bench database."""
    target = make_url(url)
    admin = sa.create_engine(
        target.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool
    )
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
    admin.dispose()


def copy_rows(cursor, table: str, columns: str, rows) -> None:
    """COPY ``rows`` into ``table``."""
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def institution_rows(first_id: int, total: int, townships: list[tuple[int, str]], rng):
    """``total`` filed institutions from id ``first_id``, spread over ``townships``."""
    now = datetime.now(UTC)
    filed_on = clock.today() - timedelta(days=700)
    for offset in range(total):
        number = first_id + offset
        township_id, township_name = townships[number % len(townships)]
        yield (
            number,
            f"{township_name}第{number}托育园",
            f"Bench Nursery {number}",
            township_id,
            f"{township_name}测试路 {number} 号",
            f"{number} Test Road",
            "0595-85660000",
            "普惠托育，就近入托",
            rng.choice(list(Nature)).value,
            Authority.CIVIL_AFFAIRS.value,
            f"52350582{number:010d}",
            "filed",
            f"BENCH-{number:07d}",
            filed_on,
            False,
            True,
            False,
            6,
            5,
            True,
            90,
            2,
            True,
            now,
            now,
        )


def offer_rows(first_id: int, total: int, rng):
    """One to four care-type offers per institution, as the demo's."""
    for number in range(first_id, first_id + total):
        for care_type in rng.sample(list(CareType), rng.randint(1, 4)):
            low = rng.choice((6, 12, 18, 24))
            yield (number, care_type.value, "08:00", "17:30", rng.randint(30, 4000), low, 36)


def class_rows(first_id: int, total: int, rng):
    """One or two classes per institution."""
    for number in range(first_id, first_id + total):
        for kind, name, capacity, carers in rng.sample(CLASSES, rng.randint(1, 2)):
            yield (number, kind.value, name, capacity, carers, "12345")


def event_rows(first_id: int, total: int):
    """The filing event of each institution."""
    now = datetime.now(UTC)
    filed_on = clock.today() - timedelta(days=700)
    for number in range(first_id, first_id + total):
        yield (number, "filed", filed_on, "准予备案", "Filed", now)


def fill(url: str, total: int) -> float:
    """The schema, the demo data and ``total`` more filed institutions; seconds it took."""
    started = time.perf_counter()
    app = make_app(url)
    with app.app_context():
        db.create_all()
        seed_demo("jinjiang", clock.today())
        db.session.commit()
        townships = [(t.id, t.name) for t in db.session.scalars(sa.select(Township))]
        first_id = db.session.scalar(sa.select(sa.func.max(Institution.id))) + 1
        rng = random.Random(7)
        raw = db.engine.raw_connection()
        try:
            cursor = raw.driver_connection.cursor()
            rows = institution_rows(first_id, total, townships, rng)
            copy_rows(cursor, "institutions", INSTITUTION_COLUMNS, rows)
            copy_rows(cursor, "care_offers", OFFER_COLUMNS, offer_rows(first_id, total, rng))
            copy_rows(cursor, "care_classes", CLASS_COLUMNS, class_rows(first_id, total, rng))
            copy_rows(cursor, "filing_events", EVENT_COLUMNS, event_rows(first_id, total))
            cursor.execute(
                "SELECT setval('institutions_id_seq', (SELECT max(id) FROM institutions))"
            )
            raw.driver_connection.commit()
            cursor.execute("ANALYZE")
        finally:
            raw.close()
        db.engine.dispose()
    return time.perf_counter() - started


def cpu_seconds() -> float:
    """User and system CPU time this process has used."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build_files(url: str, folder: str) -> dict:
    """The open-data step of ``jobs run``: every kept download built into ``folder``."""
    app = make_app(url, folder)
    with app.app_context():
        before = peak_rss_mb()
        cpu_before = cpu_seconds()
        started = time.perf_counter()
        built = open_data_files.build_all()
        return {
            "built": built,
            "seconds": time.perf_counter() - started,
            "cpu_seconds": cpu_seconds() - cpu_before,
            "rss_before_mb": before,
            "rss_peak_mb": peak_rss_mb(),
        }


def measure_one(url: str, path: str, files: str = "off") -> dict:
    """Fetch ``path`` through the WSGI app, reading the body chunk by chunk as a client."""
    app = make_app(url, files)
    with app.app_context():
        engine = db.engine
    statements = 0

    def count(*_args) -> None:
        nonlocal statements
        statements += 1

    client = app.test_client()
    client.get("/healthz")  # connect and import lazily loaded modules before the baseline
    before = peak_rss_mb()
    sa.event.listen(engine, "before_cursor_execute", count)
    cpu_before = cpu_seconds()
    started = time.perf_counter()
    response = client.get(path, buffered=False)
    first_byte = None
    size = 0
    for chunk in response.response:
        if first_byte is None:
            first_byte = time.perf_counter() - started
        size += len(chunk)
    response.close()
    seconds = time.perf_counter() - started
    return {
        "status": response.status_code,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds() - cpu_before,
        "first_byte": first_byte or seconds,
        "bytes": size,
        "statements": statements,
        "rss_before_mb": before,
        "rss_peak_mb": peak_rss_mb(),
    }


def measure(url: str, path: str, files: str = "off") -> dict:
    """``measure_one`` in a fresh process, so its peak memory is this download's alone."""
    done = subprocess.run(
        [sys.executable, __file__, "--url", url, "--measure", path, "--files", files],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


TABLE_HEAD = (
    "| download | status | s | CPU s | first byte s | MB | SQL statements | RSS MB |\n"
    "|---|---|---|---|---|---|---|---|"
)
#: The downloads that ``jobs run`` keeps as files.
KEPT = ("/open-data/institutions.csv", "/api/v1/open-data/hsds.json")


def print_row(name: str, result: dict) -> None:
    """One measured download as a row of the Markdown table."""
    print(
        f"| {name} | {result['status']} | {result['seconds']:.1f} |"
        f" {result['cpu_seconds']:.1f} |"
        f" {result['first_byte']:.2f} | {result['bytes'] / 1e6:.2f} |"
        f" {result['statements']} |"
        f" {result['rss_before_mb']:.0f} → {result['rss_peak_mb']:.0f} |",
        flush=True,
    )


def main() -> None:
    """Fill the database, measure each download, print a Markdown table, drop the database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--institutions", type=int, default=126_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--no-fill", action="store_true", help="measure the database as it is")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--files", default="off", help=argparse.SUPPRESS)
    parser.add_argument("--build", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.build:
        print(json.dumps(build_files(options.url, options.files)))
        return
    if options.measure:
        print(json.dumps(measure_one(options.url, options.measure, options.files)))
        return
    if not options.no_fill:
        recreate_database(options.url)
        seconds = fill(options.url, options.institutions)
        print(f"filled {options.institutions:,} filed institutions in {seconds:.0f} s")
    try:
        print(f"{date.today()}, PostgreSQL, one request at a time, a fresh process each;")
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(TABLE_HEAD)
        for name, path in DOWNLOADS.items():
            print_row(name, measure(options.url, path))
        with tempfile.TemporaryDirectory(prefix="careapp-bench-files-") as folder:
            done = subprocess.run(
                [sys.executable, __file__, "--url", options.url, "--build", "--files", folder],
                check=True,
                capture_output=True,
                text=True,
            )
            build = json.loads(done.stdout.strip().splitlines()[-1])
            print(
                f"\njobs run, open-data step: {build['built']} files in {build['seconds']:.1f} s"
                f" ({build['cpu_seconds']:.1f} s CPU), RSS {build['rss_before_mb']:.0f} →"
                f" {build['rss_peak_mb']:.0f} MB; then served from the files:\n",
                flush=True,
            )
            print(TABLE_HEAD)
            for name, path in DOWNLOADS.items():
                if path in KEPT:
                    print_row(f"{name}, kept file", measure(options.url, path, folder))
    finally:
        if not options.keep:
            drop_database(options.url)


if __name__ == "__main__":
    main()
