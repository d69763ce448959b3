"""Two handles on one shared store, as two worker processes have: memory, SQLite, Redis.

Name the fixture in a test module (``stores = shared_stores.stores``): each
test runs on every kind of store, a real redis-server for Redis. Memory gives one object
twice (it lives in one process); SQLite and Redis open the same URL twice. One
redis-server serves a whole test session (each worker's own); each test has its own key
prefix there, flushed after it.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from emulator.core.store import Op, Store, StoreUnavailable, open_store
from tests.redis_server import redis_server


@pytest.fixture(scope="session")
def session_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield server.url


def store_url(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of a new, empty shared store of ``kind`` (``memory``, ``sqlite``, ``redis``)."""
    if kind == "redis":
        return request.getfixturevalue("session_redis") + f"?prefix=t{secrets.token_hex(4)}"
    return f"sqlite://{tmp_path / 'state.db'}" if kind == "sqlite" else "memory://"


@pytest.fixture(params=["memory", "sqlite", "redis"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    url = store_url(request.param, request, tmp_path)
    first = open_store(url)
    second = first if request.param == "memory" else open_store(url)
    yield first, second
    first.flush()
    for store in {id(first): first, id(second): second}.values():
        store.close()


class Dying(Store):
    """``store`` as a process sees it that dies just before its ``fatal``-th round trip:
    that one and every later one never reaches the store."""

    def __init__(self, store: Store, fatal: int) -> None:
        self.store, self.fatal, self.trips = store, fatal, 0

    def _trip(self) -> None:
        self.trips += 1
        if self.trips >= self.fatal:
            raise StoreUnavailable("the process died")

    def batch(self, ops: Sequence[Op]) -> list[Any]:
        self._trip()
        return self.store.batch(ops)

    def guarded(self, guard: Op, ops: Sequence[Op]) -> list[Any] | None:
        self._trip()
        return self.store.guarded(guard, ops)


class Failing(Store):
    """``store``, whose first round trip that ``fails(ops)`` picks fails with the store's
    error: before it reaches the store or, ``lost``, after it went through (its answer
    lost), as one slow answer from Redis does; and the ``then`` round trips after it, as
    the Redis client's break after a slow answer fails them. A guarded round trip's ops
    begin with its guard."""

    def __init__(
        self,
        store: Store,
        fails: Callable[[list[Op]], bool],
        *,
        lost: bool = False,
        then: int = 0,
    ) -> None:
        self.store, self.fails, self.lost = store, fails, lost
        self.failing: int | None = None  # round trips still to fail, once one was picked
        self.then = then

    def _trip(self, ops: list[Op], call: Callable[[], Any]) -> Any:
        if self.failing is None and self.fails(ops):
            self.failing = self.then
            if self.lost:
                call()
            raise StoreUnavailable("one slow answer")
        if self.failing:
            self.failing -= 1
            raise StoreUnavailable("the client's break after a slow answer")
        return call()

    def batch(self, ops: Sequence[Op]) -> list[Any]:
        return self._trip(list(ops), lambda: self.store.batch(ops))  # type: ignore[no-any-return]

    def guarded(self, guard: Op, ops: Sequence[Op]) -> list[Any] | None:
        return self._trip([guard, *ops], lambda: self.store.guarded(guard, ops))  # type: ignore[no-any-return]


def nth(picks: Callable[[list[Op]], bool], n: int) -> Callable[[list[Op]], bool]:
    """Picks the ``n``-th round trip of those ``picks`` picks."""
    picked = itertools.count(1)
    return lambda ops: picks(ops) and next(picked) == n


def with_op(name: str, key: str = "") -> Callable[[list[Op]], bool]:
    """Picks a round trip with an op ``name`` on a key that starts with ``key``."""
    return lambda ops: any(op[0] == name and str(op[1]).startswith(key) for op in ops)
