import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator import EmulatorConfig, Engine, ManualClock, Progression
from emulator.core.jobs import Failure
from emulator.core.lifecycle import Phase
from emulator.core.timeline import Look
from emulator.http.responses import encode_json
from emulator.providers.wavespeed.envelopes import (
    envelope,
    pending_answer,
    prediction,
    result_url,
    task_id,
    timestamp,
)


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


@pytest.mark.parametrize("phase", [Phase.QUEUED, Phase.RUNNING])
@pytest.mark.parametrize(
    "api_base",
    [
        "http://127.0.0.1:8000/wavespeed",
        'https://émulateur.example/"quoted"\\path/\u2603?q=\x01',
    ],
)
def test_a_pending_answer_is_the_encoded_prediction_byte_for_byte(
    phase: Phase, api_base: str
) -> None:
    engine = Engine(EmulatorConfig(seed=1), clock=ManualClock(wall_start=1_785_000_000.000123))
    for endpoint in engine.contracts.of("wavespeed"):
        job = engine.submit(endpoint, {"prompt": "x"}, "k")
        look = Look(phase, 0.5, 0)
        url = result_url(api_base, task_id(job))
        expected = encode_json(envelope(prediction(engine, job, look, url)))
        assert pending_answer(job, look, api_base) == expected


def _denoted(text: str) -> Decimal:
    """The instant a creation time's text denotes, exactly: its nanoseconds, as written."""
    head, fraction = re.fullmatch(r"(.{19})\.(\d{9})Z", text).groups()  # type: ignore[union-attr]
    second = datetime.strptime(head, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp()
    return Decimal(int(second)) + Decimal(int(fraction)) / 10**9


@given(
    st.floats(0, 4_102_444_800, allow_nan=False)
    | st.integers(0, 4_102_444_800).map(lambda second: second + 0.9999999995)
    | st.integers(0, 4_102_444_800).map(lambda second: second + 0.0000000005)
)
def test_creation_times_carry_nanoseconds_as_wavespeeds_do(wall: float) -> None:
    """``2025-09-25T09:12:48.239112031Z`` (reference: a real value): nine digits, the
    instant to the nearest nanosecond (a float's own precision, carried into the second)."""
    assert abs(_denoted(timestamp(wall)) - Decimal(wall)) <= Decimal("0.50001e-9")


@pytest.mark.parametrize("wall", [0.0, 1_785_000_000.5, 1_785_000_000.9999999996, -1.25, 1e11])
def test_creation_times_at_the_edges(wall: float) -> None:
    # beyond a float's nanoseconds (before 1970, past 2^53 s) the microseconds datetime has
    assert abs(_denoted(timestamp(wall)) - Decimal(wall)) <= Decimal("0.5e-6")
