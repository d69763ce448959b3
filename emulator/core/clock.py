"""Time sources.

Everything time-based in the engine reads a `Clock`, never `time` directly, so a test
can swap in a `ManualClock` and advance jobs without sleeping.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emulator.core.store import Store

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


class SystemClock(Clock):
    """Unix time: the clock every process sharing a store agrees on (given synchronised
    hosts), where each process's monotonic clock starts somewhere else."""

    def now(self) -> float:
        return time.time()


class SharedManualClock(ManualClock):
    """A `ManualClock` kept in a shared store: advanced through any process, seen by all.

    Its reading is a count of microseconds in the store, so advancing is one atomic
    ``incr``; every reading is a round trip (a manual clock is for tests, not for load)."""

    def __init__(self, store: Store, start: ManualClock) -> None:
        self.store = store
        self._start = (repr(start.now()), repr(start.wall()))

    def pin(self, now: float, wall: float) -> None:
        """Set the reading (after a store flush)."""
        self.store.batch([("set", "clock:start", repr(now)), ("set", "clock:wall", repr(wall))])

    def _read(self) -> tuple[float, float]:
        # The first process to read sets where the clock starts (a store down when the
        # clock was made, or flushed since, included); later ones read it.
        start, wall, micros = self.store.batch(
            [
                ("setnx", "clock:start", self._start[0]),
                ("setnx", "clock:wall", self._start[1]),
                ("get", "clock:start"),
                ("get", "clock:wall"),
                ("get", "clock:micros"),
            ]
        )[2:]
        moved = int(micros or 0) / 1e6
        return float(start) + moved, float(wall) + moved

    def now(self) -> float:
        return self._read()[0]

    def wall(self) -> float:
        return self._read()[1]

    def advance(self, seconds: float) -> None:
        if not math.isfinite(seconds) or not 0 <= seconds <= MAX_ADVANCE:
            raise ValueError(f"a clock moves on by 0 to {MAX_ADVANCE:g} seconds, not {seconds}")
        self.store.do("incr", "clock:micros", round(seconds * 1e6))
