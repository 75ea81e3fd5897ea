"""Pooled connections are not pinged on every request; one that sat idle is tried first, so a
connection the server dropped meanwhile is replaced instead of failing a request."""

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from careapp import database
from careapp.extensions import db


def _drop_the_pooled_connection(app) -> None:
    """End, from outside, the server connection that ``app``'s pool handed out last (the one
    its next request gets back)."""
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            pytest.skip("a SQLite connection is a file: no server drops it")
        backend = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
        db.session.remove()
        url = db.engine.url
    outsider = sa.create_engine(url, poolclass=NullPool)
    with outsider.begin() as connection:
        connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    outsider.dispose()


@pytest.mark.parametrize(
    ("idle_seconds", "status"),
    [
        pytest.param(0.0, 200, id="idle connection is tried and replaced"),
        pytest.param(3600.0, 503, id="without the try the request fails"),
    ],
)
def test_a_dropped_pooled_connection_is_replaced_when_it_was_idle(
    fresh_app, monkeypatch, idle_seconds, status
):
    """On an application of its own, so that no other test meets the dropped connection."""
    client = fresh_app.test_client()
    assert client.get("/healthz").status_code == 200
    _drop_the_pooled_connection(fresh_app)
    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", idle_seconds)

    assert client.get("/healthz").status_code == status
    assert client.get("/healthz").status_code == 200


def test_a_busy_connection_is_not_pinged(client, monkeypatch):
    pings = []
    monkeypatch.setattr(database, "ping", pings.append)
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    assert pings == []
