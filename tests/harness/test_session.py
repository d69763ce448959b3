"""The harness's limits: a client that never stops is stopped, and says so."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Callable

import fal_client
import httpx
import pytest
import requests

from emulator.harness import FAILED, ClientRanAway, Limits, Options, Report, Scenario, check
from emulator.harness.fence import fence_off
from emulator.harness.pool_threads import Work, busy
from emulator.harness.session import Session

from .official import fal_subscribe_async

HEADERS = {"Authorization": "Key k"}


def polls_forever(endpoint_id: str, arguments: dict) -> dict:
    """Swallows every error and polls again: the loop a careless retry wrapper makes."""
    with httpx.Client(headers=HEADERS) as http:
        queued = http.post(f"https://queue.fal.run/{endpoint_id}", json=arguments)
        while True:
            try:
                http.get(queued.json()["status_url"])
            except Exception:  # noqa: BLE001 - the mistake on display
                continue


def test_a_client_that_never_stops_is_stopped_by_the_harness() -> None:
    options = Options(max_examples=2, limits=Limits(call_timeout=2, max_requests=40))
    report = check(polls_forever, provider="fal", endpoint="fal-ai/bitdance",
                   properties=["stops_polling_when_done"], options=options)  # fmt: skip
    outcome = report.outcome("stops_polling_when_done")
    assert outcome.status == FAILED
    assert any("the harness had to stop the client" in p for p in outcome.problems)


@pytest.mark.slow  # its poller sleeps 0.5 s a poll: 3 s
def test_a_poller_left_running_is_stopped_after_the_harness_goes() -> None:
    pollers: list[threading.Thread] = []
    stopped: list[ClientRanAway] = []

    def run_until_stopped(poller: Callable[[], None]) -> None:
        try:
            poller()
        except ClientRanAway as stop:  # how the harness stops a client (not an Exception)
            stopped.append(stop)

    def gives_up_on_its_poller(endpoint_id: str, arguments: dict) -> dict:
        """Submits and polls in a thread of its own, which it gives up waiting for, as
        fal_client's sync `subscribe` does with a `client_timeout`: the thread goes on,
        swallowing errors (against the real host, once no emulator answers)."""

        def submit_and_poll() -> None:
            queued = httpx.post(
                f"https://queue.fal.run/{endpoint_id}", json=arguments, headers=HEADERS
            ).json()
            while True:
                time.sleep(0.5)
                try:
                    httpx.get(queued["status_url"], headers=HEADERS)
                except Exception:  # noqa: BLE001, S112 - the mistake on display
                    continue

        pollers.append(
            threading.Thread(target=run_until_stopped, args=(submit_and_poll,), daemon=True)
        )
        pollers[-1].start()
        pollers[-1].join(timeout=0.2)
        raise TimeoutError("gave up")

    check(gives_up_on_its_poller, provider="fal", endpoint="fal-ai/bitdance",
          properties=["stops_polling_when_done"], options=Options(max_examples=2))  # fmt: skip
    for poller in pollers:  # each is stopped at its next poll (`ClientRanAway`), not let out
        poller.join(timeout=10)
    assert pollers and not any(poller.is_alive() for poller in pollers)
    assert len(stopped) == len(pollers)


@pytest.mark.slow  # two calls, each waiting 0.5 s on its poller: 3 s
def test_a_poller_left_asleep_is_stopped_before_the_same_scenario_runs_again() -> None:
    """The same scenario gives its job the same id: a poller the first call left asleep,
    waking in the second, passed as the second's own and was counted against its limits
    (fal_client's `subscribe` with a `client_timeout` failed cancels_abandoned_jobs)."""
    answered_at: list[list[float]] = []  # each poller's answered polls
    started_at: list[float] = []
    pollers: list[threading.Thread] = []
    stopped = 0

    def polls_every_third_of_a_second(status_url: str, polled: threading.Event) -> None:
        nonlocal stopped
        answered_at.append(mine := [])
        try:
            while True:
                httpx.get(status_url, headers=HEADERS)
                mine.append(time.monotonic())
                polled.set()
                time.sleep(0.3)
        except ClientRanAway:  # how the harness stops a client (not an Exception)
            stopped += 1

    def gives_up_on_its_poller(endpoint_id: str, arguments: dict) -> dict:
        started_at.append(time.monotonic())
        queued = httpx.post(f"https://queue.fal.run/{endpoint_id}", json=arguments,
                            headers=HEADERS).json()  # fmt: skip
        polled = threading.Event()
        pollers.append(
            threading.Thread(
                target=polls_every_third_of_a_second,
                args=(queued["status_url"], polled),
                daemon=True,
            )
        )
        pollers[-1].start()
        polled.wait(timeout=10)  # its poller has polled: the harness knows its thread
        time.sleep(0.5)  # longer than a poller's sleep: the first wakes within the second
        raise TimeoutError("gave up")

    scenario = Scenario("cancels_abandoned_jobs", {"prompt": "x"}, "polls:1000,1")
    with Session(gives_up_on_its_poller, "fal", "fal-ai/bitdance") as session:
        first, second = session.run(scenario), session.run(scenario)
    for poller in pollers:  # the second's is stopped at its next poll, once the harness has gone
        poller.join(timeout=10)
    assert first.job_ids == second.job_ids  # the same id: only time tells the pollers apart
    assert stopped == 2
    assert max(answered_at[0]) < started_at[1]  # none of the first's polls in the second


def _fal_subscribe_polling_every_6_s(endpoint_id: str, arguments: dict) -> dict:
    return fal_client.subscribe(endpoint_id, arguments=arguments, client_timeout=1.5, interval=6)


@pytest.mark.slow  # fal_client's poller sleeps 6 s between polls
def test_fal_clients_poller_left_asleep_never_reaches_the_real_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """fal_client's sync `subscribe` with a `client_timeout` leaves its poller behind: asleep
    between polls (or in its backoff, up to 30 s a try), it woke once the harness had gone
    and polled the real queue.fal.run with the user's real key."""
    monkeypatch.setenv("FAL_KEY", "a-real-key:secret")
    reached: list[str] = []

    def network(transport: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        reached.append(f"{request.method} {request.url} {request.headers.get('authorization')}")
        raise httpx.ConnectError("(the test's network)", request=request)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", network)  # where httpx leaves
    scenario = Scenario("cancels_abandoned_jobs", {"prompt": "x"}, "polls:1000,1")
    with Session(_fal_subscribe_polling_every_6_s, "fal", "fal-ai/bitdance") as session:
        seen = session.run(scenario)
    assert isinstance(seen.error, fal_client.client.FalClientTimeoutError)
    pool = fal_client.client.EXECUTOR._threads  # its poller's
    deadline = time.monotonic() + 30
    while any(busy(t, sys._current_frames()) for t in pool) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert reached == []
    assert not any(busy(t, sys._current_frames()) for t in pool)  # it woke, and was stopped


def test_an_earlier_checks_leftover_work_is_no_part_of_a_later_call() -> None:
    """Its requests were counted against the later call's limits before being refused."""
    go, refused = threading.Event(), []

    def left_running() -> None:
        go.wait(10)
        try:
            _fal_submit("fal-ai/bitdance", {"prompt": "x"})
        except ClientRanAway as stop:
            refused.append(stop)

    leftover = threading.Thread(target=left_running, daemon=True)
    leftover.start()
    fence_off([Work(leftover)])  # as the earlier check left it

    def submits_while_the_leftover_polls(endpoint_id: str, arguments: dict) -> dict:
        go.set()
        leftover.join(10)
        return _fal_submit(endpoint_id, arguments)

    scenario = Scenario("returns_valid_output", {"prompt": "x"})
    limits = Limits(max_requests=1)
    with Session(submits_while_the_leftover_polls, "fal", "fal-ai/bitdance", limits=limits) as s:
        seen = s.run(scenario)
    assert refused and seen.ran_away is None and seen.error is None
    assert len(seen.requests) == 1


def test_the_same_scenario_replays_the_same_ids() -> None:
    def submit(endpoint_id: str, arguments: dict) -> dict:
        return httpx.post(
            f"https://queue.fal.run/{endpoint_id}", json=arguments, headers=HEADERS
        ).json()

    scenario = Scenario("returns_valid_output", {"prompt": "x"}, "polls:1,1", seed=5)
    with Session(submit, "fal", "fal-ai/bitdance") as session:
        first, second = session.run(scenario), session.run(scenario)
    assert first.output["request_id"] == second.output["request_id"]
    assert first.job_ids == second.job_ids


WAVESPEED_HEADERS = {"Authorization": "Bearer k"}


def _fal_submit(endpoint_id: str, arguments: dict) -> dict:
    return httpx.post(f"https://queue.fal.run/{endpoint_id}", json=arguments,
                      headers=HEADERS).json()  # fmt: skip


def _wavespeed_submit(endpoint_id: str, arguments: dict) -> dict:
    # the WaveSpeed SDK's HTTP is requests: the harness stages for it what it does for httpx
    return requests.post(f"https://api.wavespeed.ai/api/v3/{endpoint_id}", json=arguments,
                         headers=WAVESPEED_HEADERS).json()  # fmt: skip


SUBMITTERS = {
    # client: its submit, the provider and endpoint, what it raises for a lost answer
    "httpx": (_fal_submit, "fal", "fal-ai/bitdance", httpx.RemoteProtocolError),
    "requests": (
        _wavespeed_submit,
        "wavespeed",
        "wavespeed-ai/bitdance-14b/text-to-image",
        requests.exceptions.ConnectionError,
    ),
}


@pytest.mark.parametrize("client", sorted(SUBMITTERS))
@pytest.mark.parametrize("lose", [False, True])
def test_a_lost_submit_answer_still_makes_the_job(client: str, lose: bool) -> None:
    submit, provider, endpoint, lost_error = SUBMITTERS[client]
    scenario = Scenario("no_duplicate_jobs", {"prompt": "x"}, lose_submit_answer=lose)
    with Session(submit, provider, endpoint) as session:
        seen = session.run(scenario)
    assert len(seen.job_ids) == 1
    assert isinstance(seen.error, lost_error) is lose  # each client's own error


POLLERS = {  # an earlier call's job, polled as each provider's answer names it
    "fal": lambda submitted: httpx.get(submitted["status_url"], headers=HEADERS),
    # (WaveSpeed's prediction id is the job's UUID without its dashes)
    "wavespeed": lambda submitted: requests.get(
        submitted["data"]["urls"]["get"], headers=WAVESPEED_HEADERS
    ),
}


@pytest.mark.parametrize("client", sorted(SUBMITTERS))
def test_a_poll_of_an_earlier_calls_job_is_stopped_as_late(client: str) -> None:
    submit, provider, endpoint, _ = SUBMITTERS[client]
    poll, go, refused = POLLERS[provider], threading.Event(), []
    leftovers: list[threading.Thread] = []

    def polls_after_returning(endpoint_id: str, arguments: dict) -> dict:
        submitted = submit(endpoint_id, arguments)
        if leftovers:  # the second call lets the first call's poller go
            go.set()
            leftovers[0].join(10)
            return submitted

        def poll_later() -> None:
            go.wait(10)
            try:
                poll(submitted)
            except ClientRanAway as stop:
                refused.append(stop)

        leftovers.append(threading.Thread(target=poll_later, daemon=True))
        leftovers[0].start()
        return submitted

    with Session(polls_after_returning, provider, endpoint) as session:
        session.run(Scenario("returns_valid_output", {"prompt": "x"}, seed=1))
        later = session.run(Scenario("returns_valid_output", {"prompt": "x"}, seed=2))
    assert refused, "the earlier call's poll reached the emulator"
    assert len(later.requests) == 1  # the submit alone: the late poll is not this call's


def test_a_requests_client_that_never_stops_is_stopped_too() -> None:
    def polls_forever(endpoint_id: str, arguments: dict) -> dict:
        url = f"https://api.wavespeed.ai/api/v3/{endpoint_id}"
        task = requests.post(url, json=arguments, headers=WAVESPEED_HEADERS).json()["data"]
        while True:
            requests.get(task["urls"]["get"], headers=WAVESPEED_HEADERS)

    options = Options(max_examples=2, limits=Limits(call_timeout=2, max_requests=40))
    report = check(polls_forever, provider="wavespeed",
                   endpoint="wavespeed-ai/bitdance-14b/text-to-image",
                   properties=["stops_polling_when_done"], options=options)  # fmt: skip
    outcome = report.outcome("stops_polling_when_done")
    assert outcome.status == FAILED
    assert any("the harness had to stop the client" in p for p in outcome.problems)


def test_check_called_from_async_code_runs_an_async_client_on_a_loop_of_its_own() -> None:
    async def application() -> Report:  # check() from inside a running event loop
        options = Options(max_examples=2)
        return check(fal_subscribe_async, provider="fal", endpoint="fal-ai/bitdance",
                     properties=["returns_valid_output"], options=options)  # fmt: skip

    report = asyncio.run(application())
    assert report.ok, report.text()
