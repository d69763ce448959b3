import pytest

from emulator import EmulatorConfig, Engine, ManualClock, Progression
from emulator.core.jobs import JobsFull
from emulator.core.lifecycle import Phase
from emulator.core.outcomes import JobFailed, validated


def make(progression: str = "polls:1,1", seed: int | None = 3) -> Engine:
    return Engine(
        EmulatorConfig(seed=seed, progression=Progression.parse(progression)), clock=ManualClock()
    )


def bitdance(engine: Engine):
    return engine.contracts.get("fal", "fal-ai/bitdance")


def test_the_same_seed_replays_the_same_ids_and_seeds() -> None:
    first, second = make(), make()
    a = [first.submit(bitdance(first), {"prompt": "x"}, "k") for _ in range(3)]
    b = [second.submit(bitdance(second), {"prompt": "x"}, "k") for _ in range(3)]
    assert [(j.id, j.seed) for j in a] == [(j.id, j.seed) for j in b]
    assert len({j.id for j in a}) == 3


def test_reset_forgets_jobs_and_reseeds() -> None:
    engine = make()
    job = engine.submit(bitdance(engine), {"prompt": "x"}, "k")
    engine.reset(3)
    assert engine.find(job.id, "k") is None
    assert engine.submit(bitdance(engine), {"prompt": "x"}, "k").id == job.id


def test_a_given_seed_is_kept() -> None:
    engine = make()
    assert engine.submit(bitdance(engine), {"prompt": "x", "seed": 42}, "k").seed == 42


def test_wall_progression_follows_the_clock() -> None:
    engine = make("wall:1,2,0")
    job = engine.submit(bitdance(engine), {"prompt": "x"}, "k")
    assert engine.look(job).phase is Phase.QUEUED
    engine.clock.advance(1.5)
    assert engine.look(job).phase is Phase.RUNNING
    assert engine.logs(job, engine.look(job))[0].message == "Starting fal-ai/bitdance"
    engine.clock.advance(1.5)
    assert engine.look(job).phase is Phase.DONE
    assert engine.inference_time(job, engine.look(job)) == 2


def test_looking_without_polling_does_not_advance() -> None:
    engine = make("polls:1,1")
    job = engine.submit(bitdance(engine), {"prompt": "x"}, "k")
    for _ in range(3):
        assert engine.look(job).phase is Phase.QUEUED
    engine.poll(job)
    assert engine.look(job).phase is Phase.RUNNING


def test_cancel_only_before_done() -> None:
    engine = make("immediate")
    job = engine.submit(bitdance(engine), {"prompt": "x"}, "k")
    assert engine.cancel(job) is False
    engine = make("polls:5,5")
    job = engine.submit(bitdance(engine), {"prompt": "x"}, "k")
    assert engine.cancel(job) is True
    assert engine.look(job).phase is Phase.DONE
    with pytest.raises(JobFailed) as failed:
        engine.outcome(job, lambda spec: ("u", 1))
    assert failed.value.failure.kind == "cancelled"


def test_a_cancelled_job_logs_only_what_it_ran_before_the_cancel() -> None:
    engine = make("wall:4,2,0")
    queued = engine.submit(bitdance(engine), {"prompt": "x"}, "k")
    engine.cancel(queued)  # in its queue: it never started
    assert engine.logs(queued, engine.look(queued)) == []
    running = engine.submit(bitdance(engine), {"prompt": "x"}, "k")
    engine.clock.advance(5.2)  # 1.2 s into its 2 s run: half of it logged
    engine.cancel(running)
    engine.clock.advance(60)
    lines = engine.logs(running, engine.look(running))
    assert [line.message for line in lines] == [
        "Starting fal-ai/bitdance",
        "Generating: 25% done",
        "Generating: 50% done",
    ]
    assert all(line.timestamp <= engine.clock.wall() - 60 for line in lines)  # none ahead


