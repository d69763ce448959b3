"""``serve --data-dir`` keeps what it accepted across a restart, even a kill mid-load.

A real ``serve`` process under load from several threads is killed with SIGKILL; a new one
on the same folder must answer for every job whose submission had been answered 200, and
the SQLite file must pass its integrity check."""

from __future__ import annotations

import io
import json
import sqlite3
import threading
from pathlib import Path
from urllib.parse import urlsplit

import fal_client
import httpx
import pytest
from PIL import Image

from emulator import patch_fal_client
from tests.bounded import eventually
from tests.scaling.serving import Serving, serving


def base(server: Serving) -> str:
    return f"http://127.0.0.1:{server.port}"


def path(url: str) -> str:
    return urlsplit(url).path


HEADERS = {"Authorization": "Key k1"}
SUBMIT = "/fal/queue/fal-ai/bitdance"


def upload(client: httpx.Client, data: bytes) -> str:
    """fal's two-step upload (initiate, then PUT the bytes); the file's URL."""
    ticket = client.post(
        "/fal/rest/storage/upload/initiate",
        json={"file_name": "kept.bin", "content_type": "application/octet-stream"},
    ).json()
    assert client.put(ticket["upload_url"], content=data).status_code == 200
    return str(ticket["file_url"])


def test_a_restart_keeps_jobs_uploads_media_rules_and_the_record(tmp_path: Path) -> None:
    flags = ("--data-dir", str(tmp_path), "--progression", "immediate")
    small, large = b"s" * 1000, b"L" * (3 * 2**20)  # in the store; on disk
    with serving(tmp_path, *flags) as server:
        with httpx.Client(base_url=base(server), headers=HEADERS, timeout=10) as client:
            answers = [client.post(SUBMIT, json={"prompt": f"p{n}"}) for n in range(20)]
            ids = [answer.json()["request_id"] for answer in answers]
            result = client.get(f"{SUBMIT}/requests/{ids[0]}").json()
            uploads = {upload(client, small): small, upload(client, large): large}
            rule = {"effect": "http_error", "status": 429, "endpoint": "fal-ai/flux/dev"}
            assert client.post("/_emulator/faults", json=rule).status_code == 201
            recorded = len(client.get("/_emulator/requests").json())
            first = base(server)
    with serving(tmp_path, *flags) as server:
        with httpx.Client(base_url=base(server), headers=HEADERS, timeout=10) as client:
            statuses = {client.get(f"{SUBMIT}/requests/{i}/status").json()["status"] for i in ids}
            assert statuses == {"COMPLETED"}
            # (the restarted server listens on another port: the URLs' paths are what count)
            image = client.get(path(result["images"][0]["url"]))  # before any result is made anew
            assert image.status_code == 200
            assert Image.open(io.BytesIO(image.content)).size == (
                result["images"][0]["width"],
                result["images"][0]["height"],
            )
            again = client.get(f"{SUBMIT}/requests/{ids[0]}").text.replace(base(server), "")
            assert json.loads(again) == json.loads(json.dumps(result).replace(first, ""))
            for url, data in uploads.items():
                assert client.get(path(url)).content == data
            kept_rules = client.get("/_emulator/faults").json()
            assert [(r["effect"], r["endpoint"]) for r in kept_rules] == [
                ("http_error", "fal-ai/flux/dev")
            ]
            assert len(client.get("/_emulator/requests").json()) >= recorded


def test_a_kill_mid_load_loses_nothing_acknowledged_and_corrupts_nothing(tmp_path: Path) -> None:
    flags = ("--data-dir", str(tmp_path), "--progression", "immediate")
    server = Serving(tmp_path, *flags)
    server.wait_healthy()
    address = base(server)
    acknowledged: list[str] = []
    lock = threading.Lock()
    stopping = threading.Event()

    def submit_until_killed(worker: int) -> None:
        with httpx.Client(base_url=address, headers=HEADERS, timeout=5) as client:
            for n in range(10_000):
                if stopping.is_set():
                    return
                try:
                    answer = client.post(SUBMIT, json={"prompt": f"w{worker} n{n}"})
                except httpx.TransportError:
                    return  # killed: this request was in flight, never acknowledged
                if answer.status_code == 200:
                    with lock:
                        acknowledged.append(answer.json()["request_id"])

    threads = [threading.Thread(target=submit_until_killed, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    eventually(lambda: len(acknowledged) >= 200, 30, 0.02)
    server.process.kill()  # SIGKILL: no shutdown of any kind
    server.process.wait(10)
    stopping.set()
    for thread in threads:
        thread.join(timeout=10)
    assert len(acknowledged) >= 200

    with sqlite3.connect(tmp_path / "state.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with serving(tmp_path, *flags) as restarted:
        with httpx.Client(base_url=base(restarted), headers=HEADERS, timeout=10) as client:
            lost = [
                request_id
                for request_id in acknowledged
                if client.get(f"{SUBMIT}/requests/{request_id}/status").status_code != 200
            ]
    assert lost == []


def test_fal_client_fetches_after_a_restart_what_it_submitted_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real client, unmodified: submit, the emulator restarts on its --data-dir, and
    the client's status and result calls for that request id are answered."""
    monkeypatch.setenv("FAL_KEY", "k1")
    flags = ("--data-dir", str(tmp_path), "--progression", "immediate")
    small = {"prompt": "kept", "image_size": {"width": 64, "height": 64}}
    with serving(tmp_path, *flags) as server, patch_fal_client(base(server)):
        request_id = fal_client.submit("fal-ai/bitdance", arguments=small).request_id
    with serving(tmp_path, *flags) as server, patch_fal_client(base(server)):
        status = fal_client.status("fal-ai/bitdance", request_id)
        result = fal_client.result("fal-ai/bitdance", request_id)
    assert isinstance(status, fal_client.Completed)
    assert (result["images"][0]["width"], result["images"][0]["height"]) == (64, 64)
