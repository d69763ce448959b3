"""@fal-ai/client's realtime.connect and client-mode stream against a server."""

from __future__ import annotations

import pytest

from emulator.server import BackgroundServer

from .conftest import run_node

#: Node 20 has the global WebSocket the client uses behind this flag (22 has it by default)
WEBSOCKET = ("--experimental-websocket",)


def realtime(server: BackgroundServer, scenario: str) -> dict:
    return run_node("fal_realtime.mjs", server.url, "js-key", scenario, node_flags=WEBSOCKET)


@pytest.mark.parametrize("scenario", ["connect", "json", "tokenProvider"])
def test_realtime_connect_answers_each_input(server: BackgroundServer, scenario: str) -> None:
    outcome = realtime(server, scenario)
    assert "error" not in outcome, outcome
    prompts = {"connect": ["first", "second", "third"], "json": ["as json"]}
    expected = prompts.get(scenario, ["provided token"])
    assert [r["prompt"] for r in outcome["result"]] == expected
    for result in outcome["result"]:
        assert result["url"].startswith("data:image/jpeg;base64,")
        assert result["width"] == 512


def test_realtime_errors_reach_on_error_in_fals_format(server: BackgroundServer) -> None:
    outcome = realtime(server, "invalid")
    assert outcome["error"].startswith("INTERNAL_ERROR: ")
    assert outcome["body"]["type"] == "x-fal-error"
    assert "prompt" in outcome["body"]["reason"]


def test_client_mode_stream_uses_a_client_token(server: BackgroundServer) -> None:
    outcome = realtime(server, "stream")
    assert "error" not in outcome, outcome
    assert outcome["result"]["events"] >= 1
    assert outcome["result"]["url"].startswith(server.url + "/fal/cdn/")
    recorded = list(server.engine.record)
    assert ("POST", "/fal/rest/tokens/") in [(r.method, r.path) for r in recorded]
    streamed = next(r for r in recorded if r.path == "/fal/run/fal-ai/bitdance/stream")
    assert streamed.key == ""  # no key: the token, recorded masked as a credential
    assert streamed.query.startswith("fal_jwt_token=****") and len(streamed.query) < 30


def test_realtime_connect_to_a_raw_image_app_gets_bytes(server: BackgroundServer) -> None:
    outcome = realtime(server, "rawBytes")
    assert outcome.get("result", {}).get("jpeg") is True, outcome
    assert outcome["result"]["width"] == 768
    assert outcome["result"]["content_type"] == "image/jpeg"
