"""Exchange faults held (``delay``, ``hang``): a client that leaves meanwhile is recorded
499, in-process as on a server; one that stays is answered by the route, body and all."""

import asyncio
import json
import time

import httpx
import pytest
from starlette.testclient import TestClient

from emulator import BackgroundServer, EmulatorConfig, Engine, create_app, emulate
from emulator.core.faults import Fault, FaultError
from emulator.http import bodies, exchange
from tests.benchmarks.suite.asgi_call import call
from tests.transport.alike import FAL_QUEUE, recorded_when_left

KEY = {"Authorization": "Key k"}


@pytest.mark.parametrize(
    ("method", "path", "rule"),
    [
        ("POST", "fal-ai/bitdance", {"effect": "delay", "seconds": 30, "method": "POST"}),
        ("GET", "fal-ai/bitdance/requests/x/status", {"effect": "hang", "seconds": 30}),
    ],
    ids=["delay on a submit", "hang on a status poll"],
)
def test_a_request_left_while_held_is_recorded_499_as_served(
    server: BackgroundServer, method: str, path: str, rule: dict
) -> None:
    served, in_process = recorded_when_left(server, method, FAL_QUEUE, path, KEY, rule)
    assert served == in_process == [499]


def test_a_request_held_by_a_delay_reaches_its_route_whole() -> None:
    with emulate() as emulation:
        emulation.add_fault("delay", seconds=0.01, method="POST", times=1)
        submitted = httpx.post(
            "https://queue.fal.run/fal-ai/bitdance", json={"prompt": "kept"}, headers=KEY
        )
        assert submitted.status_code == 200
        result = httpx.get(submitted.json()["response_url"], headers=KEY)
        assert result.json()["prompt"] == "kept"


# -- a rule's inputs, matched against the request's body ----------------------------------


@pytest.mark.parametrize("host", ["queue.fal.run", "fal.run"])
def test_an_http_error_for_an_input_answers_only_the_requests_that_send_it(host: str) -> None:
    with emulate() as emulation:
        rule = emulation.add_fault("http_error", status=429, inputs={"prompt": "limit-me"})
        url = f"https://{host}/fal-ai/bitdance"
        assert httpx.post(url, json={"prompt": "limit-me"}, headers=KEY).status_code == 429
        other = httpx.post(url, json={"prompt": "other", "num_images": 2}, headers=KEY)
        assert other.status_code == 200  # its route read the body the rule read first
        if host == "fal.run":
            assert (other.json()["prompt"], len(other.json()["images"])) == ("other", 2)
        assert (
            httpx.get(
                url.replace("fal-ai/bitdance", "fal-ai/bitdance/requests/x/status"), headers=KEY
            ).status_code
            == 404
        )  # a poll has no input: not matched
        assert (rule.matched, rule.fired) == (1, 1)


def test_a_delay_for_an_input_holds_only_the_requests_that_send_it() -> None:
    with emulate() as emulation:
        rule = emulation.add_fault("delay", seconds=0.3, inputs={"prompt": "slow"})
        url = "https://queue.fal.run/fal-ai/bitdance"
        started = time.monotonic()
        assert httpx.post(url, json={"prompt": "slow"}, headers=KEY).status_code == 200
        assert time.monotonic() - started >= 0.3  # a bound on the hold, not a measure
        assert httpx.post(url, json={"prompt": "quick"}, headers=KEY).status_code == 200
        # the other input was not held: the rule matched the first request alone (counted,
        # not timed, as a busy machine may take 0.3 s to answer it anyway)
        assert (rule.matched, rule.fired) == (1, 1)


def test_a_body_a_rule_cannot_read_matches_no_rule_and_reaches_its_route() -> None:
    with emulate(config=EmulatorConfig(max_body_bytes=64)) as emulation:
        emulation.add_fault("http_error", status=500, inputs={"prompt": "x"})
        url = "https://queue.fal.run/fal-ai/bitdance"
        too_big = httpx.post(url, json={"prompt": "x", "pad": "p" * 100}, headers=KEY)
        assert too_big.status_code == 413  # the route's own refusal, not the rule's 500
        not_json = httpx.post(
            url, content=b"{", headers={**KEY, "Content-Type": "application/json"}
        )
        assert not_json.status_code == 422
        # a body said to be other than JSON (an upload's bytes) is not read for a rule
        typed = {**KEY, "Content-Type": "text/plain"}
        assert httpx.post(url, content=b'{"prompt": "x"}', headers=typed).status_code == 415


