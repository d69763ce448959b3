"""The scaling benchmark runs end to end, briefly, and prints its table (figures are not
checked: they depend on the machine)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_scaling_benchmark_prints_its_table() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.bench_scaling", "--smoke"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| figure | value | reference | ratio | goal |" in done.stdout
    row = next(line for line in done.stdout.splitlines() if "Redis, 1 worker" in line)
    assert "req/s (memory-1)" in row
