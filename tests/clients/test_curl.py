"""The cURL examples of the seed documents, run verbatim except for the host."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import av
import pytest
from PIL import Image

from emulator import EmulatorConfig
from emulator.server import BackgroundServer

from ..conftest import FAST

CURL_EXAMPLES = Path(__file__).parents[2] / "fixtures" / "fal" / "curl"

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")


def curl(command: str) -> bytes:
    env = {**os.environ, "FAL_KEY": "curl-key"}
    done = subprocess.run(
        ["bash", "-c", command], capture_output=True, env=env, timeout=30, check=True
    )
    return done.stdout


def curl_json(*args: str) -> dict:
    quoted = " ".join(f"'{arg}'" for arg in args)
    return json.loads(curl(f'curl --silent --header "Authorization: Key $FAL_KEY" {quoted}'))


def decoded_size(url: str) -> tuple[int, int]:
    return Image.open(io.BytesIO(curl(f"curl --silent --fail '{url}'"))).size


@pytest.mark.parametrize("example", ["bitdance", "seedream-v4-text-to-image"])
def test_seed_curl_example_runs_against_the_emulator(
    server: BackgroundServer, example: str
) -> None:
    command = (CURL_EXAMPLES / f"{example}.sh").read_text()
    result = json.loads(curl(command.replace("https://fal.run", f"{server.url}/fal/run")))
    assert decoded_size(result["images"][0]["url"]) in ((1024, 1024), (2048, 2048))


def test_seed_curl_example_for_video_reports_its_unreachable_image(
    server: BackgroundServer,
) -> None:
    """Its image_url is on the internet, which the emulator does not reach: fal's 422."""
    command = (CURL_EXAMPLES / "seedance-v1-pro-fast-image-to-video.sh").read_text()
    result = json.loads(curl(command.replace("https://fal.run", f"{server.url}/fal/run")))
    (error,) = result["detail"]
    assert (error["loc"], error["type"]) == (["body", "image_url"], "file_download_error")


def test_seed_curl_example_for_video_offline(serve) -> None:
    """With unreachable_media="synthetic" the same command gets a real video."""
    server = serve(EmulatorConfig(progression=FAST, unreachable_media="synthetic"))
    command = (CURL_EXAMPLES / "seedance-v1-pro-fast-image-to-video.sh").read_text()
    result = json.loads(curl(command.replace("https://fal.run", f"{server.url}/fal/run")))
    video = av.open(io.BytesIO(curl(f"curl --silent --fail '{result['video']['url']}'")))
    stream = video.streams.video[0]
    assert (stream.width, stream.height, video.duration / 1e6) == (1920, 1080, 5.0)


def test_queue_flow_with_curl(server: BackgroundServer) -> None:
    endpoint = f"{server.url}/fal/queue/fal-ai/bytedance/dreamina/v3.1/text-to-image"
    submitted = curl_json(
        "--request",
        "POST",
        "--header",
        "Content-Type: application/json",
        "--data",
        '{"prompt": "a selfie"}',
        endpoint,
    )
    assert submitted["status"] == "IN_QUEUE"
    deadline = time.monotonic() + 10
    status = curl_json(submitted["status_url"] + "?logs=1")
    while status["status"] != "COMPLETED" and time.monotonic() < deadline:
        time.sleep(0.05)
        status = curl_json(submitted["status_url"] + "?logs=1")
    assert status["status"] == "COMPLETED"
    result = curl_json(submitted["response_url"])
    assert decoded_size(result["images"][0]["url"]) == (2048, 1536)