def test_invalid_input_fails_at_the_outcome() -> None:
    engine = make("immediate")
    job = engine.submit(bitdance(engine), {"prompt": 5}, "k")
    with pytest.raises(JobFailed) as failed:
        engine.outcome(job, lambda spec: ("u", 1))
    assert failed.value.failure.kind == "invalid"


def test_a_rule_gives_matching_jobs_their_own_progression() -> None:
    engine = make("immediate")
    engine.faults.add(
        {"effect": "progression", "progression": "polls:2,1", "inputs": {"prompt": "slow"}}
    )
    slow = engine.submit(bitdance(engine), {"prompt": "slow"}, "k")
    quick = engine.submit(bitdance(engine), {"prompt": "quick"}, "k")
    assert engine.look(quick).phase is Phase.DONE
    phases = [engine.poll(slow).phase for _ in range(4)]
    assert phases == [Phase.QUEUED, Phase.QUEUED, Phase.RUNNING, Phase.DONE]


def test_a_progression_rule_and_an_outcome_rule_both_apply() -> None:
    engine = make("immediate")
    engine.faults.add({"effect": "progression", "progression": "polls:1,0"})
    engine.faults.add({"effect": "fail", "error_type": "runner_disconnected"})
    job = engine.submit(bitdance(engine), {"prompt": "x"}, "k")
    assert engine.poll(job).phase is Phase.QUEUED
    look = engine.poll(job)
    assert look.phase is Phase.DONE
    assert look.failure is not None and look.failure.kind == "runner_disconnected"


def test_looking_changes_nothing_and_polling_counts() -> None:
    engine = make("polls:1,1")
    job = engine.submit(bitdance(engine), {"prompt": "x"}, "k")
    assert [engine.look(job).phase for _ in range(3)] == [Phase.QUEUED] * 3
    assert job.polls == 0
    assert engine.poll(job).phase is Phase.QUEUED
    assert (job.polls, engine.look(job).phase) == (1, Phase.RUNNING)


def test_a_reset_with_a_seed_equals_a_fresh_start_with_it() -> None:
    from starlette.testclient import TestClient

    from emulator import EmulatorConfig, create_app

    def observe(engine: Engine) -> tuple[object, ...]:
        with TestClient(create_app(engine=engine)) as client:
            jwks = client.get("/fal/rest/.well-known/jwks.json").json()
            secret = client.get(
                "/wavespeed/api/v3/webhook/secret", headers={"Authorization": "Bearer k"}
            ).json()["data"]["secret"]
            submitted = client.post(
                "/fal/queue/fal-ai/bitdance",
                json={"prompt": "x"},
                headers={"Authorization": "Key k"},
            ).json()["request_id"]
        return jwks, secret, submitted, engine.secret("any")

    fresh = Engine(EmulatorConfig(seed=7))
    reset = Engine(EmulatorConfig(seed=1))
    observe(reset)
    reset.reset(7)
    assert observe(reset) == observe(fresh)
    other = Engine(EmulatorConfig(seed=8))
    assert observe(other)[:2] != observe(Engine(EmulatorConfig(seed=7)))[:2]


def test_an_input_checked_at_submission_gets_the_same_defaults_without_a_second_check() -> None:
    engine = make("immediate")
    endpoint = engine.contracts.get("wavespeed", "wavespeed-ai/bitdance-14b/text-to-image")
    payload = {"prompt": "a lighthouse"}
    inputs, violations = engine.check_input(endpoint, payload)
    assert not violations and inputs != payload  # defaults were filled in
    checked = engine.submit(endpoint, payload, "k", checked=True)
    unchecked = engine.submit(endpoint, payload, "k")
    assert validated(checked, engine.limits) == validated(unchecked, engine.limits) == inputs


