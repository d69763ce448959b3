"""Jobs in a shared store stay consistent whenever a process dies: each job is in the
submission order, its key's order and the byte counts together, or in none of them."""

from __future__ import annotations

import pytest

from emulator import EmulatorConfig, Engine
from emulator.core.jobs import Budget, Job
from emulator.core.shared_jobs import SharedJobStore
from emulator.core.store import Store, StoreUnavailable
from tests import shared_stores

stores = shared_stores.stores  # the fixture: every test on memory, SQLite and Redis
session_redis = shared_stores.session_redis
ENDPOINT = Engine(EmulatorConfig()).contracts.get("fal", "fal-ai/bitdance")


def _job(job_id: str, size: int) -> Job:
    assert ENDPOINT is not None
    return Job(
        id=job_id,
        endpoint=ENDPOINT,
        owner="k",
        payload={},
        seed=1,
        submitted_at=0.0,
        submitted_wall=0.0,
        queue_span=1.0,
        run_span=1.0,
        size=size,
    )


def _consistent(store: Store) -> None:
    jobs = set(store.do("zrange", "jobs", 0, -1))
    owned = set(store.do("zrange", "jobs:key:k", 0, -1))
    sizes = {job_id: int(store.do("hget", f"job:{job_id}", "size")) for job_id in jobs}
    assert owned == jobs
    assert int(store.do("get", "jobs:bytes") or 0) == sum(sizes.values())
    assert int(store.do("get", "jobs:bytes:k") or 0) == sum(sizes.values())


@pytest.mark.parametrize("fatal", [1, 2, 3, 4, 5])
def test_a_process_dying_mid_eviction_leaves_every_job_whole_or_gone(
    stores: tuple[Store, Store], fatal: int
) -> None:
    store, budget = stores[0], Budget(max_jobs_per_key=1)
    SharedJobStore(store, budget, lambda *_: ENDPOINT).add(_job("a", 10), 0.0, 1)
    dying = SharedJobStore(shared_stores.Dying(store, fatal), budget, lambda *_: ENDPOINT)
    dying._expired_at = 0.0  # no expiry sweep: only the key's eviction of "a"
    try:
        dying.add(_job("b", 20), 0.0, 2)
    except StoreUnavailable:
        pass
    _consistent(store)
