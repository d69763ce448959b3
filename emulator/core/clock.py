"""Time sources.

Everything time-based in the engine reads a `Clock`, never `time` directly, so a test
can swap in a `ManualClock` and advance jobs without sleeping.
"""

from __future__ import annotations

import math
import time

#: the most one step of a manual clock may move it (about 30 years): every time stays finite
MAX_ADVANCE = 1e9


class Clock:
    """A monotonic clock in seconds. Subclasses override `now`."""

    def now(self) -> float:
        raise NotImplementedError

    def wall(self) -> float:
        """Unix time, for timestamps that leave the process."""
        return time.time()


class WallClock(Clock):
    def now(self) -> float:
        return time.monotonic()


class ManualClock(Clock):
    """A clock that only moves when told to."""

    def __init__(self, start: float = 0.0, wall_start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._wall_offset = wall_start - start

    def now(self) -> float:
        return self._now

    def wall(self) -> float:
        return self._now + self._wall_offset

    def advance(self, seconds: float) -> None:
        if not math.isfinite(seconds) or not 0 <= seconds <= MAX_ADVANCE:
            raise ValueError(f"a clock moves on by 0 to {MAX_ADVANCE:g} seconds, not {seconds}")
        self._now += seconds
