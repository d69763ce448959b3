"""Stores for the tests of the shared components: none (one process, as today), memory,
SQLite and a real redis-server (one per test module, emptied after each test)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.core.store import Store, open_store
from tests.redis_server import redis_server


@pytest.fixture(scope="module")
def module_redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield server.url


def _url(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if kind == "redis":
        return str(request.getfixturevalue("module_redis_url"))
    return f"sqlite://{tmp_path / 'state.db'}" if kind == "sqlite" else "memory://"


@pytest.fixture(params=["none", "memory", "sqlite", "redis"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store | None]:
    """No store (the in-process objects), or each kind of shared store."""
    if request.param == "none":
        yield None
        return
    store = open_store(_url(request.param, request, tmp_path))
    yield store
    store.flush()
    store.close()


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store_pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    """Two connections to one shared store, as two processes have (memory: one object)."""
    url = _url(request.param, request, tmp_path)
    first = open_store(url)
    second = first if request.param == "memory" else open_store(url)
    yield first, second
    first.flush()
    for store in {id(first): first, id(second): second}.values():
        store.close()
