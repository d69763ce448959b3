"""The real ``wavespeed`` SDKs and curl against the emulator.

The Python SDK runs against a server and in-process; the npm SDK and curl, being other
processes, against a server.
"""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
import wavespeed
from PIL import Image
from wavespeed import Client

from emulator import EmulatorConfig, Progression
from emulator.server import BackgroundServer

from ..conftest import FAST
from .conftest import Target, run_node

BITDANCE = "wavespeed-ai/bitdance-14b/text-to-image"
SEEDREAM = "bytedance/seedream-v4"
SEEDANCE = "bytedance/seedance-v1-lite-t2v-480p"
WAN_I2V = "wavespeed-ai/wan-2.2/i2v-480p-lora-ultra-fast"
UNREACHABLE = {"prompt": "x", "image": "https://example.com/missing.png"}


def image(output: str) -> Image.Image:
    data = httpx.get(output).content if output.startswith("http") else base64.b64decode(output)
    picture = Image.open(io.BytesIO(data))
    picture.load()
    return picture


@pytest.fixture
def client(target: Target) -> Client:
    return Client(api_key="ws-key", base_url=target.wavespeed_url)


# -- Python SDK ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "inputs", "size"),
    [
        (BITDANCE, {"prompt": "a cat"}, (1024, 1024)),
        (BITDANCE, {"prompt": "a cat", "size": "640*480", "seed": 3}, (640, 480)),
        (BITDANCE, {"prompt": "a cat", "size": "16:9"}, (1368, 768)),
        (SEEDREAM, {"prompt": "a chart", "size": "1024*1536"}, (1024, 1536)),
    ],
)
def test_run_polls_until_completed_and_returns_downloadable_images(
    client: Client, model: str, inputs: dict, size: tuple[int, int]
) -> None:
    result = client.run(model, inputs, poll_interval=0.01)
    assert len(result["outputs"]) == 1
    picture = image(result["outputs"][0])
    assert (picture.size, picture.format) == (size, "JPEG")


def test_the_sdks_own_example_runs(client: Client) -> None:
    """The model both SDKs' READMEs and the Python ``Client`` docstring run, as written."""
    output = client.run("wavespeed-ai/z-image/turbo", {"prompt": "Cat"})
    assert image(output["outputs"][0]).size == (1024, 1024)
    output = client.run("wavespeed-ai/z-image/turbo", {"prompt": "Cat"}, enable_sync_mode=True)
    assert image(output["outputs"][0]).format == "JPEG"


def test_sync_mode_returns_at_once(client: Client) -> None:
    result = client.run(BITDANCE, {"prompt": "sync"}, enable_sync_mode=True)
    assert image(result["outputs"][0]).size == (1024, 1024)


def test_base64_output_is_naked_base64(client: Client) -> None:
    result = client.run(
        BITDANCE, {"prompt": "b64", "enable_base64_output": True}, poll_interval=0.01
    )
    output = result["outputs"][0]
    assert not output.startswith(("data:", "http"))
    assert image(output).size == (1024, 1024)


def test_sync_mode_timeout_raises_the_sdks_error(start: Any) -> None:
    target = start(EmulatorConfig(progression=Progression.parse("wall:5,5,0"), sync_timeout=0.2))
    client = Client(api_key="k", base_url=target.wavespeed_url)
    with pytest.raises(RuntimeError, match=r"Sync mode timed out \(task_id: [0-9a-f]{32}\)"):
        client.run(BITDANCE, {"prompt": "slow"}, enable_sync_mode=True)


def test_invalid_input_fails_at_submit(client: Client) -> None:
    outcome = client.run_no_throw(BITDANCE, {"size": "9*9"})
    assert outcome["status"] == "failed" and outcome["outputs"] is None
    assert "HTTP 400" in outcome["error"]
    assert "prompt: Field required" in outcome["error"]
    assert "between 256 and 1536" in outcome["error"]


def test_a_failed_task_surfaces_as_the_sdks_error(client: Client) -> None:
    outcome = client.run_no_throw(WAN_I2V, UNREACHABLE, poll_interval=0.01)
    assert outcome["status"] == "failed"
    assert len(outcome["task_id"]) == 32
    assert "cannot read the media at 'https://example.com/missing.png'" in outcome["error"]
    result = client.get_result(outcome["task_id"])["data"]
    assert (result["status"], result["code"]) == ("failed", 1402)  # media not accessible
    with pytest.raises(RuntimeError, match="Prediction failed"):
        client.run(WAN_I2V, UNREACHABLE, poll_interval=0.01)


def video_facts(data: bytes) -> tuple[int, int, float, int]:
    container = av.open(io.BytesIO(data))
    stream = container.streams.video[0]
    return (
        stream.width,
        stream.height,
        container.duration / 1e6,
        sum(1 for _ in container.decode(video=0)),
    )


