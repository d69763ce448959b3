"""What each key was charged outlives its jobs: a job expired or evicted stays charged, in
one process and in every kind of shared store (memory, SQLite, a real redis-server), once
per job whichever process charges it, each key on its own, forgotten only by a reset."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator import EmulatorConfig, Engine
from emulator.core import ledger
from emulator.core.jobs import Budget, Job, JobStore
from emulator.core.ledger import Charge, Ledger, SharedLedger, Spent, micro_usd
from emulator.core.parts import ledger_for
from emulator.core.shared_jobs import SharedJobStore
from emulator.core.store import Store
from tests import shared_stores

stores = shared_stores.stores  # the fixture: two handles on memory, SQLite and Redis
session_redis = shared_stores.session_redis
ENDPOINT = Engine(EmulatorConfig()).contracts.get("fal", "fal-ai/bitdance")


def _job(job_id: str, owner: str = "k", wall: float = 0.0) -> Job:
    assert ENDPOINT is not None
    return Job(job_id, ENDPOINT, owner, {}, 1, 0.0, wall, 1.0, 1.0)


def _books(
    stores: tuple[Store, Store], shared: bool, budget: Budget
) -> tuple[JobStore | SharedJobStore, Ledger | SharedLedger]:
    """Jobs and a ledger: this process's, or on the shared store."""
    if not shared:
        return JobStore(budget), Ledger()
    return SharedJobStore(stores[0], budget, lambda *_: ENDPOINT), SharedLedger(stores[0])


def _kept(jobs: JobStore | SharedJobStore, job: Job, number: int) -> Job:
    """``job`` as its store answers it (with a shared store, read back: a worker's copy)."""
    jobs.add(job, 0.0, number)
    found = jobs.get(job.id, job.owner, 0.0)
    assert found is not None
    return found


@pytest.mark.parametrize("shared", [False, True])
def test_a_job_is_charged_once_and_its_charge_outlives_it(
    stores: tuple[Store, Store], shared: bool
) -> None:
    jobs, book = _books(stores, shared, Budget(max_jobs_per_key=1))
    first = _kept(jobs, _job("a", wall=10.0), 1)
    assert book.charge(first, 0.25)
    assert not book.charge(first, 0.25)  # charged already
    _kept(jobs, _job("b"), 2)  # evicts "a": its charge stays
    assert jobs.get("a", "k", 0.0) is None
    assert book.spent("k") == Spent(0.25, 1)
    assert book.charges("k") == [Charge("a", "fal-ai/bitdance", 0.25, 10.0)]
    assert book.spent("other") == Spent(0.0, 0) and book.charges("other") == []


def test_two_processes_charge_a_job_once(stores: tuple[Store, Store]) -> None:
    jobs = SharedJobStore(stores[0], Budget(), lambda *_: ENDPOINT)
    jobs.add(_job("a"), 0.0, 1)
    seen = [jobs.get("a", "k", 0.0) for _ in range(2)]  # each process's copy, uncharged
    assert all(job is not None and not job.charged for job in seen)
    charged = [
        SharedLedger(store).charge(job, 0.5)  # type: ignore[arg-type]
        for store, job in zip(stores, seen, strict=True)
    ]
    assert charged == [True, False]
    assert SharedLedger(stores[1]).spent("k") == Spent(0.5, 1)
    again = jobs.get("a", "k", 0.0)
    assert again is not None and again.charged  # read afresh: charged


def test_a_job_dropped_before_its_charge_is_charged_by_none(stores: tuple[Store, Store]) -> None:
    jobs = SharedJobStore(stores[0], Budget(max_jobs_per_key=1), lambda *_: ENDPOINT)
    stale = _kept(jobs, _job("a"), 1)
    jobs.add(_job("b"), 0.0, 2)  # another process evicts "a" meanwhile
    assert not SharedLedger(stores[1]).charge(stale, 0.5)
    assert SharedLedger(stores[0]).spent("k") == Spent(0.0, 0)
    assert stores[0].do("hgetall", "job:a") == {}  # its claim left nothing behind


@pytest.mark.parametrize("shared", [False, True])
def test_the_ledger_lists_the_newest_charges_and_counts_them_all(
    stores: tuple[Store, Store], shared: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger, "CHARGES_KEPT", 3)
    jobs, book = _books(stores, shared, Budget())
    for number in range(1, 6):
        book.charge(_kept(jobs, _job(f"j{number}"), number), 0.1)
    assert [c.job_id for c in book.charges("k")] == ["j3", "j4", "j5"]
    assert book.spent("k") == Spent(0.5, 5)


@pytest.mark.parametrize("kind", ["none", "sqlite", "redis"])
def test_a_reset_forgets_the_charges(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Wherever an engine keeps its ledger (none: in this process), a reset forgets it."""
    url = "memory" if kind == "none" else shared_stores.store_url(kind, request, tmp_path)
    engine = Engine(EmulatorConfig(state=url))
    try:
        assert ENDPOINT is not None
        job = engine.submit(ENDPOINT, {"prompt": "x"}, "k")
        assert engine.ledger.charge(job, 1.0) and engine.ledger.spent("k") == Spent(1.0, 1)
        engine.reset()
        assert engine.ledger.spent("k") == Spent(0.0, 0) and engine.ledger.charges("k") == []
    finally:
        engine.close()


def test_the_charges_survive_a_restart(tmp_path: Path) -> None:
    config = EmulatorConfig(data_dir=tmp_path)
    assert ENDPOINT is not None
    before = Engine(config)
    before.ledger.charge(before.submit(ENDPOINT, {"prompt": "x"}, "k"), 0.3)
    before.close()
    after = Engine(config)
    try:
        assert after.ledger.spent("k") == Spent(0.3, 1)
        assert [c.usd for c in after.ledger.charges("k")] == [0.3]
    finally:
        after.close()


def test_the_ledger_is_where_the_jobs_are(stores: tuple[Store, Store]) -> None:
    assert isinstance(ledger_for(None), Ledger)
    assert isinstance(ledger_for(stores[0]), SharedLedger)


@pytest.mark.parametrize(
    ("usd", "micro"),
    [(0.01, 10_000), (0.000001, 1), (0.0, 0), (-1.0, 0), (float("inf"), 10**12)],
)
def test_a_charge_counts_in_whole_micro_dollars_within_a_bound(usd: float, micro: int) -> None:
    assert micro_usd(usd) == micro
    assert micro_usd(float("nan")) == 10**12
