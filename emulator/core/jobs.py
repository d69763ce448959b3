"""Jobs and where they are kept.

A job keeps only what cannot be derived: its input, its seed, when it was submitted, how
many times it was polled, and how it ended if it ended early. Its phase comes from the
progression policy; its output from synthesis; its media from the media store.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from emulator.contracts.documents import Endpoint

__all__ = ["Failure", "Job", "JobStore"]


@dataclass(frozen=True)
class Failure:
    """How a job ended without an output: a provider-neutral kind and a message."""

    kind: str  # "cancelled", "invalid", "unsupported", or a provider error type
    message: str
    details: Any = None


class Job:
    __slots__ = (
        "id",
        "endpoint",
        "owner",
        "payload",
        "seed",
        "submitted_at",
        "submitted_wall",
        "queue_span",
        "run_span",
        "polls",
        "failure",
        "webhook",
        "fault",
        "progression",
    )

    def __init__(
        self,
        *,
        id: str,
        endpoint: Endpoint,
        owner: str,
        payload: Any,
        seed: int,
        submitted_at: float,
        submitted_wall: float,
        queue_span: float,
        run_span: float,
        webhook: str | None = None,
    ) -> None:
        self.id = id
        self.endpoint = endpoint
        self.owner = owner
        self.payload = payload
        self.seed = seed
        self.submitted_at = submitted_at
        self.submitted_wall = submitted_wall
        self.queue_span = queue_span
        self.run_span = run_span
        self.polls = 0
        self.failure: Failure | None = None
        self.fault: Any = None  # the fault rule deciding this job's outcome, if one fired
        self.progression: Any = None  # this job's own progression, if a rule gave it one
        self.webhook = webhook

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.endpoint.provider}:{self.endpoint.id}>"


class JobStore:
    """Jobs by id, each visible only to its owner, kept for a bounded time and number.

    Insertion order is submission order, so expiry only ever looks at the oldest jobs:
    adding and finding are O(1) amortised and nothing scans the store.
    """

    def __init__(self, *, retention: float, max_jobs: int) -> None:
        self.retention = retention
        self.max_jobs = max_jobs
        self._jobs: OrderedDict[str, Job] = OrderedDict()

    def add(self, job: Job, now: float) -> None:
        self._jobs[job.id] = job
        self.expire(now)

    def expire(self, now: float) -> None:
        jobs = self._jobs
        while jobs:
            oldest = next(iter(jobs.values()))
            if len(jobs) <= self.max_jobs and now - oldest.submitted_at <= self.retention:
                break
            jobs.popitem(last=False)

    def get(self, job_id: str, owner: str, now: float) -> Job | None:
        job = self._jobs.get(job_id)
        if job is None or job.owner != owner or now - job.submitted_at > self.retention:
            return None
        return job

    def __len__(self) -> int:
        return len(self._jobs)

    def __iter__(self) -> Iterator[Job]:
        return iter(list(self._jobs.values()))

    def clear(self) -> None:
        self._jobs.clear()
