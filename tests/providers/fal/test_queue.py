"""fal's queue, request by request, against the app in-process: a submit, its status
(polled or streamed), its result and cancel, and the URLs they carry."""

from __future__ import annotations

import json
import logging
from dataclasses import replace

import pytest
from starlette.testclient import TestClient

from emulator import EmulatorConfig, Engine, ManualClock, Progression, create_app

BITDANCE = "/fal/queue/fal-ai/bitdance"
SEEDREAM = "fal-ai/bytedance/seedream/v4/text-to-image"


def submit(client: TestClient, endpoint: str = BITDANCE, body: object = None) -> dict:
    response = client.post(endpoint, json={"prompt": "a cat"} if body is None else body)
    assert response.status_code == 200, response.text
    return response.json()


def finish(client: TestClient, submitted: dict) -> None:
    for _ in range(10):
        if client.get(submitted["status_url"]).json()["status"] == "COMPLETED":
            return
    raise AssertionError("the request never completed")


# -- submit and status ---------------------------------------------------------------------


def test_submit_answers_in_queue_with_owner_alias_urls(client: TestClient) -> None:
    submitted = submit(client, f"/fal/queue/{SEEDREAM}")
    request_id = submitted["request_id"]
    base = f"http://testserver/fal/queue/fal-ai/bytedance/requests/{request_id}"
    assert submitted == {
        "status": "IN_QUEUE",
        "request_id": request_id,
        "response_url": base,
        "status_url": base + "/status",
        "cancel_url": base + "/cancel",
        "queue_position": 0,
    }


def test_status_moves_through_the_states_with_the_right_codes(client: TestClient) -> None:
    submitted = submit(client)
    seen = []
    for _ in range(4):
        response = client.get(submitted["status_url"])
        seen.append((response.status_code, response.json()["status"]))
    assert seen == [
        (202, "IN_QUEUE"),
        (202, "IN_PROGRESS"),
        (202, "IN_PROGRESS"),
        (200, "COMPLETED"),
    ]


@pytest.mark.parametrize(
    ("flag", "wants_logs"), [("1", True), ("true", True), ("0", False), ("false", False)]
)
def test_logs_flag_accepts_both_spellings(client: TestClient, flag: str, wants_logs: bool) -> None:
    submitted = submit(client)
    client.get(submitted["status_url"])
    body = client.get(submitted["status_url"], params={"logs": flag}).json()
    assert body["status"] == "IN_PROGRESS"
    assert "logs" in body
    assert isinstance(body["logs"], list) if wants_logs else body["logs"] is None


def test_completed_status_carries_logs_and_metrics(client: TestClient) -> None:
    submitted = submit(client)
    finish(client, submitted)
    body = client.get(submitted["status_url"], params={"logs": 1}).json()
    assert body["status"] == "COMPLETED"
    assert [log["message"] for log in body["logs"]][-1] == "Generating: 100% done"
    assert set(body["logs"][0]) == {"message", "level", "source", "timestamp"}
    assert "inference_time" in body["metrics"]
    assert "error" not in body


@pytest.mark.parametrize(
    "path",
    [
        "/fal/queue/fal-ai/bitdance/requests/{id}/status",
        "/fal/queue/fal-ai/bitdance/requests/{id}/status/",
        "/fal/queue/fal-ai/bitdance/requests/{id}",
        "/fal/queue/fal-ai/bitdance/requests/{id}/",
    ],
)
def test_full_id_and_trailing_slash_forms(client: TestClient, path: str) -> None:
    submitted = submit(client)
    finish(client, submitted)
    assert client.get(path.format(id=submitted["request_id"])).status_code == 200


def test_seedream_answers_under_both_owner_alias_and_full_id(client: TestClient) -> None:
    request_id = submit(client, f"/fal/queue/{SEEDREAM}")["request_id"]
    assert (
        client.get(f"/fal/queue/fal-ai/bytedance/requests/{request_id}/status").status_code == 202
    )
    assert client.get(f"/fal/queue/{SEEDREAM}/requests/{request_id}/status").status_code == 202
    # ... but not under another application's path
    assert client.get(f"/fal/queue/fal-ai/bitdance/requests/{request_id}/status").status_code == 404


