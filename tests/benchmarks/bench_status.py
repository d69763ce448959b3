"""Status polls per second: the emulator's hot path against a bare Starlette endpoint.

Both run on the same uvicorn (uvloop + httptools, no access log) in their own process and
are asked for the same path; one load process keeps CONNECTIONS keep-alive connections
busy for SECONDS each. Prints the figures.

    .venv/bin/python -m tests.benchmarks.bench_status
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
import urllib.request

CONNECTIONS = 16
SECONDS = 5.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except Exception:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


async def _hammer(port: int, request: bytes, stop_at: float) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    done = 0
    while time.monotonic() < stop_at:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        await reader.readexactly(length)
        done += 1
    writer.close()
    return done


async def _load(port: int, path: str, headers: str) -> float:
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{headers}\r\n".encode()
    stop_at = time.monotonic() + SECONDS
    counts = await asyncio.gather(*[_hammer(port, request, stop_at) for _ in range(CONNECTIONS)])
    return sum(counts) / SECONDS


def _serve(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def main() -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    bare_port, emu_port = _free_port(), _free_port()
    servers = [
        _serve(
            ["uvicorn", "tests.benchmarks.bare:app", "--port", str(bare_port), "--no-access-log"]
        ),
        _serve(
            [
                "emulator.cli",
                "serve",
                "--port",
                str(emu_port),
                "--progression",
                "polls:1000000000,1",
            ]
        ),
    ]
    try:
        _wait(f"http://127.0.0.1:{bare_port}/x")
        _wait(f"http://127.0.0.1:{emu_port}/_emulator/health")
        submit = urllib.request.Request(
            f"http://127.0.0.1:{emu_port}/fal/queue/fal-ai/bitdance",
            data=b'{"prompt": "bench"}',
            headers={"Authorization": "Key bench", "Content-Type": "application/json"},
        )
        status_url = json.load(urllib.request.urlopen(submit))["status_url"]
        status_path = status_url.split(str(emu_port), 1)[1] + "?logs=0"
        bare = asyncio.run(_load(bare_port, status_path, ""))
        emulator = asyncio.run(_load(emu_port, status_path, "Authorization: Key bench\r\n"))
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)
    print(f"bare Starlette endpoint : {bare:8.0f} requests/s")
    print(f"emulator status poll    : {emulator:8.0f} requests/s")
    print(f"ratio                   : {emulator / bare:8.2f} (target >= 0.75)")


if __name__ == "__main__":
    main()
