"""Fixtures: the app on SQLite and (with TEST_DATABASE_URL) PostgreSQL, clients and factories."""

import itertools
import os
from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.engine import make_url
from stdnum.cn import uscc as uscc_codec

from careapp import cache, clock, create_app, fragments
from careapp.extensions import db, limiter
from careapp.models import (
    Authority,
    CareClass,
    CareOffer,
    CareType,
    ClassKind,
    EventType,
    FilingEvent,
    Institution,
    Nature,
    Region,
    Role,
    Status,
    Township,
    TownshipKind,
    User,
)
from careapp.services.accounts import create_user
from careapp.validators import organisation_code_check

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
#: The pytest-xdist worker ("gw0", "gw1", …), or "main" without xdist.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")

DATABASES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=pytest.mark.skipif(not POSTGRES_URL, reason="TEST_DATABASE_URL is not set"),
    ),
]

TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    # Form tests post without tokens; test_security.py turns CSRF back on.
    "WTF_CSRF_ENABLED": False,
    # Still argon2id, with the cheapest parameters: the suite makes many accounts.
    "PASSWORD_HASH_PROFILE": "CHEAPEST",
    # Each test process keeps its own counters (the shared file is tested on its own).
    "RATELIMIT_STORAGE_URI": "memory://",
}


def pytest_configure(config):
    """Register the marker that keeps a test on SQLite."""
    config.addinivalue_line(
        "markers", "sqlite_only: runs on the file SQLite database only (not PostgreSQL)"
    )


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Spread tests one by one over the workers, but keep every browser test on one worker:
    one live server, one demo database, one Chromium."""
    from xdist.scheduler import LoadScopeScheduling

    class BrowserTestsTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "browser" if nodeid.startswith("tests/browser/") else nodeid

    return BrowserTestsTogether(config, log)


def pytest_generate_tests(metafunc):
    """Every database test runs once per backend; one app per backend serves a whole session."""
    if "database_url" in metafunc.fixturenames:
        sqlite_only = metafunc.definition.get_closest_marker("sqlite_only") is not None
        backends = DATABASES[:1] if sqlite_only else DATABASES
        metafunc.parametrize("database_url", backends, indirect=True, scope="session")


def fresh_postgres_database(suffix: str) -> str:
    """A new, empty PostgreSQL database of this worker next to TEST_DATABASE_URL; its URL."""
    base = make_url(POSTGRES_URL)
    # The process id keeps two runs on one server (a CI run and a developer's) apart.
    name = f"{base.database}_{WORKER}_{os.getpid()}{suffix}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    return base.set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    """Drop a database made by ``fresh_postgres_database``."""
    base = make_url(POSTGRES_URL)
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.exec_driver_sql(
            f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'
        )


@pytest.fixture(scope="session")
def database_url(request, tmp_path_factory):
    """This worker's test database for the session: a SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'careapp.sqlite3'}"
        return
    url = fresh_postgres_database("")
    yield url
    drop_postgres_database(url)


def make_app(database_url: str, **overrides):
    """An application of the test configuration bound to ``database_url``."""
    return create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, **overrides})


@pytest.fixture(scope="session")
def session_app(database_url):
    """One application per backend, its schema built once through the migrations."""
    app = make_app(database_url)
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def delete_every_row() -> None:
    """Empty every table of the models, children first (the schema and Alembic's row stay)."""
    statements = [f'DELETE FROM "{table.name}"' for table in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # One round trip; the sequences restart so ids are as small as in a new database.
            connection.exec_driver_sql("; ".join(statements + [RESTART_SEQUENCES]))
        else:
            for statement in statements:
                connection.exec_driver_sql(statement)


#: Every sequence of the public schema back to 1, in one statement.
RESTART_SEQUENCES = (
    "SELECT setval(c.oid, 1, false) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.relkind = 'S' AND n.nspname = 'public'"
)


@pytest.fixture
def app(session_app):
    """The session's application; afterwards its rows, configuration and limits are reset."""
    config = dict(session_app.config)
    yield session_app
    with session_app.app_context():
        db.session.remove()
        delete_every_row()
        cache.clear()
        fragments.clear()  # the versions start again with the rows
    session_app.config.clear()
    session_app.config.update(config)
    limiter.reset()


@pytest.fixture
def fresh_app(app, database_url):
    """A new application on the same database, for tests that add routes to it."""
    fresh = make_app(database_url)
    yield fresh
    with fresh.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def scratch_database_url(database_url, tmp_path_factory):
    """A second database of the same backend, for tests that build and drop the schema."""
    if make_url(database_url).get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('scratch') / 'scratch.sqlite3'}"
        return
    url = fresh_postgres_database("_scratch")
    yield url
    drop_postgres_database(url)


def reset_database() -> None:
    """Drop every table, including Alembic's, so the scratch database is empty again.

    The tables are read from the database, not the models: a test that downgraded leaves
    tables of older revisions that the models no longer know."""
    present = sa.MetaData()
    present.reflect(bind=db.engine)
    present.drop_all(bind=db.engine)


@pytest.fixture
def empty_app(scratch_database_url):
    """An application bound to an empty scratch database with no tables."""
    app = make_app(scratch_database_url)
    with app.app_context():
        reset_database()
    yield app
    with app.app_context():
        db.session.remove()
        reset_database()
        db.engine.dispose()


@pytest.fixture
def client(app):
    """A test client."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner."""
    return app.test_cli_runner()


_sequence = itertools.count(1)


def valid_uscc(authority_digit: str = "5") -> str:
    """A valid, unique Unified Social Credit Code starting with ``authority_digit``."""
    organisation = f"{next(_sequence):08d}"
    body = f"{authority_digit}2350582{organisation}{organisation_code_check(organisation)}"
    return body + uscc_codec.calc_check_digit(body)


