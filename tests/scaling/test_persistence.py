"""``serve --data-dir`` keeps what it accepted across a restart, even a kill mid-load.

A real ``serve`` process under load from several threads is killed with SIGKILL; a new one
on the same folder must answer for every job whose submission had been answered 200, and
the SQLite file must pass its integrity check."""

from __future__ import annotations

import io
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from PIL import Image

from tests.redis_server import free_port

#: seconds a server may take to answer its first health check
START_WITHIN = 30.0
HEADERS = {"Authorization": "Key k1"}
SUBMIT = "/fal/queue/fal-ai/bitdance"


def serve(port: int, *flags: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "emulator", "serve", "--port", str(port), *flags]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + START_WITHIN
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"serve exited: {process.stderr.read().decode()}")  # type: ignore[union-attr]
        try:
            httpx.get(f"http://127.0.0.1:{port}/_emulator/health", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not start")


def stop(process: subprocess.Popen[bytes], how: signal.Signals = signal.SIGTERM) -> None:
    process.send_signal(how)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def test_a_restart_answers_for_every_job_and_upload_it_had_accepted(tmp_path: Path) -> None:
    port = free_port()
    flags = ("--data-dir", str(tmp_path), "--progression", "immediate")
    server = serve(port, *flags)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, headers=HEADERS, timeout=10) as client:
            ids = [
                client.post(SUBMIT, json={"prompt": f"p{n}"}).json()["request_id"]
                for n in range(20)
            ]
            result = client.get(f"{SUBMIT}/requests/{ids[0]}").json()
    finally:
        stop(server)
    server = serve(port, *flags)
    try:
        with httpx.Client(base_url=base, headers=HEADERS, timeout=10) as client:
            statuses = {client.get(f"{SUBMIT}/requests/{i}/status").json()["status"] for i in ids}
            assert statuses == {"COMPLETED"}
            image = client.get(result["images"][0]["url"])  # before any result is made anew
            assert image.status_code == 200
            assert Image.open(io.BytesIO(image.content)).size == (
                result["images"][0]["width"],
                result["images"][0]["height"],
            )
            assert client.get(f"{SUBMIT}/requests/{ids[0]}").json() == result
    finally:
        stop(server)


def test_a_kill_mid_load_loses_nothing_acknowledged_and_corrupts_nothing(tmp_path: Path) -> None:
    port = free_port()
    flags = ("--data-dir", str(tmp_path), "--progression", "immediate")
    server = serve(port, *flags)
    base = f"http://127.0.0.1:{port}"
    acknowledged: list[str] = []
    lock = threading.Lock()
    stopping = threading.Event()

    def submit_until_killed(worker: int) -> None:
        with httpx.Client(base_url=base, headers=HEADERS, timeout=5) as client:
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
    deadline = time.monotonic() + 30
    while len(acknowledged) < 200 and time.monotonic() < deadline:
        time.sleep(0.02)
    stop(server, signal.SIGKILL)
    stopping.set()
    for thread in threads:
        thread.join(timeout=10)
    assert len(acknowledged) >= 200

    with sqlite3.connect(tmp_path / "state.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    server = serve(port, *flags)
    try:
        with httpx.Client(base_url=base, headers=HEADERS, timeout=10) as client:
            lost = [
                request_id
                for request_id in acknowledged
                if client.get(f"{SUBMIT}/requests/{request_id}/status").status_code != 200
            ]
        assert lost == []
    finally:
        stop(server)
