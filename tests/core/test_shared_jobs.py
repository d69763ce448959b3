"""Jobs in a shared store stay consistent whenever a process dies: each job is in the
submission order, its key's order and the byte counts together, or in none of them; and
the total budgets take from the key holding the most, as in one process."""

from __future__ import annotations

import pytest

from emulator import EmulatorConfig, Engine
from emulator.core.jobs import JOB_OVERHEAD, Budget, Job, JobsFull
from emulator.core.shared_jobs import HOLDERS, HOLDERS_BY_BYTES, SharedJobStore
from emulator.core.store import Store, StoreUnavailable
from tests import shared_stores

stores = shared_stores.stores  # the fixture: every test on memory, SQLite and Redis
session_redis = shared_stores.session_redis
ENDPOINT = Engine(EmulatorConfig()).contracts.get("fal", "fal-ai/bitdance")


def _job(job_id: str, size: int, owner: str = "k") -> Job:
    assert ENDPOINT is not None
    return Job(
        id=job_id,
        endpoint=ENDPOINT,
        owner=owner,
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


def _budgeted(store: Store, budget: Budget, *done: str) -> SharedJobStore:
    """Jobs kept within ``budget``, of which those named ``done`` have finished."""
    return SharedJobStore(store, budget, lambda *_: ENDPOINT, lambda job, now: job.id in done)


def _submit(jobs: SharedJobStore, *submissions: tuple[str, int]) -> None:
    for owner, n in submissions:
        jobs.add(_job(f"{owner}-{n}", 0, owner), 0.0, n + 1)


def test_past_the_total_the_key_holding_the_most_loses_its_oldest_finished_job(
    stores: tuple[Store, Store],
) -> None:
    """(The oldest job of all went, whoever's and however far along: a teammate's jobs
    evicted a key's job as it was being polled, in its queue: an audit.)"""
    jobs = _budgeted(stores[0], Budget(max_jobs=4), "quiet-0", "busy-2", "busy-3")
    _submit(jobs, ("quiet", 0), ("busy", 1), ("busy", 2), ("busy", 3), ("new", 4))
    other = _budgeted(stores[1], Budget(max_jobs=4))
    assert [job.id for job in other] == ["quiet-0", "busy-1", "busy-3", "new-4"]
    assert other.expired("busy-2", "busy")
    assert stores[1].do("zrange", HOLDERS, 0, -1) == ["new", "quiet", "busy"]


def test_past_the_total_bytes_the_key_holding_the_most_bytes_loses(
    stores: tuple[Store, Store],
) -> None:
    jobs = _budgeted(stores[0], Budget(max_bytes=8500), "many-0", "big-3")
    _submit(jobs, ("many", 0), ("many", 1), ("many", 2))
    jobs.add(_job("big-3", 3000, "big"), 0.0, 4)
    jobs.add(_job("other-4", 1000, "other"), 0.0, 5)  # "big" holds the most, in one job
    assert [job.id for job in jobs] == ["many-0", "many-1", "many-2", "other-4"]
    assert stores[1].do("zrange", HOLDERS_BY_BYTES, 0, -1) == ["other", "many"]


def test_a_submission_only_a_queued_or_running_job_could_make_room_for_is_refused(
    stores: tuple[Store, Store],
) -> None:
    jobs = _budgeted(stores[0], Budget(max_jobs=2), "late-2")
    _submit(jobs, ("quiet", 0), ("busy", 1))
    with pytest.raises(JobsFull, match="total budget"):
        _submit(jobs, ("late", 2))  # itself finished at once: still no room for it
    other = _budgeted(stores[1], Budget(max_jobs=2))
    assert [job.id for job in other] == ["quiet-0", "busy-1"]
    assert not other.expired("late-2", "late")  # never answered for: unknown, not expired
    assert other.retained_bytes == 2 * JOB_OVERHEAD
    assert stores[1].do("zrange", HOLDERS, 0, -1) == ["busy", "quiet"]


def test_past_the_total_the_oldest_finished_job_of_all_makes_room_when_the_holders_have_none(
    stores: tuple[Store, Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    """(Only the biggest holders' oldest jobs were looked at: a submission was refused
    though another key's job had finished.)"""
    monkeypatch.setattr("emulator.core.shared_jobs.HOLDERS_LOOKED_AT", 1)
    jobs = _budgeted(stores[0], Budget(max_jobs=3), "quiet-0")
    _submit(jobs, ("quiet", 0), ("busy", 1), ("busy", 2), ("late", 3))
    assert [job.id for job in _budgeted(stores[1], Budget())] == ["busy-1", "busy-2", "late-3"]


def test_make_room_refuses_before_the_job_is_made(stores: tuple[Store, Store]) -> None:
    jobs = _budgeted(stores[0], Budget(max_jobs=2), "a-0")
    _submit(jobs, ("a", 0), ("b", 1))
    jobs.make_room("c", 0, 0.0)  # a-0 has finished: it goes
    _submit(jobs, ("c", 2))
    with pytest.raises(JobsFull):
        jobs.make_room("d", 0, 0.0)
    assert [job.id for job in _budgeted(stores[1], Budget())] == ["b-1", "c-2"]
