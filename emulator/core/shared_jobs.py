"""Jobs in a shared `Store`: what every worker (and a restarted emulator) sees.

The same interface as `JobStore`, and the same budgets: jobs in submission order (a sorted
set scored by a store-wide counter), per-key order likewise, byte counts kept with
``incr``, what each key holds ranked in two sorted sets (``jobs:holders`` by jobs,
``jobs:holders:bytes`` by bytes, with ``ztally``) to find the key holding the most past a
total budget, evicted and expired ids remembered (bounded) to answer "expired". Eviction is
claimed with ``zrem``, which answers True to one process only, so two workers never both
drop (or both count) the same job; the claim and the drop are one atomic step
(`Store.guarded`).

A job is one hash. What changes after submission is kept apart and written atomically: a
cancellation with ``hsetnx`` (the first ending wins), and status polls in a counter per
*caller* (``polls:<key>``), so that a status poll reads the job and counts itself in one
round trip without a caller of another key ever touching the owner's count.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

from emulator.contracts.documents import Endpoint
from emulator.core.faults import Fault
from emulator.core.jobs import (
    HOLDERS_LOOKED_AT,
    JOB_OVERHEAD,
    JOBS_LOOKED_AT,
    OLDEST_LOOKED_AT,
    TOMBSTONES,
    Budget,
    Failure,
    Job,
    JobsFull,
)
from emulator.core.lifecycle import Progression
from emulator.core.store import Op, Store, StoreUnavailable, as_text

#: how many of the oldest jobs one submission may evict at most (the rest go on the next)
EVICT_BATCH = 64
#: what each key holds, ranked: by jobs, and by bytes
HOLDERS, HOLDERS_BY_BYTES = "jobs:holders", "jobs:holders:bytes"
#: how many jobs a walk from the newest reads per round trip
NEWEST_CHUNK = 256
#: seconds between one process's looks for jobs past their retention, when submitting
EXPIRY_INTERVAL = 1.0

_NUMBERS = ("submitted_at", "submitted_wall", "queue_span", "run_span", "queue_weight")


def _job_key(job_id: str) -> str:
    return f"job:{job_id}"


def _owned(owner: str) -> str:
    return f"jobs:key:{owner}"


class SharedJobStore:
    def __init__(
        self,
        store: Store,
        budget: Budget,
        endpoint: Callable[[str, str], Endpoint | None],
        finished: Callable[[Job, float], bool] | None = None,
    ) -> None:
        """``finished``: as `JobStore`'s (None: every job may make room for another key's)."""
        self.store, self.budget, self._endpoint = store, budget, endpoint
        self._finished = finished or (lambda job, now: True)
        self._expired_at = -EXPIRY_INTERVAL
        # the store's totals (jobs, bytes) as this process's last submission left them: while
        # they leave room, `make_room` asks the store nothing
        self._totals_seen = (budget.max_jobs, budget.max_bytes)  # unknown: asked first

    def make_room(self, owner: str, size: int, now: float) -> None:
        """Before a submission of an input of ``size`` bytes is made: room for it in the
        total budgets, made as `add` would make it, else `JobsFull` (`JobStore.make_room`).
        Asked of the store only once this process last saw the totals (nearly) full: a
        submission another process filled them for meanwhile is refused by `add`."""
        count, held = self._totals_seen
        budget = self.budget
        if count < budget.max_jobs and held + size + JOB_OVERHEAD <= budget.max_bytes:
            return
        with contextlib.suppress(StoreUnavailable):  # as in `add`: the next one tries again
            if now - self._expired_at >= EXPIRY_INTERVAL:
                self._expired_at = now
                self.expire(now)
            owned, owned_size = self.store.batch(
                [("zcard", _owned(owner)), ("get", f"jobs:bytes:{owner}")]
            )
            size += JOB_OVERHEAD
            # past its own key's budget, its key's oldest make room once it is added
            jobs = 0 if owned >= budget.max_jobs_per_key else 1
            if int(owned_size or 0) + size > budget.max_bytes_per_key:
                size = 0
            self._meet_totals(None, now, jobs, size)

    # -- writing -------------------------------------------------------------------------

    def add(self, job: Job, now: float, number: int) -> None:
        """Keep ``job``, the ``number``-th submitted (its place in submission order)."""
        count, owner_count, size, owner_size = self.store.batch(
            [
                ("hset", _job_key(job.id), self._fields(job)),
                ("zadd", "jobs", job.id, number),
                ("zadd", _owned(job.owner), job.id, number),
                ("zcard", "jobs"),
                ("zcard", _owned(job.owner)),
                ("incr", "jobs:bytes", job.size),
                ("tally", f"jobs:bytes:{job.owner}", job.size),
                ("ztally", HOLDERS, job.owner, 1),
                ("ztally", HOLDERS_BY_BYTES, job.owner, job.size),
            ]
        )[3:7]
        self._totals_seen = (count, size)
        # The job is kept: what follows only makes room. A store error here must not make
        # an accepted submission a 503, which its client would submit again (two jobs);
        # the next submission makes room instead. A refusal (`JobsFull`) is raised once the
        # job is forgotten again.
        with contextlib.suppress(StoreUnavailable):
            self._make_room(job, (count, owner_count, size, owner_size), now)

    def _make_room(self, job: Job, counts: tuple[int, int, int, int], now: float) -> None:
        """Drop the oldest jobs past the key's budget, and the expired; then, past a total
        budget, finished jobs of the keys holding the most (`JobStore`'s rule)."""
        count, owner_count, size, owner_size = counts
        budget = self.budget
        if owner_count > budget.max_jobs_per_key or owner_size > budget.max_bytes_per_key:
            excess = max(1, owner_count - budget.max_jobs_per_key)
            owned = _owned(job.owner)
            self._drop(self.store.do("zrange", owned, 0, min(excess, EVICT_BATCH) - 1))
        if now - self._expired_at >= EXPIRY_INTERVAL:
            self._expired_at = now
            self.expire(now)
        if count > budget.max_jobs or size > budget.max_bytes:
            self._meet_totals(job.id, now)

    def _meet_totals(self, newest: str | None, now: float, jobs: int = 0, size: int = 0) -> None:
        """Drop jobs finished at ``now`` (`_finished_job`) while the store, with ``jobs``
        more of ``size`` bytes, is past a total budget (at most `EVICT_BATCH`: the rest on
        the next submission); `JobsFull`, with ``newest`` forgotten, if none can go."""
        budget = self.budget
        for _ in range(EVICT_BATCH):
            count, held = self.store.batch([("zcard", "jobs"), ("get", "jobs:bytes")])
            count, held = count + jobs, int(held or 0) + size
            self._totals_seen = (count - jobs, held - size)
            if count <= budget.max_jobs and held <= budget.max_bytes:
                return
            victim = self._finished_job(newest, now, by_bytes=count <= budget.max_jobs)
            if victim is None:
                if newest is not None:
                    self._drop([newest], remember=False)
                raise JobsFull
            self._drop([victim])

    def _finished_job(self, newest: str | None, now: float, *, by_bytes: bool) -> str | None:
        """The oldest job finished at ``now`` (but ``newest``) of the key holding the most
        jobs (or bytes) that has one among its oldest, else the oldest of all among the
        `OLDEST_LOOKED_AT` oldest, if any: a bounded look, the keys' oldest ids in one round
        trip, their jobs a chunk at a time."""
        ranked = self.store.do(
            "zrange", HOLDERS_BY_BYTES if by_bytes else HOLDERS, -HOLDERS_LOOKED_AT, -1
        )
        oldest = self.store.batch(
            [("zrange", _owned(owner), 0, JOBS_LOOKED_AT - 1) for owner in reversed(ranked)]
        )
        ids = [job_id for owned in oldest for job_id in owned if job_id != newest]
        found = self._first_finished(ids, now)
        for start in range(0, OLDEST_LOOKED_AT, JOBS_LOOKED_AT):
            if found is not None:
                return found
            ids = self.store.do("zrange", "jobs", start, start + JOBS_LOOKED_AT - 1)
            found = self._first_finished([job_id for job_id in ids if job_id != newest], now)
            if len(ids) < JOBS_LOOKED_AT:
                break
        return found

    def _first_finished(self, ids: list[str], now: float) -> str | None:
        """The first of ``ids`` finished at ``now``, read a chunk at a time."""
        for start in range(0, len(ids), JOBS_LOOKED_AT):
            for job in self._jobs(ids[start : start + JOBS_LOOKED_AT]):
                if self._finished(job, now):
                    return job.id
        return None

    def _fields(self, job: Job) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "provider": job.endpoint.provider,
            "endpoint": job.endpoint.id,
            "owner": job.owner,
            "payload": json.dumps(job.payload),
            "seed": job.seed,
            "size": job.size,
            "checked": int(job.checked),
            **{name: repr(getattr(job, name)) for name in _NUMBERS},
        }
        if job.webhook is not None:
            fields["webhook"] = job.webhook
        if job.fault is not None:
            fields["fault"] = json.dumps([job.fault.id, job.fault.definition()])
        if job.progression is not None:
            fields["progression"] = str(job.progression)
        if job.start_timeout is not None:
            fields["start_timeout"] = repr(job.start_timeout)
        return fields

    def count_poll(self, job: Job) -> int:
        """Count one status poll of ``job`` by its owner; how many came before it."""
        return int(self.store.do("hincrby", f"polls:{job.owner}", job.id, 1)) - 1

    def delete_from_history(self, job: Job) -> None:
        self.store.do("hset", _job_key(job.id), {"deleted": "1"})

    def fail_output(self, job: Job, failure: Failure) -> None:
        """Keep how ``job``'s output failed, for every process's dashboard (its kind and
        message: what a listing shows; the output itself is made again where asked)."""
        text = json.dumps([failure.kind, failure.message])
        self.store.do("hsetnx", _job_key(job.id), "output_failure", text)

    def end(self, job: Job, failure: Failure) -> bool:
        """End ``job`` with ``failure`` unless something ended it first (in any process)."""
        text = json.dumps([failure.kind, failure.message, failure.details])
        return bool(self.store.do("hsetnx", _job_key(job.id), "failure", text))

    # -- eviction and expiry -------------------------------------------------------------

    def expire(self, now: float) -> None:
        """Drop the jobs older than the retention (the oldest first, a batch at a time)."""
        oldest = self.store.do("zrange", "jobs", 0, EVICT_BATCH - 1)
        if not oldest:
            return
        stamps = self.store.batch([("hget", _job_key(job_id), "submitted_at") for job_id in oldest])
        due = [
            job_id
            for job_id, stamp in zip(oldest, stamps, strict=True)
            if stamp is None or now - float(stamp) > self.budget.retention
        ]
        self._drop(due)

    def _drop(self, job_ids: list[str], *, remember: bool = True) -> None:
        """Forget ``job_ids``; ``remember`` them as gone (expired), unless they were never
        answered for (a refused submission)."""
        for job_id in job_ids:
            owner, size = self.store.batch(
                [("hget", _job_key(job_id), "owner"), ("hget", _job_key(job_id), "size")]
            )
            owner_text = owner.decode() if owner else ""
            held = int(size or 0)
            ops: list[Op] = [
                ("delete", _job_key(job_id)),
                ("zrem", _owned(owner_text), job_id),
                ("hdel", f"polls:{owner_text}", job_id),
                ("incr", "jobs:bytes", -held),
                ("tally", f"jobs:bytes:{owner_text}", -held),
                ("ztally", HOLDERS, owner_text, -1),
                ("ztally", HOLDERS_BY_BYTES, owner_text, -held),
            ]
            if remember:
                ops += [
                    ("hset", "jobs:gone", {job_id: owner_text}),
                    ("rpush", "jobs:gone:order", job_id),
                    ("llen", "jobs:gone:order"),
                ]
            # claimed and dropped in one step: a process that dies cannot leave a job
            # out of the order yet counted against its key's budget
            dropped = self.store.guarded(("zrem", "jobs", job_id), ops)
            if dropped is None:
                continue  # another process dropped it
            if remember and dropped[-1] > TOMBSTONES:
                forgotten = self.store.do("lpop", "jobs:gone:order")  # each popped once
                if forgotten is not None:
                    self.store.do("hdel", "jobs:gone", forgotten.decode())

    # -- reading -------------------------------------------------------------------------

    def get(self, job_id: str, owner: str, now: float, *, polling: bool = False) -> Job | None:
        """The job if ``owner``'s and retained; with ``polling``, its status poll is counted
        in the same round trip (`Job.polls` is then the count before it)."""
        count: Op = ("hincrby", f"polls:{owner}", job_id, 1)
        read: Op = ("hget", f"polls:{owner}", job_id)
        fields, polls = self.store.batch(
            [("hgetall", _job_key(job_id)), count if polling else read]
        )
        if not fields or fields.get("owner", b"").decode() != owner:
            if polling:  # the count went under the caller's own key: take it back
                self.store.do("hdel", f"polls:{owner}", job_id)
            return None
        job = self._job(job_id, fields)
        if job is None or now - job.submitted_at > self.budget.retention:
            self.expire(now)
            return None
        job.polls = int(polls or 0) - (1 if polling else 0)
        job.counted = polling
        return job

    def _job(self, job_id: str, fields: dict[str, bytes]) -> Job | None:
        text = as_text(fields)
        endpoint = self._endpoint(text["provider"], text["endpoint"])
        if endpoint is None:  # its contract is no longer served
            return None
        job = Job(
            id=job_id,
            endpoint=endpoint,
            owner=text["owner"],
            payload=json.loads(text["payload"]),
            seed=int(text["seed"]),
            webhook=text.get("webhook"),
            submitted_at=float(text["submitted_at"]),
            submitted_wall=float(text["submitted_wall"]),
            queue_span=float(text["queue_span"]),
            run_span=float(text["run_span"]),
        )
        job.size = int(text["size"])  # as counted when kept (the overhead included)
        job.queue_weight = float(text["queue_weight"])
        job.checked = text["checked"] == "1"
        if "start_timeout" in text:
            job.start_timeout = float(text["start_timeout"])
        if "fault" in text:
            fault_id, definition = json.loads(text["fault"])
            job.fault = Fault.from_dict(definition)
            job.fault.id = fault_id
        if "progression" in text:
            job.progression = Progression.parse(text["progression"])
        job.deleted = text.get("deleted") == "1"
        if "failure" in text:
            kind, message, details = json.loads(text["failure"])
            job.failure = Failure(kind, message, details)
        if "output_failure" in text:
            job.output_failure = Failure(*json.loads(text["output_failure"]))
        return job

    def _jobs(self, job_ids: list[str]) -> list[Job]:
        """The jobs of ``job_ids`` still kept, in that order, with their poll counts."""
        if not job_ids:
            return []
        results = self.store.batch([("hgetall", _job_key(job_id)) for job_id in job_ids])
        jobs = [
            job
            for job_id, fields in zip(job_ids, results, strict=True)
            if fields and (job := self._job(job_id, fields)) is not None
        ]
        if jobs:
            polls = self.store.batch([("hget", f"polls:{job.owner}", job.id) for job in jobs])
            for job, count in zip(jobs, polls, strict=True):
                job.polls = int(count or 0)
        return jobs

    def peek(self, job_id: str) -> Job | None:
        """A kept job by id, whoever owns it: the control plane's view, never a key's."""
        found = self._jobs([job_id])
        return found[0] if found else None

    def expired(self, job_id: str, owner: str) -> bool:
        gone = self.store.do("hget", "jobs:gone", job_id)
        return gone is not None and gone.decode() == owner

    def newest(self, count: int, owner: str | None = None) -> Iterator[Job]:
        """Up to ``count`` of the newest jobs (only ``owner``'s if given), newest first,
        read a chunk at a time (a caller that stops early reads no more)."""
        key = "jobs" if owner is None else _owned(owner)
        for end in range(0, count, NEWEST_CHUNK):
            chunk = min(NEWEST_CHUNK, count - end)
            ids = self.store.do("zrange", key, -end - chunk, -end - 1)
            yield from reversed(self._jobs(ids))
            if len(ids) < chunk:
                return

    def page(self, offset: int, limit: int, owner: str | None = None) -> list[Job]:
        """Jobs oldest first from ``offset``, at most ``limit`` (only ``owner``'s if given)."""
        if limit <= 0:
            return []
        key = "jobs" if owner is None else _owned(owner)
        return self._jobs(self.store.do("zrange", key, offset, offset + limit - 1))

    @property
    def retained_bytes(self) -> int:
        return int(self.store.do("get", "jobs:bytes") or 0)

    def __len__(self) -> int:
        return int(self.store.do("zcard", "jobs"))

    def __iter__(self) -> Iterator[Job]:
        """Every job, oldest first, read a page at a time."""
        offset, size = 0, 1000
        while True:
            page = self.page(offset, size)
            yield from page
            if len(page) < size:
                return
            offset += size

    def clear(self) -> None:
        pass  # the engine flushes the whole store on a reset
