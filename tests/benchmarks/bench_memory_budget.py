"""Resident memory while 1,000 maximum-size inputs are submitted through the app: the
retention budget in bytes (issue 14) holds it near the budget plus a fixed overhead.
Prints the figures.

    .venv/bin/python -m tests.benchmarks.bench_memory_budget
"""

from __future__ import annotations

import gc
import resource
import time

from starlette.testclient import TestClient

from emulator import EmulatorConfig, Engine, Progression, create_app

SUBMITS = 1000
MAX_BODY = 2 * 2**20  # the largest body this run's emulator accepts
BUDGET = 128 * 2**20  # its retention budget in bytes


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def main() -> None:
    config = EmulatorConfig(
        progression=Progression.parse("wall:60,60"),
        max_body_bytes=MAX_BODY,
        max_retained_bytes=BUDGET,
        max_retained_bytes_per_key=BUDGET,
    )
    engine = Engine(config)
    body = b'{"prompt": "' + b"x" * (MAX_BODY - 20) + b'"}'
    with TestClient(create_app(engine=engine), headers={"Authorization": "Key k"}) as client:
        client.post("/fal/queue/fal-ai/bitdance", json={"prompt": "warm-up"})
        gc.collect()
        baseline, peak, started = rss_mib(), 0.0, time.perf_counter()
        for n in range(SUBMITS):
            answer = client.post(
                "/fal/queue/fal-ai/bitdance",
                content=body,
                headers={"Content-Type": "application/json"},
            )
            assert answer.status_code == 200, answer.text
            if n % 50 == 0:
                peak = max(peak, rss_mib())
        elapsed = time.perf_counter() - started
    peak = max(peak, rss_mib())
    print(
        f"submitted            : {SUBMITS} inputs of {MAX_BODY / 2**20:.0f} MiB in {elapsed:.1f} s"
    )
    print(
        f"jobs kept            : {len(engine.jobs)} ({engine.jobs.retained_bytes / 2**20:.0f} MiB)"
    )
    print(f"resident, before     : {baseline:7.0f} MiB")
    print(f"resident, peak       : {peak:7.0f} MiB")
    print(f"peak - before        : {peak - baseline:7.0f} MiB (budget {BUDGET / 2**20:.0f} MiB)")


if __name__ == "__main__":
    main()
