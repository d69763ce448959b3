"""The A/B command serves another revision's code beside the working tree's, and says how
their rates compare. Rates are not checked: they depend on the machine."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.benchmarks.bench_ab import ROOT, checkout, report
from tests.benchmarks.suite.load import cpus_to_share
from tests.benchmarks.suite.servers import code_environment


def test_the_report_gives_each_pair_and_every_round() -> None:
    first = [(110.0, 100.0), (90.0, 100.0), (100.0, 100.0), (120.0, 100.0)]
    second = [(100.0, 50.0)]
    assert report([first, second]).splitlines() == [
        "servers 1: 1.050× (median of 4 rounds, quartiles 0.975–1.125); 105 against 100 req/s",
        "servers 2: 2.000× (median of 1 round); 100 against 50 req/s",
        "all: 1.100× (median of 5 rounds, quartiles 1.000–1.200); 100 against 100 req/s",
    ]


def test_the_base_runs_from_its_own_tree(tmp_path: Path) -> None:
    tree = checkout("HEAD", tmp_path)
    # the code and the data it loads at that revision, compiled as the working tree is
    assert (tree / "emulator/__init__.py").is_file()
    assert any((tree / "contracts").rglob("*.json"))
    assert any((tree / "emulator/__pycache__").glob("__init__.*.pyc"))
    # as a base server is started (`servers.emulator`): in the tree, with its environment
    found = subprocess.run(
        [sys.executable, "-c", "import emulator; print(emulator.__file__)"],
        cwd=tree,
        env=code_environment(tree),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert Path(found.stdout.strip()) == tree / "emulator/__init__.py"


@pytest.mark.skipif(len(cpus_to_share()) < 2, reason="needs two CPUs, checked first")
def test_a_revision_git_does_not_know_is_refused_in_a_line() -> None:
    done = _bench_ab("--base", "no-such-revision", timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith("bench_ab: no tree at 'no-such-revision': fatal:")
    assert "Traceback" not in done.stderr


@pytest.mark.slow  # two servers started and loaded for a few seconds
@pytest.mark.timeout(120)
@pytest.mark.skipif(len(cpus_to_share()) < 2, reason="needs two CPUs to set one apart")
def test_the_command_compares_the_working_tree_with_a_revision() -> None:
    done = _bench_ab(
        "--load", "wavespeed submit", "--pairs", "2", "--rounds", "2", "--seconds", "1",
        timeout=100,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "wavespeed submit: the working tree beside HEAD, at once on one CPU" in done.stdout
    for servers in ("servers 1", "servers 2"):
        assert re.search(rf"^{servers}: \d\.\d{{3}}× \(median of 2 rounds", done.stdout, re.M)
    assert re.search(r"^all: \d\.\d{3}× \(median of 4 rounds", done.stdout, re.M)


def _bench_ab(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """``python -m tests.benchmarks.bench_ab`` with ``args``, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.bench_ab", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
