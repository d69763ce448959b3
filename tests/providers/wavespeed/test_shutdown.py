"""SIGTERM while a sync-mode request waits: the waiting client gets WaveSpeed's answer for a
wait cut short (the 5004 prediction, still processing), not uvicorn's text/plain 500."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from tests.bounded import eventually, stop_process
from tests.redis_server import free_port

HEADERS = {"Authorization": "Bearer k"}
SUBMIT = "/wavespeed/api/v3/wavespeed-ai/bitdance-14b/text-to-image"


@pytest.mark.slow
def test_sigterm_answers_a_sync_mode_wait_with_the_still_processing_prediction(
    tmp_path: Path,
) -> None:
    port, log = free_port(), tmp_path / "serve.log"
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "emulator", "serve", "--port", str(port)]
    with log.open("wb") as stderr:  # a manual clock: the job never finishes by itself
        flags = ["--manual-clock", "--shutdown-timeout", "1", "--log-level", "info"]
        process = subprocess.Popen([*command, *flags], stdout=stderr, stderr=stderr)
    answers: list[httpx.Response] = []
    waiting = threading.Thread(
        target=lambda: answers.append(
            httpx.post(
                base + SUBMIT,
                json={"prompt": "x", "enable_sync_mode": True},
                headers=HEADERS,
                timeout=30,
            )
        )
    )
    try:
        assert eventually(lambda: _answers(base + "/_emulator/health"), 20, 0.1)
        waiting.start()
        listed: list[dict] = []  # the job is submitted: its request is in the wait
        assert eventually(lambda: listed.extend(_history(base)) or listed, 10, 0.05)
        process.send_signal(signal.SIGTERM)
        process.wait(20)
        waiting.join(20)
    finally:
        stop_process(process, 5)
    (answer,) = answers
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    data = answer.json()["data"]
    assert (data["id"], data["status"], data["code"]) == (listed[0]["id"], "processing", 5004)
    assert "shutting down" in data["error"] and data["urls"]["get"].endswith("/result")
    assert "Traceback" not in log.read_text(errors="replace")


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _history(base: str) -> list[dict]:
    answer = httpx.post(base + "/wavespeed/api/v3/predictions", json={}, headers=HEADERS)
    return answer.json()["data"]["items"]
