"""Registers as large as the country's, for the scale benchmarks (``scale.py``,
``search_scale.py``): planned at random from the size, written in bulk, timed in-process.

The register is written with COPY (PostgreSQL) or executemany (SQLite), the columns read
from careapp's models: a column this module does not fill must have a default, else it stops
and says which. Data kept alongside the register (``rebuild_*`` hooks in ``REBUILD_HOOKS``) is
recomputed after the load, then the database is analysed.

Townships grow with the register: 3,019 at 126,000 (the issue's count for the whole country),
in regions of 40 townships, institutions spread by township population. Each institution has
one to three classes, one to four care types, an open slot per care type on each of the next
seven days, a "filed" disclosure event and, for a third of them, a "changed" one.

The scripts run from the repository root, so this module is imported as ``register_loader``.
"""

import argparse
import dataclasses
import enum
import gc
import importlib
import os
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from datetime import time as at
from pathlib import Path

import flask
import harness
import sqlalchemy as sa
from harness import BenchError
from stdnum.cn import uscc

from careapp import clock, create_app
from careapp.extensions import db
from careapp.models import (
    CLASS_STANDARDS,
    Authority,
    CareClass,
    CareOffer,
    CareType,
    ClassKind,
    EventType,
    FilingEvent,
    Institution,
    Inventory,
    Nature,
    Region,
    Slot,
    Status,
    Township,
    TownshipKind,
)
from careapp.models.institution import default_price_regime

#: Sizes measured unless told otherwise, on PostgreSQL and on SQLite, and requests per kind.
DEFAULT_SIZES = "1000,10000,126000"
DEFAULT_SQLITE_SIZES = "10000"
ROUNDS = 40
#: Townships at 126,000 institutions (the country), and per region.
COUNTRY_SIZE = 126_000
COUNTRY_TOWNSHIPS = 3_019
TOWNSHIPS_PER_REGION = 40
UNFILED_SHARE = 0.02
SLOT_DAYS = 7
CHANGED_SHARE = 0.33
#: Functions that recompute data kept alongside the register, called after the bulk load
#: with a connection, when the app has them ("module:function").
REBUILD_HOOKS = ("careapp.models.listing:rebuild_listing",)

SYLLABLES = "青梅西罗灵新陈池安磁内紫东永英金龙深滨华平和兴丰泰宁溪林山河湖江海南北中上".replace(
    "", " "
).split()
BRANDS = (
    ("阳光", "Sunshine"),
    ("小天使", "Little Angels"),
    ("爱心", "Loving Heart"),
    ("童乐", "Happy Kids"),
    ("贝贝", "Beibei"),
    ("启蒙", "First Steps"),
    ("彩虹", "Rainbow"),
    ("七色花", "Seven Colours"),
    ("金苹果", "Golden Apple"),
    ("蒲公英", "Dandelion"),
    ("小脚丫", "Little Feet"),
    ("阳光宝贝", "Sunny Baby"),
    ("乐多多", "Lots of Fun"),
    ("禾苗", "Seedlings"),
    ("星星", "Little Stars"),
    ("橡树", "Oak Tree"),
    ("春芽", "Spring Buds"),
    ("童心", "Childlike"),
    ("安安", "Anan"),
    ("优贝", "Youbei"),
)
SUFFIXES = (("托育中心", "Childcare Centre"), ("托育园", "Nursery"), ("育儿园", "Day Nursery"))
STREETS = (("人民路", "Renmin Road"), ("建设路", "Jianshe Road"), ("中山路", "Zhongshan Road"))
#: Class kinds by how often institutions run them.
CLASS_KINDS = (ClassKind.TODDLER, ClassKind.OLDER_TODDLER, ClassKind.MIXED, ClassKind.INFANT)
NATURES = (Nature.INCLUSIVE,) * 4 + (Nature.PRIVATE,) * 3 + (Nature.PUBLIC, Nature.EMPLOYER)
NATURES += (Nature.KINDERGARTEN_CLASS, Nature.HOME_BASED)
UNFILED = (Status.DRAFT, Status.UNDER_REVIEW, Status.RETURNED, Status.REJECTED)
UNFILED += (Status.DEREGISTERED,)


# --- the register --------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """One institution: everything its rows are made from."""

    id: int
    township: int
    nature: Nature
    status: Status
    classes: tuple[tuple[ClassKind, int, int], ...]  # kind, capacity, carers
    care_types: tuple[CareType, ...]
    changed: bool