def test_queue_position_counts_down(clock: ManualClock) -> None:
    config = EmulatorConfig(
        seed=1, progression=replace(EmulatorConfig().progression, jitter=0, queue_position=4)
    )
    engine = Engine(config, clock=clock)
    with TestClient(create_app(engine=engine), headers={"Authorization": "Key k"}) as client:
        submitted = submit(client)
        positions = [submitted["queue_position"]]
        for _ in range(3):
            clock.advance(0.06)
            positions.append(client.get(submitted["status_url"]).json()["queue_position"])
        assert (
            positions == sorted(positions, reverse=True) and positions[0] == 4 and positions[-1] < 4
        )
        clock.advance(10)
        assert client.get(submitted["status_url"]).json()["status"] == "COMPLETED"


def test_memoised_status_bodies_never_go_stale(client: TestClient, engine: Engine) -> None:
    engine.reset(5)
    first = submit(client)
    assert client.get(first["status_url"]).json()["status_url"] == first["status_url"]
    engine.reset(5)  # the same seed: the next request gets the same id, on another endpoint
    second = submit(client, f"/fal/queue/{SEEDREAM}")
    assert second["request_id"] == first["request_id"]
    status = client.get(second["status_url"]).json()
    assert status["status_url"] == second["status_url"] != first["status_url"]
    client.put(second["cancel_url"])
    assert client.get(second["status_url"]).json()["error_type"] == "client_cancelled"


# -- the SSE status stream -----------------------------------------------------------------


