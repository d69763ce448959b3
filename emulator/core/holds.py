"""The requests each key holds open: status streams, sync-mode waits, sync runs held for
their job's time, realtime sessions. Each costs little, but thousands of them polled
together kept the CPU busy for every key; a key may hold ``max_held_per_key`` at once (in
each process), and one more is refused (the providers answer 429) rather than queued.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager


class TooManyHeld(Exception):
    """A key holds as many requests open as it may."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"This key holds {limit} requests open (status streams, sync waits, realtime "
            "sessions): the most it may; let one end first"
        )


class Holds:
    """How many requests each key holds open in this process."""

    def __init__(self) -> None:
        self._held: Counter[str] = Counter()
        self._lock = threading.Lock()

    def take(self, owner: str, limit: int) -> None:
        """Count one more request ``owner`` holds; `TooManyHeld` past ``limit``."""
        with self._lock:
            if self._held[owner] >= limit:
                raise TooManyHeld(limit)
            self._held[owner] += 1

    def give_back(self, owner: str) -> None:
        with self._lock:
            self._held[owner] -= 1
            if self._held[owner] <= 0:
                del self._held[owner]

    @contextmanager
    def held(self, owner: str, limit: int) -> Iterator[None]:
        """One request of ``owner`` held while inside; `TooManyHeld` past ``limit``."""
        self.take(owner, limit)
        try:
            yield
        finally:
            self.give_back(owner)

    def of(self, owner: str) -> int:
        with self._lock:
            return self._held[owner]
