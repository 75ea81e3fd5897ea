"""Rate-limit counters that every worker on one machine shares, without Redis.

Flask-Limiter keeps its counters in Redis when ``REDIS_URL`` is set. Without it, counters
in each worker's memory would let a guesser try once per worker; this storage keeps them in
a small SQLite file instead (``careapp-sqlite:///path``), which every worker of ``make serve``
opens. It serves the fixed-window strategy, the one careapp uses.
"""

import sqlite3
import threading
from pathlib import Path

from limits.storage import Storage

from careapp import clock

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS counters ("
    " key TEXT PRIMARY KEY, hits INTEGER NOT NULL, expires_at REAL NOT NULL)"
)


class SQLiteCounters(Storage):
    """Fixed-window counters in a SQLite file, one transaction per hit."""

    STORAGE_SCHEME = ["careapp-sqlite"]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions, **options)
        self.path = uri.split("://", 1)[1]
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()

    @property
    def base_exceptions(self):
        """What the driver raises."""
        return sqlite3.Error

    def _db(self) -> sqlite3.Connection:
        """This thread's connection (SQLite connections are not shared across threads)."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=5, isolation_level=None)
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute(SCHEMA)
            self._local.connection = connection
        return connection

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Count ``amount`` hits of ``key`` in its window (a new window once it expired)."""
        now = clock.now().timestamp()
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute(
                "SELECT hits, expires_at FROM counters WHERE key = ?", (key,)
            ).fetchone()
            if row is not None and row[1] > now:
                hits = row[0] + amount
                db.execute("UPDATE counters SET hits = ? WHERE key = ?", (hits, key))
            else:
                hits = amount
                db.execute(
                    "INSERT OR REPLACE INTO counters (key, hits, expires_at) VALUES (?, ?, ?)",
                    (key, hits, now + expiry),
                )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return hits

    def get(self, key: str) -> int:
        """Hits of ``key`` in its current window."""
        row = (
            self._db()
            .execute(
                "SELECT hits FROM counters WHERE key = ? AND expires_at > ?",
                (key, clock.now().timestamp()),
            )
            .fetchone()
        )
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        """When ``key``'s window ends (now, if it has none)."""
        row = self._db().execute("SELECT expires_at FROM counters WHERE key = ?", (key,)).fetchone()
        return row[0] if row else clock.now().timestamp()

    def check(self) -> bool:
        """Whether the file can be read."""
        try:
            self._db().execute("SELECT 1")
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        """Forget every counter; returns how many there were."""
        return self._db().execute("DELETE FROM counters").rowcount

    def clear(self, key: str) -> None:
        """Forget ``key``'s counter."""
        self._db().execute("DELETE FROM counters WHERE key = ?", (key,))
