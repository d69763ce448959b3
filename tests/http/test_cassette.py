"""The recordings arranged for replay: each input's answers handed out in recorded order."""

from __future__ import annotations

import json
from pathlib import Path

from starlette.testclient import TestClient

from emulator import EmulatorConfig, Engine, Progression, create_app
from emulator.recording import with_recordings
from tests.http.recorded import fal_queue_exchange, wavespeed_submit_exchange


def _sync_run(answer: dict) -> dict:
    return {
        "surface": "fal/run",
        "method": "POST",
        "path": "/fal-ai/bitdance",
        "query": "",
        "request": {"headers": {}, "json": {"prompt": "same"}},
        "response": {"status": 200, "headers": {"content-type": "application/json"},
                     "json": answer},
    }  # fmt: skip


def test_sync_runs_of_one_input_replay_in_order_then_the_last(tmp_path: Path) -> None:
    (tmp_path / "fal").mkdir()
    for number in (1, 2):
        recording = json.dumps(_sync_run({"number": number}))
        (tmp_path / "fal" / f"{number}.json").write_text(recording)
    client = TestClient(with_recordings(create_app(), replay=tmp_path))
    answers = [_run(client) for _ in range(3)]
    assert answers == [{"number": 1}, {"number": 2}, {"number": 2}]


def _run(client: TestClient) -> dict:
    answer = client.post(
        "/fal/run/fal-ai/bitdance", json={"prompt": "same"}, headers={"Authorization": "Key k"}
    )
    return answer.json()


def test_a_reset_of_the_emulator_replays_from_the_first_recordings(tmp_path: Path) -> None:
    """A shared replaying server reset between tests went on where the last test left
    it: a test's answers depended on the tests before it."""
    (tmp_path / "fal").mkdir()
    for number in (1, 2):
        recording = json.dumps(_sync_run({"number": number}))
        (tmp_path / "fal" / f"{number}.json").write_text(recording)
    client = TestClient(with_recordings(create_app(), replay=tmp_path))
    assert [_run(client), _run(client)] == [{"number": 1}, {"number": 2}]
    assert client.post("/_emulator/reset").status_code == 200
    assert [_run(client), _run(client)] == [{"number": 1}, {"number": 2}]


def test_a_refused_submit_replays_in_its_turn_then_the_job_its_retry_made(
    tmp_path: Path,
) -> None:
    """Only a submit that made a job was played: with the 404 fallback a recorded refusal
    (WaveSpeed's 400 for an input, a 429) was answered "no recording matches" (an audit)."""
    same = {"json": {"prompt": "same"}}
    busy = {"detail": "Too many requests"}
    recordings = [
        fal_queue_exchange("POST", "/fal-ai/bitdance", 429, busy, **same),
        fal_queue_exchange("POST", "/fal-ai/bitdance", 200, {"request_id": "r1"}, **same),
        fal_queue_exchange("GET", "/fal-ai/bitdance/requests/r1", 200, {"images": [], "seed": 7}),
    ]
    (tmp_path / "fal").mkdir()
    for number, recording in enumerate(recordings):
        (tmp_path / "fal" / f"{number}.json").write_text(json.dumps(recording))
    engine = Engine(EmulatorConfig(progression=Progression.parse("immediate")))
    client = TestClient(with_recordings(create_app(engine=engine), replay=tmp_path, fallback="404"))
    headers = {"Authorization": "Key k"}
    refused = client.post("/fal/queue/fal-ai/bitdance", json={"prompt": "same"}, headers=headers)
    assert (refused.status_code, refused.json()) == (429, busy)
    assert refused.headers["retry-after"] == "1"
    submitted = client.post("/fal/queue/fal-ai/bitdance", json={"prompt": "same"}, headers=headers)
    assert submitted.status_code == 200, submitted.text
    result = client.get(submitted.json()["response_url"], headers=headers)
    assert result.json() == {"images": [], "seed": 7}


def test_a_submit_whose_result_was_never_fetched_replays_with_the_emulators_result(
    tmp_path: Path,
) -> None:
    """A webhook-driven client never fetches its result (the provider posts the webhook to
    it, around the recorder): with the 404 fallback its recorded submit was answered "no
    queued call of … was recorded", and emulated unannounced otherwise (a review)."""
    model, hooked = "wavespeed-ai/bitdance-14b/text-to-image", {"prompt": "hooked"}
    (tmp_path / "wavespeed").mkdir()
    recording = wavespeed_submit_exchange(model, hooked, "a" * 32)
    (tmp_path / "wavespeed" / "1.json").write_text(json.dumps(recording))
    engine = Engine(EmulatorConfig(progression=Progression.parse("immediate")))
    client = TestClient(with_recordings(create_app(engine=engine), replay=tmp_path, fallback="404"))
    headers = {"Authorization": "Bearer k"}
    submitted = client.post(f"/wavespeed/api/v3/{model}", json=hooked, headers=headers)
    assert submitted.status_code == 200, submitted.text
    job = submitted.json()["data"]
    assert job["id"] != "a" * 32 and len(engine.jobs) == 1  # a job, as a matched submit's
    result = client.get(job["urls"]["get"], headers=headers).json()["data"]
    assert result["status"] == "completed" and result["outputs"]  # the emulator's
    other = client.post(f"/wavespeed/api/v3/{model}", json={"prompt": "x"}, headers=headers)
    assert other.status_code == 404
    assert other.json()["message"].endswith("(the nearest recorded input differs in prompt)")