def test_a_body_too_slow_for_a_rule_has_no_second_wait_at_its_route(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The read ahead's deadline short, the route's long: a route that waited for the body
    # again would outlast the bound below.
    monkeypatch.setattr(exchange, "BODY_SECONDS", 0.05)
    monkeypatch.setattr(bodies, "BODY_SECONDS", 30.0)
    engine = Engine()
    engine.faults.add(
        Fault.from_dict({"effect": "http_error", "status": 500, "inputs": {"prompt": "x"}})
    )
    headers = {**KEY, "Content-Type": "application/json"}
    stalled = call(
        create_app(engine=engine),
        "/fal/queue/fal-ai/bitdance",
        headers,
        method="POST",
        body=b'{"prompt": ',
        complete=False,
    )
    status, body = asyncio.run(asyncio.wait_for(stalled, 5))
    assert status == 408  # the route's refusal, in fal's format
    assert "did not arrive within" in json.loads(body)["detail"]


def test_a_media_rule_cannot_filter_on_inputs() -> None:
    with emulate() as emulation, pytest.raises(FaultError, match="a download carries none"):
        emulation.add_fault("media_missing", inputs={"prompt": "x"})
    # refused as added, not as read: one a store kept from before still loads
    assert Fault.from_dict({"effect": "media_missing", "inputs": {"prompt": "x"}}).inputs


# -- the endpoint a request answered by a rule is recorded for -----------------------------

BITDANCE = "fal-ai/bitdance"
SEEDREAM = "fal-ai/bytedance/seedream/v4/text-to-image"  # its polls name fal-ai/bytedance
WS_MODEL = "wavespeed-ai/flux-dev"
WS_KEY = {"Authorization": "Bearer k"}


@pytest.mark.parametrize("effect", ["http_error", "reset"])
def test_a_submit_answered_by_a_rule_is_a_call_of_its_endpoint(effect: str) -> None:
    with emulate() as emulation:
        emulation.add_fault(effect, status=429, provider="fal", times=1)
        url = f"https://queue.fal.run/{BITDANCE}"
        try:
            httpx.post(url, json={"prompt": "x"}, headers=KEY)
        except httpx.RemoteProtocolError:
            pass  # the reset's dropped connection
        assert httpx.post(url, json={"prompt": "x"}, headers=KEY).status_code == 200
        assert len(emulation.calls(BITDANCE)) == 2
        assert len(emulation.requests.filter(endpoint=BITDANCE)) == 2


def test_a_sync_run_and_its_stream_answered_by_a_rule_name_their_endpoint() -> None:
    with emulate() as emulation:
        emulation.add_fault("http_error", status=503, provider="fal", times=2)
        for path in (BITDANCE, f"{BITDANCE}/stream"):
            answer = httpx.post(f"https://fal.run/{path}", json={"prompt": "x"}, headers=KEY)
            assert answer.status_code == 503
        assert [entry.endpoint for entry in emulation.requests] == [BITDANCE, BITDANCE]


def test_a_poll_answered_by_a_rule_names_its_jobs_endpoint() -> None:
    with emulate() as emulation:
        fal_job = httpx.post(f"https://queue.fal.run/{SEEDREAM}", json={"prompt": "x"}, headers=KEY)
        ws_job = httpx.post(
            f"https://api.wavespeed.ai/api/v3/{WS_MODEL}", json={"prompt": "x"}, headers=WS_KEY
        )
        emulation.add_fault("http_error", status=429, times=2)
        assert httpx.get(fal_job.json()["status_url"], headers=KEY).status_code == 429
        ws_result = ws_job.json()["data"]["urls"]["get"]
        assert httpx.get(ws_result, headers=WS_KEY).status_code == 429
        polls = emulation.requests.filter(method="GET")
        assert [(entry.status, entry.endpoint) for entry in polls] == [
            (429, SEEDREAM),
            (429, WS_MODEL),
        ]


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        ("https://queue.fal.run/fal-ai/no-such-app", KEY),
        ("https://queue.fal.run/fal-ai/bitdance/requests/no-such-id/status", KEY),
        ("https://rest.fal.ai/storage/upload/initiate", KEY),
        ("https://api.wavespeed.ai/api/v3/balance", WS_KEY),
        ("https://api.wavespeed.ai/api/v3/predictions/no-such-id/result", WS_KEY),
    ],
    ids=["unknown app", "unknown request", "fal's storage", "WaveSpeed's balance", "unknown task"],
)
def test_a_path_naming_no_endpoint_answered_by_a_rule_names_none(url: str, headers: dict) -> None:
    with emulate() as emulation:
        emulation.add_fault("http_error", status=429, times=1)
        assert httpx.post(url, json={}, headers=headers).status_code == 429
        assert [entry.endpoint for entry in emulation.requests] == [None]


@pytest.mark.parametrize("action", ["/status", "", "/cancel"])
def test_a_poll_naming_another_app_than_its_jobs_is_named_as_its_route_names_it(
    action: str,
) -> None:
    # recorded under the job's endpoint, where its route answers 404 and names none
    with emulate() as emulation:
        job = httpx.post(f"https://queue.fal.run/{BITDANCE}", json={"prompt": "x"}, headers=KEY)
        elsewhere = f"https://queue.fal.run/fal-ai/bytedance/requests/{job.json()['request_id']}"
        method = "PUT" if action == "/cancel" else "GET"
        assert httpx.request(method, elsewhere + action, headers=KEY).status_code == 404
        emulation.add_fault("http_error", status=429, times=1)
        assert httpx.request(method, elsewhere + action, headers=KEY).status_code == 429
        answered = emulation.requests.filter(method=method)
        assert [(entry.status, entry.endpoint) for entry in answered] == [(404, None), (429, None)]


def test_another_keys_job_is_not_named() -> None:
    with emulate() as emulation:
        job = httpx.post(f"https://queue.fal.run/{BITDANCE}", json={"prompt": "x"}, headers=KEY)
        emulation.add_fault("http_error", status=429, times=1)
        other = {"Authorization": "Key other"}
        assert httpx.get(job.json()["status_url"], headers=other).status_code == 429
        assert emulation.requests.filter(method="GET")[0].endpoint is None


def test_the_control_planes_endpoint_filter_finds_a_request_a_rule_answered() -> None:
    with TestClient(create_app()) as client:
        rule = {"effect": "http_error", "status": 429, "times": 1, "provider": "fal"}
        assert client.post("/_emulator/faults", json=rule).status_code == 201
        for status in (429, 200):
            answer = client.post(f"/fal/queue/{BITDANCE}", json={"prompt": "x"}, headers=KEY)
            assert answer.status_code == status
        found = client.get("/_emulator/requests", params={"endpoint": BITDANCE}).json()
        assert sorted(entry["status"] for entry in found) == [200, 429]
