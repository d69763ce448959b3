"""The provider-neutral engine: jobs, their lifecycle, their outcomes.

Providers parse wire requests, call the engine, and render what it returns in their own
envelopes. The engine never sees a provider's URL, header or status string.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

from emulator.config import EmulatorConfig
from emulator.contracts.documents import Contracts, Endpoint
from emulator.contracts.limits import Limits
from emulator.contracts.served import served_contracts
from emulator.contracts.unknown_ids import UnknownIds
from emulator.contracts.validation import Violation
from emulator.core.clock import Clock
from emulator.core.draws import Draws, salt_for
from emulator.core.faults import Fault, FaultBook
from emulator.core.holds import Holds
from emulator.core.jobs import Failure, Job
from emulator.core.kept_secrets import KeptSecrets
from emulator.core.lifecycle import Phase, Progression
from emulator.core.outcomes import (
    JobFailed,
    OutcomeCache,
    check_all,
    find_violations,
    limits_of,
    make_outcome,
)
from emulator.core.parts import clock_for, job_store_for, record_for, storage_for
from emulator.core.shared_engine import SharedEngineState
from emulator.core.shared_webhooks import JobAccess
from emulator.core.store import Store, StoreUnavailable, open_store
from emulator.core.timeline import CANCELLED, Look, Timeline
from emulator.core.webhooks import Builder, WebhookSender
from emulator.media import MediaStore
from emulator.media.links import Linker
from emulator.media.sources import SourceResolver

#: the longest wait between two polls of a held job that moves with time and looks the
#: same (a WaveSpeed sync wait, a status stream): a change is seen at most this late
IDLE_TICK = 0.25


class Engine(Timeline):
    """What every provider's routes call: jobs submitted, found, polled, cancelled and
    their outcomes, over the state they share (store, record, faults, files, webhooks)."""

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        clock: Clock | None = None,
        contracts: Contracts | None = None,
        delivers: bool = True,
    ) -> None:
        """``delivers``: whether this process takes its share of a shared store's webhook
        deliveries (not the parent of `serve`'s workers, which serves nothing)."""
        self.config = config or EmulatorConfig()
        self._limits: tuple[EmulatorConfig, Limits] | None = None
        self._sources: tuple[tuple[Any, ...], SourceResolver] | None = None
        config = self.config
        #: the shared store state lives in, or None: this process's own objects (the default)
        self.store: Store | None = None
        self._shared: SharedEngineState | None = None
        if config.state_url != "memory":
            self.store = open_store(config.state_url)
            self._shared = SharedEngineState(self.store)
        #: random keys no seed derives (`secret`'s are the seed's), kept where the state is
        self.kept_secret = KeptSecrets(self.store)
        self.clock = clock_for(clock, self.store)
        self.contracts = contracts if contracts is not None else served_contracts(config)
        #: the ids asked for that no contract knows, each advised of once (not reset)
        self.unknown_ids = UnknownIds()
        self.jobs = job_store_for(config, self.store, self.contracts, self.finished)
        self.record = record_for(config, self.store)
        self.faults = FaultBook(self.config.seed, store=self.store, served=self.contracts.serve_any)
        self.webhooks = WebhookSender(
            time_scale=config.webhook_time_scale,
            any_target=config.webhook_targets == "any",
            store=self.store,
        )
        self._lock = threading.RLock()
        self._outcomes = OutcomeCache()
        #: the requests each key holds open (not reset: they are live connections)
        self.holds = Holds()
        #: called after each reset (a replay rewinds its recordings)
        self.after_reset: list[Callable[[], None]] = []
        self.storage = storage_for(config, self.store, self.clock)
        self.media = MediaStore(
            cache_bytes=config.media_cache_bytes, load_source=self.stored_bytes, store=self.store
        )
        if self.store is None:
            self.reset(config.seed)
        else:  # join what the store keeps: a restart, or another worker, forgets nothing
            self._start(config.seed, salt_for(config.seed))
            try:
                self._follow()
            except StoreUnavailable:
                pass  # down at start-up: joined at the first use once it is back (503s till then)
        # Last: with a shared store, deliveries due already (a restart's) are taken at once,
        # and building one needs the whole engine (its files, its media).
        self.webhooks.attach(
            JobAccess(self, self.find, self.finished),
            deliver=delivers,
        )

    def reset(self, seed: int | None = None) -> None:
        """Forget every job, medium and recorded request; with a seed, replay the same ids,
        media and secrets: a reset with a seed is a fresh start with that seed. With a
        shared store, every process sharing it starts afresh."""
        salt = salt_for(seed)
        if self.store is not None:
            self._restart_store(seed, salt)
        self._start(seed, salt)
        self.jobs.clear()
        self.record.clear()
        self.faults.clear(seed)
        self.storage.clear()
        self.webhooks.clear()
        for callback in self.after_reset:
            callback()

    def _restart_store(self, seed: int | None, salt: str) -> None:
        assert self._shared is not None
        # Uploads and deliveries find their files and leases through the store: first.
        self.storage.clear()
        self.webhooks.clear()
        self._shared.restart(seed, salt, self.clock)

    def _start(self, seed: int | None, salt: str) -> None:
        """Take up ``seed`` and ``salt``: what ids, media and secrets are derived from."""
        self.seed = seed
        self._salt = salt
        self._numbers = itertools.count(1)
        self._outcomes.clear()
        self.media.restart(salt)  # its renders kept (cache.py)

    def _follow(self) -> None:
        """Take up the seed and salt of the shared store (the first process's, or those of
        whoever reset it since)."""
        assert self._shared is not None
        taken = self._shared.join(self.config.seed, self._salt)
        if taken is not None:
            self._start(*taken)

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
            is_done=lambda: self.finished(job),
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

    def stored_bytes(self, file_id: str) -> bytes | None:
        """The bytes of stored file ``file_id`` (an input picture), or None: gone."""
        stored = self.storage.get(file_id)
        return self.storage.read(stored) if stored else None

    @property
    def sources(self) -> SourceResolver:
        made_for = (self.config, self.storage, self.media)
        kept = self._sources
        if kept is None or any(a is not b for a, b in zip(kept[0], made_for, strict=True)):
            synthetic = self.config.unreachable_media == "synthetic"
            resolver = SourceResolver(self.storage, self.media, synthetic_fallback=synthetic)
            self._sources = kept = made_for, resolver  # made once for each of these
        return kept[1]

    # -- submission ----------------------------------------------------------------------

    def _draws(self) -> tuple[int, Draws, Progression | None]:
        """The next submission's number; the random draws of its id, seed and spans (from
        the salt and the number alone, so the n-th job of a seed is the same whichever
        process of several sharing a store accepts it); and, with a shared store, the
        progression set through the control plane."""
        if self._shared is None:
            number, shared = next(self._numbers), None
        else:
            number, shared, moved = self._shared.next_submission()
            if moved:  # another process reset the store: its seed and salt, first
                self._follow()
        return number, Draws(f"{self._salt}:{number}"), shared

    @property
    def progression(self) -> Progression:
        """How new jobs move (unless a rule says otherwise)."""
        shared = self._shared.progression if self._shared is not None else None
        return shared or self.config.progression

    @progression.setter
    def progression(self, progression: Progression) -> None:
        """From now on, new jobs move so. With a shared store, for every process, and only
        jobs submitted after the change (each job keeps the progression it started with)."""
        if self._shared is not None:
            self._shared.progression = progression
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
        ``size`` is what its input weighs in memory, in bytes (the HTTP layer's estimate),
        counted against the retention budgets; a job not started within ``start_timeout``
        seconds ends timed out; ``queue_weight`` stretches its wait in the queue (2: it
        waits behind the others, as low priority);
        ``checked`` says the caller validated ``payload`` (`check_input`), so that making its
        output does not validate it again. A submission the total budgets have no room for
        is refused (`JobsFull`) before it is numbered and meets the rules: it spends no
        rule's firing and no draw."""
        now = self.clock.now()
        if queued:
            self.jobs.make_room(owner, size, now)
        number, draws, shared_progression = self._draws()
        job_id = draws.uuid4()
        seed = draws.seed(payload)
        pace = self._rule("pace", endpoint, owner, payload)
        progression = Progression.parse(pace.progression) if pace and pace.progression else None
        progression = progression or shared_progression
        queue_span, run_span = (progression or self.config.progression).spans(draws)
        queue_span *= queue_weight
        # in order, without keywords: Python 3.11 hands a class's keywords to __init__ as a
        # dictionary, half of what making a job costs (4,700 instructions; issue 17)
        job = Job(
            job_id,
            endpoint,
            owner,
            payload,
            seed,
            now,  # submitted_at
            self.clock.wall(),  # submitted_wall
            queue_span,
            run_span,
            webhook,
            size,
        )
        job.progression = progression
        job.start_timeout, job.queue_weight = start_timeout, queue_weight
        job.checked = checked
        job.fault = self._rule("job", endpoint, owner, payload)
        if queued:
            self.jobs.add(job, now, number)
        return job

    def _rule(self, stage: str, endpoint: Endpoint, owner: str, payload: Any) -> Fault | None:
        """The rule of ``stage`` that fires for a submission, if one does. Asked only when
        a rule acts at ``stage``: the question's keywords alone cost a submit 5,700
        instructions each time (issue 17), and most submissions meet no rule."""
        if not self.faults.has(stage):
            return None
        return self.faults.pick(
            stage, provider=endpoint.provider, endpoint=endpoint.id, key=owner, payload=payload
        )

    def find(self, job_id: str, owner: str, *, polling: bool = False) -> Job | None:
        """``owner``'s job ``job_id``, if kept; ``polling`` says a status poll follows
        (`poll`), which a shared store then counts in the same round trip."""
        return self.jobs.get(job_id, owner, self.clock.now(), polling=polling)

    def expired(self, job_id: str, owner: str) -> bool:
        """Whether a job ``find`` does not find was ``owner``'s once: expired or evicted."""
        return self.jobs.expired(job_id, owner)

    # -- lifecycle (how a job looks: `Timeline`) ------------------------------------------

    async def polls(self, job: Job, tick: float) -> AsyncIterator[Look]:
        """Poll ``job`` every ``tick`` seconds, yielding each look, until it is done. A job
        that moves with time (``wall:``) and looks the same poll after poll is polled ever
        less often, down to every `IDLE_TICK` (thousands of held waits and streams polled
        every 20 ms kept the CPU busy); one that moves by polls, at ``tick``."""
        wait, seen = tick, None
        while True:
            look = self.poll(job)
            yield look
            if look.phase is Phase.DONE:
                return
            now = look.phase, look.queue_position, int(look.fraction * 4)
            timed = self.progression_of(job).mode == "wall"
            wait = min(wait * 2, IDLE_TICK) if timed and now == seen else tick
            seen = now
            await asyncio.sleep(wait)
            if self.store is not None:  # others poll or cancel it too: read it afresh, in place
                fresh = self.find(job.id, job.owner, polling=True)
                if fresh is not None:
                    job.polls, job.failure, job.counted = fresh.polls, fresh.failure, True

    def cancel(self, job: Job) -> bool:
        """Cancel a job that has not finished; False when it already had."""
        look = self.look(job)
        if look.phase is Phase.DONE:
            return False
        ran = look.fraction if look.phase is Phase.RUNNING else None  # for its logs
        failure = Failure("cancelled", CANCELLED, {"ran": ran})
        if not self.jobs.end(job, failure):
            return False  # something ended it first (another process, with a shared store)
        job.failure = failure
        return True

    def delete_from_history(self, job: Job) -> None:
        """Take ``job`` out of its key's listed history (it stays kept, and was paid for)."""
        self.jobs.delete_from_history(job)
        job.deleted = True

    # -- outcome -------------------------------------------------------------------------

    @property
    def limits(self) -> Limits:
        # made afresh when the controls replace the config, else kept (every output asks)
        if self._limits is None or self._limits[0] is not self.config:
            self._limits = self.config, limits_of(self.config)
        return self._limits[1]

    def check_input(self, endpoint: Endpoint, payload: Any) -> tuple[Any, list[Violation]]:
        """The payload with defaults, and what is wrong with it by the contract or beyond
        what the emulator makes (empty when it is fine)."""
        return check_all(endpoint, payload, self.limits)

    def violations(self, endpoint: Endpoint, payload: Any) -> list[Violation]:
        """What `check_input` finds wrong with ``payload``, without its defaults-filled copy
        (a submission keeps the input as sent)."""
        # `limits` read inline: the property's call cost a submit 500 instructions (issue 17)
        kept = self._limits
        limits = kept[1] if kept is not None and kept[0] is self.config else self.limits
        return find_violations(endpoint, payload, limits)

    def outcome(self, job: Job, link: Linker) -> dict[str, Any]:
        """The output of a finished job, media linked by ``link``; raises `JobFailed`.

        Made once per job and linker, then kept (bounded): every poll, retry and webhook
        of a job sees the same output without validating or synthesising it again."""
        failure = self.look(job).failure
        if failure is not None:
            raise JobFailed(failure)
        if self.store is not None:  # another process's reset empties what is kept here too
            self._follow()
        kept = self._outcomes.get(job, link)
        if kept is None:
            kept = make_outcome(job, link, self.limits, self.sources)
            if isinstance(kept, Failure) and job.output_failure is None:
                # kept with the job first: a store error leaves nothing here half-done
                self.jobs.fail_output(job, kept)
                job.output_failure = kept
            self._outcomes.keep(job, link, kept)
        if isinstance(kept, Failure):
            raise JobFailed(kept)
        return kept

    def output_failure(self, job: Job) -> Failure | None:
        """How a finished job's output failed (a model's 422, an unreadable input), once
        made by any process sharing the store: its status still says completed, as the
        provider's does."""
        return job.output_failure

    def outcome_made(self, job: Job, link: Linker) -> bool:
        """Whether `outcome` would answer from what is kept (or from a failure) without
        making anything: then it costs microseconds and needs no worker thread."""
        return self.look(job).failure is not None or self._outcomes.get(job, link) is not None
