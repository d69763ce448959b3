from emulator.contracts.documents import DEFAULT_CONTRACTS_DIR, load_contracts
from emulator.core.jobs import Budget, Job, JobStore

ENDPOINT = next(iter(load_contracts([DEFAULT_CONTRACTS_DIR])))


def job(job_id: str, owner: str = "a", at: float = 0.0) -> Job:
    return Job(
        id=job_id,
        endpoint=ENDPOINT,
        owner=owner,
        payload={},
        seed=1,
        submitted_at=at,
        submitted_wall=at,
        queue_span=0,
        run_span=0,
    )


def test_a_job_is_visible_only_to_its_owner() -> None:
    store = JobStore(Budget(retention=10, max_jobs=10))
    store.add(job("1", owner="a"), now=0)
    assert store.get("1", "a", now=0) is not None
    assert store.get("1", "b", now=0) is None


def test_jobs_expire_after_the_retention() -> None:
    store = JobStore(Budget(retention=10, max_jobs=10))
    store.add(job("old", at=0), now=0)
    assert store.get("old", "a", now=10) is not None
    assert store.get("old", "a", now=10.5) is None
    store.add(job("new", at=11), now=11)
    assert len(store) == 1  # the expired job was dropped when the next one came


def test_the_store_is_bounded_in_count() -> None:
    store = JobStore(Budget(retention=1000, max_jobs=3))
    for i in range(5):
        store.add(job(str(i), at=i), now=i)
    assert [j.id for j in store] == ["2", "3", "4"]


def test_a_job_is_small() -> None:
    assert not hasattr(job("x"), "__dict__")  # slots only: the per-job budget is ~1.5 KB


def _job(owner: str, n: int, size: int = 0) -> Job:
    return Job(
        id=f"{owner}-{n}",
        endpoint=ENDPOINT,
        owner=owner,
        payload={},
        seed=0,
        submitted_at=float(n),
        submitted_wall=0.0,
        queue_span=0.0,
        run_span=0.0,
        size=size,
    )


def test_a_key_over_its_budget_evicts_its_own_oldest_not_anothers() -> None:
    store = JobStore(Budget(max_jobs_per_key=2, max_bytes_per_key=10**9))
    store.add(_job("quiet", 0), 0)
    for n in range(1, 6):
        store.add(_job("flood", n), n)
    assert store.get("quiet-0", "quiet", 5) is not None
    assert [j.id for j in store] == ["quiet-0", "flood-4", "flood-5"]
    assert store.expired("flood-1", "flood") and not store.expired("flood-1", "quiet")


def test_bytes_count_as_well_as_jobs() -> None:
    store = JobStore(Budget(max_bytes=3 * 2024, max_bytes_per_key=10**9))
    for n in range(5):
        store.add(_job("k", n, size=1000), n)  # 1000 bytes of input + the fixed overhead
    assert len(store) == 3 and store.retained_bytes == 3 * 2024
    store.clear()
    assert store.retained_bytes == 0 and not store.expired("k-0", "k")
