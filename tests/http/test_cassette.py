"""The recordings arranged for replay: each input's answers handed out in recorded order."""

from __future__ import annotations

import json
from pathlib import Path

from starlette.testclient import TestClient

from emulator import create_app
from emulator.recording import with_recordings


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
