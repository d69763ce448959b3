"""Set-up and tear-down of one in-process emulation: what the ``provider_emulator`` fixture
and ``emulate()`` cost every test. Prints the figure beside its target (5 ms).

    .venv/bin/python -m tests.benchmarks.bench_fixture
"""

from __future__ import annotations

import statistics
import time

from emulator import Emulation

ROUNDS = 200
TARGET_MS = 5.0


def main() -> None:
    first = time.perf_counter()
    Emulation().start().stop()  # the first one also reads and checks every contract
    first_ms = (time.perf_counter() - first) * 1000
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        emulation = Emulation()
        emulation.start()
        emulation.stop()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    median, p90 = statistics.median(times), times[int(ROUNDS * 0.9)]
    endpoints = len(Emulation().engine.contracts)
    print(f"emulation set-up + tear-down, first in the process: {first_ms:7.2f} ms")
    print(f"emulation set-up + tear-down ({endpoints} endpoints): median {median:.2f} ms, ", end="")
    print(f"p90 {p90:.2f} ms  (target <= {TARGET_MS:g} ms: {median / TARGET_MS:.2f}x of it)")


if __name__ == "__main__":
    main()
