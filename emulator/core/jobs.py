"""Jobs and where they are kept.

A job keeps only what cannot be derived: its input, its seed, when it was submitted, how
many times it was polled, and how it ended if it ended early. Its phase comes from the
progression policy; its output from synthesis; its media from the media store.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict, deque
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any, NamedTuple

from emulator.contracts.documents import Endpoint


class Failure(NamedTuple):
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
        "size",
        "start_timeout",
        "queue_weight",
        "checked",
        "counted",
        "deleted",
        "written_time",
    )

    def __init__(
        self,
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
        size: int = 0,
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
        #: bytes this job holds while retained: its input, and a fixed overhead
        self.size = size + JOB_OVERHEAD
        self.start_timeout: float | None = None  # it fails if not started by then (seconds)
        self.queue_weight = 1.0  # how much longer than others it waits in the queue
        self.checked = False  # its input passed the contract and the limits when submitted
        self.counted = False  # the status poll now being answered is already in `polls`
        self.deleted = False  # deleted from its key's history (still kept, still paid for)
        #: its submission time as its provider's answers write it, once written (issue 17:
        #: a new job's time missed a cache, and each poll paid that cache's look-up)
        self.written_time: str | None = None

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.endpoint.provider}:{self.endpoint.id}>"


#: what a retained job costs beyond its input: the object, its id and its spans
JOB_OVERHEAD = 1024
#: how many evicted or expired ids are remembered, to answer "expired" rather than "unknown"
TOMBSTONES = 100_000


@dataclass(frozen=True)
class Budget:
    """How much the store keeps: in jobs and in bytes, per key and in total."""

    retention: float = 3600.0
    max_jobs: int = 100_000
    max_bytes: int = 1024 * 2**20
    max_jobs_per_key: int = 20_000
    max_bytes_per_key: int = 256 * 2**20


class JobStore:
    """Jobs by id, each visible only to its owner, kept within a `Budget`.

    Insertion order is submission order, so expiry only ever looks at the oldest jobs
    (of all, or of one key): adding and finding are O(1) amortised and nothing scans the
    store. A key that floods the store evicts its own oldest jobs, not another key's.
    Evicted and expired ids are remembered (bounded), so that a look-up can say which.
    """

    def __init__(self, budget: Budget | None = None) -> None:
        self.budget = budget or Budget()
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._by_owner: dict[str, deque[str]] = {}
        self._owner_bytes: dict[str, int] = {}
        self._bytes = 0
        self._gone: OrderedDict[str, str] = OrderedDict()  # id → owner
        # When the oldest job kept was submitted, or earlier (a drop leaves it as it was):
        # a submission looks for expired jobs only once one may be due.
        self._oldest_at = math.inf
        self._lock = threading.RLock()

    def add(self, job: Job, now: float, number: int = 0) -> None:
        # The hot path of a submission: under sustained load it runs once per request.
        owner, size, jobs = job.owner, job.size, self._jobs
        # acquired and released by hand: ``with`` looks up two special methods, a tenth
        # of what adding a job costs
        self._lock.acquire()
        try:
            jobs[job.id] = job
            ids = self._by_owner.get(owner)
            if ids is None:
                ids = self._by_owner[owner] = deque()
            ids.append(job.id)
            owner_bytes = self._owner_bytes[owner] = self._owner_bytes.get(owner, 0) + size
            self._bytes += size
            if len(jobs) == 1:
                self._oldest_at = job.submitted_at
            budget = self.budget
            if len(ids) > budget.max_jobs_per_key or owner_bytes > budget.max_bytes_per_key:
                self._evict_owner(owner)
            if (
                len(jobs) > budget.max_jobs
                or self._bytes > budget.max_bytes
                or now - self._oldest_at > budget.retention
            ):
                self._expire(now)
        finally:
            self._lock.release()

    def _evict_owner(self, owner: str) -> None:
        budget, ids = self.budget, self._by_owner[owner]
        while ids and (
            len(ids) > budget.max_jobs_per_key
            or self._owner_bytes[owner] > budget.max_bytes_per_key
        ):
            self._drop(ids[0])

    def expire(self, now: float) -> None:
        with self._lock:
            self._expire(now)

    def _expire(self, now: float) -> None:
        budget, jobs = self.budget, self._jobs
        while jobs:
            oldest = next(iter(jobs.values()))
            if (
                len(jobs) <= budget.max_jobs
                and self._bytes <= budget.max_bytes
                and now - oldest.submitted_at <= budget.retention
            ):
                self._oldest_at = oldest.submitted_at
                return
            self._drop(oldest.id)
        self._oldest_at = math.inf

    def _drop(self, job_id: str) -> None:
        job = self._jobs.pop(job_id)
        ids = self._by_owner[job.owner]
        ids.popleft()  # the oldest job of all, or of its owner, is its owner's oldest
        if not ids:
            del self._by_owner[job.owner]
        self._owner_bytes[job.owner] -= job.size
        if not self._owner_bytes[job.owner]:
            del self._owner_bytes[job.owner]
        self._bytes -= job.size
        self._gone[job_id] = job.owner
        while len(self._gone) > TOMBSTONES:
            self._gone.popitem(last=False)

    def get(self, job_id: str, owner: str, now: float, *, polling: bool = False) -> Job | None:
        """The job if ``owner``'s and retained (``polling`` matters to a shared store only:
        here a poll is counted on the job itself)."""
        job = self._jobs.get(job_id)
        if job is None or job.owner != owner:
            return None
        if now - job.submitted_at > self.budget.retention:
            self.expire(now)
            return None
        return job

    # What changes after submission is the job object itself, here: these are what a shared
    # store (`SharedJobStore`) writes through, so that the engine treats both alike.

    def count_poll(self, job: Job) -> int:
        """How many polls of ``job`` came before this one."""
        return job.polls

    def end(self, job: Job, failure: Failure) -> bool:
        """Whether ``job`` may end with ``failure`` (nothing else ends a job here)."""
        return job.failure is None

    def delete_from_history(self, job: Job) -> None:
        """Nothing to write: the engine marks the job itself."""

    def peek(self, job_id: str) -> Job | None:
        """A kept job by id, whoever owns it: the control plane's view, never a key's."""
        return self._jobs.get(job_id)

    def newest(self, count: int, owner: str | None = None) -> list[Job]:
        """Up to ``count`` of the newest jobs (only ``owner``'s if given), newest first."""
        with self._lock:
            if owner is not None:
                ids = islice(reversed(self._by_owner.get(owner, ())), count)
                return [self._jobs[job_id] for job_id in ids]
            return list(islice(reversed(self._jobs.values()), count))

    def page(self, offset: int, limit: int, owner: str | None = None) -> list[Job]:
        """Jobs oldest first from ``offset``, at most ``limit`` (only ``owner``'s if given),
        walked from whichever end is nearer: a late page of 100,000 jobs costs no copy."""
        with self._lock:
            if owner is not None:
                ids = islice(self._by_owner.get(owner, ()), offset, offset + limit)
                return [self._jobs[job_id] for job_id in ids]
            count = len(self._jobs)
            if offset >= count:
                return []
            end = min(count, offset + limit)
            if offset <= count // 2:
                return list(islice(self._jobs.values(), offset, end))
            newest_first = islice(reversed(self._jobs.values()), count - end, count - offset)
            return list(newest_first)[::-1]

    def expired(self, job_id: str, owner: str) -> bool:
        """Whether ``owner`` once had this job, now gone (expired or evicted)."""
        return self._gone.get(job_id) == owner

    @property
    def retained_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._jobs)

    def __iter__(self) -> Iterator[Job]:
        with self._lock:
            return iter(list(self._jobs.values()))

    def clear(self) -> None:
        with self._lock:
            self._jobs.clear()
            self._by_owner.clear()
            self._owner_bytes.clear()
            self._bytes = 0
            self._gone.clear()
            self._oldest_at = math.inf
