"""Two handles on one shared store, as two worker processes have: memory, SQLite, Redis.

Name the fixture in a test module (``stores = shared_stores.stores``): each
test runs on every kind of store, a real redis-server for Redis. Memory gives one object
twice (it lives in one process); SQLite and Redis open the same URL twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.core.store import Store, open_store


@pytest.fixture(params=["memory", "sqlite", "redis"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    if request.param == "memory":
        one = open_store("memory://")
        yield one, one
        return
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
    else:
        url = f"sqlite://{tmp_path / 'state.db'}"
    first, second = open_store(url), open_store(url)
    yield first, second
    first.flush()
    first.close()
    second.close()
