"""Benchmark: how the public lists and downloads grow with the register, up to the country's.

Run from the repository root with ``make bench-scale`` (or ``.venv/bin/python bench/scale.py``;
``--sizes 1000,10000 --sqlite-sizes ''`` for a quick run). For each size it builds a fresh
PostgreSQL database (``careapp_bench_scale``; ``BENCH_ADMIN_URL`` names another server) with
the migrations, fills it with that many filed institutions (126,000: China's whole register
in 2025) plus 2 % in other states, then times every public list in-process, one client,
sequential, with the page cache off, and counts the SQL statements each request sends. The
same for SQLite at 10,000. The lists are timed in a fresh process, as a server holds none of
the loader's objects (timed in the loading process, p50s came out 5–20 ms higher). Then the
register CSV and the HSDS document, each downloaded in a fresh process: time, bytes,
statements and peak memory (``ru_maxrss``). Prints Markdown.

The register is built by ``bench/register_loader.py``.
"""

import argparse
import dataclasses
import json
import resource
import shlex
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import harness
import register_loader
from register_loader import (
    Plan,
    Status,
    Timing,
    busiest_township,
    loaded_register,
    print_heading,
    print_table_head,
    size_title,
)

from careapp import create_app
from careapp.extensions import db

DATABASE = "careapp_bench_scale"
DOWNLOADS = {
    "register CSV": "/open-data/institutions.csv",
    "HSDS document": "/api/v1/open-data/hsds.json",
}
#: A download's process may use at most this much address space (the machine is shared; the
#: target is under 100 MB): beyond it the download fails rather than the machine swapping.
DOWNLOAD_MEMORY_LIMIT = 4 * 1024**3
DOWNLOAD_TIMEOUT = 900


# --- measuring -----------------------------------------------------------------------------


