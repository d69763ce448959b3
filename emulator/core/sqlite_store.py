"""The shared store in one SQLite file (``--state sqlite:///path``, or ``--data-dir``).

What ``--data-dir`` keeps across restarts, and what several workers on one host share
without a Redis. SQLite is the trusted engine here: each batch is one transaction
(``BEGIN IMMEDIATE``, so writers queue rather than fail), the journal is write-ahead, and a
process killed mid-write loses at most that transaction, never the file.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote

from emulator.core.store import (
    TOPIC,
    ComposedOps,
    Op,
    Store,
    StoreUnavailable,
    _bounds,
    as_bytes,
)

#: seconds a batch waits for another process's transaction before the store is unavailable
BUSY_TIMEOUT = 5.0

#: the operations that only read
READS = frozenset(
    {
        "get",
        "hget",
        "hgetall",
        "hmget",
        "zcard",
        "zscore",
        "zrange",
        "zrangebyscore",
        "lrange",
        "llen",
    }
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS strings (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS hashes (
    key TEXT NOT NULL, field TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (key, field));
CREATE TABLE IF NOT EXISTS zsets (
    key TEXT NOT NULL, member TEXT NOT NULL, score REAL NOT NULL, PRIMARY KEY (key, member));
CREATE INDEX IF NOT EXISTS zsets_by_score ON zsets (key, score, member);
CREATE TABLE IF NOT EXISTS lists (
    id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, value BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS lists_by_key ON lists (key, id);
"""


def sqlite_path(url: str) -> Path:
    """The file ``url`` names (``sqlite:///abs/path``, ``sqlite://relative``), its path
    percent-decoded as a URL's is; a `ValueError` for a query option, which the store would
    ignore: ``?mode=ro`` had made a file named ``x.db?mode=ro``, read and written."""
    path, _, query = url.removeprefix("sqlite://").partition("?")
    if query:
        name = next(iter(parse_qs(query, keep_blank_values=True)), query)
        raise ValueError(
            f"a SQLite state's URL takes no query options, not ?{name}= "
            "(the emulator opens the file itself; a ? in its name is written %3F)"
        )
    return Path(unquote(path))


