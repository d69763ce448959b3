"""What a job looks like at one moment, how a fault ends it, and what it logs: derived
from the job, its progression and the clock, never stored (see `emulator.core.lifecycle`)."""

from __future__ import annotations

from dataclasses import dataclass

from emulator.core.faults import Fault
from emulator.core.jobs import Failure, Job
from emulator.core.lifecycle import Phase
from emulator.core.outcomes import fault_failure

CANCELLED = "Request cancelled by the client."
#: how a job that did not start within its start timeout ends (the timeout was the caller's)
START_TIMEOUT = Failure(
    "request_timeout",
    "Request timed out before it started processing (the caller's start timeout)",
    {"timeout_type": "user"},
)


@dataclass(frozen=True)
class Look:
    """What a job looks like at one moment."""

    phase: Phase
    fraction: float  # how far into the phase, 0..1
    queue_position: int
    failure: Failure | None = None  # how it ended, when it ended without an output


@dataclass(frozen=True)
class LogLine:
    message: str
    timestamp: float  # unix seconds


def fault_ending(fault: Fault | None, phase: Phase) -> Failure | None:
    """How a job's fault ends it, if it does by ``phase``: a timeout or a cancellation as it
    leaves the queue, a staged failure when it would finish."""
    if fault is None:
        return None
    if fault.effect == "timeout":
        message = fault.message or "Request timed out while waiting in the queue"
        return Failure("request_timeout", message, {"code": 5004})
    if fault.effect == "cancel":
        return Failure("cancelled", fault.message or CANCELLED)
    if fault.effect == "fail" and phase is Phase.DONE:
        return fault_failure(fault)
    return None


def log_lines(job: Job, look: Look, *, waited: bool) -> list[LogLine]:
    """The job's log as of ``look``: a line when it starts (after its queue span if it
    ``waited`` in wall time), at each quarter of its run, and when done."""
    if look.phase is Phase.QUEUED:
        return []
    start = job.submitted_wall + (job.queue_span if waited else 0)
    lines = [LogLine(f"Starting {job.endpoint.id}", start)]
    quarters = 4 if look.phase is Phase.DONE else int(look.fraction * 4)
    lines += [
        LogLine(f"Generating: {25 * q}% done", start + job.run_span * q / 4)
        for q in range(1, quarters + 1)
    ]
    return lines
