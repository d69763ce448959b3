"""A job on the dashboard as its client knows it, through the real ``wavespeed`` SDK
in-process: the outputs it was sent inline, a prediction deleted from its history."""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import wavespeed
from starlette.testclient import TestClient

from emulator import Emulation, create_app, emulate
from emulator.http.ui.job_views import shortened

UI = "/_emulator/ui"
API = "https://api.wavespeed.ai"
BITDANCE = "wavespeed-ai/bitdance-14b/text-to-image"


@pytest.fixture
def emulation() -> Iterator[Emulation]:
    with emulate(progression="immediate") as emulation:
        yield emulation


@pytest.fixture
def dashboard(emulation: Emulation) -> Iterator[TestClient]:
    with TestClient(create_app(engine=emulation.engine)) as client:
        yield client


def sdk(key: str = "key-1") -> wavespeed.Client:
    return wavespeed.Client(api_key=key, base_url=API)


def run(inputs: dict[str, Any], key: str = "key-1") -> dict[str, Any]:
    """A finished prediction, as the SDK's ``run_no_throw`` gives it (with its task id)."""
    ran = sdk(key).run_no_throw(BITDANCE, inputs, poll_interval=0.01, timeout=30)
    assert ran["status"] == "completed", ran
    return ran


def shown_output(page: str) -> Any:
    """The JSON a job's page shows as its output."""
    found = re.search(r'<h2>Output</h2>\s*<pre class="json">(.*?)</pre>', page, re.DOTALL)
    assert found is not None, page
    return json.loads(html.unescape(found[1]))


def without_urls(answer: dict[str, Any]) -> dict[str, Any]:
    """A result but its own URL, which names the host it was asked at."""
    return {**answer, "data": {**answer["data"], "urls": None}}


def test_a_job_asking_for_base64_shows_the_base64_its_client_was_sent(
    dashboard: TestClient,
) -> None:
    """Its page showed CDN URLs, which the client was never sent."""
    ran = run({"prompt": "inline", "enable_base64_output": True})
    (inline,) = ran["outputs"]
    assert not inline.startswith(("http", "data:"))  # WaveSpeed's naked base64
    answered = sdk().get_result(ran["task_id"])
    page = dashboard.get(f"{UI}/jobs/{ran['task_id']}").text
    shown = shown_output(page)
    # as the API answered it, its long base64 cut for the page as inputs are
    assert without_urls(shown) == shortened(without_urls(answered))
    assert shown["data"]["outputs"][0].startswith(inline[:240] + "…")
    assert "/wavespeed/cdn/" not in page
    # the gallery shows it as a picture, the very bytes the client was sent
    gallery = dashboard.get(f"{UI}/gallery").text
    (medium,) = re.findall(rf'<a href="({UI}/media/[0-9a-f]+\.jpg)">', gallery)
    assert f'href="{UI}/jobs/{ran["task_id"]}"' in gallery
    assert dashboard.get(medium).content == base64.b64decode(inline)
