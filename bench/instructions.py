"""Benchmark: the CPU instructions one request of a public page costs, counted by callgrind.

Run from the repository root with ``make bench-instructions`` (or
``.venv/bin/python bench/instructions.py``). Needs PostgreSQL (``BENCH_ADMIN_URL``, default
the local server) and valgrind. It recreates the database ``careapp_bench_instructions`` with
``flask db upgrade`` and ``flask seed-demo``, then, for each page, runs this script under
``valgrind --tool=callgrind`` twice: once making the app and warming the page up, once doing
the same and then ``--requests`` more requests; the difference divided by ``--requests`` is the
page's instructions per request, page cache off.

Unlike time, an instruction count is the same from one run to the next whatever else the
machine is doing: two versions of the code are compared by running the script on each. It
counts this process's instructions only, not PostgreSQL's.
"""

import argparse
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import harness

DATABASE = "careapp_bench_instructions"
PAGES = {
    "search page `/`": "/",
    "search, page 2": "/?page=2",
    "institution page": "/institutions/{first}",
    "API list `/api/v1/institutions`": "/api/v1/institutions",
}
WARM_UP = 10


def run_requests(url: str, path: str, requests: int) -> None:
    """In this process: make the app, warm ``path`` up, then request it ``requests`` times."""
    os.environ["PAGE_CACHE"] = "off"
    os.environ.pop("REDIS_URL", None)
    from page_cost import call  # the same in-process call as bench/page_cost.py

    from careapp import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        for _ in range(WARM_UP + requests):
            status, _body = call(app, path)
    if not status.startswith("200"):
        raise harness.BenchError(f"{path} answered {status}")


def counted(url: str, path: str, requests: int) -> int:
    """The instructions callgrind counts for ``run_requests`` in a fresh process."""
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            __file__,
            "--url",
            url,
            "--run",
            path,
            "--requests",
            str(requests),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    for line in done.stderr.splitlines():
        if "Collected :" in line:
            return int(line.split()[-1])
    raise harness.BenchError(f"callgrind printed no count for {path}:\n{done.stderr[-2000:]}")


def per_request(url: str, path: str, requests: int) -> float:
    """Millions of instructions per request of ``path``."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        warm, more = pool.map(lambda n: counted(url, path, n), (0, requests))
    return (more - warm) / requests / 1e6


def first_filed(url: str) -> int:
    """The id of the demo's first filed institution."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as connection:
        found = connection.execute(
            sa.text("SELECT min(id) FROM institutions WHERE status = 'filed'")
        ).scalar_one()
    engine.dispose()
    return found


def main() -> None:
    """Build the demo database, count every page and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20, help="requests counted (20)")
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--run", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.run:
        run_requests(arguments.url, arguments.run, arguments.requests)
        return
    harness.require_program("valgrind", "install it, e.g. apt-get install -y valgrind")
    harness.require_postgresql()
    with harness.demo_database(DATABASE) as url:
        first = first_filed(url)
        print("| page | million instructions per request |")
        print("|---|---|")
        for label, path in PAGES.items():
            counted_path = path.format(first=first)
            print(f"| {label} | {per_request(url, counted_path, arguments.requests):.1f} |")


if __name__ == "__main__":
    try:
        main()
    except harness.BenchError as error:
        sys.exit(f"bench/instructions.py: {error}")
