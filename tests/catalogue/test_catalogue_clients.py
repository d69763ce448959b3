"""Catalogue endpoints through the real clients: a pinned sample over every category and
output kind, and a seeded random draw from the whole catalogue (a new draw each day;
``CATALOGUE_SAMPLE_SEED`` replays one). Each output validates against its contract and
every file opens with its library, at the size and length the input asked for."""

from __future__ import annotations

import datetime
import io
import json
import os
import random
import shutil
from collections.abc import Iterator
from typing import Any

import fal_client
import httpx
import pytest
from PIL import Image

from emulator import EmulatorConfig
from emulator.clients import patch_fal_client
from emulator.contracts.catalogue import shipped_catalogue
from emulator.contracts.kinds import category_kind
from emulator.media.cache import MediaStore
from emulator.media.spec import MediaSpec
from emulator.server import BackgroundServer

from ..clients.conftest import run_node
from ..conftest import FAST
from .files import opened, urls_in
from .inputs import minimal_input

pytestmark = pytest.mark.slow

#: category and output kind each: images, video (with sound), audio, speech with
#: timestamps, meshes (GLB, OBJ), archives, LoRA files, JSON, text, structured outputs
PINNED = (
    "fal-ai/flux/dev",
    "fal-ai/flux/schnell",
    "fal-ai/recraft/v3/text-to-image",
    "fal-ai/nano-banana",
    "fal-ai/nano-banana/edit",
    "fal-ai/ideogram/v3",
    "fal-ai/vecglypher",
    "fal-ai/kling-video/v2.1/standard/image-to-video",
    "fal-ai/kling-video/v2.5-turbo/pro/text-to-video",
    "fal-ai/wan/v2.2-a14b/text-to-video",
    "fal-ai/bytedance/omnihuman",
    "fal-ai/sync-lipsync",
    "fal-ai/mmaudio-v2",
    "fal-ai/ltx-2.3-quality/hdr",
    "fal-ai/minimax/speech-02-hd",
    "fal-ai/elevenlabs/tts/multilingual-v2",
    "fal-ai/kokoro/american-english",
    "xai/tts/v1",
    "fal-ai/qwen-3-tts/clone-voice/0.6b",
    "fal-ai/wizper",
    "fal-ai/elevenlabs/speech-to-text",
    "fal-ai/stable-audio",
    "fal-ai/ace-step",
    "fal-ai/demucs",
    "fal-ai/sam-audio/separate",
    "fal-ai/elevenlabs/audio-isolation",
    "openrouter/router",
    "fal-ai/florence-2-large/caption",
    "fal-ai/moondream3-preview/caption",
    "fal-ai/got-ocr/v2",
    "fal-ai/trellis",
    "fal-ai/hunyuan3d/v2",
    "fal-ai/hunyuan-3d/v3.1/rapid/text-to-3d",
    "tripo3d/tripo/v2.5/image-to-3d",
    "fal-ai/meshy/rigging",
    "fal-ai/birefnet",
    "fal-ai/imageutils/depth",
    "fal-ai/sam-3-1/image-rle",
    "fal-ai/sa2va/4b/image",
    "fal-ai/esrgan",
    "fal-ai/editto",
    "fal-ai/flux-lora-fast-training",
    "fal-ai/omnilottie",
    "fal-ai/hunyuan-motion",
    "fal-ai/ffmpeg-api/waveform",
    "fal-ai/ffmpeg-api/extract-frame",
    "fal-ai/heygen/avatar5/digital-twin",
)
SEED = int(os.environ.get("CATALOGUE_SAMPLE_SEED", datetime.date.today().toordinal()))
DRAWN = 8
CATALOGUE = shipped_catalogue()


def drawn() -> list[str]:
    ids = sorted(set(CATALOGUE.ids()) - set(PINNED))
    return random.Random(SEED).sample(ids, DRAWN)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (48, 32), "teal").save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def server() -> Iterator[BackgroundServer]:
    server = BackgroundServer(EmulatorConfig(progression=FAST, seed=3)).start()
    try:
        with patch_fal_client(server.url):
            yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def uploaded(server: BackgroundServer) -> dict[str, str]:
    """Input media uploaded through the real client, as a user would."""
    os.environ.setdefault("FAL_KEY", "catalogue-key")
    store = MediaStore()
    sound = store.content(MediaSpec("audio", 0, 0, "wav", "in", "", 1, duration=1.0))
    clip = store.content(MediaSpec("video", 64, 48, "mp4", "in", "", 1, duration=1, fps=4))
    return {
        "image": fal_client.upload(_png(), "image/png"),
        "audio": fal_client.upload(sound, "audio/wav"),
        "video": fal_client.upload(clip, "video/mp4"),
    }


def check_output(endpoint_id: str, payload: dict[str, Any], output: dict[str, Any]) -> None:
    endpoint = CATALOGUE.endpoint(endpoint_id)
    errors = [e.message for e in endpoint.output_validator.iter_errors(output)]
    assert not errors, errors
    if category_kind(endpoint.category):  # a media endpoint returns files
        assert urls_in(output), output
    for url in urls_in(output):
        response = httpx.get(url, timeout=30)
        assert response.status_code == 200, url
        info = opened(response.content, url.rsplit(".", 1)[-1])
        if info["kind"] == "image" and payload.get("image_size") == {"width": 64, "height": 64}:
            assert info["size"] == (64, 64)
        if info["kind"] == "audio" and payload.get("duration") == 1:
            assert info["seconds"] == pytest.approx(1.0, abs=0.05)
        if info["kind"] == "video" and payload.get("duration") == 1:
            assert info["seconds"] == pytest.approx(1.0, abs=0.2)
    described = [f for f in _files(output) if "duration" in f and "url" in f]
    for file in described:  # a stated length is the file's length
        info = opened(httpx.get(file["url"]).content, file["url"].rsplit(".", 1)[-1])
        assert info["seconds"] == pytest.approx(file["duration"], abs=0.2)


def _files(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _files(item)
    elif isinstance(value, list):
        for item in value:
            yield from _files(item)


@pytest.mark.parametrize("endpoint_id", [*PINNED, *drawn()])
def test_fal_client_gets_a_valid_output_with_real_files(
    endpoint_id: str, uploaded: dict[str, str]
) -> None:
    payload = minimal_input(CATALOGUE.endpoint(endpoint_id), uploaded)
    output = fal_client.subscribe(endpoint_id, arguments=payload)
    check_output(endpoint_id, payload, output)


def test_the_sample_covers_every_category() -> None:
    categories = {CATALOGUE.category(i) for i in CATALOGUE.ids()}
    assert {CATALOGUE.category(i) for i in PINNED} >= categories - {"image-to-audio", "llm"}
    assert len(PINNED) >= 40


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_js_client_gets_valid_outputs(
    server: BackgroundServer, uploaded: dict[str, str]
) -> None:
    chosen = [*PINNED[::4], *drawn()[:2]]
    calls = [[i, minimal_input(CATALOGUE.endpoint(i), uploaded)] for i in chosen]
    outcome = run_node("fal_catalogue.mjs", server.url, "js-key", json.dumps(calls))
    assert [entry["id"] for entry in outcome] == chosen
    for (endpoint_id, payload), entry in zip(calls, outcome, strict=True):
        assert "error" not in entry, entry
        check_output(endpoint_id, payload, entry["data"])
