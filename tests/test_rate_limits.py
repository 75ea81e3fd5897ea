"""Rate limits hold across every worker of one machine without Redis (a shared file), and
across machines with Redis."""

import http.cookiejar
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from careapp.config import PROJECT_ROOT
from careapp.rate_limits import SQLiteCounters

pytestmark = pytest.mark.sqlite_only


def test_two_workers_count_into_the_same_window(tmp_path):
    uri = f"careapp-sqlite://{tmp_path / 'limits.sqlite3'}"
    first, second = SQLiteCounters(uri), SQLiteCounters(uri)

    counts = [first.incr("login:wang", 60), second.incr("login:wang", 60), first.incr("x", 60)]

    assert counts == [1, 2, 1]
    assert second.get("login:wang") == first.get("login:wang") == 2


def test_a_window_starts_afresh_once_it_expired(tmp_path):
    counters = SQLiteCounters(f"careapp-sqlite://{tmp_path / 'limits.sqlite3'}")
    counters.incr("k", 1)
    counters.incr("k", 1)

    time.sleep(1.1)

    assert counters.get("k") == 0
    assert counters.incr("k", 1) == 1


def test_clearing_and_resetting_forget_counts(tmp_path):
    counters = SQLiteCounters(f"careapp-sqlite://{tmp_path / 'limits.sqlite3'}")
    counters.incr("a", 60)
    counters.incr("b", 60)

    counters.clear("a")
    assert (counters.get("a"), counters.get("b")) == (0, 1)
    assert counters.reset() == 1
    assert counters.get("b") == 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _failed_login(base: str) -> int:
    """A wrong password posted through the real form (with its token); the status."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    page = opener.open(f"{base}/login", timeout=10).read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode(
        {"email": "wang@example.com", "password": "wrong-password", "csrf_token": token}
    ).encode()
    try:
        return opener.open(f"{base}/login", data=data, timeout=10).status
    except urllib.error.HTTPError as refused:
        return refused.code


def test_login_limits_hold_across_gunicorn_workers_without_redis(tmp_path):
    port = _free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'careapp.sqlite3'}",
        "SECRET_KEY": "rate-limit-test",
        "CAREAPP_ENV": "development",
    }
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "careapp", "db", "upgrade"],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    env["CAREAPP_RATE_LIMITS_FILE"] = str(tmp_path / "limits.sqlite3")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "careapp:create_app()",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        statuses = [_failed_login(base) for _ in range(8)]
    finally:
        server.terminate()
        server.wait(timeout=10)

    # 5 failed attempts per account in 10 minutes, whichever worker answers.
    assert statuses == [200] * 5 + [429] * 3
