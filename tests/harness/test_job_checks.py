"""Polling judged per job (emulator/harness/job_checks.py): what fal_client polls of its own
accord, what a WaveSpeed loop polls after its prediction ended, and how that is worded."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import fal_client
import httpx
import pytest
import wavespeed

from emulator.harness import FAILED, HELD, NOT_APPLICABLE, Limits, Options, Scenario, check

FAL = "fal-ai/bitdance"
WAVESPEED = "wavespeed-ai/bitdance-14b/text-to-image"
#: a job seen queued once, then done: a status loop sees it end
ENDS_AT_THE_SECOND_POLL = "polls:1,0"


def readme_pattern(endpoint_id: str, arguments: dict[str, Any]) -> Any:
    """fal_client's README: submit, iterate the events, get (which polls once more)."""
    handle = fal_client.submit(endpoint_id, arguments=arguments)
    for _ in handle.iter_events(with_logs=True):
        pass
    return handle.get()


def with_progress(endpoint_id: str, arguments: dict[str, Any]) -> Any:
    """subscribe with a progress callback: it iterates the events, then calls get."""
    return fal_client.subscribe(
        endpoint_id, arguments=arguments, with_logs=True, on_queue_update=lambda update: None
    )


def own_loop_then_get(endpoint_id: str, arguments: dict[str, Any]) -> Any:
    """A status loop of the user's own, then the SDK's get for the result."""
    handle = fal_client.submit(endpoint_id, arguments=arguments)
    while not isinstance(handle.status(), fal_client.Completed):
        time.sleep(0.05)
    return handle.get()


def checks_once_more(endpoint_id: str, arguments: dict[str, Any]) -> Any:
    """The user's own loop, then one more status poll of its own "to be sure"."""
    handle = fal_client.submit(endpoint_id, arguments=arguments)
    while not isinstance(handle.status(), fal_client.Completed):
        time.sleep(0.05)
    handle.status()
    return handle.get()


def _stops(client: Callable[..., Any], provider: str, endpoint: str, **scenario: Any) -> Any:
    scenario.setdefault("progression", ENDS_AT_THE_SECOND_POLL)
    replayed = Scenario("stops_polling_when_done", {"prompt": "a"}, **scenario)
    report = check(client, provider=provider, endpoint=endpoint, replay=replayed,
                   properties=["stops_polling_when_done"],
                   options=Options(limits=Limits(max_requests=12)))  # fmt: skip
    (outcome,) = report.outcomes
    return outcome


@pytest.mark.parametrize("client", [readme_pattern, with_progress, own_loop_then_get])
def test_fal_clients_own_look_before_it_fetches_the_result_is_not_the_users(
    client: Callable[..., Any],
) -> None:
    # fal_client's get polls once more before its fetch: its documented patterns failed
    # with "polled job … 1 more time(s) after it was done" (a harness audit)
    outcome = _stops(client, "fal", FAL)
    assert outcome.status == HELD, outcome.problems


def test_a_poll_of_the_users_own_after_done_is_still_blamed_and_says_where() -> None:
    outcome = _stops(checks_once_more, "fal", FAL)
    assert outcome.status == FAILED
    assert [re.sub(r"job \S+", "job JOB", p) for p in outcome.problems] == [
        "polled job JOB 1 more time(s) after it was done (sent inside fal_client's "
        "SyncRequestHandle.status)"
    ]


def polls_until_completed(endpoint_id: str, arguments: dict[str, Any]) -> Any:
    """Waits for "completed" only: a failed prediction is polled until it is stopped."""
    client = wavespeed.Client()
    request_id, _ = client._submit(endpoint_id, arguments)
    while True:
        data = client.get_result(request_id)["data"]
        if data["status"] == "completed":
            return data
        time.sleep(0.01)


def test_a_loop_stopped_on_a_failed_prediction_is_told_it_kept_polling_it() -> None:
    # it was told only "the harness had to stop the client" (a harness audit)
    failed = {"effect": "fail", "code": 1200}
    outcome = _stops(polls_until_completed, "wavespeed", WAVESPEED, faults=(failed,))
    assert outcome.status == FAILED
    said, stopped = outcome.problems
    assert re.fullmatch(r"polled job \S+ \d+ more time\(s\) after it was failed \(code 1200\)"
                        r" \(sent inside wavespeed's Client.get_result\)", said), said  # fmt: skip
    assert stopped == "the harness had to stop the client: more than 12 requests in one call"


def checks_once_more_on_wavespeed(endpoint_id: str, arguments: dict[str, Any]) -> Any:
    client = wavespeed.Client()
    request_id, _ = client._submit(endpoint_id, arguments)
    while (data := client.get_result(request_id)["data"])["status"] != "completed":
        time.sleep(0.01)
    client.get_result(request_id)  # "once more, to be sure"
    return data


