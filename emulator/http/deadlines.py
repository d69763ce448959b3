"""Deadlines for many short waits, at the cost of a dict entry each.

``asyncio.timeout`` arms and cancels a timer per use, about 3 µs: a tenth of a fal submit
in-process. Every request body is read under a deadline that it almost never reaches, so
the readers of one event loop share one sweep per `TICK` instead: a reader registers its
task and its deadline, and the sweep cancels a task whose deadline has passed, which the
reader then tells apart from any other cancellation. A deadline fires up to `TICK` late.
"""

from __future__ import annotations

import asyncio
import weakref

#: seconds between sweeps (while a deadline is pending)
TICK = 1.0


class Deadlines:
    """The pending deadlines of one event loop's tasks."""

    def __init__(self) -> None:
        # No reference to the loop: `_BY_LOOP` is keyed by it, and a value that held it
        # would keep it for good (each sync caller's thread has one, transport/loops.py).
        self._pending: dict[asyncio.Task[object], float] = {}
        self._expired: set[asyncio.Task[object]] = set()
        self._sweeping = False

    def start(self, task: asyncio.Task[object], seconds: float) -> None:
        """Cancel ``task`` if it has not called `stop` within ``seconds`` (+ `TICK`)."""
        loop = task.get_loop()
        self._pending[task] = loop.time() + seconds
        if not self._sweeping:
            self._sweeping = True
            loop.call_later(TICK, self._sweep)

    def stop(self, task: asyncio.Task[object]) -> bool:
        """Forget ``task``'s deadline; True if it passed and the cancellation the task is
        handling is the deadline's alone (as ``asyncio.timeout`` tells them apart)."""
        self._pending.pop(task, None)
        if task not in self._expired:
            return False
        self._expired.discard(task)
        return task.uncancel() == 0

    def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        for task, deadline in list(self._pending.items()):
            if deadline <= now:
                del self._pending[task]
                self._expired.add(task)
                task.cancel()
        self._sweeping = bool(self._pending)
        if self._sweeping:
            loop.call_later(TICK, self._sweep)


_BY_LOOP: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Deadlines] = (
    weakref.WeakKeyDictionary()
)


#: the loop asked for last and its deadlines (a weak reference: as `_BY_LOOP`), so that
#: a server's one loop is found without a weak reference made per request
_last: tuple[weakref.ref[asyncio.AbstractEventLoop], Deadlines] | None = None


def deadlines() -> Deadlines:
    """The deadlines of the running event loop."""
    global _last
    loop = asyncio.get_running_loop()
    last = _last
    if last is not None and last[0]() is loop:
        return last[1]
    found = _BY_LOOP.get(loop)
    if found is None:
        found = _BY_LOOP[loop] = Deadlines()
    _last = weakref.ref(loop), found
    return found
