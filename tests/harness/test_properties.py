"""Properties that used to pass the wrong clients or fail the right ones."""

from __future__ import annotations

from typing import Any

import fal_client
import httpx

from emulator.harness import FAILED, HELD, Options, check

ENDPOINT = "fal-ai/bitdance"
QUICK = Options(max_examples=4, shrink_seconds=2.0)


def submits_twice(endpoint_id: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """A stray "warm-up" submit whose job is never used: billed on every call."""
    stray = httpx.post(
        f"https://queue.fal.run/{endpoint_id}", json=arguments, headers={"Authorization": "Key k"}
    )
    stray.raise_for_status()
    return fal_client.subscribe(endpoint_id, arguments=arguments)


def test_two_jobs_per_call_fail_no_duplicate_jobs_without_any_fault() -> None:
    report = check(submits_twice, provider="fal", endpoint=ENDPOINT,
                   properties=["no_duplicate_jobs"], options=QUICK)  # fmt: skip
    outcome = report.outcome("no_duplicate_jobs")
    assert outcome.status == FAILED, report.text()
    assert outcome.problems == ["one call created 2 billable jobs"]
    # the failure needs no fault: the scenario reported has none
    assert outcome.scenario is not None
    assert not outcome.scenario.faults and not outcome.scenario.lose_submit_answer


class CachingClient:
    """Keeps every output by its input, across calls: a second call with the same input
    makes no job and returns an earlier call's output."""

    def __init__(self) -> None:
        self.kept: dict[str, Any] = {}

    def __call__(self, endpoint_id: str, arguments: dict[str, Any]) -> dict[str, Any]:
        key = repr(sorted(arguments.items()))
        if key not in self.kept:
            self.kept[key] = fal_client.subscribe(endpoint_id, arguments=arguments)
        return self.kept[key]


def test_a_client_that_caches_across_calls_fails_keeps_calls_apart() -> None:
    options = Options(max_examples=4, machine_steps=4)
    report = check(CachingClient(), provider="fal", endpoint=ENDPOINT,
                   properties=["keeps_calls_apart"], options=options)  # fmt: skip
    outcome = report.outcome("keeps_calls_apart")
    assert outcome.status == FAILED, report.text()
    assert "returned no output of a job it made" in outcome.problems[0]
    assert outcome.replay.startswith("provider-emulator conformance")
