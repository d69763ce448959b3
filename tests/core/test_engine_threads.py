"""The engine shared by many threads, as in-process emulation shares it."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from emulator import EmulatorConfig, Engine, Progression

THREADS, SUBMITS = 16, 5000


@pytest.mark.slow  # 80,000 submissions: 3.5 s
def test_sixteen_threads_submitting_and_polling_lose_nothing() -> None:
    engine = Engine(
        EmulatorConfig(seed=1, progression=Progression.parse("polls:1,1"), max_jobs=50_000)
    )
    endpoint = engine.contracts.get("fal", "fal-ai/bitdance")

    def work(worker: int) -> int:
        owner = f"key{worker % 4}"
        for n in range(SUBMITS):
            job = engine.submit(endpoint, {"prompt": f"{worker}-{n}"}, owner, size=100)
            found = engine.find(job.id, owner)
            # Either kept, or already evicted by the budget: never half-kept.
            assert found is job or engine.expired(job.id, owner)
            for _ in range(2):  # done: it may make room past the total budget
                engine.poll(job)
        return SUBMITS

    with ThreadPoolExecutor(THREADS) as pool:
        done = sum(pool.map(work, range(THREADS)))
    assert done == THREADS * SUBMITS
    kept = list(engine.jobs)
    assert len(kept) == len(engine.jobs) == 50_000
    assert len({job.id for job in kept}) == len(kept)
    assert engine.jobs.retained_bytes == sum(job.size for job in kept)
