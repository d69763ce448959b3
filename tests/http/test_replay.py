"""What a replay answers itself (a recorded refusal or file, the 404 fallback) is in the
request record, marked, with the body the client sent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from emulator import EmulatorConfig, Engine, Progression, create_app
from emulator.recording import with_recordings
from tests.http.recorded import fal_queue_exchange

CAT = {"prompt": "a cat", "num_images": 1}


def _recorded(folder: Path) -> Path:
    """A fal submit refused with a 429, then the job its retry made, then its result."""
    recordings = [
        fal_queue_exchange(
            "POST", "/fal-ai/bitdance", 429, {"detail": "Too many requests"}, "0", json=CAT
        ),
        fal_queue_exchange("POST", "/fal-ai/bitdance", 200, {"request_id": "r1"}, "0", json=CAT),
        fal_queue_exchange(
            "GET", "/fal-ai/bitdance/requests/r1", 200, {"images": [], "seed": 7}, "0"
        ),
    ]
    (folder / "fal").mkdir()
    for number, recording in enumerate(recordings):
        (folder / "fal" / f"{number}.json").write_text(json.dumps(recording))
    return folder


def test_the_real_clients_retry_of_a_replayed_429_and_an_unmatched_call_are_recorded(
    tmp_path: Path,
) -> None:
    """The client saw 429, 200 and a 404; the record held the 200 alone, so a test
    counting calls or retries under replay was wrong, and what an unmatched call sent was
    logged nowhere (a harness audit)."""
    import fal_client

    from emulator import Emulation

    with Emulation(replay=_recorded(tmp_path), replay_fallback="404") as emulation:
        result = fal_client.subscribe("fal-ai/bitdance", arguments=CAT)  # retries the 429
        assert result == {"images": [], "seed": 7}
        with pytest.raises(fal_client.FalClientHTTPError) as lost:
            fal_client.subscribe("fal-ai/bitdance", arguments={**CAT, "prompt": "a dog"})
        assert lost.value.status_code == 404
        assert str(lost.value).endswith("(the nearest recorded input differs in prompt)")
        calls = emulation.calls("fal-ai/bitdance")
        assert [(c.status, c.replay, c.json["prompt"]) for c in calls] == [
            (429, "recorded", "a cat"),
            (200, None, "a cat"),
            (404, "unmatched", "a dog"),
        ]
        assert {c.path for c in calls} == {"/fal/queue/fal-ai/bitdance"}


def test_the_control_plane_and_the_dashboard_show_how_a_replay_answered(tmp_path: Path) -> None:
    engine = Engine(EmulatorConfig(progression=Progression.parse("immediate")))
    app = with_recordings(create_app(engine=engine), replay=_recorded(tmp_path), fallback="404")
    client = TestClient(app)
    headers = {"Authorization": "Key k"}
    for _ in "12":  # the recorded 429, then the job
        client.post("/fal/queue/fal-ai/bitdance", json=CAT, headers=headers)
    unmatched = client.post("/fal/queue/fal-ai/bitdance", json={"seed": 1}, headers=headers)
    assert unmatched.json()["detail"].endswith(
        "(the nearest recorded input differs in num_images (not sent), prompt (not sent),"
        " seed (not recorded))"
    )
    listed = client.get("/_emulator/requests").json()
    assert [(e["status"], e["replay"], json.loads(e["body"])) for e in listed] == [
        (429, "recorded", CAT),
        (200, None, CAT),
        (404, "unmatched", {"seed": 1}),
    ]
    page = client.get("/_emulator/ui/requests").text
    assert page.count('<small title="answered by the replay">recorded</small>') == 1
    assert page.count('<small title="answered by the replay">unmatched</small>') == 1


def test_a_replayed_file_and_an_unrecorded_endpoint_are_recorded_too(tmp_path: Path) -> None:
    _recorded(tmp_path)
    page = {
        "surface": "fal/cdn", "method": "GET", "path": "/files/page", "query": "",
        "request": {"headers": {}},
        "response": {"status": 200, "headers": {"content-type": "image/png"}, "base64": "AA=="},
    }  # fmt: skip
    (tmp_path / "fal" / "9.json").write_text(json.dumps(page))
    engine = Engine(EmulatorConfig())
    client = TestClient(with_recordings(create_app(engine=engine), replay=tmp_path, fallback="404"))
    assert client.get("https://v3.fal.media/files/page").status_code == 200  # by its host
    other = client.post("/fal/queue/fal-ai/flux/dev", json=CAT, headers={"Authorization": "Key k"})
    assert other.json()["detail"].endswith("(no queued call of fal-ai/flux/dev was recorded)")
    assert [(e.method, e.path, e.status, e.replay) for e in engine.record] == [
        ("GET", "/fal/cdn/files/page", 200, "recorded"),
        ("POST", "/fal/queue/fal-ai/flux/dev", 404, "unmatched"),
    ]
