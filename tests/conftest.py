"""Fixtures: the app on SQLite and (with TEST_DATABASE_URL) PostgreSQL, clients and factories."""

import itertools
import os
from datetime import date, time

import pytest
import sqlalchemy as sa
from stdnum.cn import uscc as uscc_codec

from careapp import create_app
from careapp.extensions import db
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

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")

DATABASES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=pytest.mark.skipif(not POSTGRES_URL, reason="TEST_DATABASE_URL is not set"),
    ),
]


def reset_database() -> None:
    """Drop every table, including Alembic's, so each test starts from nothing."""
    db.drop_all()
    with db.engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(params=DATABASES)
def database_url(request, tmp_path) -> str:
    """A fresh database URL: a file SQLite database, or the PostgreSQL test database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'careapp.sqlite3'}"
    return POSTGRES_URL


@pytest.fixture
def empty_app(database_url):
    """The application bound to an empty database with no tables."""
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret",
            # Form tests post without tokens; test_security.py turns CSRF back on.
            "WTF_CSRF_ENABLED": False,
            # Still argon2id, with the cheapest parameters: the suite makes many accounts.
            "PASSWORD_HASH_PROFILE": "CHEAPEST",
        }
    )
    with app.app_context():
        reset_database()
    yield app
    with app.app_context():
        db.session.remove()
        reset_database()
        db.engine.dispose()


@pytest.fixture
def app(empty_app):
    """The application with the schema created from the models."""
    with empty_app.app_context():
        db.create_all()
    return empty_app


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
    body = f"{authority_digit}2350582{next(_sequence):09d}"
    return body + uscc_codec.calc_check_digit(body)


@pytest.fixture
def township(app):
    """Factory: a township (and its region) by code."""

    def make(code: str = "qingyang", kind: TownshipKind = TownshipKind.SUBDISTRICT, **fields):
        with app.app_context():
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

    return make


DEFAULT_OFFERS = {CareType.FULL_DAY: (12, 36, 2800)}


@pytest.fixture
def institution(app, township):
    """Factory: an institution with offers and classes; filed unless told otherwise.

    ``offers`` maps a care type to ``(min_age_months, max_age_months, price_yuan)``.
    Returns the new institution's id.
    """

    def make(
        name: str = "晋江市小橡树托育中心",
        *,
        status: Status = Status.FILED,
        township_code: str = "qingyang",
        offers: dict | None = None,
        classes: tuple = ((ClassKind.TODDLER, 15, 3),),
        **fields,
    ) -> int:
        township_id = township(township_code)
        with app.app_context():
            number = next(_sequence)
            record = Institution(
                name=name,
                township_id=township_id,
                address=fields.pop("address", f"世纪大道 {number} 号"),
                phone="0595-85661234",
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

    return make


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


PASSWORD = "correct-horse-42"


@pytest.fixture
def user(app):
    """Factory: an account of ``role`` with the password ``PASSWORD``; returns its id."""

    def make(role: Role = Role.PARENT, email: str | None = None, **fields) -> int:
        with app.app_context():
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

    return make


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
