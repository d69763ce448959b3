"""Waiting on something within a bound: every loop and process a test starts ends in time."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable


def eventually(check: Callable[[], object], within: float, tick: float = 0.01) -> bool:
    """Whether ``check`` comes true within ``within`` seconds, asked every ``tick``."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(tick)
    return bool(check())


def stop_process(process: subprocess.Popen[bytes], grace: float) -> None:
    """Terminate ``process``, and kill it if it has not ended within ``grace`` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)
