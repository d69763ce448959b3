"""WaveSpeed's v3 wire protocol, request by request, against the app in-process."""

from __future__ import annotations

import base64
import io
import logging
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image
from starlette.routing import Match
from starlette.testclient import TestClient

from emulator import EmulatorConfig, Engine, Progression, create_app
from emulator.providers.wavespeed.paths import ModelRoute
from emulator.providers.wavespeed.routes import WaveSpeedApi
from tests.raw_http import json_post
from tests.user_contracts import renamed, schema, written

BITDANCE = "/wavespeed/api/v3/wavespeed-ai/bitdance-14b/text-to-image"
Z_IMAGE = "/wavespeed/api/v3/wavespeed-ai/z-image/turbo"


def submit(client: TestClient, body: object = None, path: str = BITDANCE) -> dict:
    response = client.post(path, json={"prompt": "a cat"} if body is None else body)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def test_submit_answers_the_created_prediction_in_the_envelope(client: TestClient) -> None:
    response = client.post(BITDANCE, json={"prompt": "a cat"})
    body = response.json()
    assert (response.status_code, body["code"], body["message"]) == (200, 200, "success")
    data = body["data"]
    assert re.fullmatch(r"[0-9a-f]{32}", data["id"])
    assert data == {
        "id": data["id"],
        "model": "wavespeed-ai/bitdance-14b/text-to-image",
        "outputs": [],
        "urls": {"get": f"http://testserver/wavespeed/api/v3/predictions/{data['id']}/result"},
        "has_nsfw_contents": [],
        "status": "created",
        "created_at": data["created_at"],
        "error": "",
        "executionTime": 0,
        "timings": {"inference": 0},
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", data["created_at"])


def test_the_result_moves_created_processing_completed_always_http_200(client: TestClient) -> None:
    data = submit(client)
    seen = []
    for _ in range(4):
        response = client.get(data["urls"]["get"])
        assert response.status_code == 200
        seen.append(response.json()["data"]["status"])
    assert seen == ["created", "processing", "processing", "completed"]
    done = client.get(data["urls"]["get"]).json()["data"]
    assert len(done["outputs"]) == 1 and done["has_nsfw_contents"] == [False]
    assert client.get(done["outputs"][0]).headers["content-type"] == "image/jpeg"


def test_both_result_paths_answer_the_same(client: TestClient) -> None:
    data = submit(client)
    for _ in range(4):
        client.get(data["urls"]["get"])
    assert (
        client.get(f"/wavespeed/api/v3/predictions/{data['id']}").json()
        == client.get(data["urls"]["get"]).json()
    )


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            BITDANCE + "?webhook=http://127.0.0.1:9/hook",
            {"prompt": "x", "enable_base64_output": True},
        ),
        (
            BITDANCE,
            {"prompt": "x", "enable_base64_output": True, "webhook_url": "http://127.0.0.1:9/hook"},
        ),
    ],
)
def test_base64_with_a_webhook_is_refused_as_documented(
    client: TestClient, path: str, body: dict
) -> None:
    response = client.post(path, json=body)
    refusal = (
        "webhook callback does not support base64 output, "
        "please use the normal API to use base64 output"
    )
    assert response.status_code == 400
    # the documented {"error": …}, inside the envelope every other error has
    assert response.json() == {"code": 400, "message": refusal, "data": None, "error": refusal}


def test_a_webhook_in_the_query_is_stored_with_the_task(client: TestClient, engine: Engine) -> None:
    data = submit(client, path=BITDANCE + "?webhook=http://127.0.0.1:9/hook")
    job = engine.find(next(iter(engine.jobs)).id, "k1")
    assert job is not None and job.webhook == "http://127.0.0.1:9/hook"
    assert data["model"] == "wavespeed-ai/bitdance-14b/text-to-image"


