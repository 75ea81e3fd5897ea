"""When the database is down or silent, people get a translated 503 within seconds, and a
body too large to be a form is refused before anything reads it."""

import socket
import threading
import time

import pytest
from conftest import make_app

#: How long a page may take to say the service is unavailable.
PATIENCE_SECONDS = 5


@pytest.fixture
def silent_database():
    """A TCP port that accepts connections and never says a word; its PostgreSQL URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted = []

    def accept_forever():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            accepted.append(connection)

    threading.Thread(target=accept_forever, daemon=True).start()
    yield f"postgresql+psycopg://nobody@127.0.0.1:{listener.getsockname()[1]}/careapp"
    listener.close()
    for connection in accepted:
        connection.close()


@pytest.fixture
def closed_port() -> str:
    """A PostgreSQL URL on a port nothing listens on."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"postgresql+psycopg://nobody@127.0.0.1:{port}/careapp"


def timed_get(app, path: str, language: str = "en"):
    """A GET on ``app`` in ``language`` and the seconds it took."""
    client = app.test_client()
    client.set_cookie("lang", language)
    started = time.monotonic()
    response = client.get(path)
    return response, time.monotonic() - started


@pytest.mark.parametrize("database", ["silent_database", "closed_port"])
def test_health_check_answers_503_within_seconds_when_the_database_does_not(request, database):
    app = make_app(request.getfixturevalue(database), DATABASE_CONNECT_TIMEOUT=2)

    response, seconds = timed_get(app, "/healthz")

    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "unreachable"}
    assert seconds < PATIENCE_SECONDS


@pytest.mark.parametrize("database", ["silent_database", "closed_port"])
@pytest.mark.parametrize(
    ("language", "words"),
    [("zh_CN", "服务暂时无法使用"), ("en", "The service is unavailable")],
)
def test_pages_answer_a_translated_503_when_the_database_is_down(
    request, database, language, words
):
    app = make_app(request.getfixturevalue(database), DATABASE_CONNECT_TIMEOUT=2)

    response, seconds = timed_get(app, "/", language)

    assert response.status_code == 503
    assert words in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    assert seconds < PATIENCE_SECONDS


def test_api_answers_its_error_shape_when_the_database_is_down(closed_port):
    app = make_app(closed_port, DATABASE_CONNECT_TIMEOUT=2)

    response, _seconds = timed_get(app, "/api/v1/institutions")

    assert response.status_code == 503
    assert response.json["error"]["code"] == "unavailable"


def test_a_body_larger_than_any_form_is_refused_with_413(client):
    client.set_cookie("lang", "en")

    response = client.post(
        "/login", data={"email": "a@example.com", "password": "x" * (2 * 1024 * 1024)}
    )

    assert response.status_code == 413
    assert "What was sent is too large" in response.get_data(as_text=True)
