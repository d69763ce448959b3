"""The whole benchmark suite in one command, on loopback, in bounded time:

    python -m tests.benchmarks            # 7 interleaved rounds, about 5 minutes
    python -m tests.benchmarks --smoke    # every case once, briefly and under a light
                                          # load (CI: it must run, not be fast)

Starts and stops every server it needs (the emulator and twins of it, a bare Starlette app
on the same uvicorn, aimock from npm when Node.js is present), runs every case once per
round, round after round, each HTTP figure beside its reference back to back, so that a
noisy machine slows references and the emulator alike (and a few pairs again at once on
one CPU, a second reading the machine's drift does not move), and prints one table of
medians: figure, value, reference, ratio (the median of the rounds' own ratios), goal
(issue 17). After the rounds,
where valgrind is installed (not in the smoke run), it counts the instructions of the hot
paths once (`bench_instructions`): the figures no busy machine moves.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.benchmarks import bench_instructions
from tests.benchmarks.suite import inprocess, media_cases, startup
from tests.benchmarks.suite.app_cpu import AppCpu
from tests.benchmarks.suite.figures import FIGURES
from tests.benchmarks.suite.http_cases import Case, HttpCases
from tests.benchmarks.suite.load import SMOKE_PAUSE_MS, generator_note
from tests.benchmarks.suite.scale import Scale
from tests.benchmarks.suite.servers import install_aimock
from tests.benchmarks.suite.table import render


def _options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="every case once, briefly")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (7)")
    parser.add_argument("--seconds", type=int, default=1, help="load per HTTP slice (1)")
    parser.add_argument("--budget", type=float, default=240.0, help="no new round after (s)")
    parser.add_argument("--no-aimock", action="store_true", help="skip aimock")
    options = parser.parse_args(argv)
    if options.smoke:
        options.rounds, options.seconds = 1, 1
    if options.rounds < 1 or not 0 < options.seconds <= 30:
        parser.error("--rounds must be >= 1 and --seconds in [1, 30] (wrk counts whole seconds)")
    return options


def _local_cases(smoke: bool) -> list[Case]:
    scale = Scale(jobs=5_000 if smoke else 100_000)
    app_cpu = AppCpu()
    return [
        ("app cpu", lambda: app_cpu(20 if smoke else 2_000)),
        ("imports", startup.imports),
        ("serve to health", startup.serve_to_health),
        ("fixture", lambda: startup.fixture_setup(5 if smoke else 100)),
        ("subscribe", lambda: inprocess.subscribe_cycle(5 if smoke else 100)),
        ("sync subscribe", lambda: inprocess.subscribe_cycle_sync(5 if smoke else 100)),
        ("wavespeed run", lambda: inprocess.wavespeed_run_cycle(5 if smoke else 100)),
        ("video", media_cases.video),
        ("images", media_cases.images),
        ("downloads", media_cases.concurrent_downloads),
        ("scale", lambda: scale(50 if smoke else 2_000)),
    ]


def _run_rounds(
    cases: list[Case], options: argparse.Namespace
) -> tuple[dict[str, list[float]], int]:
    """Every case's figures, round after round, and the number of rounds run."""
    samples: dict[str, list[float]] = {}
    started = time.monotonic()
    for number in range(1, options.rounds + 1):
        if number > 1 and time.monotonic() - started > options.budget:
            print(f"note: stopped after {number - 1} rounds (--budget {options.budget:g} s)")
            return samples, number - 1
        round_start = time.monotonic()
        for name, case in cases:
            try:
                for key, value in case().items():
                    samples.setdefault(key, []).append(value)
            except Exception as error:  # one broken case must not lose the others' figures
                print(f"note: {name} failed in round {number}: {error}", file=sys.stderr)
        print(
            f"round {number}/{options.rounds}: {time.monotonic() - round_start:.0f} s", flush=True
        )
    return samples, options.rounds


def _instructions(smoke: bool) -> dict[str, list[float]]:
    if smoke:
        print("instructions: not counted in the smoke run")
        return {}
    counted = bench_instructions.counts()
    print("instructions: counted by cachegrind" if counted else "instructions: no valgrind")
    return {f"instructions: {case}": [count] for case, count in counted.items()}


def _machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}, load average {load:.1f} at the start"
    )


def main(argv: list[str] | None = None) -> int:
    options = _options(argv)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"provider-emulator benchmarks, {when}; {_machine()}")
    print(generator_note())
    with tempfile.TemporaryDirectory(prefix="bench-aimock-") as folder:
        cli, note = (
            (None, "aimock skipped: --no-aimock")
            if options.no_aimock
            else (install_aimock(Path(folder)))
        )
        print(note, flush=True)
        with HttpCases(cli) as http:
            pairs = [(f.value, f.reference) for f in FIGURES if isinstance(f.reference, str)]
            pause_ms = SMOKE_PAUSE_MS if options.smoke else 0
            shared = http.shared_cases(options.seconds, pause_ms)
            if not shared:
                print("note: no CPU can be set apart here: the one-CPU rows are not measured")
            cases = http.cases(options.seconds, pairs, pause_ms) + shared
            cases += _local_cases(options.smoke)
            samples, rounds = _run_rounds(cases, options)
    samples.update(_instructions(options.smoke))
    smoke = " (smoke: brief runs, figures not meaningful)" if options.smoke else ""
    print(f"\nmedians of {rounds} round(s){smoke}:\n")
    print(render(FIGURES, samples))
    return 0


if __name__ == "__main__":
    sys.exit(main())
