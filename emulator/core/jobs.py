"""Jobs and where they are kept.

A job keeps only what cannot be derived: its input, its seed, when it was submitted, how
many times it was polled, and how it ended if it ended early. Its phase comes from the
progression policy; its output from synthesis; its media from the media store.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any, NamedTuple

from emulator.contracts.documents import Endpoint
from emulator.core.expiry import expire_oldest
from emulator.core.holdings import Holdings


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
        "output_failure",
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
        #: how its output failed once made (by any process): its status still says completed
        self.output_failure: Failure | None = None
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


def _submitted_at(job: Job) -> float:
    return job.submitted_at


#: what a retained job costs beyond its input: the object, its id and its spans
JOB_OVERHEAD = 1024
#: how many evicted or expired ids are remembered, to answer "expired" rather than "unknown"
TOMBSTONES = 100_000
#: past a total budget, how many of the keys holding the most, and how many of each one's
#: oldest jobs, are looked at for a finished job to drop: a bounded look, whatever is kept
HOLDERS_LOOKED_AT, JOBS_LOOKED_AT = 8, 64
#: if none of those has finished, how many of the oldest jobs of all are looked at (in
#: submission order, up to the first finished) before a submission is refused: its
#: jobs may be starved, or never polled under ``polls``, while others' have finished
OLDEST_LOOKED_AT = 1024


class JobsFull(Exception):
    """The total budget is full of jobs still queued or running: a submission that only
    evicting one of them could make room for is refused (the providers answer 429)."""

    def __init__(self) -> None:
        super().__init__(
            "The emulator holds as many jobs as its total budget allows (--max-jobs, "
            "--max-retained-bytes), and none of them has finished to make room: try again "
            "once some have"
        )


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
    store. A key over its own budget evicts its own oldest jobs, not another key's. Past a
    total budget, the key holding the most (jobs, or bytes) loses its oldest finished job
    (``finished``: done, failed or cancelled), never a job still queued or running, else
    the oldest finished job of all (among the `OLDEST_LOOKED_AT` oldest): a submission
    that only a job still queued or running could make room for is refused (`JobsFull`),
    by `make_room` before the submission is made (its number, rules and draws unspent).
    Evicted and expired ids are remembered (bounded), so that a look-up can say which.
    """

    def __init__(
        self, budget: Budget | None = None, finished: Callable[[Job, float], bool] | None = None
    ) -> None:
        """``finished``: whether a job has finished at a time, so that it may make room for
        another key's (None: every job may)."""
        self.budget = budget or Budget()
        self._finished = finished or (lambda job, now: True)
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._by_owner: dict[str, deque[str]] = {}
        self._holdings = Holdings()  # each owner's jobs and bytes
        self._gone: OrderedDict[str, str] = OrderedDict()  # id → owner
        # When the oldest job kept was submitted, or earlier (a drop leaves it as it was):
        # a submission looks for expired jobs only once one may be due.
        self._oldest_at = math.inf
        self._lock = threading.RLock()

    def make_room(self, owner: str, size: int, now: float) -> None:
        """Before a submission by ``owner`` of an input of ``size`` bytes is made: room for
        it in the total budgets, made as `add` would make it, else `JobsFull`. (Past its
        own key's budget, its key's oldest make room instead once it is added.)"""
        budget = self.budget
        if len(self._jobs) < budget.max_jobs and (
            self._holdings.total_bytes + size + JOB_OVERHEAD <= budget.max_bytes
        ):
            return  # the hot path: room enough
        holdings = self._holdings
        size += JOB_OVERHEAD
        with self._lock:
            if now - self._oldest_at > budget.retention:
                self._expire(now)
            if holdings.bytes.get(owner, 0) + size > budget.max_bytes_per_key:
                size = 0
            while True:
                own = len(self._by_owner.get(owner, ())) >= budget.max_jobs_per_key
                jobs = len(self._jobs) + (0 if own else 1)
                if jobs <= budget.max_jobs and holdings.total_bytes + size <= budget.max_bytes:
                    return
                victim = self._finished_job(None, now, by_bytes=jobs <= budget.max_jobs)
                if victim is None:
                    raise JobsFull
                self._drop(victim)

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
            holdings = self._holdings
            holdings.change(owner, 1, size)
            if len(jobs) == 1:
                self._oldest_at = job.submitted_at
            budget = self.budget
            if (
                len(ids) > budget.max_jobs_per_key
                or holdings.bytes[owner] > budget.max_bytes_per_key
            ):
                self._evict_owner(owner)
            if now - self._oldest_at > budget.retention:
                self._expire(now)
            if len(jobs) > budget.max_jobs or holdings.total_bytes > budget.max_bytes:
                self._make_room(job, now)
        finally:
            self._lock.release()

    def _evict_owner(self, owner: str) -> None:
        budget, ids = self.budget, self._by_owner[owner]
        while ids and (
            len(ids) > budget.max_jobs_per_key
            or self._holdings.bytes[owner] > budget.max_bytes_per_key
        ):
            self._drop(ids[0])

    def _make_room(self, job: Job, now: float) -> None:
        """Drop finished jobs of the keys holding the most until the store is within its
        total budget; `JobsFull`, with ``job`` (the newest) forgotten, if none can go."""
        budget = self.budget
        while len(self._jobs) > budget.max_jobs or self._holdings.total_bytes > budget.max_bytes:
            victim = self._finished_job(job.id, now, by_bytes=len(self._jobs) <= budget.max_jobs)
            if victim is None:
                if job.id in self._jobs:  # (its own key's budget may have evicted it)
                    self._drop(job.id, remember=False)
                raise JobsFull
            self._drop(victim)

    def _finished_job(self, newest: str | None, now: float, *, by_bytes: bool) -> str | None:
        """The oldest job finished at ``now`` (but ``newest``) of the key holding the most
        jobs (or bytes) that has one among its oldest, else the oldest of all among the
        `OLDEST_LOOKED_AT` oldest, if any."""
        for owner in self._holdings.most(HOLDERS_LOOKED_AT, by_bytes=by_bytes):
            for job_id in islice(self._by_owner[owner], JOBS_LOOKED_AT):
                if job_id != newest and self._finished(self._jobs[job_id], now):
                    return job_id
        for job in islice(self._jobs.values(), OLDEST_LOOKED_AT):
            if job.id != newest and self._finished(job, now):
                return job.id
        return None

    def expire(self, now: float) -> None:
        with self._lock:
            self._expire(now)

    def _expire(self, now: float) -> None:
        """Drop the jobs past the retention, the oldest first."""
        retention = self.budget.retention
        self._oldest_at = expire_oldest(self._jobs, _submitted_at, now, retention, self._drop)

    def _drop(self, job_id: str, *, remember: bool = True) -> None:
        """Forget ``job_id``; ``remember`` it as gone (expired), unless it was never
        answered for (a refused submission)."""
        job = self._jobs.pop(job_id)
        ids = self._by_owner[job.owner]
        if ids[0] == job_id:  # its owner's oldest: nearly always
            ids.popleft()
        elif ids[-1] == job_id:  # a refused submission
            ids.pop()
        else:  # a finished job behind older ones
            ids.remove(job_id)
        if not ids:
            del self._by_owner[job.owner]
        self._holdings.change(job.owner, -1, -job.size)
        if remember:
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

    def fail_output(self, job: Job, failure: Failure) -> None:
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
        return self._holdings.total_bytes

    def __len__(self) -> int:
        return len(self._jobs)

    def __iter__(self) -> Iterator[Job]:
        with self._lock:
            return iter(list(self._jobs.values()))

    def clear(self) -> None:
        with self._lock:
            self._jobs.clear()
            self._by_owner.clear()
            self._holdings.clear()
            self._gone.clear()
            self._oldest_at = math.inf
