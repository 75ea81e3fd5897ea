"""Benchmark: near me, free places and the other searches as the register grows to the country's.

Run from the repository root with ``make bench-search-scale`` (or
``.venv/bin/python bench/search_scale.py``; ``--sizes 1000,10000 --sqlite-sizes ''`` for a
quick run). Each size is a fresh database (PostgreSQL ``careapp_bench_search_scale``;
``BENCH_ADMIN_URL`` names another server) filled by ``bench/register_loader.py``: filed
institutions (126,000 is China's whole register in 2025) plus 2 % in other states, with
classes, offers, an open slot per care type on each of the next seven days and their
inventories. Then every township gets a centre on a grid over China and every institution a
location within about 2.8 km of its township's centre, so a 3 km search finds a township's
worth (about 40 institutions, the same at every size). The requests are timed in-process,
one client, sequential, page cache off, with the SQL statements each sends. Prints Markdown.
"""

import sys
from pathlib import Path
from urllib.parse import urlencode

import register_loader
import sqlalchemy as sa
from register_loader import (
    Plan,
    busiest_township,
    loaded_register,
    print_heading,
    print_table_head,
    size_title,
)

from careapp.extensions import db

DATABASE = "careapp_bench_search_scale"
#: Township centres: a grid of this many rows from 22°N and 100°E, this far apart (degrees).
GRID_ROWS = 60
GRID_STEP_LAT, GRID_STEP_LNG = 0.25, 0.3
#: Institutions lie within this many degrees of their township's centre, each way.
SPREAD_DEGREES = 0.025


def locate(connection: sa.Connection) -> None:
    """Township centres on a grid and institutions scattered around them (plain SQL, both
    backends); the same spread at every size."""
    connection.execute(
        sa.text(
            f"UPDATE townships SET latitude = 22.0 + (id % {GRID_ROWS}) * {GRID_STEP_LAT},"
            f" longitude = 100.0 + (id / {GRID_ROWS}) * {GRID_STEP_LNG}"
        )
    )
    step = SPREAD_DEGREES / 1000
    statement = (
        "UPDATE institutions SET"
        " latitude = round((SELECT t.latitude FROM townships t"
        f"  WHERE t.id = institutions.township_id) + ((id * 7919) % 2001 - 1000) * {step}, 6),"
        " longitude = round((SELECT t.longitude FROM townships t"
        "  WHERE t.id = institutions.township_id)"
        f" + ((id % 2003) * 1013 % 2001 - 1000) * {step}, 6)"
    )
    connection.execute(sa.text(statement))


def centre_of(connection: sa.Connection, township_code: str) -> tuple[float, float]:
    """The centre given to the township with ``township_code``."""
    row = connection.execute(
        sa.text("SELECT latitude, longitude FROM townships WHERE code = :code"),
        {"code": township_code},
    ).one()
    return float(row[0]), float(row[1])


def requests_for(
    names: list[tuple], plans: list[Plan], origin: tuple[float, float]
) -> dict[str, str]:
    """The requests timed at every size, by label."""
    township = names[busiest_township(plans)][0]
    # A little off the centre, as a phone would be.
    near = {"lat": f"{origin[0] + 0.004:.6f}", "lng": f"{origin[1] - 0.003:.6f}", "radius_km": 3}
    return {
        "near me, 3 km": "/?" + urlencode(near),
        "near me, 3 km + free places + age": "/?"
        + urlencode({**near, "free": 1, "age_months": 20}),
        "near me, 3 km, soonest free place first": "/?" + urlencode({**near, "sort": "free"}),
        "township + care type": f"/?township={township}&care_type=full_day",
        "text (阳光)": "/?" + urlencode({"q": "阳光"}),
        "API list": "/api/v1/institutions",
        "API near me, 3 km": "/api/v1/institutions?" + urlencode(near),
        "API near me + free places + age": "/api/v1/institutions?"
        + urlencode({**near, "has_free_place": "true", "age_months": 20}),
    }


def run_size(backend: str, size: int, rounds: int, folder: Path, keep: bool) -> dict:
    """Build, fill, locate, time and drop one database of ``size`` institutions."""
    with loaded_register(backend, size, folder, DATABASE, keep, prepare=locate) as register:
        township = register.names[busiest_township(register.plans)][0]
        with register.app.app_context(), db.engine.connect() as connection:
            origin = centre_of(connection, township)
        requests = requests_for(register.names, register.plans, origin)
        timings = register_loader.time_requests(register.app, requests, rounds)
        print(f"{register.label}: measured", file=sys.stderr, flush=True)
        return {"backend": backend, "size": size, "rows": register.rows, "timings": timings}


def title(result: dict) -> str:
    """A column's title: the size, and the backend when it is SQLite."""
    return size_title(result["backend"], result["size"])


def report(results: list[dict], rounds: int) -> None:
    """Print p50/p95 and statements per request and size as Markdown."""
    print_heading(
        "Search at scale: near me, free places, township, text, API",
        rounds,
        " at the end. Cells: p50 / p95 ms (SQL statements per request).",
    )
    print_table_head([title(result) for result in results])
    for label in results[0]["timings"]:
        cells = []
        for result in results:
            timing = result["timings"][label]
            cells.append(f"{timing.p50:.1f} / {timing.p95:.1f} ({timing.statements})")
        print(f"| {label} | " + " | ".join(cells) + " |")
    print()
    print("Matches (the API's total for the same query, counted up to 200):")
    print()
    print_table_head([title(result) for result in results])
    for label in results[0]["timings"]:
        cells = [
            "" if r["timings"][label].matches is None else f"{r['timings'][label].matches:,}"
            for r in results
        ]
        print(f"| {label} | " + " | ".join(cells) + " |")


def main() -> int:
    """Measure every size asked for and print the report; returns the exit status."""
    parser = register_loader.size_parser(__doc__.splitlines()[0])
    arguments = parser.parse_args()
    return register_loader.run_sizes("bench/search_scale.py", arguments, run_size, report)


if __name__ == "__main__":
    sys.exit(main())
