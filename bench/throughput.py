"""Benchmark: requests per second of careapp's paths against a bare Flask app, in one run.

Run from the repository root with ``make bench-throughput`` (or
``.venv/bin/python bench/throughput.py``). Needs PostgreSQL (``BENCH_ADMIN_URL``, default the
local server) and ``wrk`` (Debian: ``apt-get install wrk``); uses Redis when ``REDIS_URL`` is
set. It recreates the database ``careapp_bench_throughput`` with ``flask db upgrade`` and
``flask seed-demo``, adds a bench institution with hourly slots and signed-in parents for the
booking row, then starts three gunicorns with the same settings (4 sync workers): a bare
Flask app (``bench/bare_app.py``), careapp with ``PAGE_CACHE=on`` and careapp with
``PAGE_CACHE=off``. Every row is measured with ``wrk -t2 -c8 -d5s`` in each of three rounds,
the servers interleaved row by row; the table shows each row's median round.

wrk runs on the same cores as gunicorn (the machine of the README has two): that holds for
every row alike, and the short runs keep a whole measurement at about ten minutes.

Two floor rows show what any page or form needing a search page's number of statements could
reach on this machine: the bare routes, each also sending that many ``SELECT 1`` to the same
PostgreSQL through SQLAlchemy Core (``bench/bare_app.py``).

Every booking POST books a real place: the bench institution has 30 classes of 20 places
with hourly slots on three days, 600 parents with one child each, and one prepared request
per (child, slot) such that no class is overbooked and no child is booked twice at one hour
(about 16,000 requests). Before and after each booking run the bench slots' bookings are
deleted and their places freed, so every run starts from the same empty slots. The slots lie
beyond the days search cards look at (``availability.CARD_DAYS``): the pages measured read
the demo data, not the bench institution's 810 slots.
"""

import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import time as at
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import bare_app
import harness
import sqlalchemy as sa
from harness import SECRET_KEY, WORKERS, BenchError

from careapp import clock, create_app
from careapp.extensions import db
from careapp.models import Booking, CareClass, CareType, ClassKind, Inventory, Slot, Township
from careapp.services import availability, booking

DATABASE = "careapp_bench_throughput"
#: wrk's threads and connections (the issue's measurements used the same).
THREADS = 2
CONNECTIONS = 8
#: The bench institution for booking POSTs: classes of 20 places, hourly slots 8:00-17:00.
CLASSES = 30
CLASS_PLACES = 20
SLOT_DAYS = 3
#: The first day of the bench slots: a week after the last day search cards look at.
FIRST_SLOT_DAY = getattr(availability, "CARD_DAYS", 14) + 7
BOOKING_DAYS = range(FIRST_SLOT_DAY, FIRST_SLOT_DAY + SLOT_DAYS)
SLOT_HOURS = range(8, 17)
#: The number of the bench institution (its USCC and filing number end with it).
INSTITUTION_NUMBER = 3
SCRIPT = Path(__file__).with_name("post.lua")
#: The floor rows: the bare routes sending as many statements as a search page or a booking
#: (``SELECT 1`` through SQLAlchemy Core), the most a page needing them could reach here.
FLOOR_STATEMENTS = 7
FLOOR_PAGE = f"/statements/{FLOOR_STATEMENTS}"
FLOOR_POST = f"/session/{FLOOR_STATEMENTS}"
#: Targets the README states, as shares of the bare route (booking: of the bare session POST).
TARGETS = {"search_cached": 0.50, "search_uncached": 0.15, "booking": 0.10}


