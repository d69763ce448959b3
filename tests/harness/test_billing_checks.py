"""What a call leaves billed (emulator/harness/billing_checks.py): a job started over after
a transient error, and a job stuck in the queue that a client never gives up on."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest
import wavespeed

from emulator.core.record import RecordedRequest
from emulator.harness import FAILED, HELD, NOT_APPLICABLE, Limits, Options, Scenario, check
from emulator.harness.billing_checks import judge_restarts
from emulator.harness.session import Observation
from emulator.harness.surfaces import SURFACES, Classified

from .gallery import HEADERS, QUEUE, TLS

FAL = "fal-ai/bitdance"
WAVESPEED = "wavespeed-ai/bitdance-14b/text-to-image"
POLL_503 = {"effect": "http_error", "status": 503, "method": "GET",
            "path": "*/requests/*/status"}  # fmt: skip


class Polls:
    """Polls its job to the end; on an error at a poll it polls again, or, with
    ``starts_over``, starts the whole call over (a new billable submit, the first job
    abandoned). ``jobs``: how many jobs it runs one after the other, each to its end (a
    second job made on purpose, not for an error)."""

    def __init__(self, *, starts_over: bool, jobs: int = 1) -> None:
        self.starts_over, self.jobs = starts_over, jobs

    def __call__(self, endpoint_id: str, arguments: dict[str, Any]) -> Any:
        with httpx.Client(headers=HEADERS, timeout=5, verify=TLS) as http:
            for _ in range(self.jobs - 1):
                self.one_job(http, endpoint_id, arguments)
            return self.one_job(http, endpoint_id, arguments)

    def one_job(self, http: httpx.Client, endpoint_id: str, arguments: dict[str, Any]) -> Any:
        for _ in range(3):
            queued = http.post(f"{QUEUE}/{endpoint_id}", json=arguments).json()
            if self.wait(http, queued["status_url"]):
                return http.get(queued["response_url"]).json()
            time.sleep(0.01)
        raise RuntimeError("the provider kept failing")

    def wait(self, http: httpx.Client, url: str) -> bool:
        while True:
            answer = http.get(url)
            if answer.is_error and self.starts_over:
                return False  # "start again from scratch"
            if not answer.is_error and answer.json()["status"] == "COMPLETED":
                return True
            time.sleep(0.01)


def _replayed(client: Any, name: str, *faults: dict[str, Any], **settings: Any) -> Any:
    scenario = Scenario(name, {"prompt": "a"}, "polls:1,0", faults=faults)
    report = check(client, provider="fal", endpoint=FAL, properties=[name], replay=scenario,
                   options=Options(**settings))  # fmt: skip
    (outcome,) = report.outcomes
    return outcome


def _jobs_named(problems: list[str]) -> list[str]:
    return [re.sub(r"job [0-9a-f-]{36}", "job JOB", problem) for problem in problems]


@pytest.mark.parametrize(
    ("name", "errors", "jobs"),
    [
        # it held: only a request sent again by the same method and path was looked at
        ("retries_transient_errors", 1, 2),
        # it held: the client gave up (after three jobs), and only its tries were counted
        ("gives_up_during_outage", 20, 3),
    ],
)
def test_a_job_started_over_after_a_transient_error_fails_its_property(
    name: str, errors: int, jobs: int
) -> None:
    outcome = _replayed(Polls(starts_over=True), name, {**POLL_503, "times": errors})
    assert outcome.status == FAILED
    assert _jobs_named(outcome.problems) == [
        f"started the job over after a 503 at its status poll: one call created {jobs} "
        "billable jobs, job JOB abandoned (send the request that failed again, not a new "
        "submit)"
    ]


def test_a_second_job_made_after_the_first_was_answered_is_not_blamed_on_the_error() -> None:
    # two jobs one after the other, each polled to its end: no_duplicate_jobs' finding
    outcome = _replayed(Polls(starts_over=False, jobs=2), "retries_transient_errors",
                        {**POLL_503, "times": 1})  # fmt: skip
    assert outcome.status == HELD, outcome.problems


FIRST, SECOND = "0c0ffee0-0000-4000-8000-000000000001", "0c0ffee0-0000-4000-8000-000000000002"


def _sent(method: str, below: str, status: int) -> tuple[RecordedRequest, Classified]:
    entry = RecordedRequest(method, "queue.fal.run", f"/fal/queue/{FAL}{below}", "", status, "",
                            0.0, 0.01, {}, b"", 0, FAL)  # fmt: skip
    return entry, SURFACES["fal"].classify(entry)


def _made(*requests: tuple[RecordedRequest, Classified]) -> Observation:
    seen = Observation(Scenario("retries_transient_errors", {"prompt": "a"}))
    seen.requests, seen.job_ids = list(requests), [FIRST, SECOND]
    return seen


def test_a_submit_the_calls_own_job_outlived_is_no_restart() -> None:
    # fal_client's subscribe(client_timeout=...) leaves a thread retrying a submit through
    # an outage; its submit, landing in the next call, was taken for that call's restart
    submitted, polled = ("POST", "", 200), ("GET", f"/requests/{FIRST}/status", 503)
    foreign = _sent("POST", "", 200)
    went_on = _made(_sent(*submitted), _sent(*polled), foreign, _sent(*polled), _sent(*polled))
    assert judge_restarts(went_on, 503) == []
    started_over = _made(_sent(*submitted), _sent(*polled), foreign,
                         _sent("GET", f"/requests/{SECOND}/status", 503))  # fmt: skip
    assert judge_restarts(started_over, 503) == [
        f"started the job over after a 503 at its status poll: one call created 2 billable "
        f"jobs, job {FIRST} abandoned (send the request that failed again, not a new submit)"
    ]


class NeverGivesUp:
    """Polls a job, politely, for as long as it takes."""

    def __call__(self, endpoint_id: str, arguments: dict[str, Any]) -> Any:
        with httpx.Client(headers=HEADERS, timeout=5, verify=TLS) as http:
            queued = http.post(f"{QUEUE}/{endpoint_id}", json=arguments).json()
            while http.get(queued["status_url"]).json()["status"] != "COMPLETED":
                time.sleep(0.01)
            return http.get(queued["response_url"]).json()


#: stops a client that keeps calling at once, not after the seconds of a call's time limit
FEW_REQUESTS = Options(limits=Limits(max_requests=10))


def test_a_client_hanging_on_a_job_stuck_in_the_queue_fails_cancels_abandoned_jobs() -> None:
    # it was "not applicable": the classic bug of never giving up had no finding
    report = check(NeverGivesUp(), provider="fal", endpoint=FAL,
                   properties=["cancels_abandoned_jobs"], options=FEW_REQUESTS)  # fmt: skip
    (outcome,) = report.outcomes
    assert outcome.status == FAILED, report.text()
    assert outcome.problems == [
        "hangs its caller on a job stuck in the queue (the harness stopped it: more than 10 "
        "requests in one call; 9 status polls, each answered queued): give up after a "
        "deadline, and cancel the job (one longer than the call's time limit shows with "
        "--call-timeout, Limits(call_timeout=...))"
    ]


def polls_a_prediction_forever(endpoint_id: str, arguments: dict[str, Any]) -> Any:
    return wavespeed.run(endpoint_id, arguments, poll_interval=0.01)


def gives_up_on_a_prediction(endpoint_id: str, arguments: dict[str, Any]) -> Any:
    return wavespeed.run(endpoint_id, arguments, timeout=0.1, poll_interval=0.01)


def test_a_wavespeed_client_hanging_on_a_queued_prediction_fails_too() -> None:
    # WaveSpeed has no cancel, so no starved prediction was ever looked at
    report = check(polls_a_prediction_forever, provider="wavespeed", endpoint=WAVESPEED,
                   properties=["cancels_abandoned_jobs"], options=FEW_REQUESTS)  # fmt: skip
    (outcome,) = report.outcomes
    assert outcome.status == FAILED, report.text()
    (problem,) = outcome.problems
    assert problem.startswith("hangs its caller on a job stuck in the queue (the harness ")
    assert "give up after a deadline (one longer" in problem  # nothing to cancel


def test_a_wavespeed_client_that_gives_up_has_nothing_to_cancel() -> None:
    report = check(gives_up_on_a_prediction, provider="wavespeed", endpoint=WAVESPEED,
                   properties=["cancels_abandoned_jobs"])  # fmt: skip
    (outcome,) = report.outcomes
    assert outcome.status == NOT_APPLICABLE, report.text()
    assert outcome.reason == (
        "wavespeed's API has no cancel operation (and the client gives up on a job stuck in "
        "the queue)"
    )


def test_a_replayed_starved_prediction_given_up_on_is_no_cancel_left_unsent() -> None:
    # a replay is judged without asking whether the property applies: WaveSpeed has no
    # cancel to send
    scenario = Scenario("cancels_abandoned_jobs", {"prompt": "a"}, faults=({"effect": "starve"},))
    report = check(gives_up_on_a_prediction, provider="wavespeed", endpoint=WAVESPEED,
                   properties=["cancels_abandoned_jobs"], replay=scenario)  # fmt: skip
    (outcome,) = report.outcomes
    assert outcome.status == HELD, report.text()


def canned(endpoint_id: str, arguments: dict[str, Any]) -> Any:
    """Asks the provider nothing: returns an output of the contract's shape."""
    return {"prompt": "a", "images": [], "seed": 1, "has_nsfw_concepts": []}


@pytest.mark.parametrize(("provider", "endpoint"), [("fal", FAL), ("wavespeed", WAVESPEED)])
def test_a_client_that_sends_no_request_is_not_judged_on_cancelling(
    provider: str, endpoint: str
) -> None:
    # fal's held (no job left running to cancel), and WaveSpeed's said the client "gives
    # up on a job stuck in the queue": it never made one
    report = check(canned, provider=provider, endpoint=endpoint,
                   properties=["cancels_abandoned_jobs"])  # fmt: skip
    (outcome,) = report.outcomes
    assert (outcome.status, outcome.reason) == (
        NOT_APPLICABLE,
        "the client sent the provider no request for the simplest valid input, so it made "
        "no job to give up on or cancel: see returns_valid_output",
    )
