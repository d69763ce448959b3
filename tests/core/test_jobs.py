from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.contracts.loading import DEFAULT_CONTRACTS_DIR, load_contracts
from emulator.core.jobs import JOB_OVERHEAD, Budget, Job, JobStore

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


def test_a_page_is_the_same_slice_from_either_end_and_per_owner() -> None:
    store = JobStore(Budget(retention=10, max_jobs=100))
    for n in range(30):
        store.add(job(str(n), owner="ab"[n % 2]), now=0)
    ids = [j.id for j in store]
    for offset, limit in ((0, 5), (12, 7), (20, 100), (28, 5), (30, 5), (45, 1)):
        assert [j.id for j in store.page(offset, limit)] == ids[offset : offset + limit]
    owners = [j.id for j in store if j.owner == "b"]
    assert [j.id for j in store.page(3, 4, "b")] == owners[3:7]
    assert store.page(0, 10, "nobody") == []


_BIG = JOB_OVERHEAD + 100  # the most a drawn job holds


def _kept_by_rule(budget: Budget, submissions: list[tuple[str, float, int]]) -> list[str]:
    """What ``budget`` keeps, the slow way: after each submission, its key's oldest go while
    the key is over its budget, then the oldest of all while the store is over its own or
    the oldest is past the retention."""
    kept: list[tuple[str, str, float, int]] = []  # id, owner, submitted at, size

    def owners(owner: str) -> list[tuple[str, str, float, int]]:
        return [k for k in kept if k[1] == owner]

    for n, (owner, at, size) in enumerate(submissions):
        kept.append((f"{owner}-{n}", owner, at, size + JOB_OVERHEAD))
        while len(owners(owner)) > budget.max_jobs_per_key or (
            sum(k[3] for k in owners(owner)) > budget.max_bytes_per_key
        ):
            kept.remove(owners(owner)[0])
        while kept and (
            len(kept) > budget.max_jobs
            or sum(k[3] for k in kept) > budget.max_bytes
            or at - kept[0][2] > budget.retention
        ):
            kept.pop(0)
    return [k[0] for k in kept]


@settings(max_examples=200)  # milliseconds each
@given(
    budget=st.builds(
        Budget,
        retention=st.sampled_from([0.5, 2.0, 5.0]),
        # tight budgets, and ones so loose that only the retention drops a job
        max_jobs=st.sampled_from([2, 5, 1000]),
        max_bytes=st.sampled_from([2 * _BIG, 5 * _BIG, 10**9]),
        max_jobs_per_key=st.sampled_from([1, 3, 1000]),
        max_bytes_per_key=st.sampled_from([2 * _BIG, 10**9]),
    ),
    steps=st.lists(
        st.tuples(
            st.sampled_from("abc"), st.sampled_from([0.0, 0.5, 1.0, 3.0]), st.integers(0, 100)
        ),
        max_size=25,
    ),
)
def test_the_store_keeps_what_its_budget_says_after_every_submission(
    budget: Budget, steps: list[tuple[str, float, int]]
) -> None:
    # A submission looks for expired jobs only once one may be due: this checks the
    # shortcut never keeps a job the rule drops, whichever way the oldest went.
    store, submissions, now = JobStore(budget), [], 0.0
    for owner, wait, size in steps:
        now += wait
        submissions.append((owner, now, size))
        store.add(_at(owner, len(submissions) - 1, now, size), now)
        assert [j.id for j in store] == _kept_by_rule(budget, submissions)


def _at(owner: str, n: int, at: float, size: int) -> Job:
    found = _job(owner, n, size)
    found.submitted_at = at
    return found
