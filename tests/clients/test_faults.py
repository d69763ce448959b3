"""Staged failures meet the real clients; each test asserts what the client did.

Where a client behaves badly under a fault, the test says so as a finding.
"""

from __future__ import annotations

import io
import time
from typing import Any

import fal_client
import httpx
import pytest
import requests
from PIL import Image
from wavespeed import Client
from wavespeed import config as wavespeed_config

from emulator import EmulatorConfig, Engine, emulate
from emulator.core.faults import Fault
from emulator.providers.fal.errors import REQUEST_ERROR_STATUS

from .conftest import Target

BITDANCE = "fal-ai/bitdance"
WS_BITDANCE = "wavespeed-ai/bitdance-14b/text-to-image"


def stage(engine: Engine, effect: str, **rule: Any) -> Fault:
    return engine.faults.add(Fault.from_dict({"effect": effect, **rule}))


def fal_client_for(key: str = "faults") -> fal_client.SyncClient:
    return fal_client.SyncClient(key=key)


# -- job outcomes --------------------------------------------------------------------------


@pytest.mark.parametrize("error_type", sorted(REQUEST_ERROR_STATUS))
def test_fal_request_errors_reach_the_client(target: Target, error_type: str) -> None:
    stage(target.engine, "fail", provider="fal", error_type=error_type, times=1)
    updates: list[fal_client.Status] = []
    with pytest.raises(fal_client.FalClientHTTPError) as caught:
        fal_client_for().subscribe(
            BITDANCE, arguments={"prompt": "x"}, on_queue_update=updates.append
        )
    assert (caught.value.status_code, caught.value.error_type) == (
        REQUEST_ERROR_STATUS[error_type],
        error_type,
    )
    assert updates[-1].error_type == error_type  # the COMPLETED status says it too
    assert fal_client_for().run(BITDANCE, arguments={"prompt": "x"})["prompt"] == "x"  # times=1


def test_a_staged_model_422(target: Target) -> None:
    stage(target.engine, "fail", error_type="unprocessable", message="prompt is too dark")
    with pytest.raises(fal_client.FalClientHTTPError) as caught:
        fal_client_for().run(BITDANCE, arguments={"prompt": "x"})
    assert caught.value.status_code == 422
    assert caught.value.message == [
        {"loc": ["body"], "msg": "prompt is too dark", "type": "value_error"}
    ]


def test_an_exchange_error_for_one_input_meets_only_the_calls_that_send_it(target: Target) -> None:
    # matched on the submit's body, read ahead of its route (the rule never fired before)
    refusing = {"provider": "fal", "status": 400, "inputs": {"prompt": "refuse me"}}
    rule = stage(target.engine, "http_error", **refusing)
    with pytest.raises(fal_client.FalClientHTTPError) as caught:
        fal_client_for().submit(BITDANCE, arguments={"prompt": "refuse me"})
    assert caught.value.status_code == 400
    assert fal_client_for().run(BITDANCE, arguments={"prompt": "other"})["prompt"] == "other"
    assert (rule.matched, rule.fired) == (1, 1)


@pytest.mark.parametrize("code", [1200, 1400, 1401, 1402, 1403, 1405, 5000, 5003, 5004])
def test_wavespeed_task_codes_reach_the_sdk(target: Target, code: int) -> None:
    stage(target.engine, "fail", provider="wavespeed", code=code, message=f"staged {code}")
    client = Client(api_key="faults", base_url=target.wavespeed_url)
    outcome = client.run_no_throw(WS_BITDANCE, {"prompt": "x"}, poll_interval=0.01)
    assert outcome["status"] == "failed" and f"staged {code}" in outcome["error"]
    assert client.get_result(outcome["task_id"])["data"]["code"] == code


