"""`check`: what it refuses before any call is made, and how each property's run ends."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest

from emulator.harness import (
    FAILED,
    NOT_APPLICABLE,
    Limits,
    Options,
    check,
    check_webhook_handler,
)
from emulator.harness.properties import PROPERTIES, Context

from .gallery import careful


def test_a_client_that_cannot_be_called_is_refused() -> None:
    # a "MODULE:CALLABLE" string, as the CLI takes, reported polls_politely "not applicable"
    with pytest.raises(TypeError, match="the client must be callable"):
        check("tests.harness.gallery:careful", provider="fal", endpoint="fal-ai/bitdance")


def test_an_unknown_provider_is_named() -> None:
    with pytest.raises(ValueError, match="unknown provider 'falx': one of fal, wavespeed"):
        check(careful, provider="falx", endpoint="fal-ai/bitdance")
    with pytest.raises(ValueError, match="unknown provider 'nope'"):
        check_webhook_handler(lambda body, headers: True, provider="nope")


def test_properties_are_a_list_of_names() -> None:
    # a string was read letter by letter: "unknown properties: p, o, l, l, s…"
    with pytest.raises(TypeError, match="not the string 'polls_politely'"):
        check(careful, provider="fal", endpoint="fal-ai/bitdance", properties="polls_politely")


def test_each_outcome_is_given_to_progress_as_its_property_ends() -> None:
    # the CLI printed nothing until every property had run, minutes into a run (an audit)
    seen: list[str] = []
    names = ["returns_valid_output", "stops_polling_when_done"]
    options = Options(max_examples=2, progress=lambda outcome: seen.append(outcome.name))
    report = check(careful, provider="fal", endpoint="fal-ai/bitdance", properties=names,
                   options=options)  # fmt: skip
    assert seen == names == [outcome.name for outcome in report.outcomes]


class BreaksAfterItsProbes:
    """Answers until told to break (as a client whose key is revoked mid-run), then fails
    every call, with faults staged or not."""

    def __init__(self) -> None:
        self.broken = False

    def __call__(self, endpoint_id: str, arguments: dict[str, Any]) -> Any:
        if self.broken:
            raise RuntimeError("the key was revoked")
        return careful(endpoint_id, arguments)


def test_inputs_failing_with_nothing_staged_are_counted_and_the_other_properties_still_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Such a draw was rejected: Hypothesis drew another (two calls more) and, with none
    # left to judge, raised Unsatisfiable out of check(), losing every property's outcome
    client = BreaksAfterItsProbes()
    name = "tolerates_optional_fields"
    prop = PROPERTIES[name]

    def applies_then_breaks(context: Context, probe: Callable[..., Any]) -> str | None:
        reason = prop.applies(context, probe)
        client.broken = True
        return reason

    monkeypatch.setitem(PROPERTIES, name, replace(prop, applies=applies_then_breaks))
    report = check(client, provider="fal", endpoint="fal-ai/bitdance",
                   properties=[name, "stops_polling_when_done"],
                   options=Options(max_examples=3))  # fmt: skip
    outcome = report.outcome(name)
    assert outcome.status == NOT_APPLICABLE, report.text()
    assert outcome.reason.startswith("the client fails this input with nothing staged too")
    assert "the key was revoked" in outcome.reason
    # its probes, the sparse output on the simplest input, then its three draws
    assert outcome.examples <= 3 + 1 + 3, report.text()
    assert report.outcome("stops_polling_when_done") is not None


WAVESPEED = "wavespeed-ai/bitdance-14b/text-to-image"


class PollsAFailedJobForever:
    """Polls until the prediction is completed: one that failed (or was cancelled) is
    polled until the harness stops the client (`wsc:never_stops` of an audit, without its
    sleep)."""

    def __init__(self) -> None:
        self.saw_it_end_otherwise: list[bool] = []  # per call: failed or cancelled

    def __call__(self, endpoint_id: str, arguments: dict[str, Any]) -> Any:
        self.saw_it_end_otherwise.append(False)
        with httpx.Client(headers={"Authorization": "Bearer k"}) as http:
            url = f"https://api.wavespeed.ai/api/v3/{endpoint_id}"
            task = http.post(url, json=arguments).json()["data"]
            while True:
                data = http.get(task["urls"]["get"]).json()["data"]
                if data["status"] == "completed":
                    return data
                self.saw_it_end_otherwise[-1] |= data["status"] in ("failed", "cancelled")


@pytest.mark.parametrize(
    ("budget", "runs_after"), [({"shrink_budget": 1}, 1), ({"shrink_seconds": 0}, 0)]
)
def test_a_spent_shrink_budget_runs_the_client_no_more(
    budget: dict[str, float], runs_after: int
) -> None:
    # Hypothesis went on shrinking, and a candidate already seen to fail ran the client
    # again: 72 runs past a budget of 3 (and with a 5 s call, 65 runs in 330 s, until
    # Hypothesis gave up with its "PLEASE REPORT THIS": an audit).
    client = PollsAFailedJobForever()
    options = Options(max_examples=5, seed=1, limits=Limits(max_requests=3), **budget)
    report = check(client, provider="wavespeed", endpoint=WAVESPEED,
                   properties=["stops_polling_when_done"], options=options)  # fmt: skip
    outcome = report.outcome("stops_polling_when_done")
    assert outcome.status == FAILED
    assert outcome.notes[-1].startswith("simplifying stopped at its budget")
    # (which fault ends the job first is Hypothesis's draw: a failure, or a cancel)
    ended = client.saw_it_end_otherwise
    assert len(ended) - ended.index(True) - 1 == runs_after
