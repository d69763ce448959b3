"""Instructions per request, counted by valgrind's cachegrind: a figure that does not move
when the machine is busy, for an A/B of a change too small for timings to settle.

    python -m tests.benchmarks.bench_instructions [--requests N]

Each case runs twice under cachegrind with the same hash seed and the same warm-up (enough
submissions that every flooding key is at its budget, as on a server under load), the
second time with ``N`` requests more: the difference over ``N`` is one request's count, the
app and the in-process ASGI call around it (`suite.asgi_call`; the bare app's row shows
that call's share). Two runs of the same code give the same count to a few instructions;
a count is not a time (a cache miss costs far more than an instruction). Jobs move by
``polls:``, as in the HTTP cases, so a submission draws no spans: the default ``wall``
progression draws two more (about 9,000 instructions), which a change to the draws must
be counted with too (docs/performance-history.md, thirteenth round). Needs valgrind
(``apt-get install valgrind``): without it, the command says so and stops. About a minute
on two cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.benchmarks.suite.app_cpu import (
    BARE_STATUS,
    BODY,
    FAL,
    FAL_FLOOD,
    FAL_SUBMIT,
    WAVESPEED_FLOOD,
    WAVESPEED_SUBMIT,
    status_path,
)
from tests.benchmarks.suite.asgi_call import call, post
from tests.benchmarks.suite.scale import rules_matching_nothing

CASES = (
    "fal submit",
    "wavespeed submit",
    "fal status",
    "fal status, 100 fault rules",
    "bare submit",
    "bare status",
)
#: submissions before the count: each flooding key keeps at most `PER_KEY` jobs
WARM_UP, PER_KEY = 3_000, 1_000
_REFS = re.compile(rb"I\s+refs:\s+([\d,]+)")


def _app(case: str) -> Any:
    from emulator import EmulatorConfig, Engine, Progression, create_app
    from emulator.core.jobs import Budget

    if case.startswith("bare"):
        from tests.benchmarks.bare import app

        return app
    engine = Engine(EmulatorConfig(seed=1, progression=Progression.parse("polls:1000000000,1")))
    engine.jobs.budget = Budget(max_jobs_per_key=PER_KEY)
    if case.endswith("fault rules"):
        rules_matching_nothing(engine)
    return create_app(engine=engine)


async def _requests(case: str, count: int) -> None:
    """``WARM_UP`` submissions, then ``count`` requests of ``case`` (in the counted run)."""
    app = _app(case)
    path, headers = (
        (WAVESPEED_SUBMIT, WAVESPEED_FLOOD)
        if case.startswith("wavespeed")
        else (FAL_SUBMIT, FAL_FLOOD)
    )
    for _ in range(WARM_UP):
        await post(app, path, BODY, headers)
    if "status" in case:
        status = BARE_STATUS
        if case.startswith("fal"):
            _, submitted = await post(app, FAL_SUBMIT, BODY, FAL)
            status = status_path(submitted)
        for _ in range(count):
            await call(app, status, FAL)
    else:
        for _ in range(count):
            await post(app, path, BODY, headers)


def instructions_of(module: str, *arguments: str) -> int:
    """Instructions cachegrind counts in a whole run of ``python -m module arguments``."""
    command = [
        "valgrind",
        "--tool=cachegrind",
        "--cache-sim=no",
        "--cachegrind-out-file=/dev/null",
        sys.executable,
        "-m",
        module,
        *arguments,
    ]
    environment = {**os.environ, "PYTHONHASHSEED": "0"}  # the same dicts, run after run
    done = subprocess.run(command, capture_output=True, env=environment, timeout=600, check=True)
    found = _REFS.search(done.stderr)
    if found is None:
        raise RuntimeError(f"cachegrind printed no count: {done.stderr[-500:]!r}")
    return int(found.group(1).replace(b",", b""))


def _counted(case: str, count: int) -> int:
    """Instructions in a whole run of ``case`` with ``count`` requests."""
    module = __spec__.name if __spec__ else "tests.benchmarks.bench_instructions"
    return instructions_of(module, "--child", case, str(count))


def counts(requests: int = 2_000) -> dict[str, float]:
    """Instructions per request of each case (`CASES`), ``requests`` counted; empty without
    valgrind."""
    if shutil.which("valgrind") is None:
        return {}
    runs = [(case, count) for case in CASES for count in (0, requests)]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        totals = dict(zip(runs, pool.map(lambda run: _counted(*run), runs), strict=True))
    return {case: (totals[case, requests] - totals[case, 0]) / requests for case in CASES}


def positive(text: str) -> int:
    """An argument that counts something: a whole number, at least 1 (0 divides by zero)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=positive, default=2_000, help="requests per case")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        asyncio.run(_requests(options.child[0], int(options.child[1])))
        return
    show(counts(options.requests), "case", f"instructions per request ({options.requests} counted)")


def show(counted: dict[str, float], name: str, heading: str) -> None:
    """Print ``counted`` as a table of ``name`` and ``heading``, or why nothing was."""
    if not counted:
        print("valgrind is not installed (apt-get install valgrind): nothing counted")
        return
    width = max(map(len, counted))
    print(f"{name:<{width}} {heading}")
    for what, count in counted.items():
        print(f"{what:<{width}} {count:>12,.0f}")


if __name__ == "__main__":
    main()
