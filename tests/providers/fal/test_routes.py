"""fal's routes as a whole, against the app in-process: the sync run, and what every
surface answers alike (keys, bodies, methods, unknown paths)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from emulator import (
    BackgroundServer,
    EmulatorConfig,
    Engine,
    ManualClock,
    Progression,
    create_app,
    emulate,
)
from emulator.core.faults import Fault
from tests.transport.alike import FAL_RUN, recorded_when_left
from tests.user_contracts import renamed, schema, written

BITDANCE = "/fal/queue/fal-ai/bitdance"


# -- sync run ------------------------------------------------------------------------------


def test_a_users_pattern_is_matched_as_fals_rust_regex_matches_it(tmp_path: Path) -> None:
    # in linear time (matching.py), its $ the end of the text: Python's re let "aaa\n" by,
    # and held the whole server for ever on 34 a's and a "!" (that: tests/test_serve.py)
    document = renamed("fal", "acme/patterned")
    schema(document, "Input")["properties"]["prompt"]["pattern"] = "^(a+)+$"
    folder = written(tmp_path, "fal", document)
    config = EmulatorConfig(progression=Progression.parse("immediate"), contracts=(folder,))
    with TestClient(
        create_app(engine=Engine(config)), headers={"Authorization": "Key k"}
    ) as client:
        ran = client.post("/fal/run/acme/patterned", json={"prompt": "aaa\n"})
        queued = client.post("/fal/queue/acme/patterned", json={"prompt": "aaa\n"}).json()
        result = client.get(queued["response_url"])
        matching = client.post("/fal/run/acme/patterned", json={"prompt": "aaa"})
    mismatch = {
        "loc": ["body", "prompt"],
        "msg": "String should match pattern '^(a+)+$'",
        "type": "string_pattern_mismatch",
        "ctx": {"pattern": "^(a+)+$"},
    }
    assert (ran.status_code, ran.json()) == (422, {"detail": [mismatch]})
    assert (result.status_code, result.json()) == (422, {"detail": [mismatch]})
    assert matching.status_code == 200


def test_run_answers_the_output_with_the_request_id(client: TestClient) -> None:
    response = client.post("/fal/run/fal-ai/bitdance", json={"prompt": "x", "image_size": "square"})
    assert response.status_code == 200
    assert response.headers["x-fal-request-id"]
    image = response.json()["images"][0]
    assert (image["width"], image["height"], image["content_type"]) == (512, 512, "image/jpeg")
    download = client.get(image["url"])
    assert download.status_code == 200 and len(download.content) == image["file_size"]


def test_run_validates_at_once(client: TestClient) -> None:
    response = client.post("/fal/run/fal-ai/bitdance", json={"prompt": "x", "output_format": "gif"})
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "loc": ["body", "output_format"],
                "msg": "Input should be 'jpeg' or 'png'",
                "type": "literal_error",
                "ctx": {"expected": "'jpeg' or 'png'"},
            }
        ]
    }


@pytest.mark.parametrize("path", ["fal-ai/bitdance", "openrouter/router/stream"])
@pytest.mark.parametrize(
    ("effect", "status", "detail"),
    [
        ("timeout", 504, "Request timed out while waiting in the queue"),
        ("cancel", 499, "Request cancelled by the client."),
    ],
)
def test_a_run_cut_short_by_its_fault_answers_the_failure(
    client: TestClient, engine: Engine, path: str, effect: str, status: int, detail: str
) -> None:
    # A sync run was answered with its output at once, as though its timeout or
    # cancellation (met as a job leaves its queue) could not come to one never polled.
    engine.faults.add(Fault.from_dict({"effect": effect}))
    response = client.post(f"/fal/run/{path}", json={"prompt": "x", "model": "m"})
    assert (response.status_code, response.json()["detail"]) == (status, detail)
    assert response.headers["x-fal-request-id"]


@pytest.mark.parametrize("path", ["fal-ai/bitdance", "openrouter/router/stream"])
def test_a_starved_run_is_held_then_answered_as_timed_out_in_the_queue(path: str) -> None:
    # A starved job never leaves its queue; its sync run answered the output at once.
    engine = Engine(EmulatorConfig(sync_timeout=0.2))
    engine.faults.add(Fault.from_dict({"effect": "starve"}))
    with TestClient(create_app(engine=engine), headers={"Authorization": "Key k1"}) as client:
        started = time.monotonic()
        response = client.post(f"/fal/run/{path}", json={"prompt": "x", "model": "m"})
        waited = time.monotonic() - started
    assert (response.status_code, response.json()["detail"]) == (
        504,
        "Request timed out while waiting in the queue",
    )
    assert waited >= 0.2  # held for sync_timeout: a bound, not a measure
    assert engine.holds.of("k1") == 0  # the key's slot given back


def test_a_run_sent_as_a_get_reads_its_query_as_its_contract_types_it(client: TestClient) -> None:
    response = client.get("/fal/run/fal-ai/bitdance?prompt=hi&num_images=2&sync_mode=true")
    assert response.status_code == 200
    assert len(response.json()["images"]) == 2
    refused = client.get("/fal/run/fal-ai/bitdance?prompt=hi&num_images=two")
    assert (refused.status_code, refused.json()["detail"][0]["loc"]) == (
        422,
        ["body", "num_images"],
    )


def test_images_beyond_the_emulator_limit_are_a_422_not_a_hang(client: TestClient) -> None:
    # bitdance's contract allows sides up to 14142 (seedream's caps the total at 4096²)
    body = {"prompt": "x", "image_size": {"width": 14142, "height": 14142}}
    response = client.post("/fal/run/fal-ai/bitdance", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "emulator_limit"


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Fal-Request-Timeout": "20"}],
    ids=["held for its run", "held to its start timeout"],
)
def test_a_sync_run_its_client_leaves_is_recorded_499_as_served(
    serve: Callable[..., BackgroundServer], headers: dict[str, str]
) -> None:
    server = serve(EmulatorConfig(progression=Progression.parse("wall:30,1,0")))
    headers = {"Authorization": "Key k", **headers}
    served, in_process = recorded_when_left(
        server, "POST", FAL_RUN, "fal-ai/bitdance", headers, progression="wall:30,1,0"
    )
    assert served == in_process == [499]


def test_a_sync_runs_start_timeout_on_a_manual_clock_passes_at_once() -> None:
    # as a queued job's does when the test moves the clock, and as the run answers at once
    with emulate(progression="wall:30,1,0", clock=ManualClock()) as emulation:
        answer = httpx.post(
            "https://fal.run/fal-ai/bitdance",
            json={"prompt": "x"},
            headers={"Authorization": "Key k", "X-Fal-Request-Timeout": "20"},
            timeout=5,  # a wait in real time meets it
        )
        assert answer.status_code == 504 and answer.json()["error_type"] == "request_timeout"
        assert emulation.engine.clock.now() == 0.0


# -- hostile and malformed requests --------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic abc"}, {"Authorization": "Key "}])
def test_requests_without_a_key_get_a_401(engine: Engine, headers: dict) -> None:
    with TestClient(create_app(engine=engine)) as client:
        response = client.post(BITDANCE, json={"prompt": "x"}, headers=headers)
    assert response.status_code == 401
    assert isinstance(response.json()["detail"], str)


@pytest.mark.parametrize("surface", ["/fal/queue/", "/fal/run/"])
def test_malformed_json_is_a_422_json_invalid(client: TestClient, surface: str) -> None:
    response = client.post(
        surface + "fal-ai/bitdance",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_wrong_content_type_is_a_415(client: TestClient) -> None:
    response = client.post(BITDANCE, content=b"prompt=x", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]


def test_huge_bodies_are_refused(engine: Engine) -> None:
    engine.config = replace(engine.config, max_body_bytes=1000)
    with TestClient(create_app(engine=engine), headers={"Authorization": "Key k"}) as client:
        response = client.post(BITDANCE, json={"prompt": "x" * 2000})
    assert response.status_code == 413


@pytest.mark.parametrize("depth", [100, 100_000])
def test_deeply_nested_bodies_are_refused(client: TestClient, depth: int) -> None:
    body = b"[" * depth + b"]" * depth
    response = client.post(BITDANCE, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert "nested" in response.json()["detail"][0]["msg"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("DELETE", "/fal/run/fal-ai/bitdance", 405),
        ("DELETE", BITDANCE, 405),
        ("GET", "/fal/queue/fal-ai/bitdance/requests/nope/cancel", 405),
        ("PUT", "/fal/queue/fal-ai/bitdance/requests/nope/status", 405),
        ("GET", "/fal/queue/fal-ai/bitdance/requests/nope/status", 404),
        ("PUT", "/fal/queue/fal-ai/bitdance/requests/nope/cancel", 404),
        ("POST", "/fal/queue/fal-ai/bitdance/extra", 404),
        ("GET", "/fal/queue/fal-ai/bitdance", 405),
        ("PUT", BITDANCE, 405),
        ("POST", "/fal/queue/fal-ai/bitdance/requests/nope/cancel", 405),
        ("POST", "/fal/queue/fal-ai/bitdance/requests/nope/status", 405),
        ("DELETE", "/fal/queue/fal-ai/no-such-model", 404),
        ("POST", "/fal/queue/fal-ai/no-such-model/requests/nope/status", 404),
        ("GET", "/fal/queue/fal-ai/no-such-model", 404),
        ("GET", "/fal/cdn/files/emulator/0000.jpg", 404),
        ("POST", "/fal/cdn/files/emulator/0000.jpg", 405),
        ("GET", "/nowhere", 404),
    ],
)
def test_wrong_methods_and_unknown_paths(
    client: TestClient, method: str, path: str, status: int
) -> None:
    response = client.request(method, path)
    assert response.status_code == status
    assert isinstance(response.json()["detail"], str)
    if status == 405 and "/fal/queue/" in path:  # and says which method it takes
        wanted = {"cancel": "PUT"}.get(
            path.rsplit("/", 1)[1], "GET" if "/requests/" in path else "POST"
        )
        assert wanted in response.headers["allow"]


def test_unknown_application_uses_fals_message(client: TestClient) -> None:
    # (fal-ai/flux/dev is in the catalogue: any id outside it answers fal's 404)
    response = client.post("/fal/queue/fal-ai/no-such-model/dev", json={"prompt": "x"})
    assert response.status_code == 404
    assert response.json() == {"detail": "Application 'no-such-model' not found"}


# -- where URLs point ----------------------------------------------------------------------


def test_cdn_serves_head_with_the_content_type(client: TestClient) -> None:
    url = client.post("/fal/run/fal-ai/bitdance", json={"prompt": "x"}).json()["images"][0]["url"]
    response = client.head(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_nan_and_infinity_are_not_json(client: TestClient, constant: bytes) -> None:
    body = b'{"prompt": "a", "guidance_scale": ' + constant + b"}"
    response = client.post(
        "/fal/run/fal-ai/bitdance", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_whole_number_floats_count_as_integers(client: TestClient) -> None:
    body = {
        "prompt": "a",
        "seed": 5.0,
        "num_images": 2.0,
        "image_size": {"width": 64.0, "height": 32},
    }
    output = client.post("/fal/run/fal-ai/bitdance", json=body).json()
    assert output["seed"] == 5 and len(output["images"]) == 2
    assert (output["images"][0]["width"], output["images"][0]["height"]) == (64, 32)


def test_run_holds_the_request_for_the_jobs_wait_and_run() -> None:
    """On wall time the sync run answers when the model would be done (a lower bound:
    never shorter); an invalid input, and a manual clock, are answered at once."""
    import time

    held = EmulatorConfig(progression=Progression.parse("wall:0.3,0.4,0"))  # no jitter
    with TestClient(create_app(held), headers={"Authorization": "Key k"}) as client:
        started = time.monotonic()
        assert client.post("/fal/run/fal-ai/bitdance", json={"prompt": "x"}).status_code == 200
        assert time.monotonic() - started >= 0.7
        invalid = client.post("/fal/run/fal-ai/bitdance", json={"prompt": 5})
        assert invalid.status_code == 422
    manual = Engine(held, clock=ManualClock())
    job = manual.submit(manual.contracts.get("fal", "fal-ai/bitdance"), {"prompt": "x"}, "k")
    assert manual.run_hold(job) == 0
