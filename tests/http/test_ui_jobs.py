"""A job on the dashboard as its client knows it, through the real ``wavespeed`` SDK and
``fal_client`` in-process: the outputs it was sent inline, a prediction deleted from its
history."""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fal_client
import httpx
import pytest
import wavespeed
from starlette.testclient import TestClient

from emulator import Emulation, EmulatorConfig, Engine, Progression, create_app, emulate
from emulator.http.ui.job_views import shortened

UI = "/_emulator/ui"
API = "https://api.wavespeed.ai"
BITDANCE = "wavespeed-ai/bitdance-14b/text-to-image"
FAL_BITDANCE = "fal-ai/bitdance"
IMMEDIATE = Progression.parse("immediate")


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


def test_a_fal_job_in_sync_mode_shows_the_data_uris_its_client_was_sent(
    dashboard: TestClient,
) -> None:
    """A queue job submitted with ``sync_mode: true`` gets its media as data URIs from its
    result; its page showed CDN URLs, which the client was never sent."""
    client = fal_client.SyncClient(key="key-1")
    handle = client.submit(FAL_BITDANCE, arguments={"prompt": "inline", "sync_mode": True})
    answered = handle.get()
    (image,) = answered["images"]
    header, _, inline = image["url"].partition(",")
    assert header == "data:image/jpeg;base64"
    page = dashboard.get(f"{UI}/jobs/{handle.request_id}").text
    shown = shown_output(page)
    # as the API answered it, its long data URI cut for the page as inputs are
    assert shown == shortened(answered)
    assert shown["images"][0]["url"].startswith(image["url"][:240] + "…")
    assert "/fal/cdn/" not in page
    # the gallery shows it as a picture, the very bytes the client decoded
    gallery = dashboard.get(f"{UI}/gallery").text
    (medium,) = re.findall(rf'<a href="({UI}/media/[0-9a-f]+\.jpg)">', gallery)
    assert f'href="{UI}/jobs/{handle.request_id}"' in gallery
    assert dashboard.get(medium).content == base64.b64decode(inline)


def delete(task_id: str, key: str = "key-1") -> None:
    """``task_id`` deleted from its key's history, as WaveSpeed's history API does it."""
    answer = httpx.post(
        f"{API}/api/v3/predictions/delete",
        json={"ids": [task_id]},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert answer.json()["data"] == {"deleted": 1}


def listed(key: str = "key-1") -> list[str]:
    """The ids WaveSpeed's history lists for ``key``."""
    history = httpx.post(
        f"{API}/api/v3/predictions", json={}, headers={"Authorization": f"Bearer {key}"}
    )
    return [item["id"] for item in history.json()["data"]["items"]]


def row_states(dashboard: TestClient, query: str = "") -> dict[str, str]:
    """Job id → the state its row in the jobs table shows."""
    rows = dashboard.get(f"{UI}/jobs/rows{query}").text
    return dict(
        re.findall(
            r'<tr data-job="([0-9a-f]+)">.*?class="state state-[a-z-]+">([^<]+)<', rows, re.DOTALL
        )
    )


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_a_prediction_deleted_from_its_history_is_shown_deleted(store: str, tmp_path: Path) -> None:
    """It was listed and shown completed, its outputs and all, while its result answered
    the status "deleted" without them. Listed still, marked: its result answers it, and
    the SDK's polling of it fails with "Prediction deleted" (its user needs to see why).
    On SQLite the dashboard is another worker's, as with ``serve --workers 2``."""
    url = "memory" if store == "memory" else f"sqlite://{tmp_path / 'state.db'}"
    config = EmulatorConfig(progression=IMMEDIATE, state=url)
    with emulate(config=config) as emulation:
        kept, gone = run({"prompt": "kept"}), run({"prompt": "gone"})
        delete(gone["task_id"])
        assert listed() == [kept["task_id"]]
        answered = sdk().get_result(gone["task_id"])
        assert (answered["data"]["status"], answered["data"]["outputs"]) == ("deleted", [])
        worker = emulation.engine if store == "memory" else Engine(config)
        try:
            with TestClient(create_app(engine=worker)) as dashboard:
                states = row_states(dashboard)
                assert states == {gone["task_id"]: "deleted", kept["task_id"]: "completed"}
                assert list(row_states(dashboard, "?state=deleted")) == [gone["task_id"]]
                assert list(row_states(dashboard, "?state=completed")) == [kept["task_id"]]
                page = dashboard.get(f"{UI}/jobs/{gone['task_id']}")
                assert page.status_code == 200 and "state-deleted" in page.text
                assert "Deleted from its key's history" in page.text
                assert without_urls(shown_output(page.text)) == without_urls(answered)
                gallery = dashboard.get(f"{UI}/gallery").text  # its result has no outputs
                assert f"/jobs/{gone['task_id']}" not in gallery
                assert f"/jobs/{kept['task_id']}" in gallery
                jobs = dashboard.get("/_emulator/jobs").json()
                assert {job["id"]: job["deleted"] for job in jobs} == {
                    kept["task_id"]: False,
                    gone["task_id"]: True,
                }
        finally:
            if worker is not emulation.engine:
                worker.close()


def test_a_prediction_deleted_before_it_finished_shows_what_its_result_answers() -> None:
    """Its result answers "deleted" whatever its phase; its page said it had not finished."""
    with emulate(progression="polls:1000,1") as emulation:
        headers = {"Authorization": "Bearer key-1"}
        submitted = httpx.post(f"{API}/api/v3/{BITDANCE}", json={"prompt": "x"}, headers=headers)
        task_id = submitted.json()["data"]["id"]
        delete(task_id)
        answered = sdk().get_result(task_id)
        with TestClient(create_app(engine=emulation.engine)) as dashboard:
            page = dashboard.get(f"{UI}/jobs/{task_id}").text
    assert answered["data"]["status"] == "deleted"
    assert without_urls(shown_output(page)) == without_urls(answered)
    assert "state-deleted" in page and "has not finished" not in page
