"""Start-up: ``import emulator``, ``serve`` to the first 200 on health, and the set-up of
one in-process emulation, each beside its reference."""

from __future__ import annotations

import compileall
import statistics
import subprocess
import sys
import time
from pathlib import Path

from tests.benchmarks.suite import servers

__all__ = ["fixture_setup", "imports", "serve_to_health"]


def _python_seconds(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    return time.perf_counter() - start


def _compiled() -> None:
    """Bytecode for the package, as installing a wheel writes it, so that start-up is
    measured loading it, not compiling it (an editable install run with
    PYTHONDONTWRITEBYTECODE, as on the development machine, has none)."""
    import emulator

    compileall.compile_dir(Path(emulator.__file__).parent, quiet=1)


def imports() -> dict[str, float]:
    """A fresh interpreter importing each (the interpreter's own start-up included in both)."""
    _compiled()
    return {
        "import emulator": _python_seconds("import emulator") * 1000,
        # what a test module using the emulator pays: its names load on first use
        "from emulator import emulate": _python_seconds("from emulator import emulate") * 1000,
        "import fal_client + httpx": _python_seconds("import fal_client, httpx") * 1000,
    }


def serve_to_health() -> dict[str, float]:
    _compiled()
    with servers.emulator(servers.free_port()) as emulator:
        emulator_s = emulator.wait()
    with servers.bare(servers.free_port()) as bare:
        bare_s = bare.wait()
    return {"serve to health": emulator_s * 1000, "bare uvicorn to health": bare_s * 1000}


def fixture_setup(count: int) -> dict[str, float]:
    """Median set-up + tear-down of ``Emulation`` (the fixture's cost per test)."""
    from emulator import Emulation

    Emulation().start().stop()  # the first in a process reads the contracts
    times = []
    for _ in range(count):
        start = time.perf_counter()
        Emulation().start().stop()
        times.append((time.perf_counter() - start) * 1000)
    return {"emulation set-up": statistics.median(times)}