def township_count(size: int) -> int:
    """Townships for a register of ``size``: the country's 3,019 at 126,000, in proportion."""
    return max(TOWNSHIPS_PER_REGION // 2, round(size * COUNTRY_TOWNSHIPS / COUNTRY_SIZE))


def township_name(index: int) -> str:
    """A plausible township name (names repeat across regions, as they do in China)."""
    first = SYLLABLES[index % len(SYLLABLES)]
    second = SYLLABLES[(index // len(SYLLABLES) + 3 * index) % len(SYLLABLES)]
    return first + second + ("街道" if index % 5 == 0 else "镇")


def plan_register(size: int, townships: int, rng: random.Random) -> list[Plan]:
    """``size`` filed institutions and 2 % more in other states, spread by population."""
    populations = [rng.randint(8_000, 250_000) for _ in range(townships)]
    total = size + round(size * UNFILED_SHARE)
    homes = rng.choices(range(townships), weights=populations, k=total)
    plans = []
    for number in range(total):
        kinds = rng.sample(CLASS_KINDS, rng.randint(1, 3))
        classes = []
        for kind in sorted(kinds):
            standard = CLASS_STANDARDS[kind]
            carers = -(-standard.max_children // standard.children_per_carer)
            classes.append((kind, rng.randint(5, standard.max_capacity_for(carers)), carers))
        care_types = tuple(sorted(rng.sample(list(CareType), rng.randint(1, 4))))
        status = Status.FILED if number < size else rng.choice(UNFILED)
        plans.append(
            Plan(
                number + 1,
                homes[number],
                rng.choice(NATURES),
                status,
                tuple(classes),
                care_types,
                rng.random() < CHANGED_SHARE,
            )
        )
    rng.shuffle(plans)  # the unfiled ones anywhere in the id order
    return [replace_id(plan, index + 1) for index, plan in enumerate(plans)]


def replace_id(plan: Plan, number: int) -> Plan:
    """``plan`` with id ``number`` (ids follow the shuffled order)."""
    return dataclasses.replace(plan, id=number)


class Writer:
    """Writes rows of a model's table: COPY on PostgreSQL, executemany on SQLite.

    Columns not given must have a default (written as it), a server default or allow NULL.
    """

    def __init__(self, connection: sa.Connection):
        self.connection = connection
        self.postgresql = connection.dialect.name == "postgresql"
        self.counts: Counter[str] = Counter()

    def write(self, model, columns: tuple[str, ...], rows) -> None:
        """Write ``rows`` (tuples in the order of ``columns``) to ``model``'s table."""
        table = model.__table__
        names, defaults = list(columns), []
        for column in table.columns:
            if column.name in columns:
                continue
            default = column.default
            if default is not None and (default.is_scalar or default.is_callable):
                value = default.arg if default.is_scalar else default.arg(None)
                names.append(column.name)
                defaults.append(value.value if isinstance(value, enum.Enum) else value)
            elif not (column.nullable or column.server_default is not None):
                raise BenchError(
                    f"bench/register_loader.py does not fill {table.name}.{column.name},"
                    " which has no default and may not be NULL: add it to the loader."
                )
        extra = tuple(defaults)
        if self.postgresql:
            self._copy(table.name, names, ((*row, *extra) for row in rows))
        else:
            self._insert(table, names, ((*row, *extra) for row in rows))

    def _copy(self, name: str, names: list[str], rows) -> None:
        """COPY into a PostgreSQL table."""
        cursor = self.connection.connection.driver_connection.cursor()
        statement = f"COPY {name} ({', '.join(names)}) FROM STDIN"
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
                self.counts[name] += 1

    def _insert(self, table: sa.Table, names: list[str], rows, batch: int = 5_000) -> None:
        """Batched executemany into a table (SQLite)."""
        pending = []
        for row in rows:
            pending.append(dict(zip(names, row, strict=True)))
            if len(pending) >= batch:
                self.connection.execute(table.insert(), pending)
                self.counts[table.name] += len(pending)
                pending = []
        if pending:
            self.connection.execute(table.insert(), pending)
            self.counts[table.name] += len(pending)


def enum_value(value):
    """The stored value of an enum member."""
    return value.value if isinstance(value, enum.Enum) else value


def write_regions(writer: Writer, townships: int, rng: random.Random) -> list[tuple]:
    """Regions of 40 townships and the townships; returns (code, name, name_en) per township."""
    regions = -(-townships // TOWNSHIPS_PER_REGION)
    writer.write(
        Region,
        ("id", "code", "name", "name_en", "filing_prefix"),
        (
            (r + 1, f"r{r + 1:03d}", township_name(r * 7)[:2] + "市", f"Region {r + 1}", "SC")
            for r in range(regions)
        ),
    )
    rows, names = [], []
    for index in range(townships):
        name = township_name(index)
        code = f"r{index // TOWNSHIPS_PER_REGION + 1:03d}t{index % TOWNSHIPS_PER_REGION + 1:02d}"
        kind = TownshipKind.SUBDISTRICT if name.endswith("街道") else TownshipKind.TOWN
        names.append((code, name, f"Township {index + 1}"))
        rows.append(
            (
                index + 1,
                index // TOWNSHIPS_PER_REGION + 1,
                code,
                name,
                f"Township {index + 1}",
                enum_value(kind),
                rng.randint(8_000, 250_000),
                index % TOWNSHIPS_PER_REGION,
            )
        )
    columns = ("id", "region_id", "code", "name", "name_en", "kind", "population", "position")
    writer.write(Township, columns, rows)
    return names


def institution_rows(plans: list[Plan], names: list[tuple], today: date, rng: random.Random):
    """The institutions' rows, in the order of ``INSTITUTION_COLUMNS``."""
    for plan in plans:
        code, township, township_en = names[plan.township]
        brand, brand_en = rng.choice(BRANDS)
        suffix, suffix_en = rng.choice(SUFFIXES)
        street, street_en = rng.choice(STREETS)
        number = rng.randint(1, 400)
        filed = plan.status in (Status.FILED, Status.DEREGISTERED)
        filed_on = today - timedelta(days=rng.randint(60, 1500)) if filed else None
        body = f"52{plan.id:015d}"
        yield (
            plan.id,
            f"{township}{brand}{suffix}",
            f"{brand_en} {suffix_en}, {township_en}",
            plan.township + 1,
            f"{township}{street} {number} 号",
            f"{number} {street_en}, {township_en}",
            "0595-85660000",
            enum_value(plan.nature),
            enum_value(Authority.CIVIL_AFFAIRS),
            body + uscc.calc_check_digit(body),
            enum_value(plan.status),
            f"SC-TY-{plan.id:07d}" if filed else None,
            filed_on,
            plan.id % 97 == 0,
            enum_value(default_price_regime(plan.nature)),
        )


INSTITUTION_COLUMNS = (
    "id",
    "name",
    "name_en",
    "township_id",
    "address",
    "address_en",
    "phone",
    "nature",
    "authority",
    "uscc",
    "status",
    "filing_number",
    "filed_on",
    "is_demonstration",
    "price_regime",
)


def class_rows(plans: list[Plan]):
    """Every class; ids in plan order."""
    number = 0
    for plan in plans:
        for kind, capacity, carers in plan.classes:
            number += 1
            yield number, plan.id, enum_value(kind), "托班", capacity, carers


def offer_rows(plans: list[Plan]):
    """Every care-type offer, for the ages of the institution's classes."""
    number = 0
    for plan in plans:
        youngest = min(CLASS_STANDARDS[kind].min_age_months for kind, *_ in plan.classes)
        oldest = max(CLASS_STANDARDS[kind].max_age_months for kind, *_ in plan.classes)
        for care_type in plan.care_types:
            number += 1
            yield number, plan.id, enum_value(care_type), at(8), at(17), 1500, youngest, oldest


def slot_plan(plans: list[Plan], today: date):
    """(slot id, institution id, class id, care type, day, places) of every open slot: one per
    care type and day for SLOT_DAYS days, of a class the care type's turn falls on."""
    number, class_id = 0, 0
    for plan in plans:
        first_class = class_id + 1
        class_id += len(plan.classes)
        if plan.status != Status.FILED:
            continue
        for turn, care_type in enumerate(plan.care_types):
            chosen = turn % len(plan.classes)
            places = min(5, plan.classes[chosen][1])
            for day in range(1, SLOT_DAYS + 1):
                number += 1
                yield (
                    number,
                    plan.id,
                    first_class + chosen,
                    care_type,
                    today + timedelta(day),
                    places,
                )


def event_rows(plans: list[Plan], today: date):
    """A "filed" event per filed (or once filed) institution, a "changed" one for some."""
    number = 0
    for plan in plans:
        if plan.status not in (Status.FILED, Status.DEREGISTERED):
            continue
        number += 1
        yield number, plan.id, enum_value(EventType.FILED), today - timedelta(400), "备案", "Filed"
        if plan.changed:
            number += 1
            yield (
                number,
                plan.id,
                enum_value(EventType.CHANGED),
                today - timedelta(100 + plan.id % 200),
                "托位数调整",
                "Places changed",
            )


def fill(connection: sa.Connection, size: int) -> tuple[Counter[str], list[tuple], list[Plan]]:
    """Write a register of ``size`` filed institutions; returns row counts, townships, plans."""
    rng = random.Random(size)
    today = clock.today()
    if connection.dialect.name == "postgresql":
        # The app's per-statement limit is for requests; copying millions of rows takes longer.
        connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
    writer = Writer(connection)
    townships = township_count(size)
    names = write_regions(writer, townships, rng)
    plans = plan_register(size, townships, rng)
    writer.write(Institution, INSTITUTION_COLUMNS, institution_rows(plans, names, today, rng))
    class_columns = ("id", "institution_id", "kind", "name", "capacity", "carers")
    writer.write(CareClass, class_columns, class_rows(plans))
    offer_columns = ("id", "institution_id", "care_type", "opens_at", "closes_at")
    offer_columns += ("price_yuan", "min_age_months", "max_age_months")
    writer.write(CareOffer, offer_columns, offer_rows(plans))
    writer.write(
        Inventory,
        ("id", "capacity"),
        ((number, places) for number, *_, places in slot_plan(plans, today)),
    )
    slot_columns = ("id", "institution_id", "care_class_id", "inventory_id", "care_type")
    slot_columns += ("on_date", "starts_at", "ends_at")
    writer.write(
        Slot,
        slot_columns,
        (
            (number, institution, care_class, number, enum_value(care_type), day, at(8), at(17))
            for number, institution, care_class, care_type, day, _places in slot_plan(plans, today)
        ),
    )
    event_columns = ("id", "institution_id", "event_type", "occurred_on", "summary")
    writer.write(FilingEvent, event_columns + ("summary_en",), event_rows(plans, today))
    return writer.counts, names, plans


def finish_load(connection: sa.Connection) -> list[str]:
    """Move id sequences past the written ids and recompute kept data; the hooks called."""
    if connection.dialect.name == "postgresql":
        for model in (Region, Township, Institution, CareClass, CareOffer, Inventory, Slot):
            table = model.__table__.name
            connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT coalesce(max(id), 1) FROM {table}))"
            )
        connection.exec_driver_sql(
            "SELECT setval(pg_get_serial_sequence('filing_events', 'id'),"
            " (SELECT coalesce(max(id), 1) FROM filing_events))"
        )
    called = []
    for hook in REBUILD_HOOKS:
        module_name, _, function_name = hook.partition(":")
        try:
            function = getattr(importlib.import_module(module_name), function_name)
        except (ImportError, AttributeError):
            continue
        function(connection)
        called.append(hook)
    return called


def analyse(url: str) -> None:
    """Refresh the planner's statistics (and PostgreSQL's visibility map) after the load."""
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        command = "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
        connection.exec_driver_sql(command)
    engine.dispose()


def busiest_township(plans: list[Plan]) -> int:
    """The index of the township with the most filed institutions."""
    filed = [plan for plan in plans if plan.status == Status.FILED]
    return Counter(plan.township for plan in filed).most_common(1)[0][0]


@dataclass(frozen=True)
class LoadedRegister:
    """A fresh database filled with a register: where it is, its app and what was written."""

    backend: str
    size: int
    url: str
    app: flask.Flask
    rows: Counter[str]
    names: list[tuple]
    plans: list[Plan]
    hooks: list[str]
    fill_seconds: float

    @property
    def label(self) -> str:
        """The backend and size, as the progress lines name them."""
        return f"{self.backend} {self.size:,}"


@contextmanager
def loaded_register(
    backend: str,
    size: int,
    folder: Path,
    database: str,
    keep: bool,
    prepare: Callable[[sa.Connection], None] | None = None,
) -> Iterator[LoadedRegister]:
    """A fresh database of ``size`` institutions: PostgreSQL ``database``, or a SQLite file of
    that name in ``folder``; migrated, filled, given ``prepare(connection)`` in the same
    transaction, then analysed. A PostgreSQL database is dropped afterwards unless ``keep``."""
    from flask_migrate import upgrade

    if backend == "postgresql":
        harness.create_database(database)
        url = harness.bench_url(database)
    else:
        url = f"sqlite:///{folder / f'{database}-{size}.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    try:
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            with db.engine.begin() as connection:
                rows, names, plans = fill(connection, size)
                if prepare is not None:
                    prepare(connection)
                hooks = finish_load(connection)
            db.engine.dispose()
        analyse(url)
        fill_seconds = time.perf_counter() - started
        register = LoadedRegister(backend, size, url, app, rows, names, plans, hooks, fill_seconds)
        print(
            f"{register.label}: filled in {fill_seconds:.0f} s {dict(rows)}",
            file=sys.stderr,
            flush=True,
        )
        yield register
    finally:
        with app.app_context():
            db.engine.dispose()
        if backend == "postgresql" and not keep:
            harness.drop_database(database)


# --- measuring -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """One request kind at one size."""

    p50: float
    p95: float
    statements: int
    matches: int | None
    kilobytes: float


def time_requests(app, requests: dict[str, str], rounds: int) -> dict[str, Timing]:
    """Every request timed ``rounds`` times in turn, one client, one after the other."""
    # A server process holds none of the loader's objects: they are kept out of the
    # collector's way, as create_app() keeps what start-up built, or its full passes would
    # walk them inside timed requests (on SQLite, p95 40-50 ms above p50).
    gc.collect()
    gc.freeze()
    client = app.test_client()
    with app.app_context():
        engine = db.engine
    results = {}
    for label, path in requests.items():
        first = client.get(path)
        if first.status_code != 200:
            raise BenchError(f"GET {path} answered {first.status_code}")
        p50, p95, statements = harness.measure(client, engine, path, rounds)
        matches = None
        if path.startswith("/?") or path == "/":
            query = path.partition("?")[2]
            matches = client.get(f"/api/v1/institutions?{query}").get_json().get("total")
        results[label] = Timing(p50, p95, statements, matches, len(first.data) / 1024)
    return results


# --- every size ------------------------------------------------------------------------------


def size_title(backend: str, size: int) -> str:
    """A report column's title: the size, and the backend when it is SQLite."""
    title = f"{size:,}"
    return title if backend == "postgresql" else f"SQLite {title}"


def print_heading(title: str, rounds: int, after_load: str) -> None:
    """Print a report's title and how it was measured; ``after_load`` ends the paragraph."""
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"## {title}")
    print()
    print(
        f"In-process (Flask test client), one client, sequential, {rounds} requests each, page"
        f" cache off; PostgreSQL unless marked SQLite. {os.cpu_count()} CPUs, load average"
        f" {load}{after_load}"
    )
    print()


def print_table_head(titles) -> None:
    """Print the head of a Markdown table of requests, a column per title."""
    print("| request | " + " | ".join(titles) + " |")
    print("|---|" + "---|" * len(titles))


def size_parser(description: str) -> argparse.ArgumentParser:
    """The options of every scale benchmark: the sizes on each backend, rounds, keep."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="PostgreSQL sizes")
    parser.add_argument("--sqlite-sizes", default=DEFAULT_SQLITE_SIZES, help="SQLite sizes")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="requests per kind")
    parser.add_argument("--keep", action="store_true", help="keep the last PostgreSQL database")
    return parser


def sizes(text: str) -> list[int]:
    """Sizes from a comma-separated list; empty means none."""
    return [int(part.replace("_", "")) for part in text.split(",") if part.strip()]


def run_sizes(program: str, arguments, run_one, report_all) -> int:
    """Run ``run_one(backend, size, rounds, folder, keep)`` for every size the arguments ask
    for, PostgreSQL first, then ``report_all(results, rounds)``; one size failing still
    reports the others. Returns the exit status."""
    # The page cache would answer repeated requests from memory: this measures the work
    # behind it. Set before any app is made; the scripts' child processes inherit it.
    os.environ["PAGE_CACHE"] = "off"
    os.environ.pop("REDIS_URL", None)
    plan = [("postgresql", size) for size in sizes(arguments.sizes)]
    plan += [("sqlite", size) for size in sizes(arguments.sqlite_sizes)]
    folder = Path(tempfile.mkdtemp(prefix=f"careapp-{Path(program).stem}-"))
    os.environ.setdefault("CAREAPP_RATE_LIMITS_FILE", str(folder / "rate-limits.sqlite3"))
    try:
        if any(backend == "postgresql" for backend, _ in plan):
            harness.require_postgresql()
    except BenchError as error:
        print(f"{program}: {error}", file=sys.stderr)
        return 2
    results, failed = [], []
    for backend, size in plan:
        try:
            results.append(run_one(backend, size, arguments.rounds, folder, arguments.keep))
        except Exception as error:  # one size failing still reports the others
            failed.append(f"{backend} {size:,}: {type(error).__name__}: {error}")
            print(f"{program}: {failed[-1]}", file=sys.stderr, flush=True)
    if results:
        report_all(results, arguments.rounds)
    for failure in failed:
        print(f"\nFailed: {failure}")
    return 1 if failed else 0