def test_nsfw_flags_and_blanked_media(target: Target) -> None:
    stage(target.engine, "nsfw", inputs={"prompt": "flag me"})
    result = fal_client_for().run(BITDANCE, arguments={"prompt": "flag me", "num_images": 2})
    assert result["has_nsfw_concepts"] == [True, True]
    blank = Image.open(io.BytesIO(httpx.get(result["images"][0]["url"]).content)).convert("L")
    assert blank.getextrema() == (0, 0)  # black, as the providers blank flagged images
    assert fal_client_for().run(BITDANCE, arguments={"prompt": "fine"})["has_nsfw_concepts"] == [
        False
    ]
    client = Client(api_key="faults", base_url=target.wavespeed_url)
    outcome = client.run_no_throw(WS_BITDANCE, {"prompt": "flag me"}, poll_interval=0.01)
    assert client.get_result(outcome["task_id"])["data"]["has_nsfw_contents"] == [True]


def test_a_staged_cancellation(target: Target) -> None:
    stage(target.engine, "cancel", times=2)
    with pytest.raises(fal_client.FalClientHTTPError) as caught:
        fal_client_for().subscribe(BITDANCE, arguments={"prompt": "x"})
    assert (caught.value.status_code, caught.value.error_type) == (499, "client_cancelled")
    client = Client(api_key="faults", base_url=target.wavespeed_url)
    with pytest.raises(RuntimeError, match="Prediction cancelled"):
        client.run(WS_BITDANCE, {"prompt": "x"}, poll_interval=0.01)


@pytest.mark.parametrize(("effect", "status"), [("timeout", 504), ("cancel", 499)])
def test_a_sync_run_cut_short_raises_in_fal_client(
    target: Target, effect: str, status: int
) -> None:
    # fal.run answers in its own exchange: its job's timeout or cancellation (met as it
    # leaves the queue) was never seen, and fal_client.run returned the output
    stage(target.engine, effect, times=1)
    with pytest.raises(fal_client.FalClientHTTPError) as caught:
        fal_client_for().run(BITDANCE, arguments={"prompt": "x"})
    assert caught.value.status_code == status


