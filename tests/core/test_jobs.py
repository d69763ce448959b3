from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.contracts.loading import DEFAULT_CONTRACTS_DIR, load_contracts
from emulator.core.jobs import JOB_OVERHEAD, Budget, Job, JobsFull, JobStore

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


def _done(*ids: str) -> Callable[[Job, float], bool]:
    return lambda job, now: job.id in ids


def test_past_the_total_the_key_holding_the_most_loses_its_oldest_finished_job() -> None:
    """(The oldest job of all went, whoever's and however far along: a teammate's jobs
    evicted a key's job as it was being polled, in its queue: an audit.)"""
    store = JobStore(Budget(max_jobs=4), _done("busy-2", "busy-3", "quiet-0"))
    for owner, n in (("quiet", 0), ("busy", 1), ("busy", 2), ("busy", 3), ("new", 4)):
        store.add(_job(owner, n), n)
    assert [j.id for j in store] == ["quiet-0", "busy-1", "busy-3", "new-4"]
    assert store.expired("busy-2", "busy")


def test_past_the_total_bytes_the_key_holding_the_most_bytes_loses() -> None:
    store = JobStore(Budget(max_bytes=8500), _done("many-0", "big-3"))
    for owner, n, size in (("many", 0, 0), ("many", 1, 0), ("many", 2, 0), ("big", 3, 3000)):
        store.add(_job(owner, n, size), n)
    store.add(_job("other", 4, 1000), 4)  # past the bytes: "big" holds the most, in one job
    assert [j.id for j in store] == ["many-0", "many-1", "many-2", "other-4"]


def test_a_submission_only_a_queued_or_running_job_could_make_room_for_is_refused() -> None:
    store = JobStore(Budget(max_jobs=2), _done("late-2"))
    store.add(_job("quiet", 0), 0)
    store.add(_job("busy", 1), 1)
    with pytest.raises(JobsFull, match="total budget"):
        store.add(_job("late", 2), 2)  # itself finished at once: still no room for it
    assert [j.id for j in store] == ["quiet-0", "busy-1"]
    assert not store.expired("late-2", "late")  # never answered for: unknown, not expired
    assert store.retained_bytes == 2 * JOB_OVERHEAD


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


def _finished(job: Job, now: float) -> bool:
    """The drawn jobs' stand-in for their phase: those of an even size are done."""
    return (job.size - JOB_OVERHEAD) % 2 == 0


def _kept_by_rule(
    budget: Budget, submissions: list[tuple[str, float, int]]
) -> tuple[list[str], bool]:
    """What ``budget`` keeps, the slow way, and whether the last submission was refused:
    after each submission, its key's oldest go while the key is over its budget, then the
    oldest of all while past the retention; then, while the store is over a total, the
    oldest finished job (but the new one) of the key holding the most (jobs, or bytes while
    the jobs are within theirs; ties by key), else the submission is refused."""
    kept: list[tuple[str, str, float, int]] = []  # id, owner, submitted at, size
    refused = False

    def owners(owner: str) -> list[tuple[str, str, float, int]]:
        return [k for k in kept if k[1] == owner]

    for n, (owner, at, size) in enumerate(submissions):
        new = (f"{owner}-{n}", owner, at, size + JOB_OVERHEAD)
        kept.append(new)
        refused = False
        while len(owners(owner)) > budget.max_jobs_per_key or (
            sum(k[3] for k in owners(owner)) > budget.max_bytes_per_key
        ):
            kept.remove(owners(owner)[0])
        while kept and at - kept[0][2] > budget.retention:
            kept.pop(0)
        while len(kept) > budget.max_jobs or sum(k[3] for k in kept) > budget.max_bytes:
            index = 0 if len(kept) > budget.max_jobs else 3  # count, or bytes

            def held(holder: str, index: int = index) -> int:
                return len(owners(holder)) if index == 0 else sum(k[3] for k in owners(holder))

            ranked = sorted({k[1] for k in kept}, key=lambda holder: (-held(holder), holder))
            finished = [
                k
                for holder in ranked
                for k in owners(holder)
                if k is not new and (k[3] - JOB_OVERHEAD) % 2 == 0
            ]
            if not finished:
                if new in kept:
                    kept.remove(new)
                refused = True
                break
            kept.remove(finished[0])
    return [k[0] for k in kept], refused


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
    store, submissions, now = JobStore(budget, _finished), [], 0.0
    for owner, wait, size in steps:
        now += wait
        submissions.append((owner, now, size))
        try:
            store.add(_at(owner, len(submissions) - 1, now, size), now)
            refused = False
        except JobsFull:
            refused = True
        assert ([j.id for j in store], refused) == _kept_by_rule(budget, submissions)


def _at(owner: str, n: int, at: float, size: int) -> Job:
    found = _job(owner, n, size)
    found.submitted_at = at
    return found


def test_past_the_total_the_oldest_finished_job_of_all_makes_room_when_the_holders_have_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """(Only the biggest holders' oldest jobs were looked at: a submission was refused
    though another key's job had finished, the holders' being starved or never polled.)"""
    monkeypatch.setattr("emulator.core.jobs.HOLDERS_LOOKED_AT", 1)
    store = JobStore(Budget(max_jobs=3), _done("quiet-0"))
    for owner, n in (("quiet", 0), ("busy", 1), ("busy", 2)):
        store.add(_job(owner, n), 0.0)
    store.add(_job("late", 3), 0.0)
    assert [job.id for job in store] == ["busy-1", "busy-2", "late-3"]
    assert store.expired("quiet-0", "quiet")


def test_make_room_refuses_before_the_job_is_made_and_drops_as_adding_would() -> None:
    store = JobStore(Budget(max_jobs=2), _done("a-0"))
    store.add(_job("a", 0), 0.0)
    store.add(_job("b", 1), 0.0)
    store.make_room("c", 0, 0.0)  # a-0 has finished: it goes
    assert [job.id for job in store] == ["b-1"]
    store.add(_job("c", 2), 0.0)
    with pytest.raises(JobsFull):
        store.make_room("d", 0, 0.0)
    assert [job.id for job in store] == ["b-1", "c-2"]
