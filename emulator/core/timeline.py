"""What a job looks like at one moment, how a fault ends it, and what it logs: derived
from the job, its progression and the clock, never stored (see `emulator.core.lifecycle`).
`Timeline` reads it for the engine."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, NamedTuple

from emulator.core.clock import ManualClock
from emulator.core.faults import Fault
from emulator.core.jobs import Failure, Job
from emulator.core.lifecycle import Phase, Progression
from emulator.core.outcomes import fault_failure

if TYPE_CHECKING:
    from emulator.config import EmulatorConfig
    from emulator.contracts.documents import Endpoint
    from emulator.core.clock import Clock
    from emulator.core.jobs import JobStore
    from emulator.core.shared_jobs import SharedJobStore
    from emulator.core.store import Store

CANCELLED = "Request cancelled by the client."
#: how a job that did not start within its start timeout ends (the timeout was the caller's)
START_TIMEOUT = Failure(
    "request_timeout",
    "Request timed out before it started processing (the caller's start timeout)",
    {"timeout_type": "user"},
)
#: how a job ends that times out in its queue (a ``timeout`` fault, a starved sync run)
QUEUE_TIMEOUT = Failure(
    "request_timeout", "Request timed out while waiting in the queue", {"code": 5004}
)


class Look(NamedTuple):  # a tuple: made on every status poll, the hot path
    """What a job looks like at one moment."""

    phase: Phase
    fraction: float  # how far into the phase, 0..1
    queue_position: int
    failure: Failure | None = None  # how it ended, when it ended without an output


class LogLine(NamedTuple):
    """One line of a job's logs, as the queue's status reports it."""

    message: str
    timestamp: float  # unix seconds


def fault_ending(fault: Fault | None, phase: Phase) -> Failure | None:
    """How a job's fault ends it, if it does by ``phase``: a timeout or a cancellation as it
    leaves the queue, a staged failure when it would finish."""
    if fault is None:
        return None
    if fault.effect == "timeout":
        return QUEUE_TIMEOUT._replace(message=fault.message) if fault.message else QUEUE_TIMEOUT
    if fault.effect == "cancel":
        return Failure("cancelled", fault.message or CANCELLED)
    if fault.effect == "fail" and phase is Phase.DONE:
        return fault_failure(fault)
    return None


#: failures that end a job before its run is over: it logged only what it ran
_CUT_SHORT = frozenset(("cancelled", "request_timeout"))


def _quarters_run(look: Look) -> int | None:
    """How many quarters of its run a job has logged; None if it never started (a job
    cancelled or timed out in its queue: ``ran``, in its failure's details, says how much
    of its run one cancelled while running had done)."""
    failure = look.failure
    if failure is not None and failure.kind in _CUT_SHORT:
        ran = failure.details.get("ran") if isinstance(failure.details, dict) else None
        return None if not isinstance(ran, (int, float)) else int(ran * 4)
    if look.phase is Phase.QUEUED:
        return None
    return 4 if look.phase is Phase.DONE else int(look.fraction * 4)


def has_started(look: Look) -> bool:
    """Whether the job ``look`` shows ran at all (one cancelled or timed out in its queue
    never did)."""
    return _quarters_run(look) is not None


def log_lines(job: Job, look: Look, *, waited: bool) -> list[LogLine]:
    """The job's log as of ``look``: a line when it starts (after its queue span if it
    ``waited`` in wall time), at each quarter of its run, and when done."""
    quarters = _quarters_run(look)
    if quarters is None:
        return []
    start = job.submitted_wall + (job.queue_span if waited else 0)
    lines = [LogLine(f"Starting {job.endpoint.id}", start)]
    lines += [
        LogLine(f"Generating: {25 * q}% done", start + job.run_span * q / 4)
        for q in range(1, quarters + 1)
    ]
    return lines


#: how many of the newest jobs a queue-length check looks at
QUEUE_SCAN = 10_000
#: the same with a shared store, where each job looked at is read from it (one round trip)
SHARED_QUEUE_SCAN = 256


class Timeline:
    """How the engine's jobs look as time passes: each job's state read from its
    progression and the clock (`Engine` is one, and holds what it reads)."""

    config: EmulatorConfig
    clock: Clock
    jobs: JobStore | SharedJobStore
    store: Store | None

    def progression_of(self, job: Job) -> Progression:
        """How ``job`` moves: its own progression if a rule gave it one, else the emulator's."""
        return job.progression or self.config.progression

    def look(self, job: Job, now: float | None = None) -> Look:
        """The job's state at ``now`` (None: the clock's); reading it changes nothing."""
        if job.failure is not None:
            return Look(Phase.DONE, 1.0, 0, job.failure)
        progression = job.progression or self.config.progression  # `progression_of`
        starving = job.fault is not None and job.fault.effect == "starve"
        if starving:
            phase, fraction = Phase.QUEUED, 0.0
        else:
            if progression.mode == "polls":
                progress: float = job.polls
            else:
                now = self.clock.now() if now is None else now
                progress = now - job.submitted_at
            phase, fraction = progression.locate(progress, job.queue_span, job.run_span)
        if phase is Phase.QUEUED:
            if self._start_timed_out(job, now):
                return Look(Phase.DONE, 1.0, 0, START_TIMEOUT)
            position = round(progression.queue_position * job.queue_weight * (1 - fraction))
            return Look(phase, fraction, max(1, position) if starving else position)
        failure = fault_ending(job.fault, phase)
        if failure is not None:
            return Look(Phase.DONE, 1.0, 0, failure)
        return Look(phase, fraction, 0)

    def finished(self, job: Job, now: float | None = None) -> bool:
        """Whether ``job`` is done at ``now`` (None: the clock's): its output made, failed
        or cancelled. Many jobs looked at together share one reading of the clock (a
        shared manual clock reads it from the store)."""
        return self.look(job, now).phase is Phase.DONE

    def _start_timed_out(self, job: Job, now: float | None) -> bool:
        deadline = job.start_timeout
        if deadline is None:
            return False
        return (self.clock.now() if now is None else now) - job.submitted_at >= deadline

    def start_delay(self, job: Job) -> float:
        """Seconds before ``job`` would start: what a synchronous run waits in the queue."""
        if job.fault is not None and job.fault.effect == "starve":
            return math.inf
        return job.queue_span if self.progression_of(job).mode == "wall" else 0.0

    def cut_short(self, job: Job) -> Failure | None:
        """The timeout or cancellation its fault ends ``job`` with as it leaves the queue,
        if it does: what a synchronous run (answered in its own exchange, never polled)
        meets, though `look` sees it only once the job's time has come."""
        return fault_ending(job.fault, Phase.QUEUED)

    def run_hold(self, job: Job) -> float:
        """Seconds a synchronous run holds its request (fal's ``fal.run``, which answers
        when the model is done): its wait and its run in wall time, on a clock that moves
        by itself; none on a manual clock (its time moves only when a test says) or with
        a ``polls:`` progression (no time at all)."""
        return job.queue_span + job.run_span if self._held_in_time(job) else 0.0

    def queue_hold(self, job: Job) -> float:
        """Seconds of `run_hold` a synchronous run waits in its queue."""
        return job.queue_span if self._held_in_time(job) else 0.0

    def deadline_hold(self, seconds: float) -> float:
        """Seconds a synchronous run holds its request until a deadline ``seconds`` away
        (its start timeout), which passes as a queued job's does: all of them on a clock
        that moves by itself; none on a manual clock, where the run answers at once."""
        return 0.0 if isinstance(self.clock, ManualClock) else seconds

    def _held_in_time(self, job: Job) -> bool:
        return self.progression_of(job).mode == "wall" and not isinstance(self.clock, ManualClock)

    def queue_length(self, endpoint: Endpoint, at_most: int, owner: str) -> int:
        """How many of ``owner``'s jobs of ``endpoint`` wait in its queue, counted up to
        ``at_most`` among the key's newest jobs (a bounded look, not a scan of every job
        kept: the newest `QUEUE_SCAN`, or `SHARED_QUEUE_SCAN` in a shared store). The key's
        own alone: another's queued jobs had refused its submits on a shared emulator, and
        told it how many that key had waiting."""
        waiting = 0
        scan = QUEUE_SCAN if self.store is None else SHARED_QUEUE_SCAN
        for job in self.jobs.newest(scan, owner):
            if job.endpoint is endpoint and self.look(job).phase is Phase.QUEUED:
                waiting += 1
                if waiting >= at_most:
                    break
        return waiting

    def poll(self, job: Job) -> Look:
        """A status poll: the job's state now, and one more poll counted towards progress
        (which is how ``polls:`` progressions move)."""
        if not job.counted:
            job.polls = self.jobs.count_poll(job)
        job.counted = False
        look = self.look(job)
        job.polls += 1
        return look

    def logs(self, job: Job, look: Look) -> list[LogLine]:
        """The job's log so far: a line when it starts, at each quarter, and when done."""
        return log_lines(job, look, waited=self.progression_of(job).mode == "wall")

    def inference_time(self, job: Job, look: Look) -> float:
        if look.failure is not None or self.progression_of(job).mode != "wall":
            return 0.0
        return job.run_span
