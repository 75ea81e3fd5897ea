"""Pooled connections are not pinged on every request; one that sat idle is tried first, so a
connection the server dropped meanwhile is replaced instead of failing a request."""

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from careapp import database
from careapp.extensions import db


def _drop_pooled_connections(app) -> None:
    """End, from outside, every server connection the application's pool holds."""
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            pytest.skip("a SQLite connection is a file: no server drops it")
        url = db.engine.url
    outsider = sa.create_engine(url, poolclass=NullPool)
    with outsider.begin() as connection:
        connection.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    outsider.dispose()


@pytest.mark.parametrize(
    ("idle_seconds", "status"),
    [
        pytest.param(0.0, 200, id="idle connection is tried and replaced"),
        pytest.param(3600.0, 503, id="without the try the request fails"),
    ],
)
def test_a_dropped_pooled_connection_is_replaced_when_it_was_idle(
    app, client, monkeypatch, idle_seconds, status
):
    assert client.get("/healthz").status_code == 200
    _drop_pooled_connections(app)
    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", idle_seconds)

    assert client.get("/healthz").status_code == status
    assert client.get("/healthz").status_code == 200


def test_a_busy_connection_is_not_pinged(client, monkeypatch):
    pings = []
    monkeypatch.setattr(database, "ping", pings.append)
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    assert pings == []