@dataclass
class Row:
    """One line of the table: what is measured and the req/s of each round per server."""

    label: str
    path: str
    #: "bare" (the bare app only), "page" (careapp, cache on and off) or "booking".
    kind: str
    rounds: dict[str, list[float]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def median(self, server: str) -> float:
        """The median req/s over the rounds on ``server``."""
        return statistics.median(self.rounds[server])


# --- data ----------------------------------------------------------------------------------


def prepare_database(url: str) -> None:
    """A fresh database with the schema and the demo data, made the way an operator does."""
    harness.create_database(DATABASE)
    harness.flask_command(url, "db", "upgrade")
    harness.flask_command(url, "seed-demo")


def build_booking_institution() -> dict[tuple[int, int, int], int]:
    """The bench institution, its classes and hourly slots; slot ids by (class, day, hour)."""
    township = db.session.scalars(sa.select(Township).order_by(Township.id)).first()
    classes = [
        CareClass(
            kind=ClassKind.OLDER_TODDLER, name=f"托大{number}班", capacity=CLASS_PLACES, carers=3
        )
        for number in range(CLASSES)
    ]
    institution = harness.filed_institution(
        township, INSTITUTION_NUMBER, (CareType.HOURLY,), classes[0]
    )
    institution.classes.extend(classes[1:])
    db.session.flush()
    today = clock.local_now().date()
    slots = {}
    for index, care_class in enumerate(classes):
        for day in BOOKING_DAYS:
            for hour in SLOT_HOURS:
                slot = booking.add_slot(
                    care_class,
                    CareType.HOURLY,
                    today + timedelta(days=day),
                    at(hour),
                    at(hour + 1),
                    CLASS_PLACES,
                    today,
                )
                slots[index, day, hour] = slot.id
    return slots


def prepare_bookings(app, folder: Path) -> tuple[Path, list[int]]:
    """Write the booking requests (one per free place) to a file for ``post.lua``.

    Children are taken class by class in turn, so that consecutive requests lock different
    classes, as independent families would; returns the file and the bench slots' ids.
    """
    with app.app_context():
        slots = build_booking_institution()
        users = harness.build_parents(CLASSES * CLASS_PLACES, prefix="throughput")
        db.session.commit()
        accounts = [(user.id, child_id) for user, child_id in users]
        db.session.remove()
    parents = harness.sign_in(app, accounts)
    lines = []
    children = len(parents)
    for day in BOOKING_DAYS:
        for hour in SLOT_HOURS:
            for turn in range(children):
                class_index, seat = turn % CLASSES, turn // CLASSES
                parent = parents[class_index * CLASS_PLACES + seat]
                body = urlencode(
                    {
                        "child_id": parent.child_id,
                        "request_key": uuid.uuid4().hex,
                        "csrf_token": parent.csrf_token,
                    }
                )
                path = f"/parents/book/{slots[class_index, day, hour]}"
                lines.append(f"{path}\tsession={parent.cookie}\t{body}")
    requests = folder / "bookings.tsv"
    requests.write_text("\n".join(lines) + "\n")
    return requests, sorted(slots.values())


def prepare_bare_session(folder: Path, path: str = "/session") -> Path:
    """The bare session POST's one request to ``path``, with a session cookie signed as
    careapp signs it."""
    bare = bare_app.create_app(SECRET_KEY)
    serializer = bare.session_interface.get_signing_serializer(bare)
    cookie = serializer.dumps({"_user_id": "1", "_fresh": True, "csrf_token": uuid.uuid4().hex})
    requests = folder / f"session{path.replace('/', '-')}.tsv"
    # The same request for every wrk thread (each takes its own share of the lines).
    requests.write_text(f"{path}\tsession={cookie}\tfield=value\n" * THREADS)
    return requests


def free_bench_slots(app, slot_ids: list[int]) -> None:
    """Delete the bench slots' bookings and free their places: every booking run starts alike."""
    with app.app_context():
        db.session.execute(sa.delete(Booking).where(Booking.slot_id.in_(slot_ids)))
        inventories = sa.select(Slot.inventory_id).where(Slot.id.in_(slot_ids))
        db.session.execute(
            sa.update(Inventory).where(Inventory.id.in_(inventories)).values(taken=0)
        )
        db.session.commit()
        db.session.remove()


# --- servers -------------------------------------------------------------------------------


def careapp_env(url: str, page_cache: str, folder: Path, run_id: str) -> dict:
    """The environment of a careapp gunicorn: the bench database, Redis if given, the cache."""
    env = dict(
        os.environ,
        DATABASE_URL=url,
        SECRET_KEY=SECRET_KEY,
        CAREAPP_ENV="development",
        PAGE_CACHE=page_cache,
        # A prefix of this run: pages an earlier bench database left in Redis are never served.
        PAGE_CACHE_PREFIX=f"careapp-bench-{run_id}-{page_cache}:",
        CAREAPP_RATE_LIMITS_FILE=str(folder / f"rate-limits-{page_cache}.sqlite3"),
    )
    if not os.environ.get("REDIS_URL"):
        env.pop("REDIS_URL", None)
    return env


def start_servers(url: str, folder: Path) -> dict[str, tuple[subprocess.Popen, int]]:
    """The bare app and careapp with the page cache on and off, each answering already."""
    run_id = uuid.uuid4().hex[:8]
    plans = {
        "bare": (
            "bench.bare_app:create_app()",
            dict(os.environ, SECRET_KEY=SECRET_KEY, DATABASE_URL=url),
            "/ok",
        ),
        "on": ("careapp:create_app()", careapp_env(url, "on", folder, run_id), "/healthz"),
        "off": ("careapp:create_app()", careapp_env(url, "off", folder, run_id), "/healthz"),
    }
    servers = {}
    for name, (spec, env, health) in plans.items():
        port = harness.free_port()
        servers[name] = (harness.start_gunicorn(spec, port, env, folder / name), port)
        harness.wait_until_healthy(servers[name][0], port, health)
        harness.warm_up(port, health)
    return servers


def get_json(port: int, path: str) -> dict:
    """A JSON answer of the careapp server."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers={"User-Agent": harness.USER_AGENT})
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    if response.status != 200:
        raise BenchError(f"GET {path} answered {response.status}")
    return json.loads(body)


def choose_paths(port: int) -> dict[str, str]:
    """The filtered search and the institution page, found through the public API."""
    townships = get_json(port, "/api/v1/townships")["items"]
    township = max(townships, key=lambda item: item["institution_count"])["code"]
    search = None
    for care_type in CareType.values():
        query = urlencode({"township": township, "care_type": care_type, "age_months": 20})
        if get_json(port, f"/api/v1/institutions?{query}")["total"]:
            search = f"/?{query}"
            break
    if search is None:
        raise BenchError(f"no care type in township {township} has a place for 20 months")
    listed = get_json(port, "/api/v1/institutions?per_page=1")["items"]
    if not listed:
        raise BenchError("the demo register lists no institution")
    return {"search": search, "institution": f"/institutions/{listed[0]['id']}"}


def rows_for(paths: dict[str, str]) -> list[Row]:
    """The table's rows, in the order printed."""
    return [
        Row('bare Flask route ("ok")', "/ok", "bare"),
        Row("`/healthz`", "/healthz", "page"),
        Row("search page `/`", "/", "page"),
        Row("search, township + care type + age", paths["search"], "page"),
        Row("institution page", paths["institution"], "page"),
        Row("API list `/api/v1/institutions`", "/api/v1/institutions", "page"),
        Row("`/courses`", "/courses", "page"),
        Row("`/registry`", "/registry", "page"),
        Row("`/statistics`", "/statistics", "page"),
        Row("bare session POST", "/session", "bare-post"),
        Row("booking POST", "/parents/book/…", "booking"),
        Row(f"floor: bare route + {FLOOR_STATEMENTS} × `SELECT 1`", FLOOR_PAGE, "floor"),
        Row(
            f"floor: bare session POST + {FLOOR_STATEMENTS} × `SELECT 1`", FLOOR_POST, "floor-post"
        ),
    ]


# --- wrk -----------------------------------------------------------------------------------


def run_wrk(port: int, path: str, duration: int, script: list[str] | None = None) -> tuple:
    """req/s of one wrk run and what went wrong in it (error answers, socket errors)."""
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{duration}s", "--timeout", "10s"]
    if script:
        command += ["-s", str(SCRIPT)]
    command.append(f"http://127.0.0.1:{port}{path}")
    if script:
        command += ["--", *script]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if rate is None:
        raise BenchError(f"wrk printed no Requests/sec:\n{output}")
    problems = []
    for pattern in (
        r"Non-2xx or 3xx responses: (\d+)",
        r"Socket errors: (.*)",
        r"unexpected answers: (\d+)",
        r"wrapped: (\d+)",
    ):
        found = re.search(pattern, output)
        if found and found.group(1).strip() not in ("0",):
            problems.append(found.group(0).strip())
    return float(rate.group(1)), problems


def measure(rows: list[Row], servers: dict, app, plan: dict, duration: int, rounds: int) -> None:
    """Every row in every round; each round takes the rows in turn, each on every server."""
    for number in range(1, rounds + 1):
        print(f"round {number} of {rounds} ...", file=sys.stderr, flush=True)
        for row in rows:
            bare_kinds = ("bare", "bare-post", "floor", "floor-post")
            names = ["bare"] if row.kind in bare_kinds else ["on", "off"]
            for name in names:
                port = servers[name][1]
                if row.kind == "booking":
                    free_bench_slots(app, plan["slot_ids"])
                    script = [str(plan["bookings"]), str(THREADS), "/parents/bookings/"]
                    rate, problems = run_wrk(port, "/", duration, script)
                    free_bench_slots(app, plan["slot_ids"])
                elif row.kind in ("bare-post", "floor-post"):
                    requests = plan["session" if row.kind == "bare-post" else "floor-session"]
                    script = [str(requests), str(THREADS), "/ok"]
                    rate, problems = run_wrk(port, "/", duration, script)
                    # One request, sent over and over: wrapping round it is the point.
                    problems = [p for p in problems if not p.startswith("wrapped")]
                else:
                    rate, problems = run_wrk(port, row.path, duration)
                row.rounds.setdefault(name, []).append(rate)
                row.problems += [f"round {number}, {name}: {problem}" for problem in problems]


# --- report --------------------------------------------------------------------------------


def share(value: float, base: float) -> str:
    """``value`` as a percentage of ``base``, one decimal below 10 %."""
    percent = 100 * value / base
    return f"{percent:.1f} %" if percent < 10 else f"{percent:.0f} %"


def report(rows: list[Row], duration: int, rounds: int, has_cache: bool) -> None:
    """Print the Markdown table, the targets and every round."""
    by_path = {row.kind if row.kind.startswith("bare") else row.label: row for row in rows}
    bare, bare_post = by_path["bare"].median("bare"), by_path["bare-post"].median("bare")
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    redis = "Redis (`REDIS_URL`)" if os.environ.get("REDIS_URL") else "no Redis"
    print(
        f"## Throughput: gunicorn {WORKERS} sync workers, "
        f"`wrk -t{THREADS} -c{CONNECTIONS} -d{duration}s`, median of {rounds} interleaved rounds"
    )
    print()
    print(
        f"PostgreSQL (demo data, `flask seed-demo`), {redis}, {os.cpu_count()} CPUs shared "
        f"with wrk, load average {load} (1, 5, 15 min) at the end."
    )
    if not has_cache:
        print("This careapp has no `PAGE_CACHE` setting: both columns measure the same app.")
    print()
    print("| path | cached req/s | share | uncached req/s | share |")
    print("|---|---|---|---|---|")
    for row in rows:
        if row.kind.startswith(("bare", "floor")):
            rate = row.median("bare")
            base = bare_post if row.kind.endswith("post") else bare
            print(f"| {row.label} | {rate:,.0f} | {share(rate, base)} | | |")
            continue
        base = bare_post if row.kind == "booking" else bare
        on, off = row.median("on"), row.median("off")
        label = row.label + (" (share of the bare session POST)" if row.kind == "booking" else "")
        print(f"| {label} | {on:,.0f} | {share(on, base)} | {off:,.0f} | {share(off, base)} |")
    print()
    search, booked = by_path["search page `/`"], by_path["booking POST"]
    checks = [
        ("search page from the cache", search.median("on") / bare, TARGETS["search_cached"]),
        ("search page uncached", search.median("off") / bare, TARGETS["search_uncached"]),
        ("booking POST (cache on)", booked.median("on") / bare_post, TARGETS["booking"]),
        ("booking POST (cache off)", booked.median("off") / bare_post, TARGETS["booking"]),
    ]
    for name, measured, target in checks:
        mark = "x" if measured >= target else " "
        print(f"- [{mark}] {name} ≥ {target:.0%}: {measured:.1%}")
    print()
    print("Every round (req/s; cached / uncached):")
    print()
    for row in rows:
        rounds_text = " / ".join(
            ", ".join(f"{rate:,.0f}" for rate in row.rounds[name])
            for name in ("bare", "on", "off")
            if name in row.rounds
        )
        print(f"- {row.label}: {rounds_text}")
    problems = [problem for row in rows for problem in row.problems]
    if problems:
        print()
        print("Problems (these rounds are not clean):")
        for problem in problems:
            print(f"- {problem}")


def main() -> int:
    """Prepare, measure, report and clean up; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run (5)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (3)")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    arguments = parser.parse_args()
    try:
        harness.require_program("wrk", "install it, e.g. apt-get install -y wrk")
        harness.require_postgresql()
    except BenchError as error:
        print(f"bench/throughput.py: {error}", file=sys.stderr)
        return 2
    folder = Path(tempfile.mkdtemp(prefix="careapp-bench-throughput-"))
    url = harness.bench_url(DATABASE)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY})
    servers: dict = {}
    clean = False
    try:
        started = time.perf_counter()
        prepare_database(url)
        bookings, slot_ids = prepare_bookings(app, folder)
        plan = {
            "bookings": bookings,
            "slot_ids": slot_ids,
            "session": prepare_bare_session(folder),
            "floor-session": prepare_bare_session(folder, FLOOR_POST),
        }
        servers = start_servers(url, folder)
        rows = rows_for(choose_paths(servers["off"][1]))
        for name in ("on", "off"):
            for row in rows:
                if row.kind == "page":
                    harness.warm_up(servers[name][1], row.path)
        print(f"prepared in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        measure(rows, servers, app, plan, arguments.duration, arguments.rounds)
        report(rows, arguments.duration, arguments.rounds, "PAGE_CACHE" in app.config)
        clean = not any(row.problems for row in rows)
    except BenchError as error:
        print(f"bench/throughput.py: {error}", file=sys.stderr)
    finally:
        for server, _port in servers.values():
            harness.stop(server)
        if not clean:
            for name in servers:
                harness.print_server_log(folder / name, 30)
            print(f"gunicorn logs in {folder}", file=sys.stderr)
        with app.app_context():
            db.engine.dispose()
        if arguments.keep:
            print(f"\nkept database {DATABASE}", file=sys.stderr)
        else:
            harness.drop_database(DATABASE)
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