def test_past_the_total_a_job_still_queued_or_running_is_never_evicted() -> None:
    """(A teammate's submissions evicted a key's job in its queue: an audit.)"""
    config = EmulatorConfig(progression=Progression.parse("polls:1,1"), max_jobs=2)
    engine = Engine(config, clock=ManualClock())
    quiet = engine.submit(bitdance(engine), {"prompt": "x"}, "quiet")
    busy = engine.submit(bitdance(engine), {"prompt": "x"}, "busy")
    with pytest.raises(JobsFull):
        engine.submit(bitdance(engine), {"prompt": "x"}, "busy")
    assert engine.find(quiet.id, "quiet") is not None
    for _ in range(2):
        engine.poll(busy)  # done now: it may make room
    engine.submit(bitdance(engine), {"prompt": "x"}, "late")
    assert engine.find(quiet.id, "quiet") is not None and engine.expired(busy.id, "busy")


def test_a_refused_submission_spends_no_rule_firing_and_no_draw() -> None:
    """(The rules were asked, and a submission numbered, before the budget refused it:
    a ``times: 1`` rule then fired on no job, and the next job's id was another.)"""
    config = EmulatorConfig(seed=3, progression=Progression.parse("polls:1,1"), max_jobs=1)
    engine = Engine(config, clock=ManualClock())
    first = engine.submit(bitdance(engine), {"prompt": "x"}, "k")
    engine.faults.add({"effect": "fail", "times": 1})
    with pytest.raises(JobsFull):
        engine.submit(bitdance(engine), {"prompt": "x"}, "k2")
    for _ in range(2):
        engine.poll(first)  # done now: it may make room
    second = engine.submit(bitdance(engine), {"prompt": "x"}, "k2")
    assert second.fault is not None  # the rule fired on the job accepted
    replay = make(seed=3)
    replay.submit(bitdance(replay), {"prompt": "x"}, "k")
    assert second.id == replay.submit(bitdance(replay), {"prompt": "x"}, "k2").id


class _CountingClock(ManualClock):
    def __init__(self) -> None:
        super().__init__()
        self.readings = 0

    def now(self) -> float:
        self.readings += 1
        return super().now()


def test_a_submission_past_a_total_reads_the_clock_once_for_the_jobs_it_looks_at() -> None:
    """(Each job looked at read the clock: with a shared manual clock, a round trip
    each, up to hundreds for one submission.)"""
    clock = _CountingClock()
    config = EmulatorConfig(progression=Progression.parse("wall:60,60"), max_jobs=50)
    engine = Engine(config, clock=clock)
    for n in range(50):
        engine.submit(bitdance(engine), {"prompt": "x"}, f"k{n % 5}")
    clock.readings = 0
    with pytest.raises(JobsFull):  # none finished: every one looked at
        engine.submit(bitdance(engine), {"prompt": "x"}, "late")
    assert clock.readings <= 2


def test_a_reset_serves_no_earlier_media_and_renders_none_again() -> None:
    from starlette.testclient import TestClient

    from emulator import create_app

    engine = make("immediate")
    with TestClient(create_app(engine=engine)) as client:

        def picture(prompt: str) -> str:
            submitted = client.post(
                "/fal/queue/fal-ai/bitdance",
                json={"prompt": prompt},
                headers={"Authorization": "Key k"},
            ).json()
            result = client.get(submitted["response_url"], headers={"Authorization": "Key k"})
            return result.json()["images"][0]["url"]

        url = picture("x")
        first = client.get(url).content
        client.get(picture("y"))
        engine.reset(3)
        assert client.get(url).status_code == 404  # forgotten, until a job makes it again
        assert picture("x") == url and client.get(url).content == first
    assert engine.media.renders == 2  # the two pictures, each rendered once


def test_an_output_made_late_for_a_job_before_a_reset_is_not_a_later_jobs() -> None:
    from emulator.media.links import url_linker

    engine = make("immediate")  # a manual clock: the same id is submitted at the same time
    before = engine.submit(bitdance(engine), {"prompt": "x"}, "k")
    link = url_linker(engine.media, "https://cdn.test")  # a request under way at the reset
    engine.reset(3)
    late = engine.outcome(before, link)
    after = engine.submit(bitdance(engine), {"prompt": "y"}, "k")
    assert (after.id, after.submitted_wall) == (before.id, before.submitted_wall)
    assert engine.outcome(after, url_linker(engine.media, "https://cdn.test")) != late
