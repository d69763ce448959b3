"""Stores for the tests of the shared components: none (one process, as today), or each kind
of shared store (`tests.shared_stores`: memory, SQLite and a real redis-server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.core.store import Store, open_store
from tests import shared_stores

session_redis = shared_stores.session_redis
stores = shared_stores.stores  # two handles on one store, as two processes have


@pytest.fixture(params=["none", "memory", "sqlite", "redis"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store | None]:
    """No store (the in-process objects), or each kind of shared store."""
    if request.param == "none":
        yield None
        return
    store = open_store(shared_stores.store_url(request.param, request, tmp_path))
    yield store
    store.flush()
    store.close()
