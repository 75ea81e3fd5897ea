"""Benchmark: search page and API list over 2,000 filed institutions, measured in-process.

Every institution has one class and, for each care type it offers, an open slot on each of
the next seven days (about 35,000 slots), so that searches by age find bookable places.

Run with ``make bench`` (or ``.venv/bin/python bench/search.py``). Prints p50/p95 per request
and the SQL statements each request runs. Uses a throwaway SQLite file unless
``BENCH_DATABASE_URL`` names another database (whose tables it drops and recreates).
"""

import os
import random
import tempfile
from datetime import time as clock_time
from datetime import timedelta

import harness
import sqlalchemy as sa

from careapp import clock, create_app
from careapp.demo import seed_demo
from careapp.extensions import db
from careapp.models import (
    Authority,
    CareClass,
    CareOffer,
    CareType,
    ClassKind,
    Institution,
    Inventory,
    Nature,
    Slot,
    Status,
    Township,
)

INSTITUTIONS = 2000
SLOT_DAYS = 7
ROUNDS = 200
REQUESTS = {
    "search page, no filter": "/",
    "search page, township + care type + age": (
        "/?township=chendai&care_type=full_day&age_months=20"
    ),
    "search page, text": "/?q=%E6%B1%A0%E5%BA%97",
    "search page, page 10": "/?page=10",
    "API list, no filter": "/api/v1/institutions",
    "API list, township + care type + age": (
        "/api/v1/institutions?township=anhai&care_type=hourly&age_months=14"
    ),
    "API list, 100 per page": "/api/v1/institutions?per_page=100",
}


def load_institutions(total: int) -> None:
    """Fill the register with ``total`` filed institutions spread over every township."""
    today = clock.today()
    seed_demo("jinjiang", today)
    townships = db.session.scalars(sa.select(Township)).all()
    existing = db.session.scalar(sa.select(sa.func.count(Institution.id)))
    rng = random.Random(7)
    for number in range(existing, total):
        township = townships[number % len(townships)]
        institution = Institution(
            name=f"{township.name}第{number}托育园",
            township=township,
            address=f"{township.name}测试路 {number} 号",
            phone="0595-85660000",
            nature=rng.choice(list(Nature)),
            authority=Authority.CIVIL_AFFAIRS,
            uscc=f"52350582{number:010d}",
            status=Status.FILED,
            filing_number=f"BENCH-{number:06d}",
            filed_on=today - timedelta(days=700),
        )
        for care_type in rng.sample(list(CareType), rng.randint(1, 4)):
            low = rng.choice((6, 12, 18, 24))
            institution.offers.append(
                CareOffer(
                    care_type=care_type,
                    opens_at=clock_time(8),
                    closes_at=clock_time(17),
                    price_yuan=rng.randint(30, 4000),
                    min_age_months=low,
                    max_age_months=36,
                )
            )
        care_class = CareClass(kind=ClassKind.TODDLER, name="托小班", capacity=15, carers=3)
        institution.classes.append(care_class)
        db.session.add(institution)
        db.session.add_all(open_slots(institution, care_class, today))
    db.session.commit()


def open_slots(institution: Institution, care_class: CareClass, today) -> list[Slot]:
    """An open slot of each offered care type on each of the next ``SLOT_DAYS`` days."""
    return [
        Slot(
            institution=institution,
            care_class=care_class,
            care_type=offer.care_type,
            on_date=today + timedelta(days=day),
            starts_at=clock_time(8),
            ends_at=clock_time(17),
            inventory=Inventory(capacity=5),
        )
        for offer in institution.offers
        for day in range(1, SLOT_DAYS + 1)
    ]


def matches(client, path: str) -> int:
    """How many institutions the request's filters match, asked of the API."""
    query = path.partition("?")[2]
    return client.get(f"/api/v1/institutions?{query}").get_json()["total"]


def main() -> None:
    """Load the data, then time every request kind and print a Markdown table."""
    url = os.environ.get("BENCH_DATABASE_URL")
    folder = tempfile.mkdtemp(prefix="careapp-bench-")
    # The page cache would answer repeated requests from memory: time the work behind it.
    database = url or f"sqlite:///{folder}/bench.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": database, "PAGE_CACHE": False})
    with app.app_context():
        db.drop_all()
        db.create_all()
        load_institutions(INSTITUTIONS)
        engine = db.engine
    client = app.test_client()
    backend = engine.url.get_backend_name()
    print(f"{INSTITUTIONS} filed institutions, {ROUNDS} requests each, {backend}")
    print("| request | matches | p50 ms | p95 ms | SQL statements |")
    print("|---|---|---|---|---|")
    for name, path in REQUESTS.items():
        p50, p95, queries = harness.measure(client, engine, path, ROUNDS)
        print(f"| {name} | {matches(client, path)} | {p50:.1f} | {p95:.1f} | {queries} |")


if __name__ == "__main__":
    main()
