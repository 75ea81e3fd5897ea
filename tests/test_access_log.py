"""The access log never records a private calendar address or a token."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from careapp.access_log import RedactingLogger, redact


@pytest.mark.parametrize(
    ("path", "kept"),
    [
        ("/calendar/Zk3_9xQ-secret.ics", "/calendar/…"),
        ("/password/reset/eyJ1c2VyIjoxfQ.abc", "/password/reset/…"),
        ("/login/link/one-time-code", "/login/link/…"),
        ("/parents/bookings?token=abc&page=2", "/parents/bookings?token=…&page=2"),
    ],
)
def test_secrets_in_paths_and_queries_are_redacted(path, kept):
    assert redact(path) == kept


def test_ordinary_paths_are_logged_as_they_are():
    assert redact("/institutions/12?care_type=hourly&page=3") == (
        "/institutions/12?care_type=hourly&page=3"
    )


def test_gunicorn_access_lines_carry_no_secret(capsys):
    logger = RedactingLogger(Config())
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/calendar/Zk3_9xQ-secret.ics",
        "PATH_INFO": "/calendar/Zk3_9xQ-secret.ics",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.7",
        "HTTP_REFERER": "https://example.com/password/reset/abc.def",
    }
    response = SimpleNamespace(status="200 OK", sent=512, headers=[])

    atoms = logger.atoms(response, SimpleNamespace(headers=[]), environ, timedelta(seconds=0))

    line = " ".join(str(value) for value in atoms.values())
    assert "Zk3_9xQ-secret" not in line
    assert "abc.def" not in line
    assert atoms["r"] == "GET /calendar/… HTTP/1.1"