def test_validation_errors_are_400_in_the_envelope(client: TestClient) -> None:
    response = client.post(BITDANCE, json={"prompt": "x", "seed": -2, "size": "2000*1000"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == 400 and body["data"] is None
    assert "seed: Input should be greater than or equal to -1" in body["message"]
    assert "size: size must be 'W*H'" in body["message"]


@pytest.mark.parametrize("size", ["256*1536", "1536*256", "1:1", "3:2", "1024*1024"])
def test_sizes_at_the_documented_limits_are_accepted(client: TestClient, size: str) -> None:
    assert client.post(BITDANCE, json={"prompt": "x", "size": size}).status_code == 200


@pytest.mark.parametrize("size", ["255*1024", "1024*1537", "0*0", "1024x1024", "5:4", "01024*1024"])
def test_sizes_beyond_them_are_refused(client: TestClient, size: str) -> None:
    assert client.post(BITDANCE, json={"prompt": "x", "size": size}).status_code == 400


def test_sync_mode_answers_the_completed_prediction(client: TestClient) -> None:
    response = client.post(BITDANCE, json={"prompt": "x", "enable_sync_mode": True})
    data = response.json()["data"]
    assert data["status"] == "completed" and len(data["outputs"]) == 1


def test_sync_mode_times_out_with_5004(engine: Engine) -> None:
    engine.config = replace(
        engine.config,
        sync_timeout=0.05,
        progression=replace(engine.config.progression, mode="wall"),
    )
    with TestClient(create_app(engine=engine), headers={"Authorization": "Bearer k"}) as client:
        data = client.post(BITDANCE, json={"prompt": "x", "enable_sync_mode": True}).json()["data"]
    assert (data["status"], data["code"]) == ("processing", 5004)
    assert data["error"] == (
        "Sync mode timed out after 0.05 seconds. The prediction is still processing asynchronously."
    )


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Key k1"}, {"Authorization": "Bearer "}])
def test_requests_without_a_bearer_key_get_a_401(engine: Engine, headers: dict) -> None:
    with TestClient(create_app(engine=engine)) as client:
        response = client.post(BITDANCE, json={"prompt": "x"}, headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == 401


def test_a_key_never_sees_another_keys_tasks(client: TestClient) -> None:
    data = submit(client)
    other = client.get(data["urls"]["get"], headers={"Authorization": "Bearer someone-else"})
    assert other.status_code == 404
    assert client.get(data["urls"]["get"]).status_code == 200


def test_a_fal_job_of_the_same_key_is_no_prediction(client: TestClient) -> None:
    fal = client.post(
        "/fal/queue/fal-ai/bitdance", json={"prompt": "a cat"}, headers={"Authorization": "Key k1"}
    ).json()["request_id"]
    answer = client.get(f"/wavespeed/api/v3/predictions/{fal.replace('-', '')}/result")
    assert answer.status_code == 404
    assert answer.json()["message"] == "Prediction not found"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", "/wavespeed/api/v3/acme/no-such-model", 404),
        ("GET", "/wavespeed/api/v3/predictions/00000000000000000000000000000000/result", 404),
        ("GET", "/wavespeed/api/v3/predictions/not-an-id/result", 404),
        ("GET", BITDANCE, 405),
        # a mistyped API path: no model, so no 405 sending its caller to POST it
        ("GET", "/wavespeed/api/v3/balances", 404),
        ("GET", "/wavespeed/api/v3/predictions/abc/results", 404),
        ("PUT", "/wavespeed/api/v3/", 404),
        # an API path's wrong method: a 405, not the model route's 404
        ("POST", "/wavespeed/api/v3/webhook/secret", 405),
        ("GET", "/wavespeed/api/v3/upload", 405),
        ("GET", "/wavespeed/cdn/files/emulator/nothing.jpg", 404),
        ("DELETE", "/wavespeed/cdn/files/emulator/nothing.jpg", 405),
    ],
)
def test_unknown_things_and_wrong_methods(
    client: TestClient, method: str, path: str, status: int
) -> None:
    response = client.request(method, path)
    assert response.status_code == status
    assert response.json()["code"] == status and isinstance(response.json()["message"], str)


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"{nope", "application/json", 400),
        (b"prompt=x", "text/plain", 415),
        (b"[" * 100 + b"]" * 100, "application/json", 400),
    ],
)
def test_malformed_bodies(
    client: TestClient, content: bytes, content_type: str, status: int
) -> None:
    response = client.post(BITDANCE, content=content, headers={"Content-Type": content_type})
    assert response.status_code == status
    assert response.json()["code"] == status


