"""Instructions per served request, the whole server counted (uvicorn, the HTTP protocol
the emulator runs it with, the app), beside a bare Starlette app on the same uvicorn:

    python -m tests.benchmarks.bench_served [--requests N]

`bench_instructions` counts the app in-process, where no server runs: what `serve` adds
around it (its request heads bounded in size and time, say) shows only here. Each server
runs under valgrind's callgrind; after 200 requests of warm-up its counters are zeroed,
``N`` requests are sent on four kept-alive connections, and the counters dumped: the
count over ``N`` is one request's, the kernel's share excepted. Jobs stay queued
(``--progression polls:…``, as in the HTTP cases), so every status poll answers alike; the
emulator's WaveSpeed submit is counted too (the goal's counted form, the whole server: the
bare app answers any path alike). The emulator runs twice: without an access log (the
default) and with ``--access-log``, its lines written (to ``/dev/null``). Needs valgrind;
about two minutes on two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from tests.benchmarks.bench_instructions import positive, show
from tests.benchmarks.suite.http_cases import BODY, FAL_SUBMIT, QUEUED, WAVESPEED_SUBMIT
from tests.benchmarks.suite.servers import bare_command, emulator_command, free_port, wait_for
from tests.bounded import stop_process

HEALTH = "/_emulator/health"
#: server → its command on a port, and its health path
SERVERS: dict[str, tuple[Callable[[int], list[str]], str]] = {
    "emulator": (lambda port: emulator_command(port, "--progression", QUEUED), HEALTH),
    "emulator --access-log": (
        lambda port: emulator_command(port, "--progression", QUEUED, "--access-log"),
        HEALTH,
    ),
    "bare": (bare_command, "/health"),
}
WARM_UP, CONNECTIONS = 200, 4
_SUMMARY = re.compile(rb"^summary:\s+(\d+)", re.MULTILINE)
_LENGTH = re.compile(rb"(?i)content-length:\s*(\d+)")


def _request(
    method: str, path: str, port: int, body: bytes = b"", authorization: str = "Key bench"
) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    head += f"Authorization: {authorization}\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return (head + "\r\n").encode() + body


def _answer(connection: socket.socket) -> bytes:
    """One whole answer's body (a 2xx), read from a kept-alive connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(65536) or _closed()
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 2"):
        raise RuntimeError(f"answered {head.splitlines()[0]!r}")
    length = _LENGTH.search(head)
    if length is None:
        raise RuntimeError("an answer without a Content-Length")
    while len(body) < int(length.group(1)):
        body += connection.recv(65536) or _closed()
    return body


def _closed() -> bytes:
    raise RuntimeError("the server closed the connection")


def _send(port: int, request: bytes, count: int) -> int:
    """About ``count`` requests, over `CONNECTIONS` kept-alive connections in step: how
    many."""
    connections = [socket.create_connection(("127.0.0.1", port), 60) for _ in range(CONNECTIONS)]
    try:
        for _ in range(count // CONNECTIONS):
            for connection in connections:
                connection.sendall(request)
            for connection in connections:
                _answer(connection)
    finally:
        for connection in connections:
            connection.close()
    return count // CONNECTIONS * CONNECTIONS


def _status_path(port: int, server: str) -> str:
    if server == "bare":  # it answers any path alike
        return FAL_SUBMIT + "/requests/x/status"
    with socket.create_connection(("127.0.0.1", port), 60) as connection:
        connection.sendall(_request("POST", FAL_SUBMIT, port, BODY))
        status_url = json.loads(_answer(connection))["status_url"]
    return status_url.split(str(port), 1)[1]


def count(server: str, requests: int, folder: Path) -> dict[str, float]:
    """Instructions per request of ``server``'s fal submit and status poll, and of a
    WaveSpeed submit (the emulator's: the bare app answers any path alike)."""
    command_on, health = SERVERS[server]
    port = free_port()
    dumps = folder / server.replace(" ", "_")
    process = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={dumps}.%p", *command_on(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    counted = {}
    try:
        wait_for(f"http://127.0.0.1:{port}{health}", timeout=300)
        submit = _request("POST", FAL_SUBMIT, port, BODY)
        status = _request("GET", _status_path(port, server), port)
        cases = [("fal submit", submit), ("fal status", status)]
        if server != "bare":
            cases.append(
                ("wavespeed submit", _request("POST", WAVESPEED_SUBMIT, port, BODY, "Bearer bench"))
            )
        for case, request in cases:
            _send(port, request, WARM_UP)
            _control(process, "--zero")
            sent = _send(port, request, requests)
            _control(process, f"--dump={case.replace(' ', '-')}")
            counted[case] = _dumped(dumps, process.pid) / sent
    finally:
        stop_process(process, 60)
    return counted


def _control(process: subprocess.Popen[bytes], action: str) -> None:
    subprocess.run(["callgrind_control", action, str(process.pid)], capture_output=True,
                   check=True, timeout=120)  # fmt: skip


def _dumped(dumps: Path, pid: int) -> int:
    """The count in the newest dump of process ``pid`` (callgrind numbers them 1, 2, …)."""
    newest = max(dumps.parent.glob(f"{dumps.name}.{pid}.*"), key=lambda p: int(p.suffix[1:]))
    found = _SUMMARY.search(newest.read_bytes())
    if found is None:
        raise RuntimeError(f"callgrind's dump {newest} has no summary")
    return int(found.group(1))


def counts(requests: int = 800) -> dict[str, float]:
    """Each server's instructions per request, by case; empty without valgrind."""
    if shutil.which("callgrind_control") is None:
        return {}
    with tempfile.TemporaryDirectory(prefix="bench-served-") as folder:
        return {
            f"{case}, {server}": instructions
            for server in SERVERS
            for case, instructions in count(server, requests, Path(folder)).items()
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=positive, default=800, help="requests per case")
    options = parser.parse_args()
    show(counts(options.requests), "case", f"instructions per request ({options.requests} counted)")


if __name__ == "__main__":
    main()
