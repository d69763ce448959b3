"""A change's cost where it is paid: ``serve`` from the working tree beside ``serve`` from
another revision, both loaded at once on one CPU.

    python -m tests.benchmarks.bench_ab [--base REV] [--load NAME] [--pairs P] [--rounds N]

What a change saves alone is not what it saves served. In the thirty-sixth round, a change
that took six of the Python calls out of a WaveSpeed submit's validation (its time alone
880 → 640 ns) left the served submit rate as it was (1.001×), while skipping validation
altogether raised it by 4.8 %. This measures a change as `HttpCases.shared_cases` measures
two servers (`on_one_cpu`): both share one CPU and the scheduler shares it between them
every few milliseconds, so their rates' ratio is near that of their processor time a
request however the machine's speed drifts. Two processes of the same code still differ by
a per cent or two (their memory's layout, their hash seeds: four A/A runs of one pair each
read 0.994-1.015×), so each of ``P`` pairs of servers is started afresh and loaded for
``N`` rounds; the rounds alternate which load starts first. Both servers start with
``--progression`` `QUEUED` and are warmed by the load first. ``--base HEAD`` on a clean
tree is the method's A/A test. Needs git and two CPUs; takes about
``P × (N × (seconds + 1) + 10)`` seconds.
"""

from __future__ import annotations

import argparse
import compileall
import statistics
import subprocess
import tempfile
from pathlib import Path

from tests.benchmarks.bench_instructions import positive
from tests.benchmarks.suite import servers
from tests.benchmarks.suite.http_cases import EMULATOR_LOADS, QUEUED
from tests.benchmarks.suite.load import Load, cpus_to_share, on_one_cpu

ROOT = Path(__file__).resolve().parents[2]
#: what a revision's server runs from: the package, its contracts and fal's catalogue
TREE = ("emulator", "contracts", "catalogue")
WARM_UP_SECONDS = 2.0


def checkout(revision: str, folder: Path) -> Path:
    """The tree ``serve`` runs from at ``revision``, written into ``folder`` and compiled
    (as the working tree's is: start-up is not what is measured)."""
    archive = subprocess.run(
        ["git", "archive", revision, *TREE], cwd=ROOT, capture_output=True, check=True, timeout=60
    )
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True, timeout=60)
    compileall.compile_dir(folder / "emulator", quiet=1)
    return folder


def rounds(load_name: str, base: Path, count: int, seconds: float) -> list[tuple[float, float]]:
    """``count`` rounds of load ``load_name`` on the working tree's server and the base's,
    at once on one CPU: each round's two rates (working tree, base)."""
    make = EMULATOR_LOADS[load_name]
    progression = ("--progression", QUEUED)
    with (
        servers.emulator(servers.free_port(), *progression) as ours,
        servers.emulator(servers.free_port(), *progression, code=base) as theirs,
    ):
        ours.wait()
        theirs.wait()
        loads = [make(ours), make(theirs)]
        for load in loads:
            load.run(WARM_UP_SECONDS)
        pids = [ours.process.pid, theirs.process.pid]
        rates = []
        for number in range(count):
            order: list[Load] = loads if number % 2 == 0 else loads[::-1]
            results = on_one_cpu(order, pids, seconds)
            by_port = {load.port: result.rate for load, result in zip(order, results, strict=True)}
            rates.append((by_port[ours.port], by_port[theirs.port]))
        return rates


def report(pairs: list[list[tuple[float, float]]]) -> str:
    """Each pair of servers' ratio (working tree over base: the median of its rounds), then
    that of every round, with quartiles."""
    lines = [f"servers {number}: {_summary(rates)}" for number, rates in enumerate(pairs, 1)]
    return "\n".join([*lines, f"all: {_summary([r for rates in pairs for r in rates])}"])


def _summary(rates: list[tuple[float, float]]) -> str:
    ratios = [ours / theirs for ours, theirs in rates]
    counted = f"{len(ratios)} round{'' if len(ratios) == 1 else 's'}"
    text = f"{statistics.median(ratios):.3f}× (median of {counted}"
    if len(ratios) >= 2:
        low, _, high = statistics.quantiles(ratios, n=4, method="inclusive")
        text += f", quartiles {low:.3f}–{high:.3f}"
    ours, theirs = (statistics.median(rate) for rate in zip(*rates, strict=True))
    return f"{text}); {ours:,.0f} against {theirs:,.0f} req/s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="HEAD", help="the revision to compare with (HEAD)")
    parser.add_argument(
        "--load", choices=sorted(EMULATOR_LOADS), default="fal status", help="what to load"
    )
    parser.add_argument("--pairs", type=positive, default=3, help="pairs of servers (3)")
    parser.add_argument("--rounds", type=positive, default=6, help="rounds a pair (6)")
    # whole seconds: wrk reads ``-d0.5s`` as no time at all
    parser.add_argument("--seconds", type=positive, default=4, help="seconds a round (4)")
    args = parser.parse_args()
    if len(cpus_to_share()) < 2:
        parser.exit(1, "bench_ab: needs two CPUs to pin the servers to one of them\n")
    with tempfile.TemporaryDirectory(prefix="bench-ab-") as folder:
        try:
            base = checkout(args.base, Path(folder))
        except subprocess.CalledProcessError as failed:  # a revision git does not know
            said = (failed.stderr or b"").decode(errors="replace").strip()
            parser.exit(2, f"bench_ab: no tree at {args.base!r}: {said}\n")
        print(f"{args.load}: the working tree beside {args.base}, at once on one CPU")
        measured = [rounds(args.load, base, args.rounds, args.seconds) for _ in range(args.pairs)]
        print(report(measured))


if __name__ == "__main__":
    main()
