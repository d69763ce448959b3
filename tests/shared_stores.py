"""Two handles on one shared store, as two worker processes have: memory, SQLite, Redis.

Name the fixture in a test module (``stores = shared_stores.stores``): each
test runs on every kind of store, a real redis-server for Redis. Memory gives one object
twice (it lives in one process); SQLite and Redis open the same URL twice. One
redis-server serves a whole test session (each worker's own); each test has its own key
prefix there, flushed after it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
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