def test_requests_to_the_real_host_get_real_urls(engine: Engine) -> None:
    app = create_app(engine=engine)
    with TestClient(
        app, base_url="https://api.wavespeed.ai", headers={"Authorization": "Bearer k"}
    ) as api:
        data = api.post(
            "/api/v3/wavespeed-ai/bitdance-14b/text-to-image",
            json={"prompt": "x", "enable_sync_mode": True},
        ).json()["data"]
    assert data["urls"]["get"].startswith("https://api.wavespeed.ai/api/v3/predictions/")
    assert data["outputs"][0].startswith("https://d2p7pge43lyniu.cloudfront.net/files/emulator/")
    with TestClient(app, base_url="https://d2p7pge43lyniu.cloudfront.net") as cdn:
        assert (
            cdn.get(
                data["outputs"][0].removeprefix("https://d2p7pge43lyniu.cloudfront.net")
            ).status_code
            == 200
        )


def _first_match(routes: list, scope: dict) -> tuple[object, dict]:
    """What a router trying ``routes`` in order takes: the first full match, else the
    first partial one, with the scope it adds."""
    partial: tuple[object, dict] = (None, {})
    for route in routes:
        match, child_scope = route.matches(scope)
        if match is Match.FULL:
            return route, child_scope
        if match is Match.PARTIAL and partial[0] is None:
            partial = route, child_scope
    return partial


@pytest.mark.parametrize(
    "rest",
    [
        "wavespeed-ai/bitdance-14b/text-to-image",
        "wavespeed-ai/bitdance-14b/text-to-image/",
        "wavespeed-ai/x\n",
        "predictions",
        "predictions/delete",
        "predictions/abc",
        "predictions/abc/result",
        "predictions/a/b",
        "balance",
        "balance\n",
        "balances",
        "model/price",
        "model\n/price",
        "models/x",
        "webhook/secret",
        "upload",
        "uploads",
        "media/uploads",
        "user/usage_stats",
        "",
        "x\ny",
    ],
)
@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "TRACE"])
def test_the_model_route_first_takes_what_it_took_last(
    engine: Engine, rest: str, method: str
) -> None:
    """Tried early, the submit route takes exactly the requests it took when it was tried
    after every other route, with the same path parameters."""
    routes = WaveSpeedApi(engine)._routes()
    early = next(route for route in routes if isinstance(route, ModelRoute))
    as_before = [route for route in routes if route is not early]
    scope = {"type": "http", "path": "/wavespeed/api/v3/" + rest, "method": method}
    (now, now_scope), (before, before_scope) = (
        _first_match(routes, scope),
        _first_match(as_before, scope),
    )
    if now is early:  # it stands in for the catch-all at the end: the same handler
        assert getattr(before, "path", None) == early.path
        assert getattr(before, "endpoint", None) is early.endpoint
    else:
        assert now is before
    assert now_scope == before_scope


@pytest.mark.slow  # served, its polls watched until they settle: 1.8 s
def test_a_sync_wait_ends_when_its_client_leaves() -> None:
    """2,000 waits left by their clients polled every 20 ms until their 90 s limit: the
    CPU was busy for everyone. A wait now ends with its client."""
    import socket
    import time

    from emulator import EmulatorConfig, Progression
    from emulator.server import BackgroundServer

    config = EmulatorConfig(progression=Progression.parse("wall:600,600,0"))
    with BackgroundServer(config) as server:
        request = json_post(Z_IMAGE, {"prompt": "x", "enable_sync_mode": True}, "Bearer k")
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as client:
            client.sendall(request)
            (job,) = _wait_for_jobs(server.engine, 1)
        polled = _settled(lambda: job.polls)  # the wait saw its client go
        time.sleep(0.6)  # more than two of its slowest ticks
        assert job.polls == polled


