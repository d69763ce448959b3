"""How a call that failed through transient errors is worded."""

from __future__ import annotations

import pytest

from emulator.core.record import RecordedRequest
from emulator.harness.exchange_checks import _gave_up

RULE = {"effect": "http_error", "status": 503, "times": 1}


def _sent(status: int, started: float) -> RecordedRequest:
    return RecordedRequest(
        "POST", "queue.fal.run", "/fal/queue/fal-ai/bitdance", "", status, "", started, 0.01,
        {}, b"", 0, "fal-ai/bitdance",
    )  # fmt: skip


@pytest.mark.parametrize("status", [408, 429, 502])
def test_a_retry_answered_with_another_retryable_error_is_no_answer(status: int) -> None:
    # a later 408 counted as "answered" (its own rule, not session.retryable's)
    fired = _sent(503, 1.0)
    said = _gave_up(RULE, [fired], [fired, _sent(status, 2.0)], "RuntimeError: boom")
    assert said.startswith("gave up on a transient 503 that stopped after 1"), said


def test_a_retry_answered_otherwise_was_answered() -> None:
    fired = _sent(503, 1.0)
    said = _gave_up(RULE, [fired], [fired, _sent(422, 2.0)], "RuntimeError: boom")
    assert said.startswith("failed after retrying each transient 503"), said
