"""The dashboard's cost: its pages with 10,000 retained jobs, and the status-poll rate
with and without it. Prints the figures beside the targets of issue 16; asserts nothing.

    .venv/bin/python -m tests.benchmarks.bench_dashboard

- jobs page (paginated, 50 rows) with 10,000 retained jobs: target <= 200 ms;
- gallery page with its thumbnails cached: target <= 100 ms;
- status polls/s on the same uvicorn: the app without the dashboard mounted, with it and
  no browser open (target: unchanged), and with a browser's live table polling it.
"""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable

from starlette.routing import Mount
from starlette.testclient import TestClient

from emulator import EmulatorConfig, Engine, Progression, create_app
from tests.benchmarks.bench_status import _free_port, _load, _wait

JOBS = 10_000
UI = "/_emulator/ui"
REPEATS = 20
STUCK = "polls:1000000000,1"  # status polls never finish the job: the hot path stays hot


def _median_ms(call: Callable[[], object], repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _filled(progression: str) -> TestClient:
    engine = Engine(EmulatorConfig(progression=Progression.parse(progression), seed=1))
    endpoint = engine.contracts.get("fal", "fal-ai/bitdance")
    for n in range(JOBS):
        engine.submit(endpoint, {"prompt": f"job {n}"}, f"key-{n % 10}", size=20)
    return TestClient(create_app(engine=engine))


def pages() -> None:
    client = _filled("immediate")
    print(f"with {len(client.app.state.engine.jobs):,} retained jobs (in-process, TestClient):")
    for name, path in [
        ("jobs page 1", f"{UI}/jobs"),
        ("jobs page 100 (oldest)", f"{UI}/jobs?page=100"),
        ("jobs, filtered by state", f"{UI}/jobs?state=completed"),
        ("jobs live rows", f"{UI}/jobs/rows"),
    ]:
        print(f"  {name:<30}: {_median_ms(lambda p=path: client.get(p)):7.1f} ms (target <= 200)")
    started = time.perf_counter()
    gallery = client.get(f"{UI}/gallery").text
    cold = (time.perf_counter() - started) * 1000
    thumbnails = re.findall(rf'src="({UI}/thumbnails/[0-9a-f]+\.jpg)"', gallery)
    started = time.perf_counter()
    for thumbnail in thumbnails:
        client.get(thumbnail)
    drawn = (time.perf_counter() - started) * 1000 / max(1, len(thumbnails))
    warm = _median_ms(lambda: client.get(f"{UI}/gallery"))
    cached = _median_ms(lambda: client.get(thumbnails[0]))
    print(f"  {'gallery, first (outputs made)':<30}: {cold:7.1f} ms")
    print(f"  {'gallery, thumbnails cached':<30}: {warm:7.1f} ms (target <= 100)")
    print(f"  {'a thumbnail drawn (192 px)':<30}: {drawn:7.1f} ms each, {len(thumbnails)} tiles")
    print(f"  {'a thumbnail from the cache':<30}: {cached:7.1f} ms")


def with_dashboard() -> object:
    return create_app(EmulatorConfig(progression=Progression.parse(STUCK)))


def without_dashboard() -> object:
    app = with_dashboard()
    app.router.routes = [r for r in app.router.routes if not isinstance(r, Mount)]
    return app


def _polls(factory: str, browser: bool) -> float:
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            f"tests.benchmarks.bench_dashboard:{factory}",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    stop = threading.Event()
    try:
        _wait(f"http://127.0.0.1:{port}/_emulator/health")
        submit = urllib.request.Request(
            f"http://127.0.0.1:{port}/fal/queue/fal-ai/bitdance",
            data=b'{"prompt": "bench"}',
            headers={"Authorization": "Key bench", "Content-Type": "application/json"},
        )
        status_url = json.load(urllib.request.urlopen(submit, timeout=10))["status_url"]
        path = status_url.split(str(port), 1)[1] + "?logs=0"
        if browser:  # an open jobs page: its live table is fetched every 1.5 s
            rows = f"http://127.0.0.1:{port}{UI}/jobs/rows"
            watcher = threading.Thread(
                target=lambda: [
                    urllib.request.urlopen(rows, timeout=10).read()
                    for _ in iter(lambda: stop.wait(1.5), True)
                ],
                daemon=True,
            )
            watcher.start()
        return asyncio.run(_load(port, path, "Authorization: Key bench\r\n"))
    finally:
        stop.set()
        server.terminate()
        server.wait(10)


def polls(rounds: int = 2) -> None:
    print("status polls/s, same uvicorn, 16 connections, 5 s each (noisy on a shared machine):")
    runs = [
        ("without the dashboard mounted", "without_dashboard", False),
        ("with it, no browser open", "with_dashboard", False),
        ("with it, a jobs page open", "with_dashboard", True),
    ]
    for round_number in range(1, rounds + 1):  # rounds interleave, so drift shows as noise
        rates = {name: _polls(factory, browser) for name, factory, browser in runs}
        base = rates[runs[0][0]]
        for name, rate in rates.items():
            print(
                f"  round {round_number}, {name:<30}: {rate:6.0f} requests/s "
                f"({rate / base:.2f}x; target: unchanged)"
            )


if __name__ == "__main__":
    pages()
    polls()