def _wait_for_jobs(engine: Engine, count: int) -> list:
    from tests.bounded import eventually

    assert eventually(lambda: len(engine.jobs) >= count, 5, 0.02)
    return list(engine.jobs)


def _settled(read: Callable[[], int]) -> int:
    """A count once it has stopped moving for half a second (bounded: 10 s)."""
    import time

    deadline, last = time.monotonic() + 10, read()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = read()
        if now == last:
            return now
        last = now
    raise AssertionError("still polled after 10 s")


def test_a_key_holding_its_most_requests_open_is_refused_one_more() -> None:
    """Thousands of held sync waits and status streams kept every key waiting: a key may
    hold `max_held_per_key` open, the next is a 429 (a sync wait's, before its job is made)."""
    import socket

    import httpx

    from emulator import EmulatorConfig, Progression
    from emulator.server import BackgroundServer

    config = EmulatorConfig(progression=Progression.parse("wall:600,600,0"), max_held_per_key=1)
    with BackgroundServer(config) as server:
        request = json_post(Z_IMAGE, {"prompt": "x", "enable_sync_mode": True}, "Bearer k")
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as held:
            held.sendall(request)
            _wait_for_jobs(server.engine, 1)
            refused = httpx.post(
                server.url + Z_IMAGE,
                json={"prompt": "x", "enable_sync_mode": True},
                headers={"Authorization": "Bearer k"},
            )
            assert refused.status_code == 429 and refused.json()["code"] == 429
            assert len(server.engine.jobs) == 1  # nothing made for the refused one
            other_key = httpx.post(
                f"{server.url}/fal/queue/fal-ai/bitdance",
                json={"prompt": "x"},
                headers={"Authorization": "Key other"},
            )
            stream = f"{other_key.json()['status_url']}/stream"
            with httpx.stream("GET", stream, headers={"Authorization": "Key other"}) as open_:
                assert open_.status_code == 200  # another key: its own count
                again = httpx.get(stream, headers={"Authorization": "Key other"})
                assert again.status_code == 429 and "detail" in again.json()


def test_every_path_of_the_api_beside_the_models_is_a_word_no_model_id_may_start_with() -> None:
    # a contract named "predictions" or "model/price" loaded and was answered by those
    # routes (an audit): the layout's api_words, which the contract check refuses, name
    # every first segment of the API's own routes
    from emulator.core.registry import LAYOUTS

    api = "/wavespeed/api/v3/"
    routes = WaveSpeedApi(Engine()).routes()[0].routes  # the PrefixedRoutes' own
    firsts = {
        route.path[len(api) :].split("/", 1)[0]
        for route in routes
        if getattr(route, "path", "").startswith(api) and "{model" not in route.path
    }
    assert firsts and firsts <= LAYOUTS["wavespeed"].api_words


def test_a_sparse_output_rule_leaves_out_what_a_prediction_need_not_have(
    client: TestClient, engine: Engine
) -> None:
    engine.faults.add({"effect": "sparse_output", "times": 1})
    synced = client.post(BITDANCE, json={"prompt": "x", "enable_sync_mode": True}).json()["data"]
    polled = client.get(synced["urls"]["get"]).json()["data"]
    required = {"id", "model", "outputs", "urls", "status", "created_at", "error"}
    assert set(synced) == set(polled) == required  # no has_nsfw_contents, timings…
    assert synced["status"] == "completed" and len(synced["outputs"]) == 1
    whole = client.post(BITDANCE, json={"prompt": "x", "enable_sync_mode": True}).json()["data"]
    assert {"has_nsfw_contents", "executionTime", "timings"} <= set(whole)  # the rule is spent