def test_status_stream_sends_each_state_and_closes_after_completed(client: TestClient) -> None:
    submitted = submit(client)
    with client.stream("GET", submitted["status_url"] + "/stream", params={"logs": 1}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [
            json.loads(line[len("data: ") :])
            for line in response.iter_lines()
            if line.startswith("data: ")
        ]
    assert [e["status"] for e in events][0] == "IN_QUEUE"
    assert events[-1]["status"] == "COMPLETED"
    assert "IN_PROGRESS" in [e["status"] for e in events]
    # each event carries the lines new since the last; a poll answers them all
    streamed = [log["message"] for e in events for log in e.get("logs") or []]
    polled = client.get(submitted["status_url"], params={"logs": 1}).json()["logs"]
    assert streamed == [log["message"] for log in polled] and len(streamed) > 1


def client_token(client: TestClient, apps: list[str], seconds: int = 120) -> str:
    issued = client.post(
        "/fal/rest/tokens/", json={"allowed_apps": apps, "token_expiration": seconds}
    )
    assert issued.status_code == 200, issued.text
    return issued.json()


def test_a_client_token_opens_the_status_stream_of_its_keys_jobs_only(
    client: TestClient, clock: ManualClock
) -> None:
    # A client-mode `FalStream` (`fal.queue.streamStatus`, `fal.subscribe`'s streaming mode)
    # sends ?fal_jwt_token= and no key.
    submitted = submit(client)
    stream = submitted["status_url"] + "/stream"
    mine = client_token(client, ["bitdance"], 60)
    with TestClient(client.app) as browser:  # no key: only the token
        opened = browser.get(stream, params={"fal_jwt_token": mine})
        assert opened.status_code == 200, opened.text
        events = [line[6:] for line in opened.text.splitlines() if line.startswith("data: ")]
        assert json.loads(events[-1])["status"] == "COMPLETED"
        with TestClient(client.app, headers={"Authorization": "Key k2"}) as other_key:
            theirs = client_token(other_key, ["bitdance"])
        foreign = browser.get(stream, params={"fal_jwt_token": theirs})
        assert foreign.status_code == 404  # a token of another key sees none of k1's jobs
        wrong_app = browser.get(stream, params={"fal_jwt_token": client_token(client, ["flux"])})
        assert wrong_app.status_code == 403
        assert wrong_app.json() == {"detail": "The token does not allow the app 'bitdance'"}
        clock.advance(61)
        expired = browser.get(stream, params={"fal_jwt_token": mine})
        assert expired.status_code == 401
        assert expired.json() == {"detail": "The token has expired; request a new one"}


def test_a_client_token_is_refused_where_fals_clients_send_none(client: TestClient) -> None:
    submitted = submit(client)
    params = {"fal_jwt_token": client_token(client, ["bitdance"])}
    with TestClient(client.app) as browser:
        for refused in (
            browser.get(submitted["status_url"], params=params),
            browser.get(submitted["response_url"], params=params),
            browser.post(BITDANCE, params=params, json={"prompt": "a cat"}),
        ):
            assert refused.status_code == 401
            assert "a fal_jwt_token opens only the realtime WebSocket" in refused.json()["detail"]


# -- result and cancel ---------------------------------------------------------------------


def test_result_before_completion_is_a_400(client: TestClient) -> None:
    submitted = submit(client)
    response = client.get(submitted["response_url"])
    assert response.status_code == 400
    assert response.json() == {"detail": "Request is still in progress"}
    # the JavaScript client takes its error's requestId from here
    assert response.headers["x-fal-request-id"] == submitted["request_id"]


def test_result_carries_the_request_id_header(client: TestClient) -> None:
    submitted = submit(client)
    finish(client, submitted)
    response = client.get(submitted["response_url"])
    assert response.status_code == 200
    assert response.headers["x-fal-request-id"] == submitted["request_id"]


def test_cancel_codes(client: TestClient) -> None:
    queued = submit(client)
    assert client.put(queued["cancel_url"]).status_code == 202
    assert client.put(queued["cancel_url"]).status_code == 400  # now already completed
    status = client.get(queued["status_url"]).json()
    assert (status["status"], status["error_type"]) == ("COMPLETED", "client_cancelled")
    result = client.get(queued["response_url"])
    assert result.status_code == 499
    assert result.headers["x-fal-error-type"] == "client_cancelled"

    done = submit(client)
    finish(client, done)
    refused = client.put(done["cancel_url"])
    assert refused.status_code == 400 and refused.json()["status"] == "ALREADY_COMPLETED"


def test_queued_invalid_input_completes_then_fails_at_the_result(client: TestClient) -> None:
    submitted = submit(client, body={"num_images": "many"})
    finish(client, submitted)
    assert "error" not in client.get(submitted["status_url"]).json()
    result = client.get(submitted["response_url"])
    assert result.status_code == 422
    assert {"loc": ["body", "prompt"], "msg": "Field required", "type": "missing"} in result.json()[
        "detail"
    ]


def test_validate_on_submit_rejects_at_once(engine: Engine) -> None:
    engine.config = replace(engine.config, validate_on_submit=True)
    with TestClient(create_app(engine=engine), headers={"Authorization": "Key k"}) as client:
        response = client.post(BITDANCE, json={"prompt": 3})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "string_type"


def test_a_request_expires_after_the_retention(clock: ManualClock) -> None:
    engine = Engine(EmulatorConfig(retention=60), clock=clock)
    with TestClient(create_app(engine=engine), headers={"Authorization": "Key k"}) as client:
        submitted = submit(client)
        clock.advance(61)
        response = client.get(submitted["status_url"])
        unknown = client.get(submitted["status_url"].replace(submitted["request_id"], "x" * 8))
        other_key = client.get(submitted["status_url"], headers={"Authorization": "Key other"})
    assert response.status_code == 404
    assert response.json()["detail"].startswith(f"Request '{submitted['request_id']}' has expired")
    assert (unknown.status_code, unknown.json()["detail"]) == (404, "Request 'xxxxxxxx' not found")
    # another key learns nothing of it
    assert other_key.json()["detail"] == f"Request '{submitted['request_id']}' not found"


# -- where URLs point ----------------------------------------------------------------------


def test_requests_to_real_provider_hosts_get_real_provider_urls(engine: Engine) -> None:
    app = create_app(engine=engine)
    with TestClient(
        app, base_url="https://queue.fal.run", headers={"Authorization": "Key k"}
    ) as queue:
        submitted = queue.post("/fal-ai/bitdance", json={"prompt": "x"}).json()
        assert submitted["status_url"].startswith("https://queue.fal.run/fal-ai/bitdance/requests/")
        finish(queue, submitted)
        image_url = queue.get(submitted["response_url"]).json()["images"][0]["url"]
    assert image_url.startswith("https://v3.fal.media/files/")
    with TestClient(app, base_url="https://v3.fal.media") as cdn:
        assert cdn.get(image_url.removeprefix("https://v3.fal.media")).status_code == 200


def test_public_url_overrides_the_origin(engine: Engine) -> None:
    engine.config = replace(engine.config, public_url="https://emulator.example:9000")
    with TestClient(create_app(engine=engine), headers={"Authorization": "Key k"}) as client:
        submitted = submit(client)
    assert submitted["status_url"].startswith(
        "https://emulator.example:9000/fal/queue/fal-ai/bitdance/"
    )


def test_an_unknown_app_is_fals_404_and_one_line_of_advice_in_the_log(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="emulator"):
        answers = [client.post("/fal/queue/acme/brand-new", json={"prompt": "x"}) for _ in "ab"]
    assert [answer.status_code for answer in answers] == [404, 404]
    assert answers[0].json() == {"detail": "Application 'brand-new' not found"}
    advice = [r.getMessage() for r in caplog.records if "no contract knows" in r.getMessage()]
    assert len(advice) == 1 and "fal model 'acme/brand-new'" in advice[0]


@pytest.mark.parametrize("route", [BITDANCE, "/wavespeed/api/v3/wavespeed-ai/flux-dev"])
def test_a_keys_byte_budget_counts_what_its_inputs_weigh_parsed(route: str) -> None:
    # 3,000 empty objects: 9 KB of text, 0.2 MB parsed; counted as text, 40 fitted in 1 MB
    config = EmulatorConfig(
        progression=Progression.parse("immediate"), max_retained_bytes_per_key=1_000_000
    )
    engine = Engine(config)
    body = {"prompt": "x", "extra": [{}] * 3000}
    scheme = "Bearer" if route.startswith("/wavespeed") else "Key"
    with TestClient(create_app(engine=engine), headers={"Authorization": f"{scheme} k"}) as client:
        for _ in range(10):
            assert client.post(route, json=body).status_code == 200
    assert len(engine.jobs) == 1  # each counts 0.8 MB: the key keeps its newest alone


def test_a_submission_the_total_budget_has_no_room_for_is_fals_429() -> None:
    """Past `--max-jobs`, only a finished job makes room for another key's: with every job
    kept still in its queue, a submission is refused rather than one of them evicted."""
    config = EmulatorConfig(progression=Progression.parse("polls:5,5"), max_jobs=2)
    with TestClient(create_app(engine=Engine(config))) as client:
        kept = [
            client.post(BITDANCE, json={"prompt": "x"}, headers={"Authorization": f"Key {key}"})
            for key in ("quiet", "busy")
        ]
        refused = client.post(BITDANCE, json={"prompt": "x"}, headers={"Authorization": "Key busy"})
        assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
        assert "total budget" in refused.json()["detail"]
        status = client.get(kept[0].json()["status_url"], headers={"Authorization": "Key quiet"})
        assert status.json()["status"] == "IN_QUEUE"


def test_a_full_queue_counts_the_key_s_own_requests_alone() -> None:
    """``?fal_max_queue_length=N`` counts the caller's queued requests: another key's had
    refused its submits on a shared emulator, and told it how many that key had waiting."""
    config = EmulatorConfig(progression=Progression.parse("polls:5,5"))
    with TestClient(create_app(engine=Engine(config))) as client:
        full = f"{BITDANCE}?fal_max_queue_length=1"
        busy, quiet = {"Authorization": "Key busy"}, {"Authorization": "Key quiet"}
        assert client.post(BITDANCE, json={"prompt": "x"}, headers=busy).status_code == 200
        assert client.post(full, json={"prompt": "x"}, headers=quiet).status_code == 200
        assert client.post(full, json={"prompt": "x"}, headers=quiet).status_code == 429
        assert client.post(full, json={"prompt": "x"}, headers=busy).status_code == 429
