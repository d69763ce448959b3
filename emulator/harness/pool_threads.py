"""What a thread of the client's is about, as the harness needs to know it: a thread
pool's worker goes on living after its task (fal_client's sync `subscribe` polls on one of
its pool's workers, which outlives the call), so for a worker it is the task that counts.
"""

from __future__ import annotations

import concurrent.futures.thread
import threading
from dataclasses import dataclass
from types import CodeType, FrameType

_POOL_WORKER = concurrent.futures.thread._worker.__code__
_POOL_TASK = concurrent.futures.thread._WorkItem.run.__code__


def _codes(frame: FrameType | None) -> list[tuple[CodeType, FrameType]]:
    """The code each frame of a stack runs, from ``frame`` outwards."""
    codes = []
    while frame is not None:
        codes.append((frame.f_code, frame))
        frame = frame.f_back
    return codes


def pool_task(frame: FrameType | None) -> object | None:
    """The thread pool's task (its work item) the stack ending at ``frame`` runs; None
    outside a pool's task."""
    for code, running in _codes(frame):
        if code is _POOL_TASK:
            return running.f_locals.get("self")
    return None


def busy(thread: threading.Thread, frames: dict[int, FrameType]) -> bool:
    """Whether ``thread`` is alive and about a task (``frames``: every thread's, as
    `sys._current_frames` gives them): a pool's worker waiting for its next one is not."""
    frame = frames.get(thread.ident or -1) if thread.is_alive() else None
    if frame is None:
        return False
    running = {code for code, _ in _codes(frame)}
    return _POOL_WORKER not in running or _POOL_TASK in running


@dataclass(frozen=True, eq=False)
class Work:
    """A piece of the client's work: a thread of no pool's, or the task a pool's worker
    runs (the worker goes on to other tasks after it)."""

    thread: threading.Thread
    task: object | None = None

    def running(self, frames: dict[int, FrameType]) -> bool:
        """Whether it still runs (``frames``: every thread's, as `sys._current_frames`
        gives them)."""
        frame = frames.get(self.thread.ident or -1) if self.thread.is_alive() else None
        return frame is not None and (self.task is None or pool_task(frame) is self.task)

    def is_current(self, frame: FrameType) -> bool:
        """Whether the stack ending at ``frame`` (this thread's) runs it."""
        mine = self.thread is threading.current_thread()
        return mine and (self.task is None or pool_task(frame) is self.task)
