"""Instructions per in-process client cycle, the emulator's beside its references', counted
by valgrind's cachegrind: the in-process goals' figures that no busy machine moves.

    python -m tests.benchmarks.bench_cycles [--cycles N]

Each side of each in-process case (`suite.inprocess.SIDES`: the client through
``emulate()``, and on the minimal apps) runs twice under cachegrind with the same hash seed,
the second time with ``N`` cycles more: the difference over ``N`` is one cycle's count,
the client's own work included (set-up and warm-up are in both runs). A count is not a
time: the emulator's larger working set costs cache misses an instruction count does not
show. Needs valgrind; about three minutes on two cores.
"""

from __future__ import annotations

import argparse
import os
import shutil
from concurrent.futures import ThreadPoolExecutor

from tests.benchmarks.bench_instructions import instructions_of, positive, show
from tests.benchmarks.suite.inprocess import SIDES

#: cycles in the shorter run of each side
BASE = 20


def _counted(case: str, side: str, cycles: int) -> int:
    module = __spec__.name if __spec__ else "tests.benchmarks.bench_cycles"
    return instructions_of(module, "--child", case, side, str(cycles))


def counts(cycles: int = 100) -> dict[str, float]:
    """Instructions per cycle of every side of every case; empty without valgrind."""
    if shutil.which("valgrind") is None:
        return {}
    sides = [(case, side) for case, made in SIDES.items() for side in made()]
    runs = [(case, side, count) for case, side in sides for count in (BASE, BASE + cycles)]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        totals = dict(zip(runs, pool.map(lambda run: _counted(*run), runs), strict=True))
    return {
        side: (totals[case, side, BASE + cycles] - totals[case, side, BASE]) / cycles
        for case, side in sides
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=positive, default=100, help="cycles counted per side")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        case, side, count = options.child
        SIDES[case]()[side](int(count))
        return
    show(counts(options.cycles), "side", f"instructions per cycle ({options.cycles} counted)")


if __name__ == "__main__":
    main()
