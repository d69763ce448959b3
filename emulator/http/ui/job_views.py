"""What the dashboard shows of jobs: rows for the table, a timeline, and the output."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

from emulator.core.engine import Engine
from emulator.core.excerpts import excerpt
from emulator.core.jobs import Failure, Job
from emulator.core.lifecycle import Phase
from emulator.core.outcomes import JobFailed
from emulator.core.record import mask_key
from emulator.core.registry import client_job_id
from emulator.core.timeline import Look, has_started
from emulator.media.links import Linker


@dataclass(frozen=True)
class Step:
    """One state of the timeline: reached or not, and when, where that is known."""

    label: str
    reached: bool
    at: float | None = None  # unix seconds
    note: str = ""


@dataclass(frozen=True)
class JobRow:
    job: Job
    look: Look
    state: str  # queued, in progress, completed, failed, cancelled, deleted
    key: str  # masked

    @property
    def provider(self) -> str:
        return self.job.endpoint.provider

    @property
    def input(self) -> str:
        """What the job was asked, in a line: its prompt, else its input as JSON, cut to
        `ROW_INPUT` characters (a prompt may be megabytes, and the table is refreshed)."""
        payload = self.job.payload
        prompt = payload.get("prompt") if isinstance(payload, dict) else None
        if not isinstance(prompt, str) or not prompt:
            prompt = json.dumps(shortened(payload, ROW_INPUT), ensure_ascii=False)
        return prompt if len(prompt) <= ROW_INPUT else prompt[:ROW_INPUT] + "…"


#: the most characters of a job's input its row in the jobs table shows
ROW_INPUT = 80


def state_of(look: Look) -> str:
    if look.phase is Phase.QUEUED:
        return "queued"
    if look.phase is Phase.RUNNING:
        return "in progress"
    if look.failure is None:
        return "completed"
    return "cancelled" if look.failure.kind == "cancelled" else "failed"


STATES = ("queued", "in progress", "completed", "failed", "cancelled", "deleted")


def look_of(engine: Engine, job: Job) -> Look:
    """How ``job`` looks to the dashboard: failed, too, if its output came out a failure
    (fal's status says COMPLETED, then its result is a 422), once that output was made."""
    look = engine.look(job)
    if look.phase is Phase.DONE and look.failure is None:
        failure = engine.output_failure(job)
        if failure is not None:
            look = look._replace(failure=failure)
    return look


def job_state(job: Job, look: Look) -> str:
    """A job's state as the dashboard lists it: deleted from its key's history (WaveSpeed's
    history API; its result then answers the status "deleted"), else as ``look`` finds it."""
    return "deleted" if job.deleted else state_of(look)


def row(engine: Engine, job: Job) -> JobRow:
    look = look_of(engine, job)
    return JobRow(job, look, job_state(job, look), mask_key(job.owner))


#: how many of the newest jobs the dashboard's listing looks at (and filters)
LISTED = 10_000


class NewestFirst(Sequence[Job]):
    """The newest `LISTED` jobs, newest first, read a page at a time: a page of the table
    reads its 50 jobs, not all of them (which, on a shared store, are round trips)."""

    def __init__(self, engine: Engine, count: int = LISTED) -> None:
        self._jobs = engine.jobs
        self._kept = len(self._jobs)
        self._count = min(self._kept, count)

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> Job: ...
    @overload
    def __getitem__(self, index: slice) -> list[Job]: ...
    def __getitem__(self, index: int | slice) -> Job | list[Job]:
        if isinstance(index, int):
            return self[index : index + 1][0]
        start, stop, _ = index.indices(self._count)
        if stop <= start:
            return []
        return self._jobs.page(self._kept - stop, stop - start)[::-1]

    def __iter__(self) -> Iterator[Job]:
        return iter(self._jobs.newest(self._count))


def newest_jobs(
    engine: Engine, provider: str = "", endpoint: str = "", count: int = LISTED
) -> Sequence[Job]:
    """The newest ``count`` retained jobs, newest first, of ``provider`` and with
    ``endpoint`` in their id."""
    if not provider and not endpoint:
        return NewestFirst(engine, count)
    jobs = engine.jobs.newest(count)
    return [
        job
        for job in jobs
        if (not provider or job.endpoint.provider == provider)
        and (not endpoint or endpoint in job.endpoint.id)
    ]


def shown_id(job: Job) -> str:
    """The id the dashboard names ``job`` by: its provider's clients' (WaveSpeed's has no
    dashes)."""
    return client_job_id(job.endpoint.provider, job.id)


def find_job(engine: Engine, job_id: str) -> Job | None:
    """A retained job by id, whoever owns it (the dashboard sees every key's jobs); a
    WaveSpeed prediction id (32 hex digits, no dashes) names its job too."""
    try:
        job_id = str(uuid.UUID(job_id))
    except ValueError:
        return None  # no job has an id that is not a UUID
    return engine.jobs.peek(job_id)


def timeline(engine: Engine, job: Job, look: Look) -> list[Step]:
    """queued → in progress → completed/failed, with times where the progression fixes
    them (wall clock), or the polls that move the job (``polls:`` progressions)."""
    progression = engine.progression_of(job)
    ended = state_of(look) if look.phase is Phase.DONE else "completed"
    queued, ran = Step("queued", True, job.submitted_wall), has_started(look)
    if progression.mode == "polls":
        return [
            queued,
            Step("in progress", ran, note=_polls(job.queue_span)),
            Step(ended, look.phase is Phase.DONE, note=_polls(job.queue_span + job.run_span)),
        ]
    started = job.submitted_wall + job.queue_span
    return [
        queued,
        Step("in progress", ran, started if ran else None),
        # A job cancelled or timed out early has no fixed end time.
        Step(ended, look.phase is Phase.DONE, None if job.failure else started + job.run_span),
    ]


def _polls(count: float) -> str:
    return f"after {count:g} status poll{'' if count == 1 else 's'}"


#: what a job's provider's result route answers for it, its media linked by a linker
Result = Callable[[Job, Linker], Any]


def outcome(
    engine: Engine, job: Job, link: Linker, result: Result | None = None
) -> tuple[Any, Failure | None]:
    """A finished job's output (as its provider's ``result`` route answers it, else as the
    engine made it for ``link``) or its failure; neither while it runs. A deleted job's
    is what its result route answers, whatever its phase: that it was deleted."""
    if job.deleted and result is not None:
        return result(job, link), None
    if engine.look(job).phase is not Phase.DONE:
        return None, None
    try:
        output = engine.outcome(job, link)
    except JobFailed as failed:
        return None, failed.failure
    return (output if result is None else result(job, link)), None


def strings(value: Any) -> Iterator[str]:
    """Every string in a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def shortened(value: Any, limit: int = 240) -> Any:
    """A JSON value with long strings (inline media) cut, for showing."""
    if isinstance(value, str):
        return excerpt(value, limit)
    if isinstance(value, dict):
        return {k: shortened(v, limit) for k, v in value.items()}
    if isinstance(value, list):
        return [shortened(v, limit) for v in value]
    return value