def test_a_picture_given_as_naked_base64_is_read(engine: Engine) -> None:
    """As huggingface.js sends WaveSpeed its pictures (``image``, ``images``): no data URI."""
    out = io.BytesIO()
    Image.new("RGB", (48, 32)).save(out, "JPEG")
    naked = base64.b64encode(out.getvalue()).decode()
    with TestClient(create_app(engine=engine), headers={"Authorization": "Bearer k1"}) as client:
        done = client.post(
            "/wavespeed/api/v3/kwaivgi/kling-v2.1-i2v-standard",
            json={"prompt": "cat", "image": naked, "enable_sync_mode": True},
        ).json()["data"]
    assert (done["status"], done["error"]) == ("completed", "")


def test_an_unknown_model_is_wavespeeds_404_and_one_line_of_advice_in_the_log(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    path = "/wavespeed/api/v3/google/nano-banana/text-to-image"
    with caplog.at_level(logging.WARNING, logger="emulator"):
        answers = [client.post(path, json={"prompt": "x"}) for _ in range(2)]
    assert [answer.status_code for answer in answers] == [404, 404]
    assert answers[0].json() == {
        "code": 404,
        "message": "Model 'google/nano-banana/text-to-image' not found",
        "data": None,
    }
    advice = [r.getMessage() for r in caplog.records if "no contract knows" in r.getMessage()]
    assert len(advice) == 1 and "--unknown-endpoints generic" in advice[0]


@pytest.mark.parametrize("sync", [False, True])
def test_a_submission_the_total_budget_has_no_room_for_is_wavespeeds_429(sync: bool) -> None:
    """Past `--max-jobs`, only a finished job makes room for another key's: with every job
    kept still in its queue, a submission is refused rather than one of them evicted."""
    config = EmulatorConfig(progression=Progression.parse("polls:5,5"), max_jobs=2)
    with TestClient(create_app(engine=Engine(config))) as client:
        kept = [
            client.post(BITDANCE, json={"prompt": "x"}, headers={"Authorization": f"Bearer {key}"})
            for key in ("quiet", "busy")
        ]
        refused = client.post(
            BITDANCE,
            json={"prompt": "x", "enable_sync_mode": sync},
            headers={"Authorization": "Bearer busy"},
        )
        assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
        body = refused.json()
        assert body["code"] == 429 and "total budget" in body["message"]
        result = kept[0].json()["data"]["urls"]["get"].removeprefix("http://testserver")
        status = client.get(result, headers={"Authorization": "Bearer quiet"})
        assert status.json()["data"]["status"] == "created"


def test_a_users_pattern_is_matched_as_fals_and_a_field_none_fits_is_5003(
    tmp_path: Path,
) -> None:
    # the input's in linear time (matching.py), its $ the end of the text: Python's re let
    # "aaa\n" by, and held the whole server for ever on 34 a's and a "!" (that:
    # tests/test_serve.py); the output's tag no string fits was a 500 (a StopIteration)
    document = renamed("wavespeed", "acme/patterned")
    schema(document, "Input")["properties"]["prompt"]["pattern"] = "^(a+)+$"
    prediction = schema(document, "Prediction")
    prediction["properties"]["tag"] = {"type": "string", "pattern": r"^[^\s\S]$"}
    prediction["required"] = [*prediction.get("required", []), "tag"]
    folder = written(tmp_path, "wavespeed", document)
    config = EmulatorConfig(progression=Progression.parse("immediate"), contracts=(folder,))
    with TestClient(
        create_app(engine=Engine(config)), headers={"Authorization": "Bearer k"}
    ) as client:
        refused = client.post("/wavespeed/api/v3/acme/patterned", json={"prompt": "aaa\n"})
        data = submit(client, {"prompt": "aaa"}, "/wavespeed/api/v3/acme/patterned")
        result = client.get(data["urls"]["get"])
    assert (refused.status_code, refused.json()) == (400, {
        "code": 400,
        "message": "Invalid parameters: prompt: String should match pattern '^(a+)+$'",
        "data": None,
    })  # fmt: skip
    failed = result.json()["data"]
    assert (result.status_code, failed["status"], failed["code"]) == (200, "failed", 5003)
    assert failed["error"].startswith("provider-emulator cannot make output field data/tag ")
