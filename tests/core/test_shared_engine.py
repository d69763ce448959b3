"""Engines on one shared store are one emulator: whichever accepts a job, any answers for it.

Each test builds two engines (as two workers would be) on one SQLite file or one real
redis-server, and checks that what one does the other sees."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from emulator import EmulatorConfig, Engine, ManualClock, Progression
from emulator.core.jobs import JobsFull
from emulator.core.lifecycle import Phase
from emulator.core.outcomes import JobFailed
from emulator.media.links import InlineLinker
from tests import webhook_receiver
from tests.bounded import eventually
from tests.webhook_receiver import Receiver

Workers = Callable[..., tuple[Engine, Engine]]
receiver = webhook_receiver.receiver


@pytest.fixture(params=["sqlite", "redis"])
def workers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Workers]:
    if request.param == "redis":
        state = request.getfixturevalue("redis_url")
    else:
        state = f"sqlite://{tmp_path / 'state.db'}"
    made: list[Engine] = []

    def make(**settings: object) -> tuple[Engine, Engine]:
        settings = {"progression": Progression.parse("polls:1,1"), **settings}
        config = EmulatorConfig(state=state, **settings)
        pair = Engine(config, clock=ManualClock()), Engine(config, clock=ManualClock())
        made.extend(pair)
        return pair

    yield make
    for engine in made:  # each test has a store of its own: nothing to clean
        engine.close()


def bitdance(engine: Engine):
    return engine.contracts.get("fal", "fal-ai/bitdance")


def test_a_job_accepted_by_one_is_polled_through_to_its_result_by_the_other(
    workers: Workers,
) -> None:
    one, other = workers()
    job = one.submit(bitdance(one), {"prompt": "a fox"}, "k1")
    phases = []
    for engine in (other, one, other):
        found = engine.find(job.id, "k1", polling=True)
        assert found is not None
        phases.append(engine.poll(found).phase)
    assert phases == [Phase.QUEUED, Phase.RUNNING, Phase.DONE]
    made = [e.outcome(e.find(job.id, "k1"), InlineLinker(e.media)) for e in (one, other)]
    assert made[0] == made[1]


def test_another_key_neither_sees_nor_moves_a_job(workers: Workers) -> None:
    one, other = workers()
    job = one.submit(bitdance(one), {"prompt": "a fox"}, "k1")
    assert other.find(job.id, "k2", polling=True) is None
    assert other.find(job.id, "k2") is None
    found = other.find(job.id, "k1")
    assert found is not None and found.polls == 0  # k2's polls counted nothing of k1's


def test_a_cancellation_through_one_is_seen_by_the_other(workers: Workers) -> None:
    one, other = workers()
    job = one.submit(bitdance(one), {"prompt": "a fox"}, "k1")
    assert other.cancel(other.find(job.id, "k1"))
    assert not one.cancel(job)  # the stale copy cannot cancel it twice
    assert one.look(one.find(job.id, "k1")).failure.kind == "cancelled"


def test_ids_under_a_seed_do_not_depend_on_which_worker_accepts(workers: Workers) -> None:
    one, other = workers(seed=7)
    spread = [e.submit(bitdance(e), {"prompt": "x"}, "k1").id for e in (one, other, one, other)]
    one.reset(7)
    alone = [one.submit(bitdance(one), {"prompt": "x"}, "k1").id for _ in range(4)]
    assert spread == alone
    assert len(set(spread)) == 4


def test_a_reset_through_one_is_a_fresh_start_for_both(workers: Workers) -> None:
    one, other = workers(seed=7)
    job = one.submit(bitdance(one), {"prompt": "x"}, "k1")
    other.reset(8)
    assert one.find(job.id, "k1") is None
    assert one.secret("fal-webhook-key") == other.secret("fal-webhook-key")
    assert one.seed == 8


def test_a_manual_clock_advanced_through_one_moves_both(workers: Workers) -> None:
    one, other = workers(progression=Progression.parse("wall:1,1,0"))
    job = one.submit(bitdance(one), {"prompt": "x"}, "k1")
    other.clock.advance(1.5)
    assert one.look(one.find(job.id, "k1")).phase is Phase.RUNNING
    assert one.clock.now() == other.clock.now()


def test_budgets_hold_across_workers_and_evicted_jobs_read_as_expired(workers: Workers) -> None:
    one, other = workers(max_jobs_per_key=3)
    jobs = [e.submit(bitdance(e), {"prompt": "x"}, "k1") for e in (one, other) * 3]
    assert len(one.jobs) == 3
    assert [j.id for j in other.jobs.page(0, 10, "k1")] == [j.id for j in jobs[3:]]
    assert other.find(jobs[0].id, "k1") is None and other.expired(jobs[0].id, "k1")
    assert not other.expired(jobs[0].id, "k2")


def test_a_restarted_engine_answers_for_every_job_it_had_accepted(workers: Workers) -> None:
    one, _ = workers()
    jobs = [one.submit(bitdance(one), {"prompt": f"x{n}"}, "k1") for n in range(5)]
    one.close()
    restarted = Engine(one.config, clock=ManualClock())
    try:
        assert [restarted.find(j.id, "k1").payload for j in jobs] == [j.payload for j in jobs]
    finally:
        restarted.close()


def test_the_newest_jobs_come_newest_first_across_chunks(workers: Workers) -> None:
    one, other = workers()
    made = [e.submit(bitdance(e), {"prompt": "x"}, "k1").id for e in (one, other) * 150]
    assert [job.id for job in other.jobs.newest(300)] == made[::-1]
    assert [job.id for job in one.jobs.newest(5)] == made[::-1][:5]


def test_a_progression_set_through_one_moves_the_next_jobs_of_both(workers: Workers) -> None:
    one, other = workers()
    before = one.submit(bitdance(one), {"prompt": "x"}, "k1")
    other.progression = Progression.parse("immediate")
    after = one.submit(bitdance(one), {"prompt": "x"}, "k1")
    assert one.progression == other.progression == Progression.parse("immediate")
    assert one.look(after).phase is Phase.DONE
    assert other.look(other.find(before.id, "k1")).phase is Phase.QUEUED  # it keeps its own
    one.reset()
    assert other.progression == Progression.parse("immediate")  # a reset keeps it, as in memory


def test_a_job_keeps_the_rule_that_decided_it_whichever_worker_reads_it(workers: Workers) -> None:
    one, other = workers(progression=Progression.parse("immediate"))
    rule = one.faults.add({"effect": "fail", "message": "staged", "times": 1})
    job = one.submit(bitdance(one), {"prompt": "x"}, "k1")
    found = other.find(job.id, "k1")
    assert found.fault is not None and (found.fault.id, found.fault.effect) == (rule.id, "fail")
    with pytest.raises(JobFailed, match="staged"):
        other.outcome(found, InlineLinker(other.media))


def test_an_output_failure_one_worker_made_is_the_others_too(workers: Workers) -> None:
    """fal's status says COMPLETED, then its result is a 422: every worker's listing (the
    dashboard's state of the job) knows once one of them made that output."""
    one, other = workers(progression=Progression.parse("immediate"))
    job = one.submit(bitdance(one), {"prompt": "x", "image_size": "gigantic"}, "k1")
    assert other.output_failure(other.find(job.id, "k1")) is None  # not made yet
    with pytest.raises(JobFailed):
        one.outcome(one.find(job.id, "k1"), InlineLinker(one.media))
    for engine in (one, other):
        (listed,) = engine.jobs.newest(1)
        found = engine.find(job.id, "k1")
        for seen in (listed, found):
            failure = engine.output_failure(seen)
            assert failure is not None and failure.kind == "invalid"
            assert engine.look(seen).phase is Phase.DONE and engine.look(seen).failure is None


def test_after_resets_in_a_row_every_worker_takes_up_the_last(workers: Workers) -> None:
    one, other = workers()
    for _ in range(3):  # unseeded: each reset draws a new salt
        one.reset()
        assert one.secret("fal-client-token") == other.secret("fal-client-token")
    one.reset(7)
    first = other.submit(bitdance(other), {"prompt": "x"}, "k1").id  # before other looked
    one.reset(7)
    assert one.submit(bitdance(one), {"prompt": "x"}, "k1").id == first


def test_after_a_reset_every_worker_reads_the_new_rules(workers: Workers) -> None:
    one, other = workers()
    one.faults.add({"effect": "nsfw"})
    one.faults.add({"effect": "nsfw"})
    assert len(other.faults.rules) == 2  # cached by the other
    one.reset()
    one.faults.add({"effect": "fail", "message": "new"})
    assert [rule.effect for rule in other.faults.rules] == ["fail"]


def test_a_job_deleted_from_history_through_one_is_so_for_the_other(workers: Workers) -> None:
    one, other = workers()
    job = one.submit(bitdance(one), {"prompt": "x"}, "k1")
    one.delete_from_history(job)
    assert other.find(job.id, "k1").deleted


def test_a_reset_removes_the_uploads_kept_on_disk(tmp_path: Path) -> None:
    engine = Engine(EmulatorConfig(data_dir=tmp_path))
    try:
        engine.storage.put(b"x" * (2 * 2**20), "application/octet-stream", "big.bin", owner="k")
        on_disk = [path for path in (tmp_path / "uploads").rglob("*") if path.is_file()]
        assert on_disk  # larger than what the store keeps inline
        engine.reset()
        assert not any(path.exists() for path in on_disk)
    finally:
        engine.close()


def test_polling_to_the_end_leaves_the_callers_job_done(workers: Workers) -> None:
    """A sync-mode wait polls through `Engine.polls`, then answers from its own copy."""
    import asyncio

    one, other = workers()
    job = one.submit(bitdance(one), {"prompt": "x"}, "k1")
    other.poll(other.find(job.id, "k1", polling=True))  # another worker polls meanwhile

    async def wait() -> list[Phase]:
        return [look.phase async for look in one.polls(job, 0)]

    assert asyncio.run(wait())[-1] is Phase.DONE
    assert one.look(job).phase is Phase.DONE


def test_a_key_whose_jobs_are_all_gone_leaves_no_count_behind(workers: Workers) -> None:
    one, other = workers(retention=10.0)
    for engine in (one, other):
        engine.submit(bitdance(engine), {"prompt": "x"}, "passing")
    assert int(one.store.do("get", "jobs:bytes:passing")) > 0
    one.clock.advance(11)
    staying = one.submit(bitdance(one), {"prompt": "x"}, "staying")  # expires the old
    assert other.find(staying.id, "staying") is not None
    # a client cycling keys would otherwise leave a zero count per key in the store
    assert one.store.do("get", "jobs:bytes:passing") is None


def test_a_delivery_due_at_start_up_waits_for_the_whole_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: Callable[..., Receiver]
) -> None:
    """A restart takes the deliveries due already at once: one taken before the engine had
    its files and media (a slow start-up) was failed for good ("no attribute 'media'")."""
    import time

    from starlette.testclient import TestClient

    from emulator import create_app
    from emulator.core import engine as engine_module

    config = EmulatorConfig(
        state=f"sqlite://{tmp_path / 'state.db'}",
        progression=Progression.parse("immediate"),
        webhook_time_scale=0.001,
    )
    hook = receiver()
    stopped = Engine(config, delivers=False)  # accepts the job; delivers nothing, as if gone
    with TestClient(create_app(engine=stopped), headers={"Authorization": "Key k"}) as client:
        asked = {"fal_webhook": hook.url}
        client.post("/fal/queue/fal-ai/bitdance", params=asked, json={"prompt": "x"})
    stopped.close()
    made = engine_module.storage_for

    def slow(*args: object) -> object:
        time.sleep(0.3)  # a start-up slow between the sender's start and the engine's end
        return made(*args)

    monkeypatch.setattr(engine_module, "storage_for", slow)
    restarted = Engine(config)
    try:

        def states() -> list[str]:  # recorded once the receiver answered, after the body
            return [delivery.state for delivery in restarted.webhooks.deliveries]

        assert eventually(lambda: states() != ["waiting"], 20), "not attempted in 20 s"
        assert states() == ["delivered"] and len(hook.bodies) == 1
    finally:
        restarted.close()


def test_past_the_total_a_job_another_worker_holds_queued_is_never_evicted(
    workers: Workers,
) -> None:
    one, other = workers(max_jobs=2)
    quiet = one.submit(bitdance(one), {"prompt": "x"}, "quiet")
    busy = other.submit(bitdance(other), {"prompt": "x"}, "busy")
    with pytest.raises(JobsFull):
        other.submit(bitdance(other), {"prompt": "x"}, "busy")
    for _ in range(2):
        one.poll(one.find(busy.id, "busy"))  # done now: it may make room
    other.submit(bitdance(other), {"prompt": "x"}, "late")
    assert one.find(quiet.id, "quiet") is not None and one.expired(busy.id, "busy")


def test_a_queue_s_length_is_the_key_s_own_whichever_worker_counts(workers: Workers) -> None:
    # another key's queued jobs had counted (fal's ?fal_max_queue_length)
    one, other = workers()
    one.submit(bitdance(one), {"prompt": "theirs"}, "k1")
    other.submit(bitdance(other), {"prompt": "mine"}, "k2")
    assert [engine.queue_length(bitdance(engine), 5, "k2") for engine in (one, other)] == [1, 1]
    assert one.queue_length(bitdance(one), 5, "k3") == 0
