"""Fill a database with N filed institutions quickly (bulk SQL), for measuring the lists at scale.

    .venv/bin/python bench/_fill_register.py postgresql+psycopg://postgres@/careapp_bench 126000
    .venv/bin/python bench/_fill_register.py sqlite:////tmp/bench.sqlite3 10000

The database is created (PostgreSQL) or emptied, migrated, seeded with the demo region and then
filled: each institution has one to four offers, one or two classes, an open slot per offered
care type three days ahead, and a filing event (one in ten a change too). Names and addresses
mix a vocabulary so that text searches have rare and common bigrams. The listing data (search
grams, township counts) is rebuilt from the register at the end, as after any bulk SQL.
"""

import random
import sys
from datetime import time, timedelta

import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from careapp import clock, create_app
from careapp.demo import seed_demo
from careapp.extensions import db
from careapp.models import (
    CareClass,
    CareOffer,
    CareType,
    ClassKind,
    FilingEvent,
    Institution,
    InstitutionSearchTerm,
    Inventory,
    Nature,
    SearchGram,
    Slot,
    Township,
)
from careapp.models.listing import (
    SEARCHED_COLUMNS,
    count_grams,
    institution_grams,
    recount_townships,
)

WORDS = (
    "阳光 彩虹 小橡树 蒲公英 向日葵 贝贝 宝贝 星星 童心 启航 爱心 睿智 金色 萌芽 春苗 海湾".split()
)
WORDS_EN = (
    "Sunshine Rainbow Little-Oak Dandelion Sunflower Beibei Baby Star Childheart Voyage "
    "Caring Bright Golden Sprout Spring Bay"
).split()
KINDS = [("托育中心", "Childcare Centre"), ("托育园", "Nursery"), ("早教托育", "Early Years")]
STREETS = "世纪大道 泉安路 长兴路 安平路 学府路 梅岭路 crossroad 青华街 湖光路 五里街".split()