def test_queue_starvation_meets_the_clients_timeout(target: Target) -> None:
    stage(target.engine, "starve", provider="fal")
    with pytest.raises(fal_client.FalClientTimeoutError):
        fal_client_for().subscribe(BITDANCE, arguments={"prompt": "x"}, client_timeout=1.5)
    # the client cancels what it gave up on
    (cancel,) = target.engine.record.filter(method="PUT", path="/cancel")
    # Finding: after raising, fal_client's worker thread goes on polling; it stops only once
    # the request completes (here: its own cancel completed it) and it has read the result.
    result_path = cancel.path.removesuffix("/cancel")
    # A bound, not a measure: the poller's pace stretches when every worker is busy.
    deadline = time.monotonic() + 45
    while (
        not any(e.path == result_path for e in target.engine.record) and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    assert any(e.path == result_path for e in target.engine.record)  # the client's finding
    # The emulator's side, asked directly: the request ended, cancelled (fal's 499, tested in
    # tests/providers/fal) or timed out: fal_client sends its client timeout as the server's
    # start timeout too (X-Fal-Request-Timeout), so both fall due together, and on a busy
    # machine the server's comes first. (What the leftover poller itself got varied under a
    # full parallel run, for the same reason.)
    job = next(iter(target.engine.jobs))
    failure = target.engine.look(job).failure
    assert failure is not None and failure.kind in ("cancelled", "request_timeout")


def test_a_server_side_timeout(target: Target) -> None:
    stage(target.engine, "timeout", provider="fal")
    with pytest.raises(fal_client.FalClientHTTPError) as caught:
        fal_client_for().subscribe(BITDANCE, arguments={"prompt": "x"})
    assert (caught.value.status_code, caught.value.error_type) == (504, "request_timeout")


# -- the exchange --------------------------------------------------------------------------


def test_429_with_retry_after_is_retried_by_fal_client(target: Target) -> None:
    stage(
        target.engine,
        "http_error",
        provider="fal",
        method="POST",
        status=429,
        retry_after=1,
        times=2,
    )
    assert fal_client_for().run(BITDANCE, arguments={"prompt": "x"})["prompt"] == "x"
    runs = target.engine.record.filter(method="POST", path="/fal/run/")
    assert [entry.status for entry in runs] == [429, 429, 200]
    # the 429s are calls of the endpoint, as its tries (docs/testing.md)
    assert [entry.status for entry in target.engine.record.calls(BITDANCE)] == [429, 429, 200]
    # Finding: fal_client retries after its own backoff (0.1 s doubling), ignoring Retry-After.
    assert runs[-1].started - runs[0].started < 1


@pytest.mark.parametrize("status", [502, 503, 504])
def test_fal_ingress_errors_are_retried_and_others_are_not(target: Target, status: int) -> None:
    stage(target.engine, "http_error", provider="fal", path="*/status", status=status, times=1)
    assert fal_client_for().subscribe(BITDANCE, arguments={"prompt": "x"})["prompt"] == "x"
    stage(target.engine, "http_error", provider="fal", path="*/status", status=500, times=1)
    with pytest.raises(fal_client.FalClientHTTPError) as caught:
        fal_client_for().subscribe(BITDANCE, arguments={"prompt": "y"})
    assert caught.value.status_code == 500  # a 500 from fal itself is not an ingress error


def test_wavespeed_sdk_retries_result_errors(target: Target) -> None:
    stage(
        target.engine, "http_error", provider="wavespeed", path="predictions/*", status=503, times=1
    )
    client = Client(api_key="faults", base_url=target.wavespeed_url, retry_interval=0.01)
    assert client.run(WS_BITDANCE, {"prompt": "x"}, poll_interval=0.01)["outputs"]
    results = target.engine.record.filter(provider="wavespeed", path="/result")
    assert [(entry.status, entry.endpoint) for entry in results][:2] == [
        (503, WS_BITDANCE),
        (200, WS_BITDANCE),
    ]


def test_a_rate_limited_wavespeed_run_is_a_call_of_its_model(target: Target) -> None:
    # The SDK retries no refused submit (it may have made a task): its caller tries again.
    stage(target.engine, "http_error", provider="wavespeed", method="POST", status=429, times=1)
    client = Client(api_key="faults", base_url=target.wavespeed_url, retry_interval=0.01)
    with pytest.raises(RuntimeError, match="HTTP 429"):
        client.run(WS_BITDANCE, {"prompt": "x"}, poll_interval=0.01)
    assert client.run(WS_BITDANCE, {"prompt": "x"}, poll_interval=0.01)["outputs"]
    assert [entry.status for entry in target.engine.record.calls(WS_BITDANCE)] == [429, 200]


def test_wavespeed_sdk_retries_a_result_poll_that_times_out(
    target: Target, capsys: pytest.CaptureFixture[str]
) -> None:
    # Its read timeout, not the rule's 3 s, ends the first poll; in-process as over a socket
    stage(target.engine, "hang", provider="wavespeed", path="*/result", seconds=3, times=1)
    client = Client(api_key="faults", base_url=target.wavespeed_url, retry_interval=0.01)
    with wavespeed_config.patch("api.read_timeout_get", 0.5):  # the SDK's own setting
        assert client.run(WS_BITDANCE, {"prompt": "x"}, poll_interval=0.01)["outputs"]
    assert "ReadTimeout" in capsys.readouterr().err  # the SDK's own retry says why


def test_wavespeed_sdk_lets_a_result_cut_short_through(target: Target) -> None:
    # Finding: its retries catch requests' ConnectionError and Timeout, not the
    # ChunkedEncodingError of a connection that drops mid-answer (in-process as over a socket)
    stage(target.engine, "reset", provider="wavespeed", path="*/result", times=1)
    client = Client(api_key="faults", base_url=target.wavespeed_url, retry_interval=0.01)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        client.run(WS_BITDANCE, {"prompt": "x"}, poll_interval=0.01)


def test_a_dropped_connection_is_retried(target: Target) -> None:
    stage(target.engine, "reset", provider="fal", path="*/status", times=1)
    assert fal_client_for().subscribe(BITDANCE, arguments={"prompt": "x"})["prompt"] == "x"


def test_a_sync_run_given_up_on_while_held_counts_as_a_try() -> None:
    # docs/testing.md's promise: a test of how often code retries a sync run that timed out
    # counts its tries with .calls(); the hang holds the first past fal_client's timeout
    with emulate() as emulation:
        emulation.add_fault("hang", seconds=3, provider="fal", times=1)
        fal_client_for().run(BITDANCE, arguments={"prompt": "x"}, timeout=0.5)
        tries = emulation.calls(BITDANCE)
        assert [entry.status for entry in tries] == [499, 200]
        assert len(emulation.requests.filter(endpoint=BITDANCE)) == 2


def test_a_slow_answer_meets_the_clients_timeout(target: Target) -> None:
    stage(target.engine, "hang", provider="fal", method="POST", seconds=2, times=1)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            target.wavespeed_url.replace("/wavespeed", "/fal/run").replace(
                "https://api.wavespeed.ai", "https://fal.run"
            )
            + "/fal-ai/bitdance",
            json={"prompt": "x"},
            headers={"Authorization": "Key k"},
            timeout=0.3,
        )


