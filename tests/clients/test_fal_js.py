"""The real @fal-ai/client (Node 20, from the committed lockfile) against a server.

Configured the two documented ways: fal's proxy protocol (`proxyUrl`, `when: "always"`),
served by the emulator at /fal/proxy, and a `requestMiddleware` rewriting the hosts.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from PIL import Image

from emulator import EmulatorConfig
from emulator.server import BackgroundServer

from ..conftest import FAST
from .conftest import JS, run_node

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
SNIPPETS = Path(__file__).parents[2] / "fixtures" / "fal" / "js"


def run(server: BackgroundServer, scenario: str, mode: str = "proxy") -> dict:
    return run_node("fal_call.mjs", server.url, "js-key", scenario, mode)


def picture(url: str) -> Image.Image:
    return Image.open(io.BytesIO(httpx.get(url).content))


@pytest.mark.parametrize("mode", ["proxy", "middleware"])
def test_subscribe_with_logs(server: BackgroundServer, mode: str) -> None:
    outcome = run(server, "subscribe", mode)["result"]
    assert [status for status, _ in outcome["statuses"]] == [
        "IN_QUEUE",
        "IN_PROGRESS",
        "IN_PROGRESS",
        "COMPLETED",
    ]
    assert outcome["statuses"][-1][1] > 0  # logs came through
    assert picture(outcome["data"]["images"][0]["url"]).size == (512, 512)
    assert len(outcome["requestId"]) == 36


def test_subscribe_in_streaming_mode(server: BackgroundServer) -> None:
    outcome = run(server, "subscribeStreaming")["result"]
    assert outcome["statuses"][0] == "IN_QUEUE" and "IN_PROGRESS" in outcome["statuses"]
    assert picture(outcome["data"]["images"][0]["url"]).size == (1024, 1024)
    # the client adds each event's logs to those it has: each line comes once, as polled
    assert outcome["streamedLogs"] == outcome["polledLogs"] and outcome["polledLogs"]
    streams = server.engine.record.filter(path="/status/stream")
    assert len(streams) == 2


def test_queue_submit_status_result_cancel(server: BackgroundServer) -> None:
    outcome = run(server, "queue")["result"]
    assert outcome["seen"] == ["IN_QUEUE", "IN_PROGRESS", "IN_PROGRESS", "COMPLETED"]
    assert outcome["data"]["prompt"] == "queued" and outcome["requestId"]
    # a result asked for before completion: fal's 400, its error naming the request
    assert outcome["early"] == {
        "status": 400,
        "requestId": outcome["submitted"],
        "body": {"detail": "Request is still in progress"},
    }
    assert (outcome["cancelled"]["status"], outcome["cancelled"]["error_type"]) == (
        "COMPLETED",
        "client_cancelled",
    )


def test_run_and_stream(server: BackgroundServer) -> None:
    ran = run(server, "run")["result"]
    assert picture(ran["data"]["images"][0]["url"]).format == "PNG"
    streamed = run(server, "stream")["result"]
    assert streamed["events"] == 1 and streamed["data"]["prompt"] == "streamed"


def test_a_run_sent_as_a_get_has_its_query_typed_as_its_contract_says(
    server: BackgroundServer,
) -> None:
    outcome = run(server, "runGet")["result"]["data"]
    assert (outcome["prompt"], len(outcome["images"])) == ("got", 2)
    assert picture(outcome["images"][0]["url"]).size == (512, 512)


def test_invalid_input_is_the_clients_validation_error(server: BackgroundServer) -> None:
    outcome = run(server, "invalid")
    assert (outcome["name"], outcome["status"]) == ("ValidationError", 422)
    assert {"loc": ["body", "prompt"], "msg": "Field required", "type": "missing"} in outcome[
        "body"
    ]["detail"]


def test_storage_upload_small_and_multipart(server: BackgroundServer) -> None:
    outcome = run(server, "upload")["result"]
    assert httpx.get(outcome["small"]).content == b"hello from node"
    large = httpx.get(outcome["large"]).content
    size = outcome["largeSize"]  # the script's bytes: i % 251 (built at C speed: 7 s less)
    expected = (bytes(range(251)) * (size // 251 + 1))[:size]
    assert hashlib.sha256(large).digest() == hashlib.sha256(expected).digest()


@pytest.mark.parametrize("snippet", sorted(p.name for p in SNIPPETS.glob("*.mjs")))
def test_seed_javascript_examples_run_unmodified(serve, snippet: str) -> None:
    # The seedance example's image is on the internet: offline, it starts from a drawing.
    server = serve(EmulatorConfig(progression=FAST, unreachable_media="synthetic"))
    done = subprocess.run(
        ["node", "run_seed_snippet.mjs", server.url, "js-key", str(SNIPPETS / snippet)],
        cwd=JS,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "/fal/cdn/files/emulator/" in done.stdout  # it printed result.data with our media


def test_inputs_over_the_body_limit_are_the_clients_413_never_a_reset() -> None:
    """Answered before its body was read, an oversized submit's connection was reset mid-
    upload now and then, since the rest of the body was read as the next request's head:
    @fal-ai/client retried each reset (19 submits sent for 12) and took 12 s where 2 do.
    Now each is sent once and answered fal's 413."""
    with BackgroundServer(EmulatorConfig(max_body_bytes=64 * 1024)) as small:
        outcome = run_node("fal_call.mjs", small.url, "js-key", "oversized", "middleware")
        sent = small.engine.record.filter(path="/fal/queue/fal-ai/bitdance")
    assert outcome["result"] == [413] * 12, outcome
    assert [entry.status for entry in sent] == [413] * 12