def _database(url: str) -> None:
    """A new empty database at ``url``."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    admin = sa.create_engine(
        parsed.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool
    )
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{parsed.database}"')


def _rows(total: int, townships: list, first_id: int, today) -> dict[str, list[dict]]:
    """Rows of every table for ``total`` institutions from id ``first_id``."""
    rng = random.Random(14)
    rows: dict[str, list[dict]] = {name: [] for name in ("i", "o", "c", "inv", "s", "e")}
    class_id = inventory_id = 10**7
    for number in range(total):
        institution_id = first_id + number
        township = townships[number % len(townships)]
        word = rng.randrange(len(WORDS))
        kind = rng.randrange(len(KINDS))
        street = rng.choice(STREETS)
        rows["i"].append(
            {
                "id": institution_id,
                "name": f"{township.name}{WORDS[word]}{KINDS[kind][0]}{number}号",
                "name_en": f"{WORDS_EN[word]} {KINDS[kind][1]} {number}",
                "township_id": township.id,
                "address": f"{township.name}{street}{rng.randint(1, 999)}号",
                "address_en": f"No. {rng.randint(1, 999)} {street}, {township.name_en}",
                "phone": "0595-85660000",
                "description": "",
                "nature": rng.choice(list(Nature)).value,
                "authority": "civil_affairs",
                "uscc": f"52350582{number:010d}",
                "status": "filed",
                "filing_number": f"BENCH-{number:07d}",
                "filed_on": today - timedelta(days=rng.randint(30, 900)),
                "is_demonstration": number % 500 == 0,
                "serves_meals": False,
                "premises_owned": False,
                "staff_count": 6,
                "certified_staff_count": 5,
                "cctv_covers_all_areas": True,
                "cctv_retention_days": 90,
                "cancel_cutoff_hours": 2,
                "commitment_accepted": True,
                "created_at": clock.now(),
                "updated_at": clock.now(),
            }
        )
        kinds = [ClassKind.TODDLER] + ([ClassKind.OLDER_TODDLER] if number % 2 else [])
        classes = []
        for kind_of_class in kinds:
            class_id += 1
            classes.append(class_id)
            rows["c"].append(
                {
                    "id": class_id,
                    "institution_id": institution_id,
                    "kind": kind_of_class.value,
                    "name": str(kind_of_class),
                    "capacity": 15,
                    "carers": 3,
                    "weekdays": "12345",
                }
            )
        for care_type in rng.sample(list(CareType), rng.randint(1, 4)):
            rows["o"].append(
                {
                    "institution_id": institution_id,
                    "care_type": care_type.value,
                    "opens_at": time(8),
                    "closes_at": time(17),
                    "price_yuan": rng.randint(30, 4000),
                    "min_age_months": rng.choice((6, 12, 18, 24)),
                    "max_age_months": 36,
                }
            )
            inventory_id += 1
            rows["inv"].append({"id": inventory_id, "capacity": 5, "taken": 0})
            rows["s"].append(
                {
                    "institution_id": institution_id,
                    "care_class_id": classes[0],
                    "inventory_id": inventory_id,
                    "care_type": care_type.value,
                    "on_date": today + timedelta(days=3),
                    "starts_at": time(8),
                    "ends_at": time(17),
                    "status": "open",
                }
            )
        rows["e"].append(
            {
                "institution_id": institution_id,
                "event_type": "filed",
                "occurred_on": rows["i"][-1]["filed_on"],
                "summary": "准予备案",
                "summary_en": "Filed",
                "recorded_at": clock.now(),
            }
        )
        if number % 10 == 0:
            rows["e"].append({**rows["e"][-1], "event_type": "changed", "summary": "变更事项"})
    return rows


def _insert(connection, table: sa.Table, rows: list[dict]) -> None:
    """Insert ``rows`` into ``table`` in batches (COPY on PostgreSQL)."""
    if not rows:
        return
    names = list(rows[0])
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.driver_connection.cursor()
        columns = ", ".join(f'"{name}"' for name in names)
        with cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([row[name] for name in names])
        return
    for start in range(0, len(rows), 20_000):
        connection.execute(table.insert(), rows[start : start + 20_000])


def fill(url: str, total: int) -> None:
    """Make the database at ``url`` and fill it with ``total`` filed institutions."""
    _database(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        if make_url(url).get_backend_name() == "sqlite":
            db.drop_all()
        upgrade()
        today = clock.today()
        seed_demo("jinjiang", today)
        db.session.commit()
        townships = list(db.session.scalars(sa.select(Township)))
        first = db.session.scalar(sa.select(sa.func.max(Institution.id))) + 1
        existing = db.session.scalar(sa.select(sa.func.count(Institution.id)))
        rows = _rows(total - existing, townships, first, today)
        grams = [
            {"gram": gram, "institution_id": row["id"]}
            for row in rows["i"]
            for gram in institution_grams(row[name] for name in SEARCHED_COLUMNS)
        ]
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # The site's statement timeout is for requests, not for a bulk load.
                connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
            for table, key in (
                (Institution.__table__, "i"),
                (CareClass.__table__, "c"),
                (CareOffer.__table__, "o"),
                (Inventory.__table__, "inv"),
                (Slot.__table__, "s"),
                (FilingEvent.__table__, "e"),
            ):
                _insert(connection, table, rows[key])
            _insert(connection, InstitutionSearchTerm.__table__, grams)
            connection.execute(SearchGram.__table__.delete())
            connection.execute(count_grams())
            connection.execute(recount_townships())
            if connection.dialect.name == "postgresql":
                for name in ("institutions", "inventories", "care_classes"):
                    connection.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'),"
                        f" (SELECT max(id) FROM {name}))"
                    )
        with db.engine.execution_options(isolation_level="AUTOCOMMIT").connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql("SET statement_timeout = 0")
                connection.exec_driver_sql("VACUUM ANALYZE")
            else:
                connection.exec_driver_sql("ANALYZE")
        print(f"{total} institutions, {len(grams)} search grams")


if __name__ == "__main__":
    fill(sys.argv[1], int(sys.argv[2]))