# -- media ---------------------------------------------------------------------------------


def test_missing_and_truncated_media(target: Target) -> None:
    url = fal_client_for().run(BITDANCE, arguments={"prompt": "x"})["images"][0]["url"]
    stage(target.engine, "media_missing", times=1)
    assert httpx.get(url).status_code == 404
    stage(target.engine, "media_truncated", times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(url)
    assert httpx.get(url).status_code == 200  # both fired once


def test_the_python_api_and_http_control_plane_agree(start: Any) -> None:
    target = start(EmulatorConfig())
    rule = stage(target.engine, "http_error", status=503, provider="fal", nth=2)
    assert rule.as_dict()["nth"] == 2 and rule.id == "fault-1"


def test_a_seeded_fault_heavy_run_replays_exactly() -> None:
    def run_once() -> tuple[list, list]:
        with emulate(seed=5, progression="polls:1,1") as emulation:
            emulation.add_fault(
                "http_error", provider="fal", path="*/status", status=503, probability=0.3
            )
            emulation.add_fault("fail", error_type="runner_disconnected", probability=0.3)
            emulation.add_fault("nsfw", probability=0.2)
            outcomes: list = []
            for i in range(10):
                try:
                    result = fal_client_for("replay").subscribe(
                        BITDANCE, arguments={"prompt": f"p{i}"}
                    )
                    image = httpx.get(result["images"][0]["url"], timeout=60).content
                    outcomes.append((result["seed"], image))
                except fal_client.FalClientHTTPError as error:
                    outcomes.append((error.status_code, error.error_type))
            record = [(entry.method, entry.path, entry.status) for entry in emulation.requests]
        return outcomes, record

    first, second = run_once(), run_once()
    assert first == second
    outcomes, record = first
    assert 503 in {status for _, _, status in record}  # the run was fault-heavy:
    assert (503, "runner_disconnected") in outcomes  # retried 503s, staged failures


def test_slow_answers_and_slow_media_are_waited_for(target: Target) -> None:
    stage(target.engine, "delay", provider="wavespeed", method="POST", seconds=0.4, times=1)
    client = Client(api_key="faults", base_url=target.wavespeed_url)
    (output,) = client.run(WS_BITDANCE, {"prompt": "x"}, poll_interval=0.01)["outputs"]
    (submit,) = target.engine.record.filter(provider="wavespeed", method="POST")
    # the event loop may end a sleep a little early (uvloop's timers count whole
    # milliseconds from a cached time: 0.3995 s once, served)
    assert submit.duration >= 0.39
    stage(target.engine, "media_slow", seconds=0.4, times=1)
    assert httpx.get(output, timeout=10).elapsed.total_seconds() >= 0.39
