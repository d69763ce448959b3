"""Two handles on one shared store, as two worker processes have: memory, SQLite, Redis.

Name the fixture in a test module (``stores = shared_stores.stores``): each
test runs on every kind of store, a real redis-server for Redis. Memory gives one object
twice (it lives in one process); SQLite and Redis open the same URL twice. One
redis-server serves a whole test session (each worker's own); each test has its own key
prefix there, flushed after it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.core.store import Store, open_store
from tests.redis_server import redis_server


@pytest.fixture(scope="session")
def session_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield server.url


@pytest.fixture(params=["memory", "sqlite", "redis"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    if request.param == "memory":
        one = open_store("memory://")
        yield one, one
        return
    if request.param == "redis":
        url = request.getfixturevalue("session_redis") + f"?prefix=t{secrets.token_hex(4)}"
    else:
        url = f"sqlite://{tmp_path / 'state.db'}"
    first, second = open_store(url), open_store(url)
    yield first, second
    first.flush()
    first.close()
    second.close()
