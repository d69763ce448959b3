"""SIGTERM ends `serve` within its shutdown timeout, whatever its open requests wait on,
and a request still held then is answered in its provider's format, never with uvicorn's
bare text/plain 500."""

import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import httpx
import pytest

#: how long the test waits for the server to exit: the shutdown timeout (1 s) and slack
EXIT_WITHIN = 20.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(port: int, *flags: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "emulator", "serve", "--port", str(port)]
    process = subprocess.Popen([*command, "--shutdown-timeout", "1", *flags])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/_emulator/health", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not start")


def fal_stream(base: str) -> httpx.Response:
    headers = {"Authorization": "Key k"}
    submitted = httpx.post(
        f"{base}/fal/queue/fal-ai/bitdance", json={"prompt": "x"}, headers=headers
    )
    status_url = submitted.json()["status_url"]
    with httpx.stream("GET", status_url + "/stream", headers=headers, timeout=60) as stream:
        for _ in stream.iter_lines():
            pass
    return stream


def wavespeed_sync(base: str) -> httpx.Response:
    return httpx.post(
        f"{base}/wavespeed/api/v3/wavespeed-ai/bitdance-14b/text-to-image",
        json={"prompt": "x", "enable_sync_mode": True},
        headers={"Authorization": "Bearer k"},
        timeout=60,
    )


def hung(base: str) -> httpx.Response:
    return httpx.get(f"{base}/fal/queue/fal-ai/bitdance/requests/x/status", timeout=60)


def delayed(base: str) -> httpx.Response:
    headers = {"Authorization": "Key k"}
    return httpx.post(f"{base}/fal/run/fal-ai/bitdance", json={}, headers=headers, timeout=60)


@pytest.mark.parametrize(
    ("blocked", "rule"),
    [
        (fal_stream, '{"effect": "starve"}'),
        (wavespeed_sync, '{"effect": "starve"}'),
        (hung, '{"effect": "hang", "seconds": 300}'),
        (delayed, '{"effect": "delay", "seconds": 300}'),
    ],
    ids=["status stream", "sync mode", "hang", "delay"],
)
def test_sigterm_ends_every_blocking_path(
    blocked: Callable[[str], httpx.Response], rule: str
) -> None:
    port = free_port()
    process = serve(port, "--fault", rule)
    answers: list[httpx.Response] = []
    try:
        base = f"http://127.0.0.1:{port}"
        waiting = threading.Thread(target=_quietly, args=(blocked, base, answers), daemon=True)
        waiting.start()
        time.sleep(0.5)  # the request is in the server before the signal
        process.send_signal(signal.SIGTERM)
        process.wait(EXIT_WITHIN)
        assert process.returncode is not None
        waiting.join(EXIT_WITHIN)
    finally:
        if process.poll() is None:
            process.kill()
    for answer in answers:  # none, if the connection went with the server
        assert not answer.headers.get("content-type", "").startswith("text/plain"), answer


def _quietly(
    call: Callable[[str], httpx.Response], base: str, answers: list[httpx.Response]
) -> None:
    try:
        answers.append(call(base))
    except httpx.HTTPError:
        pass  # the server went away under it, as it should