DEFAULT_OFFERS = {CareType.FULL_DAY: (12, 36, 2800)}
PASSWORD = "correct-horse-42"


class Factories:
    """Make townships, institutions and accounts in ``app``'s database; each returns an id."""

    def __init__(self, app):
        self.app = app

    def township(
        self, code: str = "qingyang", kind: TownshipKind = TownshipKind.SUBDISTRICT, **fields
    ) -> int:
        """A township (and its region) by code."""
        with self.app.app_context():
            region = db.session.scalar(sa.select(Region).filter_by(code="jinjiang"))
            if region is None:
                region = Region(code="jinjiang", name="晋江市", name_en="Jinjiang")
                db.session.add(region)
            found = db.session.scalar(sa.select(Township).filter_by(code=code))
            if found is None:
                fields.setdefault("name", f"{code}街道")
                fields.setdefault("name_en", f"{code.title()} Sub-district")
                found = Township(code=code, kind=kind, region=region, population=50_000, **fields)
                db.session.add(found)
            db.session.commit()
            return found.id

    def institution(
        self,
        name: str = "晋江市小橡树托育中心",
        *,
        status: Status = Status.FILED,
        township_code: str = "qingyang",
        offers: dict | None = None,
        classes: tuple = ((ClassKind.TODDLER, 15, 3),),
        **fields,
    ) -> int:
        """An institution with offers and classes; filed unless told otherwise.

        ``offers`` maps a care type to ``(min_age_months, max_age_months, price_yuan)``.
        """
        township_id = self.township(township_code)
        with self.app.app_context():
            number = next(_sequence)
            record = Institution(
                name=name,
                township_id=township_id,
                address=fields.pop("address", f"世纪大道 {number} 号"),
                phone=fields.pop("phone", "0595-85661234"),
                public_phone=fields.pop("public_phone", "0595-85661234"),
                nature=fields.pop("nature", Nature.INCLUSIVE),
                authority=fields.pop("authority", Authority.CIVIL_AFFAIRS),
                uscc=fields.pop("uscc", valid_uscc()),
                status=status,
                **fields,
            )
            if status in (Status.FILED, Status.DEREGISTERED):
                record.filing_number = record.filing_number or f"JJ-TY-2024-{number:04d}"
                record.filed_on = record.filed_on or date(2024, 3, 1)
                record.events.append(
                    FilingEvent(
                        event_type=EventType.FILED,
                        occurred_on=record.filed_on,
                        summary="准予备案",
                        summary_en="Filed",
                    )
                )
            for care_type, (min_age, max_age, price) in (offers or DEFAULT_OFFERS).items():
                record.offers.append(
                    CareOffer(
                        care_type=care_type,
                        opens_at=time(8),
                        closes_at=time(17, 30),
                        price_yuan=price,
                        min_age_months=min_age,
                        max_age_months=max_age,
                    )
                )
            for kind, capacity, carers in classes:
                record.classes.append(
                    CareClass(kind=kind, name=str(kind), capacity=capacity, carers=carers)
                )
            db.session.add(record)
            db.session.commit()
            return record.id

    def user(self, role: Role = Role.PARENT, email: str | None = None, **fields) -> int:
        """An account of ``role`` with the password ``PASSWORD``."""
        with self.app.app_context():
            account = create_user(
                email=email or f"{role}{next(_sequence)}@example.com",
                password=PASSWORD,
                role=role,
                display_name=fields.pop("display_name", f"{role} account"),
            )
            for name, value in fields.items():
                setattr(account, name, value)
            db.session.commit()
            return account.id


@pytest.fixture
def open_places(app):
    """Factory: bookable places at an institution, a week ahead: one slot per class and
    offered care type whose ages meet (3 places, within the offer's hours). Returns the ids."""
    from careapp.services import booking

    def make(institution_id: int, days_ahead: int = 7) -> list[int]:
        with app.app_context():
            record = db.session.get(Institution, institution_id)
            day = clock.today() + timedelta(days=days_ahead)
            made = [
                booking.add_slot(
                    care_class, offer.care_type, day, offer.opens_at, offer.closes_at, 3, day
                ).id
                for care_class in record.classes
                for offer in record.offers
                if offer.min_age_months < care_class.standard.max_age_months
                and care_class.standard.min_age_months < offer.max_age_months
            ]
            db.session.commit()
            return made

    return make


@pytest.fixture
def township(app):
    """Factory: a township (and its region) by code."""
    return Factories(app).township


@pytest.fixture
def institution(app):
    """Factory: an institution with offers and classes (see ``Factories.institution``)."""
    return Factories(app).institution


@pytest.fixture
def user(app):
    """Factory: an account of ``role`` with the password ``PASSWORD``; returns its id."""
    return Factories(app).user


@pytest.fixture
def count_queries(app):
    """Context manager factory counting the SQL statements run inside it."""
    from contextlib import contextmanager

    @contextmanager
    def counting():
        statements: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)

    return counting


class AuthActions:
    """Sign a test client in and out (flaskr's ``auth`` fixture)."""

    def __init__(self, client, app):
        self._client = client
        self._app = app

    def login(self, user_id: int, password: str = PASSWORD):
        """Sign in as the account with ``user_id``; returns the response."""
        with self._app.app_context():
            email = db.session.get(User, user_id).email
        return self._client.post("/login", data={"email": email, "password": password})

    def logout(self):
        """Sign out; returns the response."""
        return self._client.post("/logout")


@pytest.fixture
def auth(client, app):
    """Sign the ``client`` in and out."""
    return AuthActions(client, app)
