"""Status polls per second as workers are added on shared state (issue 15): one in-memory
worker (today's emulator, the reference) beside 1, 2 and 4 workers on a real redis-server,
side by side in one run, round after round (a noisy machine slows them all alike), and the
Redis round trips each status poll costs. Prints one table of medians.

    .venv/bin/python -m tests.benchmarks.bench_scaling [--rounds 2] [--seconds 3]
    .venv/bin/python -m tests.benchmarks.bench_scaling --smoke  # CI: it must run, not be fast

Bounded: every server is started once and stopped at the end, each load lasts --seconds.
Round trips per poll are Redis's own count of the reads it served (``INFO stats``
``total_reads_processed``: one per request or pipeline a client sends) over the polls
answered; commands per poll likewise from ``total_commands_processed``. Workers beyond the
machine's cores (``os.cpu_count()``) share them with the load generator: the scaling stops
there.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import tempfile
from contextlib import ExitStack
from pathlib import Path

from tests.benchmarks.suite import servers
from tests.benchmarks.suite.http_cases import FAL, FAL_SUBMIT, PROMPT, QUEUED
from tests.benchmarks.suite.load import SMOKE_PAUSE_MS, Load, generator_note
from tests.benchmarks.suite.table import Figure, at_most, render
from tests.redis_server import RedisServer

#: (sample name, workers, on Redis)
CONFIGURATIONS = (
    ("memory-1", 1, False),
    ("redis-1", 1, True),
    ("redis-2", 2, True),
    ("redis-4", 4, True),
)
POLLS = "status polls, Redis,"
FIGURES = [
    Figure(f"{POLLS} 1 worker", "redis-1", "memory-1", "req/s", "shared state's cost", None),
    Figure(f"{POLLS} 2 workers", "redis-2", "redis-1", "req/s", "scaling ratio", None),
    Figure(f"{POLLS} 4 workers", "redis-4", "redis-1", "req/s", "scaling ratio", None),
    Figure(f"{POLLS} 4 workers", "redis-4", "memory-1", "req/s", "against in-memory", None),
    Figure("Redis round trips per status poll", "trips", 2.0, "", "≤ 2", at_most(1.0)),
    Figure("Redis commands per status poll", "commands", 2.0, "", "shown", None),
]


def _redis_counters(port: int) -> tuple[int, int]:
    """Redis's (reads processed, commands processed) so far, read with a raw INFO."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(b"INFO stats\r\n")
        text = b""
        while b"total_reads_processed" not in text or not text.endswith(b"\r\n"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            text += chunk
    stats = dict(line.split(":", 1) for line in text.decode().splitlines() if ":" in line)
    return int(stats["total_reads_processed"]), int(stats["total_commands_processed"])


def _failed_share(wrk_error: str) -> str:
    counts = re.search(r"(\d+) requests in .*?Non-2xx or 3xx responses: (\d+)", wrk_error, re.S)
    if counts is None:
        return " ".join(wrk_error.split())[-200:]
    return f"{counts.group(2)} of {counts.group(1)} polls were not 2xx"


def _status_load(server: servers.Server) -> Load:
    """A load of status polls on one job that stays queued (submitted through ``server``)."""
    submitted = server.post(FAL_SUBMIT, PROMPT, dict(FAL))
    path = "/" + submitted["status_url"].split("/", 3)[3] + "?logs=0"
    return Load(server.port, path, headers=FAL)


def _measure(
    options: argparse.Namespace, redis: RedisServer, failures: dict[str, str]
) -> dict[str, list[float]]:
    """Samples of every configuration, round after round; ``failures`` gets why a
    configuration could not be measured (e.g. polls answered 404 by a worker that does not
    share the job)."""
    samples: dict[str, list[float]] = {}
    with ExitStack() as stack:
        loads = {}
        for name, workers, on_redis in CONFIGURATIONS:
            extra = ["--workers", str(workers), "--progression", QUEUED]
            if on_redis:
                extra += ["--state", f"{redis.url}?prefix=bench-{name}"]
            server = stack.enter_context(servers.emulator(servers.free_port(), *extra))
            server.wait()
            loads[name] = (_status_load(server), on_redis)
        for _ in range(options.rounds):
            for name, (load, on_redis) in loads.items():
                if name in failures:
                    continue
                before = _redis_counters(redis.port)
                try:
                    result = load.run(options.seconds, options.pause_ms)
                except RuntimeError as error:
                    failures[name] = _failed_share(str(error))
                    continue
                after = _redis_counters(redis.port)
                samples.setdefault(name, []).append(result.rate)
                if on_redis:
                    polls = result.rate * options.seconds
                    samples.setdefault("trips", []).append((after[0] - before[0]) / polls)
                    samples.setdefault("commands", []).append((after[1] - before[1]) / polls)
    return samples


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_scaling")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (2)")
    parser.add_argument("--seconds", type=int, default=3, help="whole seconds per load (3)")
    parser.add_argument("--smoke", action="store_true", help="one brief round, a light load")
    options = parser.parse_args(argv)
    options.pause_ms = 0
    if options.smoke:
        options.rounds, options.seconds, options.pause_ms = 1, 1, SMOKE_PAUSE_MS
    if options.rounds < 1 or not 1 <= options.seconds <= 30:
        parser.error("--rounds must be >= 1 and --seconds in [1, 30]")
    with tempfile.TemporaryDirectory(prefix="bench-scaling-") as folder:
        redis = RedisServer(Path(folder))
        redis.start()
        failures: dict[str, str] = {}
        try:
            samples = _measure(options, redis, failures)
        finally:
            redis.stop()
    print(f"cores: {os.cpu_count()}; {generator_note()}; {options.rounds} round(s)")
    print(render(FIGURES, samples))
    if max(samples.get("trips", [0.0])) < 0.01:
        print("no status poll reached Redis: this engine keeps its state in each process")
    for name, why in failures.items():
        print(f"{name} not measured (a poll must answer 2xx on every worker): {why}")


if __name__ == "__main__":
    main()
