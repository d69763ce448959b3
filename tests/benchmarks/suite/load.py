"""Load on one path for a fixed time: wrk when installed (``-t2 -c32``, as issue 17 measured),
else a bounded Python client (slower than wrk, so it caps every server lower: say so). Loads
run one at a time (`Load.run`) or several at once, sharing the generator (`run_together`)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "SMOKE_PAUSE_MS",
    "Load",
    "Result",
    "cpus_to_share",
    "generator_note",
    "on_one_cpu",
    "run_together",
]

THREADS, CONNECTIONS = 2, 32
#: the smoke run's pause between one connection's requests: every figure is still measured
#: (a few hundred requests a second), where a load at full speed kept both cores busy for
#: each slice, to no end: the smoke must run, not be fast
SMOKE_PAUSE_MS = 100


@dataclass(frozen=True)
class Result:
    rate: float  # requests per second
    p50_ms: float
    p99_ms: float


@dataclass(frozen=True)
class Load:
    """What to ask: method, path (on ``port``), headers and a JSON body for a POST."""

    port: int
    path: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def run(self, seconds: float, pause_ms: int = 0) -> Result:
        """The load for ``seconds``, each connection waiting ``pause_ms`` after each answer
        (none: as fast as the server answers)."""
        return run_together([self], seconds, pause_ms)[0]


def run_together(
    loads: Sequence[Load], seconds: float, pause_ms: int = 0, cpus: Collection[int] = ()
) -> list[Result]:
    """``loads`` at once for ``seconds``, each with an equal share of the generator's
    threads and connections (`Load.run`'s, alone), wrk on ``cpus`` if any are given."""
    share = len(loads)
    if not shutil.which("wrk"):
        connections = max(1, CONNECTIONS // share)

        async def together() -> list[Result]:
            runs = (_python_load(load, seconds, pause_ms, connections) for load in loads)
            return list(await asyncio.gather(*runs))

        return asyncio.run(together())
    threads, connections = max(1, THREADS // share), max(1, CONNECTIONS // share)
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as folder:
        commands = [
            _wrk_command(load, seconds, pause_ms, threads, connections, Path(folder) / str(n))
            for n, load in enumerate(loads)
        ]
        pinned = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
        started = [
            subprocess.Popen(command, stdout=subprocess.PIPE, text=True, preexec_fn=pinned)
            for command in commands
        ]
        try:
            outputs = [process.communicate(timeout=seconds + 30)[0] for process in started]
        finally:
            for process in started:
                process.kill()
                process.wait()
    return [_wrk_result(load, output) for load, output in zip(loads, outputs, strict=True)]


def cpus_to_share() -> list[int]:
    """The CPUs this process may run on, where it can pin processes to them (else none):
    two at least let `on_one_cpu` set one apart for the servers."""
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_setaffinity") else []


def on_one_cpu(
    loads: Sequence[Load], pids: Collection[int], seconds: float, pause_ms: int = 0
) -> list[Result]:
    """``loads`` at once (`run_together`), the processes ``pids`` that serve them pinned to
    one CPU and the generator on the others (two CPUs at least: `cpus_to_share`). Their
    servers see the same seconds of the machine, and the scheduler shares the CPU between
    them every few milliseconds: their rates' ratio is near that of their processor time a
    request, however the machine's speed drifts."""
    cpus = cpus_to_share()
    with _one_cpu(pids, cpus[-1]):
        return run_together(loads, seconds, pause_ms, cpus[:-1])


@contextmanager
def _one_cpu(pids: Collection[int], cpu: int) -> Iterator[None]:
    """Processes ``pids`` (their main threads: the servers' event loops) on ``cpu`` alone,
    and back where they were after."""
    before = {pid: os.sched_getaffinity(pid) for pid in pids}
    try:
        for pid in pids:
            os.sched_setaffinity(pid, {cpu})
        yield
    finally:
        for pid, where in before.items():
            os.sched_setaffinity(pid, where)


def generator_note() -> str:
    if shutil.which("wrk"):
        return f"load: wrk -t{THREADS} -c{CONNECTIONS} (keep-alive, loopback)"
    return (
        f"load: wrk is not installed (apt-get install wrk); a Python client with "
        f"{CONNECTIONS} connections stands in: it caps every server lower, so rates are "
        "lower and ratios closer to 1 than wrk's"
    )


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _latency(text: str, percentile: str) -> float:
    found = re.search(rf"^\s*{percentile}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    return float(found.group(1)) * _UNITS[found.group(2)] if found else float("nan")


def _wrk_command(
    load: Load, seconds: float, pause_ms: int, threads: int, connections: int, script: Path
) -> list[str]:
    """wrk's command for ``load``, its request (method, body, pause) written to ``script``."""
    body = load.body.decode().replace("\\", "\\\\").replace('"', '\\"')
    lua = f'wrk.method = "{load.method}"\nwrk.body = "{body}"\n'
    if pause_ms:  # wrk asks delay() before each request of a connection
        lua += f"function delay()\n    return {pause_ms}\nend\n"
    script.write_text(lua)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
    for name, value in load.headers:
        command += ["-H", f"{name}: {value}"]
    return [*command, "-s", str(script), f"http://127.0.0.1:{load.port}{load.path}"]


def _wrk_result(load: Load, out: str) -> Result:
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if rate is None or errors:
        raise RuntimeError(f"wrk on {load.path}: {out.strip()[-300:]}")
    return Result(float(rate.group(1)), _latency(out, "50"), _latency(out, "99"))


async def _one_connection(
    load: Load, stop_at: float, latencies: list[float], pause_ms: int = 0
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", load.port)
    head = f"{load.method} {load.path} HTTP/1.1\r\nHost: 127.0.0.1:{load.port}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in load.headers)
    if load.body:
        head += f"Content-Length: {len(load.body)}\r\n"
    request = head.encode() + b"\r\n" + load.body
    try:
        # One request at least, however late the connection opened (a loaded machine may
        # take the whole slice to open them): a slice then never measures nothing at all.
        while not latencies or time.monotonic() < stop_at:
            sent = time.perf_counter()
            writer.write(request)
            answer = await reader.readuntil(b"\r\n\r\n")
            if not answer.startswith(b"HTTP/1.1 2"):
                raise RuntimeError(f"{load.path}: {answer.splitlines()[0]!r}")
            await _read_body(reader, answer.lower())
            latencies.append((time.perf_counter() - sent) * 1000)
            if pause_ms:
                await asyncio.sleep(pause_ms / 1000)
    finally:
        writer.close()


async def _read_body(reader: asyncio.StreamReader, head: bytes) -> None:
    """Consumes the answer's body: a Content-Length one, or chunks (aimock sends those)."""
    if b"content-length:" in head:
        await reader.readexactly(int(head.split(b"content-length:")[1].split(b"\r\n")[0]))
        return
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        await reader.readexactly(size + 2)  # the chunk and its CRLF (the trailer's, at 0)
        if size == 0:
            return


async def _python_load(
    load: Load, seconds: float, pause_ms: int = 0, connections: int = CONNECTIONS
) -> Result:
    latencies: list[float] = []
    stop_at = time.monotonic() + seconds
    await asyncio.gather(
        *[_one_connection(load, stop_at, latencies, pause_ms) for _ in range(connections)]
    )
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(len(latencies) * q))]  # noqa: E731
    return Result(len(latencies) / seconds, pick(0.5), pick(0.99))