def test_upload_then_image_to_video(client: Client, tmp_path: Path) -> None:
    picture = tmp_path / "wide.png"
    Image.new("RGB", (900, 450), (20, 200, 90)).save(picture)
    url = client.upload(str(picture))
    assert image(url).size == (900, 450)
    (output,) = client.run(WAN_I2V, {"prompt": "pan", "image": url}, poll_interval=0.01)["outputs"]
    assert video_facts(httpx.get(output).content) == (960, 480, 5.0, 80)  # 2:1 at 480p, 16 fps


def test_text_to_video(client: Client) -> None:
    (output,) = client.run(
        SEEDANCE, {"prompt": "waves", "duration": 5, "aspect_ratio": "9:16"}, poll_interval=0.01
    )["outputs"]
    assert video_facts(httpx.get(output).content) == (480, 854, 5.0, 120)


def test_keys_are_checked_and_isolated(start: Any) -> None:
    target = start(EmulatorConfig(progression=FAST, api_keys=frozenset({"good"})))
    bad = Client(api_key="bad", base_url=target.wavespeed_url)
    assert "HTTP 401" in bad.run_no_throw(BITDANCE, {"prompt": "x"})["error"]

    good = Client(api_key="good", base_url=target.wavespeed_url)
    submitted = httpx.post(
        target.wavespeed_url + "/api/v3/" + BITDANCE,
        json={"prompt": "mine"},
        headers={"Authorization": "Bearer good"},
    ).json()["data"]
    with pytest.raises(RuntimeError, match="HTTP 401"):
        bad.get_result(submitted["id"])
    assert good.get_result(submitted["id"])["data"]["id"] == submitted["id"]


def test_module_level_functions_with_the_documented_config(server: BackgroundServer) -> None:
    with wavespeed.config.patch({"api.base_url": server.url + "/wavespeed", "api.api_key": "k"}):
        result = Client().run(BITDANCE, {"prompt": "configured"}, poll_interval=0.01)
    assert image(result["outputs"][0]).size == (1024, 1024)


# -- npm SDK -------------------------------------------------------------------------------


def node_call(
    server: BackgroundServer, method: str, model: str, inputs: dict, **options: Any
) -> dict:
    call = json.dumps({"method": method, "model": model, "input": inputs, "options": options})
    return run_node("wavespeed_call.mjs", server.url + "/wavespeed", "npm-key", call)


needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")


@needs_node
def test_npm_sdk_run(server: BackgroundServer) -> None:
    outcome = node_call(
        server, "run", BITDANCE, {"prompt": "from node", "size": "512*512"}, pollInterval=0.01
    )
    assert image(outcome["result"]["outputs"][0]).size == (512, 512)


@needs_node
def test_npm_sdk_sync_mode_and_failures(server: BackgroundServer) -> None:
    synced = node_call(server, "run", SEEDREAM, {"prompt": "sync"}, enableSyncMode=True)
    assert image(synced["result"]["outputs"][0]).size == (2048, 2048)

    invalid = node_call(server, "run", BITDANCE, {"size": "1*1"})
    assert "HTTP 400" in invalid["error"]

    failed = node_call(server, "runNoThrow", WAN_I2V, UNREACHABLE, pollInterval=0.01)
    assert failed["result"]["outputs"] is None
    assert failed["result"]["detail"]["error"]["name"] == "WavespeedPredictionException"
    assert "cannot read the media" in failed["result"]["detail"]["error"]["message"]


# -- curl ----------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_seed_curl_submit_then_poll(server: BackgroundServer) -> None:
    """The seed document's curl flow, host adjusted (its body also needs a prompt to be valid)."""
    base = server.url + "/wavespeed"

    def curl(*args: str) -> dict:
        command = [
            "curl",
            "--silent",
            "--location",
            "--header",
            "Authorization: Bearer ws-key",
            *args,
        ]
        return json.loads(
            subprocess.run(command, capture_output=True, timeout=30, check=True).stdout
        )

    submitted = curl(
        "--request",
        "POST",
        f"{base}/api/v3/{BITDANCE}",
        "--header",
        "Content-Type: application/json",
        "--data-raw",
        '{"prompt": "a cat", "size": "1024*1024", "seed": -1}',
    )
    assert submitted["code"] == 200 and submitted["data"]["status"] == "created"
    request_id = submitted["data"]["id"]
    deadline = time.monotonic() + 10
    result = curl(f"{base}/api/v3/predictions/{request_id}/result")
    while result["data"]["status"] != "completed" and time.monotonic() < deadline:
        result = curl(f"{base}/api/v3/predictions/{request_id}/result")
    assert result["data"]["status"] == "completed"
    assert result["data"]["urls"]["get"] == f"{base}/api/v3/predictions/{request_id}/result"
    assert image(result["data"]["outputs"][0]).size == (1024, 1024)
    assert curl(f"{base}/api/v3/predictions/{request_id}") == result
