"""Shared state: a small Redis-shaped key-value interface, and where it is kept.

The emulator's default state is plain Python objects in one process (`emulator.core.jobs`
and friends), which is as fast as state can be. A `Store` is what several processes share
instead (``--state redis://…`` or ``sqlite:///…``, ``--data-dir``): the engine's shared
components (the ``emulator.core.shared_*`` modules) keep jobs, ids, the clock, fault
rules, the request record, uploads and webhook deliveries in one, so that any worker
answers for any job and a restart forgets nothing.

Every implementation offers the same operations, named as Redis names them (but two:
``tally``, a counter that is forgotten once back at zero, and ``ztally``, a sorted set's
member whose score counts likewise, scripts on Redis), and runs a
`batch` of them atomically in one round trip, or a batch `guarded` by one more operation
(a script on Redis): what makes a step of shared work that one process claims either
happen whole or not at all. Values are bytes (``str`` is encoded as UTF-8); hash fields and
sorted-set members are text.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

#: one operation: its name, then its arguments, e.g. ``("hincrby", "job:1", "polls", 1)``
Op = tuple[Any, ...]
#: the prefix of the keys that count announcements, which a flush keeps
TOPIC = "topic:"


class StoreUnavailable(Exception):
    """The shared store cannot be reached (or answered with an error): a 503, not a 500."""


class Store:
    """What every shared store offers. ``url`` names it (credentials masked)."""

    url: str = "memory://"

    def batch(self, ops: Sequence[Op]) -> list[Any]:
        """Run ``ops`` atomically, in one round trip; their results, in order."""
        raise NotImplementedError

    def guarded(self, guard: Op, ops: Sequence[Op]) -> list[Any] | None:
        """Run ``guard`` and, only if it answers true (``zrem`` of a member that was
        there), ``ops``, all atomically in one round trip: their results in order, or None
        if the guard answered false. ``ops`` are among those that always answer something
        (``incr``, ``tally``, ``ztally``, ``delete``, ``hset``, ``hincrby``, ``hdel``, ``zadd``,
        ``zrem``, ``rpush``, ``hgetall``, ``hmget``, ``llen``): on Redis a script's answer
        ends at the first answer of nothing, and any other is refused before anything is
        sent."""
        raise NotImplementedError

    def do(self, name: str, *args: Any) -> Any:
        """One operation."""
        return self.batch([(name, *args)])[0]

    def version(self, topic: str) -> int:
        """A number that changes whenever anyone `announce`s ``topic``: what a process
        checks before trusting what it has cached of that topic."""
        return int(self.do("get", TOPIC + topic) or 0)

    def announce(self, topic: str) -> None:
        self.do(*announcing(topic))

    def kept_secret(self, name: str) -> bytes:
        """32 random bytes named ``name``, made by whichever process asks first and then
        the same in every process: for a secret that no seed may derive (anyone who knows a
        seed could), kept, as the topics are, across a flush."""
        key = f"{TOPIC}secret:{name}"
        return bytes(self.batch([("setnx", key, secrets.token_bytes(32)), ("get", key)])[1])

    def ping(self) -> None:
        """Raise `StoreUnavailable` unless the store answers."""
        self.do("get", "topic:ping")

    def flush(self) -> None:
        """Forget everything this emulator keeps in the store but the topics' versions:
        they only ever move on, so no process mistakes a version after a flush for the one
        it cached before (and keeps stale rules or secrets). (`kept_secret`'s secrets are
        kept with them.)"""
        raise NotImplementedError

    def close(self) -> None:
        pass

    @property
    def round_trips(self) -> int:
        """How many round trips this process has made to the store (for benchmarks)."""
        return 0


def as_text(found: dict[str, bytes], errors: str = "strict") -> dict[str, str]:
    """A hash as a store answers ``hgetall`` (values as bytes), as text."""
    return {field: value.decode("utf-8", errors) for field, value in found.items()}


def as_bytes(value: bytes | str | int | float) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode() if not isinstance(value, str) else value.encode()


def announcing(topic: str) -> Op:
    """The op of `Store.announce`, for a batch whose change it announces: a change made but
    never announced (the announcement's own round trip failing) would stay out of force in
    every process that cached what it changed."""
    return ("incr", TOPIC + topic, 1)


#: how long a step that ends or undoes another is tried again while the store fails, and
#: how often (seconds): past a Redis client's one-second break after one slow answer
SETTLE, SETTLE_TICK = 3.0, 0.25


def settled(call: Callable[[], T]) -> T:
    """``call()``, tried again for up to `SETTLE` seconds while the store fails: for a step
    that must follow another (a lease given back, a count undone), which one slow answer
    would otherwise leave undone until a long timeout, or for good."""
    deadline = time.monotonic() + SETTLE
    while True:
        try:
            return call()
        except StoreUnavailable:
            if time.monotonic() >= deadline:
                raise
            time.sleep(SETTLE_TICK)


def give_back(call: Callable[[], object]) -> None:
    """`settled`, and quiet if the store stays away: for giving back what a failed step
    may have taken, whose caller raises its own error (what is not given back waits for its
    lease to run out, or for a reset)."""
    with contextlib.suppress(StoreUnavailable):
        settled(call)


class ComposedOps:
    """The counters a store in this process (memory, SQLite) makes of its own primitives,
    which Redis runs as scripts (`emulator.core.redis_store`): one definition for both."""

    def _incr(self, key: str, by: int = 1) -> int:
        raise NotImplementedError

    def _delete(self, *keys: str) -> int:
        raise NotImplementedError

    def _zscore(self, key: str, member: str) -> Any:
        raise NotImplementedError

    def _zadd(self, key: str, member: str, score: float) -> int:
        raise NotImplementedError

    def _zrem(self, key: str, member: str) -> bool:
        raise NotImplementedError

    def _tally(self, key: str, by: int) -> int:
        value = self._incr(key, by)
        if value == 0:
            self._delete(key)
        return value

    def _ztally(self, key: str, member: str, by: int) -> int:
        value = int(self._zscore(key, member) or 0) + by
        if value <= 0:
            self._zrem(key, member)
        else:
            self._zadd(key, member, value)
        return value


class MemoryStore(ComposedOps, Store):
    """A `Store` in this process's memory: what tests of the shared components run on
    beside Redis and SQLite, and a reference for their semantics."""

    def __init__(self) -> None:
        self._data: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._trips = 0

    def batch(self, ops: Sequence[Op]) -> list[Any]:
        with self._lock:
            self._trips += 1
            return [self._run(op) for op in ops]

    def guarded(self, guard: Op, ops: Sequence[Op]) -> list[Any] | None:
        with self._lock:
            self._trips += 1
            return [self._run(op) for op in ops] if self._run(guard) else None

    def _run(self, op: Op) -> Any:
        return getattr(self, "_" + op[0])(*op[1:])

    def flush(self) -> None:
        with self._lock:
            self._data = {k: v for k, v in self._data.items() if k.startswith(TOPIC)}

    @property
    def round_trips(self) -> int:
        return self._trips

    def _typed(self, key: str, kind: type) -> Any:
        value = self._data.get(key)
        if value is None:
            value = self._data[key] = kind()
        return value

    # strings
    def _get(self, key: str) -> bytes | None:
        return self._data.get(key)

    def _set(self, key: str, value: Any) -> bool:
        self._data[key] = as_bytes(value)
        return True

    def _setnx(self, key: str, value: Any) -> bool:
        if key in self._data:
            return False
        self._data[key] = as_bytes(value)
        return True

    def _delete(self, *keys: str) -> int:
        return sum(self._data.pop(key, None) is not None for key in keys)

    def _incr(self, key: str, by: int = 1) -> int:
        value = int(self._data.get(key) or 0) + by
        self._data[key] = str(value).encode()
        return value

    # hashes
    def _hget(self, key: str, field: str) -> Any:
        return self._data.get(key, {}).get(field)

    def _hgetall(self, key: str) -> dict[str, bytes]:
        return dict(self._data.get(key, {}))

    def _hmget(self, key: str, *fields: str) -> list[bytes | None]:
        table = self._data.get(key, {})
        return [table.get(field) for field in fields]

    def _hset(self, key: str, mapping: dict[str, Any]) -> int:
        table = self._typed(key, dict)
        added = sum(field not in table for field in mapping)
        table.update({field: as_bytes(value) for field, value in mapping.items()})
        return added

    def _hsetnx(self, key: str, field: str, value: Any) -> bool:
        table = self._typed(key, dict)
        if field in table:
            return False
        table[field] = as_bytes(value)
        return True

    def _hincrby(self, key: str, field: str, by: int = 1) -> int:
        table = self._typed(key, dict)
        table[field] = str(int(table.get(field) or 0) + by).encode()
        return int(table[field])

    def _hdel(self, key: str, *fields: str) -> int:
        table = self._data.get(key, {})
        removed = sum(table.pop(field, None) is not None for field in fields)
        if key in self._data and not table:
            del self._data[key]
        return removed

    # sorted sets: members by score, ties by member, as Redis orders them
    def _members(self, key: str) -> list[str]:
        table = self._data.get(key, {})
        return sorted(table, key=lambda member: (table[member], member))

    def _zadd(self, key: str, member: str, score: float) -> int:
        table = self._typed(key, dict)
        added = member not in table
        table[member] = score
        return int(added)

    def _zrem(self, key: str, member: str) -> bool:
        table = self._data.get(key, {})
        removed = table.pop(member, None) is not None
        if key in self._data and not table:
            del self._data[key]
        return removed

    def _zcard(self, key: str) -> int:
        return len(self._data.get(key, {}))

    def _zscore(self, key: str, member: str) -> Any:
        return self._data.get(key, {}).get(member)

    def _zrange(self, key: str, start: int, stop: int) -> list[str]:
        members = self._members(key)
        start, stop = _bounds(len(members), start, stop)
        return members[start:stop]

    def _zrangebyscore(self, key: str, high: float, count: int) -> list[str]:
        table = self._data.get(key, {})
        return [m for m in self._members(key) if table[m] <= high][:count]

    # lists
    def _rpush(self, key: str, *values: Any) -> int:
        items = self._typed(key, list)
        items.extend(as_bytes(value) for value in values)
        return len(items)

    def _lrange(self, key: str, start: int, stop: int) -> Any:
        items = self._data.get(key, [])
        start, stop = _bounds(len(items), start, stop)
        return items[start:stop]

    def _ltrim(self, key: str, start: int, stop: int) -> bool:
        items = self._data.get(key, [])
        start, stop = _bounds(len(items), start, stop)
        items[:] = items[start:stop]
        return True

    def _llen(self, key: str) -> int:
        return len(self._data.get(key, []))

    def _lpop(self, key: str) -> Any:
        items = self._data.get(key, [])
        return items.pop(0) if items else None


def _bounds(length: int, start: int, stop: int) -> tuple[int, int]:
    """Redis's inclusive, possibly negative, ``start``/``stop`` as a Python slice."""
    if start < 0:
        start = max(0, length + start)
    if stop < 0:
        stop = length + stop
    return start, max(start, min(length, stop + 1))


def open_store(url: str) -> Store:
    """The store ``url`` names: ``redis://host:port/db`` (or ``rediss://``),
    ``sqlite:///path/to/file`` or ``memory://`` (one process only, for tests)."""
    scheme = url.partition("://")[0]
    if scheme in ("redis", "rediss", "unix"):
        from emulator.core.redis_store import RedisStore

        return RedisStore(url)
    if scheme == "sqlite":
        from emulator.core.sqlite_store import SqliteStore

        return SqliteStore(url)
    if scheme == "memory":
        return MemoryStore()
    raise ValueError(f"state must be redis://…, sqlite:///… or memory://, not {url!r}")