class SqliteStore(ComposedOps, Store):
    def __init__(self, url: str) -> None:
        path = sqlite_path(url)
        self.url = f"sqlite://{quote(str(path))}"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailable(f"SQLite at {path}: {exc}") from None
        self._lock = threading.Lock()
        self._trips = 0

    def batch(self, ops: Sequence[Op]) -> list[Any]:
        return self._transaction(None, ops) or []

    def guarded(self, guard: Op, ops: Sequence[Op]) -> list[Any] | None:
        return self._transaction(guard, ops)

    def _transaction(self, guard: Op | None, ops: Sequence[Op]) -> list[Any] | None:
        """``ops`` in one transaction, if ``guard`` (first, in it) answers true."""
        with self._lock:
            self._trips += 1
            # Reads share the file (write-ahead log); a batch that writes takes the write
            # lock at once, so it queues behind another process's rather than failing.
            reading = guard is None and all(op[0] in READS for op in ops)
            try:
                self._db.execute("BEGIN" if reading else "BEGIN IMMEDIATE")
                try:
                    results = None
                    if guard is None or self._run(guard):
                        results = [self._run(op) for op in ops]
                    self._db.execute("COMMIT")
                except BaseException:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"SQLite at {self.url}: {exc}") from None
            return results

    def _run(self, op: Op) -> Any:
        return getattr(self, "_" + op[0])(*op[1:])

    def flush(self) -> None:
        self.batch([("flushall",)])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @property
    def round_trips(self) -> int:
        return self._trips

    def _flushall(self) -> None:
        for table in ("hashes", "zsets", "lists"):
            self._db.execute(f"DELETE FROM {table}")  # noqa: S608 (fixed names)
        self._db.execute("DELETE FROM strings WHERE substr(key, 1, ?) != ?", (len(TOPIC), TOPIC))

    def _one(self, sql: str, *args: Any) -> Any:
        row = self._db.execute(sql, args).fetchone()
        return row[0] if row else None

    # strings
    def _get(self, key: str) -> bytes | None:
        value: bytes | None = self._one("SELECT value FROM strings WHERE key = ?", key)
        return value

    def _set(self, key: str, value: Any) -> bool:
        self._db.execute("INSERT OR REPLACE INTO strings VALUES (?, ?)", (key, as_bytes(value)))
        return True

    def _setnx(self, key: str, value: Any) -> bool:
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO strings VALUES (?, ?)", (key, as_bytes(value))
        )
        return cursor.rowcount == 1

    def _delete(self, *keys: str) -> int:
        removed = 0
        for key in keys:
            for table in ("strings", "hashes", "zsets", "lists"):
                sql = f"DELETE FROM {table} WHERE key = ?"  # noqa: S608 (fixed names)
                removed += self._db.execute(sql, (key,)).rowcount > 0
        return removed

    def _incr(self, key: str, by: int = 1) -> int:
        value = int(self._get(key) or 0) + by
        self._set(key, value)
        return value

    # hashes
    def _hget(self, key: str, field: str) -> Any:
        return self._one("SELECT value FROM hashes WHERE key = ? AND field = ?", key, field)

    def _hgetall(self, key: str) -> dict[str, bytes]:
        rows = self._db.execute("SELECT field, value FROM hashes WHERE key = ?", (key,))
        return dict(rows.fetchall())

    def _hmget(self, key: str, *fields: str) -> list[bytes | None]:
        return [self._hget(key, field) for field in fields]

    def _hset(self, key: str, mapping: dict[str, Any]) -> int:
        added = 0
        for field, value in mapping.items():
            added += self._hget(key, field) is None
            self._db.execute(
                "INSERT OR REPLACE INTO hashes VALUES (?, ?, ?)", (key, field, as_bytes(value))
            )
        return added

    def _hsetnx(self, key: str, field: str, value: Any) -> bool:
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO hashes VALUES (?, ?, ?)", (key, field, as_bytes(value))
        )
        return cursor.rowcount == 1

    def _hincrby(self, key: str, field: str, by: int = 1) -> int:
        value = int(self._hget(key, field) or 0) + by
        self._hset(key, {field: value})
        return value

    def _hdel(self, key: str, *fields: str) -> int:
        return sum(
            self._db.execute(
                "DELETE FROM hashes WHERE key = ? AND field = ?", (key, field)
            ).rowcount
            for field in fields
        )

    # sorted sets
    def _zadd(self, key: str, member: str, score: float) -> int:
        added = self._zscore(key, member) is None
        self._db.execute("INSERT OR REPLACE INTO zsets VALUES (?, ?, ?)", (key, member, score))
        return int(added)

    def _zrem(self, key: str, member: str) -> bool:
        sql = "DELETE FROM zsets WHERE key = ? AND member = ?"
        return self._db.execute(sql, (key, member)).rowcount == 1

    def _zcard(self, key: str) -> int:
        return int(self._one("SELECT COUNT(*) FROM zsets WHERE key = ?", key))

    def _zscore(self, key: str, member: str) -> float | None:
        sql = "SELECT score FROM zsets WHERE key = ? AND member = ?"
        score: float | None = self._one(sql, key, member)
        return score

    def _zrange(self, key: str, start: int, stop: int) -> list[str]:
        start, stop = _bounds(self._zcard(key), start, stop)
        rows = self._db.execute(
            "SELECT member FROM zsets WHERE key = ? ORDER BY score, member LIMIT ? OFFSET ?",
            (key, stop - start, start),
        )
        return [row[0] for row in rows]

    def _zrangebyscore(self, key: str, high: float, count: int) -> list[str]:
        rows = self._db.execute(
            "SELECT member FROM zsets WHERE key = ? AND score <= ? ORDER BY score, member LIMIT ?",
            (key, high, count),
        )
        return [row[0] for row in rows]

    # lists
    def _rpush(self, key: str, *values: Any) -> int:
        self._db.executemany(
            "INSERT INTO lists (key, value) VALUES (?, ?)", [(key, as_bytes(v)) for v in values]
        )
        return self._llen(key)

    def _lrange(self, key: str, start: int, stop: int) -> list[bytes]:
        start, stop = _bounds(self._llen(key), start, stop)
        rows = self._db.execute(
            "SELECT value FROM lists WHERE key = ? ORDER BY id LIMIT ? OFFSET ?",
            (key, stop - start, start),
        )
        return [row[0] for row in rows]

    def _ltrim(self, key: str, start: int, stop: int) -> bool:
        start, stop = _bounds(self._llen(key), start, stop)
        self._db.execute(
            "DELETE FROM lists WHERE key = ? AND id NOT IN "
            "(SELECT id FROM lists WHERE key = ? ORDER BY id LIMIT ? OFFSET ?)",
            (key, key, stop - start, start),
        )
        return True

    def _lpop(self, key: str) -> Any:
        row = self._db.execute(
            "SELECT id, value FROM lists WHERE key = ? ORDER BY id LIMIT 1", (key,)
        ).fetchone()
        if row is None:
            return None
        self._db.execute("DELETE FROM lists WHERE id = ?", (row[0],))
        return row[1]

    def _llen(self, key: str) -> int:
        return int(self._one("SELECT COUNT(*) FROM lists WHERE key = ?", key))
