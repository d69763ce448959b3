"""The jobs of synchronous runs, and the outputs the engine made for them.

A sync run (``POST fal.run/…``, as ``fal_client.run`` sends it) is answered with its
output in the same exchange: the engine makes its job with ``queued=False``, keeps it
nowhere, and no result URL serves it later. So the harness cannot read such a job's
output back as it does a queued job's; it watches the engine make it instead.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

from emulator.core.engine import Engine

__all__ = ["SyncRuns"]


class SyncRuns:
    """Within a ``with`` block, ``outputs`` holds, per job of a sync run the engine made,
    the output it made for it (None while it has none: a failed or unfinished job)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.outputs: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> SyncRuns:
        engine = self.engine
        # what to put back: an instance's own attribute (another watcher's), or nothing
        self._own = {name: vars(engine).get(name) for name in ("submit", "outcome")}
        submit, outcome = engine.submit, engine.outcome

        def watched_submit(*args: Any, **kwargs: Any) -> Any:
            job = submit(*args, **kwargs)
            if not kwargs.get("queued", True):
                with self._lock:
                    self.outputs[job.id] = None
            return job

        def watched_outcome(job: Any, link: Any) -> Any:
            made = outcome(job, link)  # a failed job raises: its output stays None
            with self._lock:
                if job.id in self.outputs:
                    self.outputs[job.id] = made
            return made

        engine.submit = watched_submit  # type: ignore[method-assign]
        engine.outcome = watched_outcome  # type: ignore[method-assign]
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        for name, own in self._own.items():
            if own is None:
                delattr(self.engine, name)
            else:
                setattr(self.engine, name, own)