def requests_for(names: list[tuple], plans: list[Plan], counts: Counter) -> dict[str, str]:
    """The requests timed at every size, by label; filters chosen from the register made."""
    filed = [plan for plan in plans if plan.status == Status.FILED]
    township = names[busiest_township(plans)][0]
    middle = sorted(plan.id for plan in filed)[len(filed) // 2]
    return {
        "search, no filter": "/",
        "search, township": f"/?township={township}",
        "search, township + care type": f"/?township={township}&care_type=full_day",
        "search, township + care type + age": (
            f"/?township={township}&care_type=full_day&age_months=20"
        ),
        "search, nature": "/?nature=inclusive",
        "search, text: 2 Chinese characters (阳光)": "/?" + urlencode({"q": "阳光"}),
        "search, text: 6 Chinese characters (小天使托育)": "/?" + urlencode({"q": "小天使托育"}),
        "search, text: Latin (sunshine)": "/?q=sunshine",
        "search, page 50": "/?page=50",
        "API list": "/api/v1/institutions",
        "API list, page 50": "/api/v1/institutions?page=50",
        "`/registry`": "/registry",
        "`/statistics`": "/statistics",
        "`/api/v1/statistics/townships`": "/api/v1/statistics/townships",
        "institution page": f"/institutions/{middle}",
    }


def fresh_process(*arguments: str, timeout: float | None = None) -> subprocess.CompletedProcess:
    """This script run again with ``arguments``, in a process forked afresh.

    Linux keeps a process's peak memory across fork and exec: started from this (large)
    process the child would report at least our size. A shell in between forks it afresh;
    "exit" keeps the shell from exec-ing it in its own place.
    """
    child = shlex.join([sys.executable, __file__, *arguments])
    command = ["sh", "-c", f"{child}; exit $?"]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


def timed(url: str, requests: dict[str, str], rounds: int) -> dict[str, Timing]:
    """``register_loader.time_requests`` in a fresh process."""
    finished = fresh_process("--time", json.dumps(requests), "--rounds", str(rounds), "--url", url)
    if finished.returncode != 0:
        raise harness.BenchError(f"timing failed: {finished.stderr.strip()[-2000:]}")
    found = json.loads(finished.stdout.strip().splitlines()[-1])
    return {label: Timing(**values) for label, values in found.items()}


def time_here(url: str, requests: str, rounds: int) -> None:
    """The child process of ``timed``: time the requests, print one line of JSON."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PAGE_CACHE": False})
    timings = register_loader.time_requests(app, json.loads(requests), rounds)
    print(json.dumps({label: dataclasses.asdict(timing) for label, timing in timings.items()}))


def download(url: str, path: str) -> dict:
    """Download ``path`` in a fresh process; its time, bytes, statements and peak memory."""
    try:
        finished = fresh_process("--download", path, "--url", url, timeout=DOWNLOAD_TIMEOUT)
    except subprocess.TimeoutExpired:
        return {"failed": f"no answer within {DOWNLOAD_TIMEOUT} s"}
    if finished.returncode != 0:
        tail = finished.stderr.strip().splitlines()[-1:] or [f"exit {finished.returncode}"]
        return {"failed": tail[0][:160]}
    return json.loads(finished.stdout.strip().splitlines()[-1])


def download_here(url: str, path: str) -> None:
    """The child process of ``download``: GET ``path``, print one line of JSON."""
    limit = DOWNLOAD_MEMORY_LIMIT
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    client = app.test_client()
    with app.app_context():
        engine = db.engine
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    size = 0
    with harness.statements_of(engine) as statements:
        started = time.perf_counter()
        response = client.get(path, buffered=False)
        for chunk in response.iter_encoded():
            size += len(chunk)
        response.close()
        seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = {
        "limit_gb": DOWNLOAD_MEMORY_LIMIT / 1024**3,
        "status": response.status_code,
        "seconds": seconds,
        "bytes": size,
        "statements": len(statements),
        "peak_mb": peak / 1024,
        "start_mb": before / 1024,
    }
    print(json.dumps(result))


@dataclass
class SizeResult:
    """What one register size gave."""

    backend: str
    size: int
    fill_seconds: float
    rows: Counter
    hooks: list[str]
    timings: dict[str, Timing]
    downloads: dict[str, dict]


def run_size(backend: str, size: int, rounds: int, folder: Path, keep: bool) -> SizeResult:
    """Build, fill, time and drop one database of ``size`` institutions."""
    with loaded_register(backend, size, folder, DATABASE, keep) as register:
        requests = requests_for(register.names, register.plans, register.rows)
        with register.app.app_context():
            db.engine.dispose()
        timings = timed(register.url, requests, rounds)
        downloads = {name: download(register.url, path) for name, path in DOWNLOADS.items()}
        print(f"{register.label}: measured", file=sys.stderr, flush=True)
        return SizeResult(
            backend,
            size,
            register.fill_seconds,
            register.rows,
            register.hooks,
            timings,
            downloads,
        )


def column_title(result: SizeResult) -> str:
    """A column's title: the size, and the backend when it is SQLite."""
    return size_title(result.backend, result.size)


def report(results: list[SizeResult], rounds: int) -> None:
    """Print the Markdown tables: p95 and statements, then each size in full, then downloads."""
    title = "Scale: public lists and downloads by register size"
    print_heading(title, rounds, " (1, 5, 15 min) at the end.")
    print("p95 ms (SQL statements per request):")
    print()
    print_table_head([column_title(r) for r in results])
    for label in results[0].timings:
        cells = [
            f"{r.timings[label].p95:.1f} ({r.timings[label].statements})"
            for r in results
            if label in r.timings
        ]
        print(f"| {label} | " + " | ".join(cells) + " |")
    print()
    for result in results:
        print(f"### {column_title(result)} institutions")
        print()
        rows = ", ".join(f"{table} {count:,}" for table, count in result.rows.items())
        hooks = ", ".join(result.hooks) or "none"
        print(f"Filled in {result.fill_seconds:.0f} s: {rows}. Rebuilt after the load: {hooks}.")
        print()
        print("| request | matches | KB | p50 ms | p95 ms | SQL statements |")
        print("|---|---|---|---|---|---|")
        for label, timing in result.timings.items():
            matches = "" if timing.matches is None else f"{timing.matches:,}"
            print(
                f"| {label} | {matches} | {timing.kilobytes:.0f} | {timing.p50:.1f} |"
                f" {timing.p95:.1f} | {timing.statements} |"
            )
        print()
    limit = DOWNLOAD_MEMORY_LIMIT / 1024**3
    print(f"### Downloads (each in a fresh process, its address space limited to {limit:.0f} GB)")
    print()
    print("| download | size | status | time s | MB | SQL statements | peak memory MB |")
    print("|---|---|---|---|---|---|---|")
    for result in results:
        for name, outcome in result.downloads.items():
            if "failed" in outcome:
                print(f"| {name} | {column_title(result)} | failed: {outcome['failed']} |||||")
                continue
            print(
                f"| {name} | {column_title(result)} | {outcome['status']} |"
                f" {outcome['seconds']:.1f} | {outcome['bytes'] / 1024**2:.1f} |"
                f" {outcome['statements']} | {outcome['peak_mb']:.0f}"
                f" (at start {outcome['start_mb']:.0f}) |"
            )


def main() -> int:
    """Measure every size asked for and print the report; returns the exit status."""
    parser = register_loader.size_parser(__doc__.splitlines()[0])
    parser.add_argument("--download", help=argparse.SUPPRESS)
    parser.add_argument("--time", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.download:
        download_here(arguments.url, arguments.download)
        return 0
    if arguments.time:
        time_here(arguments.url, arguments.time, arguments.rounds)
        return 0
    return register_loader.run_sizes("bench/scale.py", arguments, run_size, report)


if __name__ == "__main__":
    sys.exit(main())
