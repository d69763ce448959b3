"""The provider-neutral engine: jobs, their lifecycle, their outcomes.

Providers parse wire requests, call the engine, and render what it returns in their own
envelopes. The engine never sees a provider's URL, header or status string.
"""

from __future__ import annotations

import random
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from emulator.config import EmulatorConfig
from emulator.contracts.documents import Contracts, Endpoint
from emulator.contracts.served import served_contracts
from emulator.contracts.synthesis import InputRejected, synthesize
from emulator.contracts.validation import Violation, check_input
from emulator.core.clock import Clock, WallClock
from emulator.core.faults import Fault, FaultBook
from emulator.core.files import Storage
from emulator.core.jobs import Failure, Job, JobStore
from emulator.core.lifecycle import Phase, Progression
from emulator.core.record import RequestRecord
from emulator.core.webhooks import Builder, WebhookSender
from emulator.media import MediaStore, UnsupportedMedia
from emulator.media.links import Linker
from emulator.media.sources import InputUnreachable, SourceResolver

__all__ = ["Engine", "JobFailed", "Look"]


class JobFailed(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


CANCELLED = "Request cancelled by the client."


@dataclass(frozen=True)
class Look:
    """What a job looks like at one moment."""

    phase: Phase
    fraction: float  # how far into the phase, 0..1
    queue_position: int


@dataclass(frozen=True)
class LogLine:
    message: str
    timestamp: float  # unix seconds


def fault_failure(fault: Fault) -> Failure:
    """The failure a ``fail`` rule stages: a model 422, a request error type or a task code."""
    if fault.error_type in ("unprocessable", "validation") or fault.status == 422:
        message = fault.message or "Input was rejected by the model"
        return Failure("invalid", "Unprocessable Entity", [Violation((), message, "value_error")])
    kind = fault.error_type or "internal_error"
    details = {"code": fault.code} if fault.code is not None else None
    return Failure(kind, fault.message or kind.replace("_", " ").capitalize(), details)


class Engine:
    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        clock: Clock | None = None,
        contracts: Contracts | None = None,
    ) -> None:
        self.config = config or EmulatorConfig()
        self.clock = clock or WallClock()
        self.contracts = contracts if contracts is not None else served_contracts(self.config)
        self.jobs = JobStore(retention=self.config.retention, max_jobs=self.config.max_jobs)
        self.record = RequestRecord()
        self.faults = FaultBook(self.config.seed)
        self.webhooks = WebhookSender(
            time_scale=self.config.webhook_time_scale,
            any_target=self.config.webhook_targets == "any",
        )
        self.storage = Storage(
            directory=self.config.storage_dir,
            max_file_bytes=self.config.max_upload_bytes,
            max_total_bytes=self.config.max_storage_bytes,
        )
        self.reset(self.config.seed)

    def reset(self, seed: int | None = None) -> None:
        """Forget every job, medium and recorded request; with a seed, replay the same ids
        and media."""
        self.seed = seed
        self._rng = random.Random(seed if seed is not None else secrets.randbits(64))
        self.jobs.clear()
        self.record.clear()
        self.faults.clear(seed)
        self.storage.clear()
        self.webhooks.clear()
        self.media = MediaStore(
            cache_bytes=self.config.media_cache_bytes,
            salt=str(seed) if seed is not None else secrets.token_hex(8),
            load_source=self._stored_bytes,
        )

    def watch_webhook(
        self, job: Job, url: str, delivery_id: str, build: Builder, schedule: tuple[float, ...]
    ) -> None:
        """Deliver ``build()`` (the provider's signed request) to ``url`` when ``job`` is
        done, subject to any webhook fault rule."""
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
        )

    def close(self) -> None:
        """Stop background work (webhook delivery)."""
        self.webhooks.close()

    def _stored_bytes(self, file_id: str) -> bytes | None:
        stored = self.storage.get(file_id)
        return self.storage.read(stored) if stored else None

    @property
    def sources(self) -> SourceResolver:
        synthetic = self.config.unreachable_media == "synthetic"
        return SourceResolver(self.storage, self.media, synthetic_fallback=synthetic)

    # -- submission ----------------------------------------------------------------------

    def new_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def draw_seed(self) -> int:
        return self._rng.randrange(0, 2**31 - 1)

    def submit(
        self,
        endpoint: Endpoint,
        payload: Any,
        owner: str,
        *,
        webhook: str | None = None,
        queued: bool = True,
    ) -> Job:
        """A new job; ``queued=False`` makes one for a synchronous run, kept nowhere."""
        given = payload.get("seed") if isinstance(payload, dict) else None
        if isinstance(given, float) and given.is_integer():
            given = int(given)
        seed = given if type(given) is int and given >= 0 else self.draw_seed()
        request = {"provider": endpoint.provider, "endpoint": endpoint.id, "key": owner}
        pace = self.faults.pick("pace", **request, payload=payload)
        progression = Progression.parse(pace.progression) if pace else None
        queue_span, run_span = (progression or self.config.progression).spans(self._rng)
        now = self.clock.now()
        job = Job(
            id=self.new_id(),
            endpoint=endpoint,
            owner=owner,
            payload=payload,
            seed=seed,
            submitted_at=now,
            submitted_wall=self.clock.wall(),
            queue_span=queue_span,
            run_span=run_span,
            webhook=webhook,
        )
        job.progression = progression
        job.fault = self.faults.pick("job", **request, payload=payload)
        if queued:
            self.jobs.add(job, now)
        return job

    def find(self, job_id: str, owner: str) -> Job | None:
        return self.jobs.get(job_id, owner, self.clock.now())

    # -- lifecycle -----------------------------------------------------------------------

    def progression_of(self, job: Job) -> Progression:
        """How ``job`` moves: its own progression if a rule gave it one, else the emulator's."""
        return job.progression or self.config.progression

    def _progress(self, job: Job) -> float:
        if self.progression_of(job).mode == "polls":
            return job.polls
        return self.clock.now() - job.submitted_at

    def look(self, job: Job, *, poll: bool = False) -> Look:
        """The job's state now; a status poll (``poll=True``) also counts towards progress."""
        progression = self.progression_of(job)
        if job.failure is not None:
            look = Look(Phase.DONE, 1.0, 0)
        elif job.fault is not None and job.fault.effect == "starve":
            look = Look(Phase.QUEUED, 0.0, max(1, progression.queue_position))
        else:
            phase, fraction = progression.locate(self._progress(job), job.queue_span, job.run_span)
            if phase is not Phase.QUEUED and job.fault is not None and self._ends_early(job, phase):
                phase, fraction = Phase.DONE, 1.0
            position = (
                round(progression.queue_position * (1 - fraction)) if phase is Phase.QUEUED else 0
            )
            look = Look(phase, fraction, position)
        if poll:
            job.polls += 1
        return look

    def _ends_early(self, job: Job, phase: Phase) -> bool:
        """Whether the job's fault ends it now: a timeout or a cancellation as it leaves the
        queue, a staged failure when it would finish."""
        effect = job.fault.effect
        if effect == "timeout":
            message = job.fault.message or "Request timed out while waiting in the queue"
            job.failure = Failure("request_timeout", message, {"code": 5004})
        elif effect == "cancel":
            job.failure = Failure("cancelled", job.fault.message or CANCELLED)
        elif effect == "fail" and phase is Phase.DONE:
            job.failure = fault_failure(job.fault)
        return job.failure is not None

    def cancel(self, job: Job) -> bool:
        """Cancel a job that has not finished; False when it already had."""
        if self.look(job).phase is Phase.DONE:
            return False
        job.failure = Failure("cancelled", CANCELLED)
        return True

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

    def inference_time(self, job: Job) -> float:
        if job.failure is not None or self.progression_of(job).mode != "wall":
            return 0.0
        return job.run_span

    # -- outcome -------------------------------------------------------------------------

    def validate(self, job: Job) -> Any:
        """The job's input with defaults; raises `JobFailed` if the contract rejects it."""
        inputs, violations = check_input(job.endpoint, job.payload)
        if violations:
            raise JobFailed(Failure("invalid", "Unprocessable Entity", violations))
        return inputs

    def outcome(self, job: Job, link: Linker) -> dict[str, Any]:
        """The output of a finished job, media linked by ``link``; raises `JobFailed`."""
        if job.failure is not None:
            raise JobFailed(job.failure)
        inputs = self.validate(job)
        if job.fault is not None and job.fault.effect == "fail":
            raise JobFailed(fault_failure(job.fault))
        try:
            return synthesize(
                job.endpoint,
                inputs,
                job.seed,
                link,
                max_pixels=self.config.max_image_pixels,
                sources=self.sources,
                flagged=job.fault is not None and job.fault.effect == "nsfw",
            )
        except InputUnreachable as exc:
            details = {"field": exc.field, "url": exc.url}
            raise JobFailed(Failure("media_not_accessible", str(exc), details)) from None
        except InputRejected as exc:
            raise JobFailed(Failure("invalid", "Unprocessable Entity", exc.violations)) from None
        except UnsupportedMedia as exc:
            raise JobFailed(Failure("unsupported", str(exc))) from None
