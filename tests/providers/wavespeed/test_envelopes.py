from emulator import EmulatorConfig, Engine, ManualClock, Progression
from emulator.core.jobs import Failure
from emulator.core.lifecycle import Phase
from emulator.core.timeline import Look
from emulator.providers.wavespeed.envelopes import envelope, prediction, task_id


def test_a_failed_prediction_carries_its_error_and_task_code() -> None:
    engine = Engine(
        EmulatorConfig(seed=1, progression=Progression.parse("wall:1,2,0")), clock=ManualClock()
    )
    job = engine.submit(
        engine.contracts.get("wavespeed", "bytedance/seedream-v4"), {"prompt": "x"}, "k"
    )
    failure = Failure("execution_failed", "boom")
    data = prediction(engine, job, Look(Phase.DONE, 1.0, 0), "u", failure=failure)
    assert (data["status"], data["error"], data["code"]) == ("failed", "boom", 1403)
    assert data["outputs"] == [] and data["executionTime"] == 2000 == data["timings"]["inference"]
    assert data["id"] == task_id(job) == job.id.replace("-", "")
    assert envelope(data) == {"code": 200, "message": "success", "data": data}