def test_a_wavespeed_poll_after_completed_is_counted() -> None:
    # the poll's prediction id (the UUID without dashes) was never matched to its job
    outcome = _stops(checks_once_more_on_wavespeed, "wavespeed", WAVESPEED)
    assert outcome.status == FAILED
    assert [re.sub(r"job \S+", "job JOB", p) for p in outcome.problems] == [
        "polled job JOB 1 more time(s) after it was done (sent inside wavespeed's "
        "Client.get_result)"
    ]


def reads_the_result_unchecked(endpoint_id: str, arguments: dict[str, Any]) -> Any:
    """Never polls and never checks a status code: returns whatever the result URL says."""
    headers = {"Authorization": "Key k"}
    queued = httpx.post(f"https://queue.fal.run/{endpoint_id}", json=arguments, headers=headers)
    return httpx.get(queued.json()["response_url"], headers=headers).json()


def test_an_error_answer_returned_as_the_output_is_named_as_such() -> None:
    # it was four lines of "not the contract's output: 'images' is a required property",
    # which did not say that the client returned fal's 400 body (a newcomer's review)
    scenario = Scenario("returns_valid_output", {"prompt": "a"}, "polls:1,2")
    report = check(reads_the_result_unchecked, provider="fal", endpoint=FAL, replay=scenario,
                   properties=["returns_valid_output"])  # fmt: skip
    (outcome,) = report.outcomes
    assert outcome.status == FAILED
    assert [re.sub(r"requests/\S+\)", "requests/ID)", p) for p in outcome.problems] == [
        "returned an output, but its result fetch was answered 400 (GET "
        "/fal/queue/fal-ai/bitdance/requests/ID): check each answer's status code (fal "
        "answers 400 to a result fetched before the job is COMPLETED)"
    ]


def reads_one_wavespeed_poll(endpoint_id: str, arguments: dict[str, Any]) -> Any:
    """Submits and returns the prediction of its first poll, whatever its status."""
    headers = {"Authorization": "Bearer k"}
    created = httpx.post(f"https://api.wavespeed.ai/api/v3/{endpoint_id}", json=arguments,
                         headers=headers).json()  # fmt: skip
    return httpx.get(created["data"]["urls"]["get"], headers=headers).json()["data"]


def test_a_wavespeed_prediction_returned_unfinished_fails_returns_valid_output() -> None:
    # it held: no job was done, so there was no output to compare its `outputs: []` with
    scenario = Scenario("returns_valid_output", {"prompt": "a"}, "polls:1,2")
    report = check(reads_one_wavespeed_poll, provider="wavespeed", endpoint=WAVESPEED,
                   replay=scenario, properties=["returns_valid_output"])  # fmt: skip
    (outcome,) = report.outcomes
    assert outcome.status == FAILED
    assert [re.sub(r"job [0-9a-f-]{36}", "job JOB", p) for p in outcome.problems] == [
        "returned an output before its job was done (job JOB was last answered queued to a "
        "poll): poll the status until the job is done, then read its output"
    ]


CANNED = {"prompt": "a", "images": [], "seed": 1, "has_nsfw_concepts": []}


def canned(endpoint_id: str, arguments: dict[str, Any]) -> Any:
    """Asks the provider nothing: returns an output of the contract's shape."""
    return CANNED


def test_an_output_returned_without_a_request_fails_returns_valid_output() -> None:
    # it held: with no job made, there was nothing to compare the output with
    scenario = Scenario("returns_valid_output", {"prompt": "a"})
    report = check(canned, provider="fal", endpoint=FAL, replay=scenario,
                   properties=["returns_valid_output"])  # fmt: skip
    (outcome,) = report.outcomes
    assert (outcome.status, outcome.problems) == (
        FAILED,
        [
            "returned an output without sending the provider a request: a canned or cached "
            "output is not the job's"
        ],
    )


def raises_at_once(endpoint_id: str, arguments: dict[str, Any]) -> Any:
    """Asks the provider nothing: fails before sending a request."""
    raise RuntimeError("no network here")


@pytest.mark.parametrize("client", [canned, raises_at_once])
@pytest.mark.parametrize(("provider", "endpoint"), [("fal", FAL), ("wavespeed", WAVESPEED)])
@pytest.mark.parametrize(
    ("name", "so"),
    [("stops_polling_when_done", "it made no job to poll"),
     ("polls_politely", "it polled no status")],
)  # fmt: skip
def test_a_client_that_sends_no_request_is_not_judged_on_its_polls(
    client: Callable[..., Any], provider: str, endpoint: str, name: str, so: str
) -> None:
    # stops_polling_when_done held (no poll to judge), and polls_politely said the client
    # "streams, or runs synchronously": it does neither
    report = check(client, provider=provider, endpoint=endpoint, properties=[name])
    (outcome,) = report.outcomes
    assert (outcome.status, outcome.reason) == (
        NOT_APPLICABLE,
        f"the client sent the provider no request for the simplest valid input, so {so}: "
        "see returns_valid_output",
    )
