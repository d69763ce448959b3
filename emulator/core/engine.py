"""The provider-neutral engine: jobs, their lifecycle, their outcomes.

Providers parse wire requests, call the engine, and render what it returns in their own
envelopes. The engine never sees a provider's URL, header or status string.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import math
import random
import secrets
import threading
import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, replace
from typing import Any

from emulator.config import EmulatorConfig
from emulator.contracts.documents import Contracts, Endpoint
from emulator.contracts.limits import Limits
from emulator.contracts.served import served_contracts
from emulator.contracts.validation import Violation
from emulator.core.clock import Clock, ManualClock, SharedManualClock, SystemClock, WallClock
from emulator.core.faults import FaultBook
from emulator.core.files import Storage
from emulator.core.jobs import Budget, Failure, Job, JobStore
from emulator.core.lifecycle import Phase, Progression
from emulator.core.outcomes import (
    JobFailed,
    OutcomeCache,
    check_all,
    fault_failure,
    limits_of,
    make_outcome,
)
from emulator.core.record import RequestRecord
from emulator.core.shared_jobs import SharedJobStore
from emulator.core.shared_webhooks import JobAccess
from emulator.core.store import Store, StoreUnavailable, open_store
from emulator.core.webhooks import Builder, WebhookSender
from emulator.media import MediaStore
from emulator.media.links import Linker
from emulator.media.sources import SourceResolver

CANCELLED = "Request cancelled by the client."
#: how a job that did not start within its start timeout ends (the timeout was the caller's)
START_TIMEOUT = Failure(
    "request_timeout",
    "Request timed out before it started processing (the caller's start timeout)",
    {"timeout_type": "user"},
)
#: how many of the newest jobs a queue-length check looks at
QUEUE_SCAN = 10_000
#: the same with a shared store, where each job looked at is read from it (one round trip)
SHARED_QUEUE_SCAN = 256


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


class Engine:
    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        clock: Clock | None = None,
        contracts: Contracts | None = None,
    ) -> None:
        self.config = config or EmulatorConfig()
        config = self.config
        #: the shared store state lives in, or None: this process's own objects (the default)
        self.store: Store | None = None
        if config.state_url != "memory":
            self.store = open_store(config.state_url)
        self.clock = self._clock(clock)
        self.contracts = contracts if contracts is not None else served_contracts(config)
        budget = Budget(
            retention=config.retention,
            max_jobs=config.max_jobs,
            max_bytes=config.max_retained_bytes,
            max_jobs_per_key=config.max_jobs_per_key,
            max_bytes_per_key=config.max_retained_bytes_per_key,
        )
        self.jobs: JobStore | SharedJobStore = (
            JobStore(budget)
            if self.store is None
            else SharedJobStore(self.store, budget, self.contracts.get)
        )
        self.record = RequestRecord(store=self.store)
        self.faults = FaultBook(self.config.seed, store=self.store)
        self.webhooks = WebhookSender(
            time_scale=config.webhook_time_scale,
            any_target=config.webhook_targets == "any",
            store=self.store,
        )
        self.webhooks.attach(
            JobAccess(self, self.find, lambda job: self.look(job).phase is Phase.DONE)
        )
        self._lock = threading.RLock()
        self._outcomes = OutcomeCache()
        self.storage = Storage(
            directory=config.storage_dir if self.store is None else config.uploads_dir,
            max_file_bytes=config.max_upload_bytes,
            max_total_bytes=config.max_storage_bytes,
            max_owner_bytes=config.max_storage_bytes_per_key,
            store=self.store,
            max_inline_upload_bytes=config.max_inline_upload_bytes,
        )
        if self.store is None:
            self.reset(config.seed)
        else:  # join what the store keeps: a restart, or another worker, forgets nothing
            self._engine_version: object = _NEVER
            self._start(config.seed, _salt(config.seed))
            try:
                self._follow()
            except StoreUnavailable:
                pass  # down at start-up: joined at the first use once it is back (503s till then)

    def _clock(self, clock: Clock | None) -> Clock:
        """The clock asked for; with a shared store, one every process reads alike."""
        if self.store is None:
            return clock or WallClock()
        if isinstance(clock, ManualClock):
            return SharedManualClock(self.store, clock)
        return clock if clock is not None and not isinstance(clock, WallClock) else SystemClock()

    def reset(self, seed: int | None = None) -> None:
        """Forget every job, medium and recorded request; with a seed, replay the same ids,
        media and secrets: a reset with a seed is a fresh start with that seed. With a
        shared store, every process sharing it starts afresh."""
        salt = _salt(seed)
        if self.store is not None:
            self._restart_store(seed, salt)
        self._start(seed, salt)
        self.jobs.clear()
        self.record.clear()
        self.faults.clear(seed)
        self.storage.clear()
        self.webhooks.clear()

    def _restart_store(self, seed: int | None, salt: str) -> None:
        """Empty the shared store for a fresh start with ``seed`` and ``salt``, keeping what
        a reset keeps in memory too (the clock, the progression), and tell every process."""
        assert self.store is not None
        # Uploads and deliveries find their files and leases through the store: first.
        self.storage.clear()
        self.webhooks.clear()
        clock = self.clock
        reading = (clock.now(), clock.wall()) if isinstance(clock, SharedManualClock) else None
        progression = self.store.do("get", "engine:progression")
        self.store.flush()
        if isinstance(clock, SharedManualClock) and reading is not None:
            clock.pin(*reading)
        kept = [("set", "engine:progression", progression)] if progression is not None else []
        seed_text = "" if seed is None else str(seed)
        self.store.batch([*kept, ("set", "engine:seed", seed_text), ("set", "engine:salt", salt)])
        self.store.announce("engine")
        self._engine_version = self.store.do("get", "topic:engine")

    def _start(self, seed: int | None, salt: str) -> None:
        """Take up ``seed`` and ``salt``: what ids, media and secrets are derived from."""
        self.seed = seed
        self._salt = salt
        self._numbers = itertools.count(1)
        self._outcomes.clear()
        self.media = MediaStore(
            cache_bytes=self.config.media_cache_bytes,
            salt=salt,
            load_source=self._stored_bytes,
            store=self.store,
        )

    def _follow(self) -> None:
        """Take up the seed and salt of the shared store (the first process's, or those of
        whoever reset it since): one round trip of reads (two the first time of all)."""
        assert self.store is not None
        reads = [("get", "topic:engine"), ("get", "engine:seed"), ("get", "engine:salt")]
        version, seed, salt = self.store.batch(reads)
        if salt is None:  # the first process of all: its settings make the seed and salt
            config_seed = "" if self.config.seed is None else str(self.config.seed)
            first = [("setnx", "engine:seed", config_seed), ("setnx", "engine:salt", self._salt)]
            version, seed, salt = self.store.batch(first + reads)[2:]
        if version != self._engine_version:
            self._engine_version = version
            self._start(int(seed) if seed else None, salt.decode())

    def watch_webhook(
        self,
        job: Job,
        url: str,
        delivery_id: str,
        build: Builder,
        schedule: tuple[float, ...],
        bases: dict[str, str] | None = None,
    ) -> None:
        """Deliver ``build()`` (the provider's signed request) to ``url`` when ``job`` is
        done, subject to any webhook fault rule. With a shared store, whichever process
        delivers rebuilds the request with the provider's registered builder, its media
        linked under ``bases`` (the base URLs of the request that asked for the webhook)."""
        fault = self.faults.pick(
            "webhook",
            provider=job.endpoint.provider,
            endpoint=job.endpoint.id,
            key=job.owner,
            payload=job.payload,
        )
        self.webhooks.watch(
            job.endpoint.provider,
            delivery_id,
            url,
            is_done=lambda: self.look(job).phase is Phase.DONE,
            build=build,
            schedule=schedule,
            fault=fault.effect if fault else None,
            late=fault.seconds if fault else 0.0,
            owner=job.owner,
            job_ref=job.id,
            bases=bases,
        )

    def secret(self, purpose: str) -> bytes:
        """32 bytes for ``purpose`` (a signing key, a webhook secret): the same under the
        same seed, fresh after every unseeded reset, never shared between installations."""
        if self.store is not None:
            self._follow()
        return hashlib.sha256(f"{purpose}:{self._salt}".encode()).digest()

    def close(self) -> None:
        """Stop background work (webhook delivery) and let go of the store."""
        self.webhooks.close()
        self.record.close()  # what it writes behind goes to the store before the store goes
        if self.store is not None:
            self.store.close()

    def _stored_bytes(self, file_id: str) -> bytes | None:
        stored = self.storage.get(file_id)
        return self.storage.read(stored) if stored else None

    @property
    def sources(self) -> SourceResolver:
        synthetic = self.config.unreachable_media == "synthetic"
        return SourceResolver(self.storage, self.media, synthetic_fallback=synthetic)

    # -- submission ----------------------------------------------------------------------

    def _draws(self) -> tuple[int, random.Random, Progression | None]:
        """The next submission's number; the random draws of its id, seed and spans (from
        the salt and the number alone, so the n-th job of a seed is the same whichever
        process of several sharing a store accepts it); and, with a shared store, the
        progression set through the control plane. One round trip, unless another process
        reset the store since this one last looked (then one more, to take up its seed)."""
        shared = None
        if self.store is None:
            number = next(self._numbers)
        else:
            number, text, version = self.store.batch(
                [
                    ("incr", "engine:number", 1),
                    ("get", "engine:progression"),
                    ("get", "topic:engine"),
                ]
            )
            if version != self._engine_version:
                self._follow()
            shared = _progression(text)
        return number, random.Random(f"{self._salt}:{number}"), shared

    @property
    def progression(self) -> Progression:
        """How new jobs move (unless a rule says otherwise)."""
        if self.store is not None:
            return _progression(self.store.do("get", "engine:progression")) or (
                self.config.progression
            )
        return self.config.progression

    @progression.setter
    def progression(self, progression: Progression) -> None:
        """From now on, new jobs move so. With a shared store, for every process, and only
        jobs submitted after the change (each job keeps the progression it started with)."""
        if self.store is not None:
            self.store.do("set", "engine:progression", json.dumps(asdict(progression)))
        else:
            self.config = replace(self.config, progression=progression)

    def submit(
        self,
        endpoint: Endpoint,
        payload: Any,
        owner: str,
        *,
        webhook: str | None = None,
        queued: bool = True,
        size: int = 0,
        start_timeout: float | None = None,
        queue_weight: float = 1.0,
        checked: bool = False,
    ) -> Job:
        """A new job; ``queued=False`` makes one for a synchronous run, kept nowhere.
        ``size`` is its input's size in bytes, counted against the retention budgets; a job
        not started within ``start_timeout`` seconds ends timed out; ``queue_weight``
        stretches its wait in the queue (2: it waits behind the others, as low priority);
        ``checked`` says the caller validated ``payload`` (`check_input`), so that making its
        output does not validate it again."""
        number, draws, shared_progression = self._draws()
        job_id = str(uuid.UUID(int=draws.getrandbits(128), version=4))
        given = payload.get("seed") if isinstance(payload, dict) else None
        if isinstance(given, float) and given.is_integer():
            given = int(given)
        seed = given if type(given) is int and given >= 0 else draws.randrange(0, 2**31 - 1)
        request = {"provider": endpoint.provider, "endpoint": endpoint.id, "key": owner}
        pace = self.faults.pick("pace", **request, payload=payload)
        progression = Progression.parse(pace.progression) if pace and pace.progression else None
        progression = progression or shared_progression
        queue_span, run_span = (progression or self.config.progression).spans(draws)
        queue_span *= queue_weight
        now = self.clock.now()
        job = Job(
            id=job_id,
            endpoint=endpoint,
            owner=owner,
            payload=payload,
            seed=seed,
            submitted_at=now,
            submitted_wall=self.clock.wall(),
            queue_span=queue_span,
            run_span=run_span,
            webhook=webhook,
            size=size,
        )
        job.progression = progression
        job.start_timeout, job.queue_weight = start_timeout, queue_weight
        job.checked = checked
        job.fault = self.faults.pick("job", **request, payload=payload)
        if queued:
            self.jobs.add(job, now, number)
        return job

    def find(self, job_id: str, owner: str, *, polling: bool = False) -> Job | None:
        """``owner``'s job ``job_id``, if kept; ``polling`` says a status poll follows
        (`poll`), which a shared store then counts in the same round trip."""
        if self.store is None:
            return self.jobs.get(job_id, owner, self.clock.now())
        assert isinstance(self.jobs, SharedJobStore)
        return self.jobs.get(job_id, owner, self.clock.now(), polling=polling)

    def expired(self, job_id: str, owner: str) -> bool:
        """Whether a job ``find`` does not find was ``owner``'s once: expired or evicted."""
        return self.jobs.expired(job_id, owner)

    # -- lifecycle -----------------------------------------------------------------------

    def progression_of(self, job: Job) -> Progression:
        """How ``job`` moves: its own progression if a rule gave it one, else the emulator's."""
        return job.progression or self.config.progression

    def _progress(self, job: Job) -> float:
        if self.progression_of(job).mode == "polls":
            return job.polls
        return self.clock.now() - job.submitted_at

    def look(self, job: Job) -> Look:
        """The job's state now; reading it changes nothing."""
        progression = self.progression_of(job)
        if job.failure is not None:
            return Look(Phase.DONE, 1.0, 0, job.failure)
        starving = job.fault is not None and job.fault.effect == "starve"
        if starving:
            phase, fraction = Phase.QUEUED, 0.0
        else:
            progress = self._progress(job)
            phase, fraction = progression.locate(progress, job.queue_span, job.run_span)
        if phase is Phase.QUEUED:
            if self._start_timed_out(job):
                return Look(Phase.DONE, 1.0, 0, START_TIMEOUT)
            position = round(progression.queue_position * job.queue_weight * (1 - fraction))
            return Look(phase, fraction, max(1, position) if starving else position)
        failure = self._early_end(job, phase)
        if failure is not None:
            return Look(Phase.DONE, 1.0, 0, failure)
        return Look(phase, fraction, 0)

    def _start_timed_out(self, job: Job) -> bool:
        deadline = job.start_timeout
        return deadline is not None and self.clock.now() - job.submitted_at >= deadline

    def start_delay(self, job: Job) -> float:
        """Seconds before ``job`` would start: what a synchronous run waits in the queue."""
        if job.fault is not None and job.fault.effect == "starve":
            return math.inf
        return job.queue_span if self.progression_of(job).mode == "wall" else 0.0

    def queue_length(self, endpoint: Endpoint, at_most: int) -> int:
        """How many of ``endpoint``'s jobs wait in its queue, counted up to ``at_most``
        among the newest jobs (a bounded look, not a scan of every job kept: the newest
        `QUEUE_SCAN`, or `SHARED_QUEUE_SCAN` in a shared store)."""
        waiting = 0
        for job in self.jobs.newest(QUEUE_SCAN if self.store is None else SHARED_QUEUE_SCAN):
            if job.endpoint is endpoint and self.look(job).phase is Phase.QUEUED:
                waiting += 1
                if waiting >= at_most:
                    break
        return waiting

    def poll(self, job: Job) -> Look:
        """A status poll: the job's state now, and one more poll counted towards progress
        (which is how ``polls:`` progressions move)."""
        if isinstance(self.jobs, SharedJobStore) and not job.counted:
            job.polls = self.jobs.count_poll(job)
        job.counted = False
        look = self.look(job)
        job.polls += 1
        return look

    async def polls(self, job: Job, tick: float) -> AsyncIterator[Look]:
        """Poll ``job`` every ``tick`` seconds, yielding each look, until it is done."""
        while True:
            look = self.poll(job)
            yield look
            if look.phase is Phase.DONE:
                return
            await asyncio.sleep(tick)
            if self.store is not None:  # another process may have cancelled it
                job = self.find(job.id, job.owner, polling=True) or job

    def _early_end(self, job: Job, phase: Phase) -> Failure | None:
        """How the job's fault ends it, if it does by ``phase``: a timeout or a cancellation
        as it leaves the queue, a staged failure when it would finish."""
        fault = job.fault
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

    def cancel(self, job: Job) -> bool:
        """Cancel a job that has not finished; False when it already had."""
        if self.look(job).phase is Phase.DONE:
            return False
        failure = Failure("cancelled", CANCELLED)
        if isinstance(self.jobs, SharedJobStore) and not self.jobs.end(job, failure):
            return False  # another process ended it first
        job.failure = failure
        return True

    def delete_from_history(self, job: Job) -> None:
        """Take ``job`` out of its key's listed history (it stays kept, and was paid for)."""
        if isinstance(self.jobs, SharedJobStore):
            self.jobs.delete_from_history(job)
        job.deleted = True

    def logs(self, job: Job, look: Look) -> list[LogLine]:
        """The job's log so far: a line when it starts, at each quarter, and when done."""
        if look.phase is Phase.QUEUED:
            return []
        start = job.submitted_wall + (
            job.queue_span if self.progression_of(job).mode == "wall" else 0
        )
        lines = [LogLine(f"Starting {job.endpoint.id}", start)]
        quarters = 4 if look.phase is Phase.DONE else int(look.fraction * 4)
        lines += [
            LogLine(f"Generating: {25 * q}% done", start + job.run_span * q / 4)
            for q in range(1, quarters + 1)
        ]
        return lines

    def inference_time(self, job: Job, look: Look) -> float:
        if look.failure is not None or self.progression_of(job).mode != "wall":
            return 0.0
        return job.run_span

    # -- outcome -------------------------------------------------------------------------

    @property
    def limits(self) -> Limits:
        return limits_of(self.config)  # read afresh: controls may replace it at run time

    def check_input(self, endpoint: Endpoint, payload: Any) -> tuple[Any, list[Violation]]:
        """The payload with defaults, and what is wrong with it by the contract or beyond
        what the emulator makes (empty when it is fine)."""
        return check_all(endpoint, payload, self.limits)

    def outcome(self, job: Job, link: Linker) -> dict[str, Any]:
        """The output of a finished job, media linked by ``link``; raises `JobFailed`.

        Made once per job and linker, then kept (bounded): every poll, retry and webhook
        of a job sees the same output without validating or synthesising it again."""
        failure = self.look(job).failure
        if failure is not None:
            raise JobFailed(failure)
        if self.store is not None:
            self._follow()
        kept = self._outcomes.get(job, link)
        if kept is None:
            kept = make_outcome(job, link, self.limits, self.sources)
            self._outcomes.keep(job, link, kept)
        if isinstance(kept, Failure):
            raise JobFailed(kept)
        return kept

    def outcome_made(self, job: Job, link: Linker) -> bool:
        """Whether `outcome` would answer from what is kept (or from a failure) without
        making anything: then it costs microseconds and needs no worker thread."""
        return self.look(job).failure is not None or self._outcomes.get(job, link) is not None


#: what a process that never read the shared store's engine version has read
_NEVER = object()


def _progression(text: bytes | None) -> Progression | None:
    return Progression(**json.loads(text)) if text else None


def _salt(seed: int | None) -> str:
    """What ids, media and secrets are derived from: the seed, else something fresh."""
    return str(seed) if seed is not None else secrets.token_hex(16)
