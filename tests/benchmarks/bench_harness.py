"""Wall time of a 100-example run of every harness property, against the official
``fal_client`` (sync ``subscribe``, the thinnest adapter) and against a zero-cost client (the
floor: bare httpx calls, no sleeps). Prints the figures beside the issue's targets; asserts
nothing.

    .venv/bin/python -m tests.benchmarks.bench_harness [EXAMPLES]

The client's own sleeps (``time.sleep`` between polls, before retries) are summed, to show
how much of the official client's time is its own waiting.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any
from unittest import mock

import fal_client
import httpx

from emulator.harness import Options, check

ENDPOINT = "fal-ai/bitdance"
TARGETS = {"fal_client.subscribe": 60.0, "zero-cost client": 10.0}  # seconds, from the issue
HEADERS = {"Authorization": "Key bench"}
#: one connection pool for every call: a new httpx client costs ~40 ms (its TLS context)
HTTP = httpx.Client(headers=HEADERS)


def official(endpoint_id: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return fal_client.subscribe(endpoint_id, arguments=arguments)


def zero_cost(endpoint_id: str, arguments: dict[str, Any]) -> dict[str, Any]:
    queued = HTTP.post(f"https://queue.fal.run/{endpoint_id}", json=arguments)
    queued.raise_for_status()
    urls = queued.json()
    while HTTP.get(urls["status_url"]).status_code != 200:
        pass
    result = HTTP.get(urls["response_url"])
    result.raise_for_status()
    return result.json()


class SleepMeter:
    """Sums the seconds spent in ``time.sleep``, in every thread."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._lock = threading.Lock()
        self._sleep = time.sleep

    def __call__(self, seconds: float) -> None:
        started = time.perf_counter()
        self._sleep(seconds)
        with self._lock:
            self.seconds += time.perf_counter() - started


def measure(client: Callable[..., Any], examples: int) -> tuple[float, float, str]:
    meter = SleepMeter()
    started = time.perf_counter()
    with mock.patch("time.sleep", meter):
        report = check(client, provider="fal", endpoint=ENDPOINT,
                       options=Options(max_examples=examples, seed=1))  # fmt: skip
    return time.perf_counter() - started, meter.seconds, report.text().split("\n\n")[0]


def main() -> None:
    examples = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    for name, client in (("fal_client.subscribe", official), ("zero-cost client", zero_cost)):
        wall, slept, summary = measure(client, examples)
        print(summary)
        print(
            f"{name}: {examples} examples a property, every property: {wall:.1f} s wall "
            f"(target <= {TARGETS[name]:g} s), of which {slept:.1f} s in the client's own "
            f"time.sleep ({100 * slept / wall:.0f}%)\n"
        )


if __name__ == "__main__":
    main()
