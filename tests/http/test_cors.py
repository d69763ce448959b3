"""A browser's cross-origin calls to the provider surfaces: preflights answered, answers
marked readable by the origins allowed; the control plane never cross-origin."""

from __future__ import annotations

import asyncio

import pytest
from starlette.testclient import TestClient

from emulator.http.cors import Cors

APP = "http://localhost:5173"
SUBMIT = "/fal/queue/fal-ai/bitdance"
PREFLIGHT = {
    "Origin": APP,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization,content-type,x-fal-target-url",
}


@pytest.mark.parametrize(
    "path", [SUBMIT, "/fal/proxy", "/wavespeed/api/v3/wavespeed-ai/bitdance-14b/text-to-image"]
)
def test_a_preflight_is_answered_with_what_it_asked(client: TestClient, path: str) -> None:
    answer = client.options(path, headers=PREFLIGHT)
    assert answer.status_code == 204
    assert answer.headers["access-control-allow-origin"] == APP
    assert answer.headers["access-control-allow-methods"] == "POST"
    assert (
        answer.headers["access-control-allow-headers"]
        == PREFLIGHT["Access-Control-Request-Headers"]
    )
    assert "access-control-allow-credentials" not in answer.headers
    assert len(client.get("/_emulator/requests").json()) == 0  # the browser's, not the client's


def test_an_answer_is_readable_by_the_calling_origin(client: TestClient) -> None:
    answer = client.post(SUBMIT, json={"prompt": "a cat"}, headers={"Origin": APP})
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == APP
    assert answer.headers["access-control-expose-headers"] == "*"  # x-fal-request-id…
    assert "Origin" in answer.headers["vary"]


def test_same_origin_calls_and_the_control_plane_get_no_cors_headers(client: TestClient) -> None:
    assert "access-control-allow-origin" not in client.post(SUBMIT, json={}).headers
    for path in ("/_emulator/jobs", "/_emulator/ui/jobs"):
        answer = client.get(path, headers={"Origin": APP})
        assert "access-control-allow-origin" not in answer.headers
    refused = client.options("/_emulator/reset", headers=PREFLIGHT)
    assert "access-control-allow-origin" not in refused.headers


def _origin(cors: Cors, path: str, origin: str) -> str | None:
    return cors.origin({"path": path, "headers": [(b"origin", origin.encode())]})


def test_only_the_origins_listed_are_allowed() -> None:
    listed = Cors("http://a.test, http://b.test/", surfaces=("/fal/",))
    assert _origin(listed, SUBMIT, "http://b.test") == "http://b.test"
    assert _origin(listed, SUBMIT, "http://c.test") is None
    assert _origin(Cors("", surfaces=("/fal/",)), SUBMIT, "http://a.test") is None
    assert _origin(Cors("*", surfaces=("/fal/",)), "/_emulator/jobs", "http://a.test") is None


def test_a_request_that_is_no_preflight_is_left_to_the_app() -> None:
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    cors = Cors("*", surfaces=("/fal/",))
    scope = {"path": SUBMIT, "method": "OPTIONS", "headers": [(b"origin", b"http://a.test")]}
    assert asyncio.run(cors.preflight(scope, send, "http://a.test")) is False
    assert sent == []


def test_an_answer_through_the_proxy_is_marked_once(client: TestClient) -> None:
    answer = client.post(
        "/fal/proxy",
        json={"prompt": "a dog"},
        headers={"Origin": APP, "x-fal-target-url": "https://fal.run/fal-ai/bitdance"},
    )
    assert answer.status_code == 200
    assert answer.headers.get_list("access-control-allow-origin") == [APP]
    assert answer.headers.get_list("vary").count("Origin") == 1


def test_the_setting_chooses_the_origins() -> None:
    from emulator import EmulatorConfig, create_app

    with TestClient(create_app(EmulatorConfig(cors_origins="http://a.test"))) as client:
        allowed = client.options(SUBMIT, headers={**PREFLIGHT, "Origin": "http://a.test"})
        other = client.options(SUBMIT, headers=PREFLIGHT)
    assert allowed.headers["access-control-allow-origin"] == "http://a.test"
    assert "access-control-allow-origin" not in other.headers
