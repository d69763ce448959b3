"""How a job moves from queued to running to done.

A job's phase is never stored: it is derived on every look from how far the job has
come, counted either in status polls or in clock seconds. Looking is therefore O(1),
needs no background task, and is exactly reproducible under a manual clock.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from emulator.core.draws import Draws


class Phase(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"

    # By identity, as a member equals only itself: Enum's own hash is Python code (of the
    # member's name), about 1,000 instructions per status name looked up (issue 17).
    __hash__ = object.__hash__


_MODES = ("immediate", "polls", "wall")


#: the longest a ``wall:`` job waits or runs: a day (a span of 1e308 s held a sync run for
#: good)
MAX_SPAN = 86_400.0


@dataclass(frozen=True)
class Progression:
    """A progression policy.

    - ``immediate``: the job is done by the first status poll.
    - ``polls``: the first ``queue`` status polls answer queued, the next ``run`` answer
      running, every later one done.
    - ``wall``: queued for ``queue`` seconds, running for ``run`` seconds; each job's
      spans vary by up to ``jitter`` (a fraction), drawn from the emulator's seed.

    ``queue_position`` is where a new job starts in the queue; it counts down to 0 as
    the queued phase passes.
    """

    mode: str = "wall"
    queue: float = 0.25
    run: float = 1.0
    jitter: float = 0.2
    queue_position: int = 0

    def __post_init__(self) -> None:
        if self.mode not in _MODES:
            raise ValueError(f"progression mode must be one of {_MODES}, not {self.mode!r}")
        finite = math.isfinite(self.queue) and math.isfinite(self.run)
        if not finite or self.queue < 0 or self.run < 0 or not 0 <= self.jitter < 1:
            raise ValueError("progression spans must be finite and >= 0, and jitter in [0, 1)")
        if self.mode == "wall" and max(self.queue, self.run) > MAX_SPAN:
            raise ValueError(f"wall spans are at most {MAX_SPAN:g} seconds (a day)")
        if self.mode == "polls" and not all(float(n).is_integer() for n in (self.queue, self.run)):
            raise ValueError("a polls progression counts whole polls: polls:Q,R with integers")
        if self.queue_position < 0:
            raise ValueError("queue_position must be >= 0")

    @classmethod
    def parse(cls, text: str) -> Progression:
        """Parse ``immediate``, ``polls:QUEUE,RUN`` or ``wall:QUEUE,RUN[,JITTER]``."""
        mode, _, spans = text.strip().partition(":")
        if mode == "immediate":
            return cls(mode="immediate", queue=0, run=0, jitter=0)
        try:
            numbers = [float(part) for part in spans.split(",")] if spans else []
        except ValueError:
            raise ValueError(f"cannot read progression {text!r}") from None
        if (
            mode not in _MODES
            or len(numbers) not in (2, 3)
            or (mode == "polls" and len(numbers) != 2)
        ):
            raise ValueError(
                f"cannot read progression {text!r}: use immediate, polls:Q,R or wall:Q,R[,JITTER]"
            )
        jitter = numbers[2] if len(numbers) == 3 else (0.0 if mode == "polls" else 0.2)
        try:
            return cls(mode=mode, queue=numbers[0], run=numbers[1], jitter=jitter)
        except ValueError as error:
            raise ValueError(f"cannot read progression {text!r}: {error}") from None

    def __str__(self) -> str:
        """The text `parse` reads back."""
        if self.mode == "immediate":
            return "immediate"
        spans = [self.queue, self.run] + ([self.jitter] if self.mode == "wall" else [])
        return f"{self.mode}:" + ",".join(f"{span:g}" for span in spans)

    def spans(self, rng: Draws) -> tuple[float, float]:
        """The queued and running spans of one new job."""
        if self.mode != "wall" or self.jitter == 0:
            return self.queue, self.run
        return (
            self.queue * rng.uniform(1 - self.jitter, 1 + self.jitter),
            self.run * rng.uniform(1 - self.jitter, 1 + self.jitter),
        )

    def locate(self, progress: float, queue_span: float, run_span: float) -> tuple[Phase, float]:
        """The phase reached after ``progress`` (polls or seconds), and how far into it (0..1)."""
        if self.mode == "immediate":
            return Phase.DONE, 1.0
        if progress < queue_span:
            return Phase.QUEUED, progress / queue_span
        if progress < queue_span + run_span:
            return Phase.RUNNING, (progress - queue_span) / run_span
        return Phase.DONE, 1.0
