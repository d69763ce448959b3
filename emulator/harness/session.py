"""Running the client under test through one scenario, and what was seen.

One emulation (manual clock) serves a whole run; each scenario resets it under its seed,
stages its progression and fault rules, calls the client once, and collects an
`Observation`: the output or the exception, the client's requests, and the phase every
status poll was answered with (so "polled after done" is exact, not inferred). The harness never
sleeps: jobs move by polls, and only the client's own sleeps take time (and, before a call,
the wait for a client that went on polling after its last call had returned to fall quiet:
`Limits.straggler_quiet`).

Every request the client makes passes one choke point, the `RequestGuard` (guard.py) on
the emulation's dispatcher, where the harness enforces its limits.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import httpx

from emulator.contracts.documents import Endpoint
from emulator.core.clock import ManualClock
from emulator.core.file_urls import file_url
from emulator.core.jobs import Job
from emulator.core.lifecycle import Phase
from emulator.core.record import RecordedRequest
from emulator.core.timeline import Look
from emulator.emulation import Emulation, emulate
from emulator.harness.fence import fence_off, fenceable_sleeps
from emulator.harness.guard import (
    DEFAULT_LIMITS,
    ClientRanAway,
    Limits,
    RequestGuard,
    call_timed,
)
from emulator.harness.scenario import Scenario
from emulator.harness.surfaces import Classified, surface_of
from emulator.harness.sync_runs import SyncRuns
from emulator.http.exchange import ConnectionDropped
from emulator.strategies import tiny_picture
from emulator.transport import AppDispatcher

__all__ = ["Observation", "Session"]

#: Where emulator-hosted input media live in every scenario (an uploaded 8x8 PNG).
HOSTED_MEDIA_ID = "0000c0ffee0000c0ffee0000"


def _not_a_staged_drop(record: logging.LogRecord) -> bool:
    """A connection the scenario drops on purpose is no error of the emulator's."""
    return not (record.exc_info and isinstance(record.exc_info[1], ConnectionDropped))


@dataclass
class Observation:
    scenario: Scenario
    output: Any = None
    error: BaseException | None = None
    ran_away: str | None = None
    requests: list[tuple[RecordedRequest, Classified]] = field(default_factory=list)
    #: per job id: the phase answered to each status poll, in order
    polls: dict[str, list[Phase]] = field(default_factory=dict)
    #: every job the emulator made in this scenario (billable ones)
    job_ids: list[str] = field(default_factory=list)
    #: per job id: the model output the provider returns for it (None if it failed)
    references: dict[str, Any] = field(default_factory=dict)
    #: per job id: whether the job was left running (neither done nor cancelled)
    unfinished: list[str] = field(default_factory=list)
    #: whether a fault rule the scenario staged at an exchange met one of its requests
    exchange_fault_fired: bool = False

    @property
    def succeeded(self) -> bool:
        return self.error is None and self.ran_away is None

    def of_kind(self, *kinds: str) -> list[RecordedRequest]:
        return [entry for entry, what in self.requests if what.kind in kinds]

    def retried(self) -> list[RecordedRequest]:
        """The requests answered an error a client may retry (408, 429, 5xx) that it sent
        again: its own (or its SDK's) retries."""
        entries = [entry for entry, _ in self.requests]
        return [
            entry
            for n, entry in enumerate(entries)
            if retryable(entry.status)
            and any((e.method, e.path) == (entry.method, entry.path) for e in entries[n + 1 :])
        ]


def retryable(status: int) -> bool:
    """Whether an answer is an error a client may send its request again after."""
    return status in (408, 429) or status >= 500


def _restorer(emulation: Emulation) -> Callable[[], None]:
    """What puts ``emulation`` back as it is now: its seed (and so a fresh start under it,
    as when it was started), its progression and its fault rules. The scenarios reset and
    restage it, and leave their jobs in it."""
    seed, progression = emulation.engine.seed, emulation.progression
    rules = [rule.definition() for rule in emulation.faults]

    def restore() -> None:
        emulation.engine.reset(seed)
        emulation.progression = progression
        for rule in rules:
            emulation.add_fault(**rule)

    return restore


def call_client(client: Callable[..., Any], endpoint_id: str, arguments: Any) -> Any:
    """Run ``client(endpoint_id, arguments)``, sync or async, to its end."""
    result = client(endpoint_id, arguments)
    if not inspect.isawaitable(result):
        return result

    async def wait() -> Any:
        return await result

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(wait())
    # `check` was called from async code: this thread's loop is busy running the caller
    # (and blocked until `check` returns), so the client gets a loop of its own.
    with ThreadPoolExecutor(1, thread_name_prefix="harness-client") as own_loop:
        return own_loop.submit(asyncio.run, wait()).result()


class Session:
    """An emulation for a run of scenarios against one client and endpoint."""

    def __init__(
        self,
        client: Callable[..., Any],
        provider: str,
        endpoint_id: str,
        *,
        limits: Limits = DEFAULT_LIMITS,
        emulation: Emulation | None = None,
        contracts: Iterable[Path | str] = (),
    ) -> None:
        """``contracts``: documents of the user's own its emulation serves (when it makes
        one: a given ``emulation`` serves its own)."""
        self.client, self.provider, self.endpoint_id = client, provider, endpoint_id
        self.surface = surface_of(provider)
        self.limits = limits
        self._owned = emulation is None
        self.emulation = emulation or emulate(
            clock=ManualClock(), progression="immediate", contracts=contracts
        )
        # The one place every intercepted request passes (see the module's docstring).
        self._guard = RequestGuard(
            self.emulation._dispatcher, self.surface, limits, self._is_current_job
        )
        # The harness's own reads go straight to the app (past the interception and guard).
        self._reading = AppDispatcher(self.emulation.app)
        self._polls: dict[str, list[Phase]] = {}
        self._poll = self.emulation.engine.poll
        # What entering installs and changes, undone in reverse order on exit.
        self._undo = ExitStack()

    def _watched_poll(self, job: Job) -> Look:
        seen = self._poll(job)
        self._polls.setdefault(job.id, []).append(seen.phase)
        return seen

    def _is_current_job(self, job_id: str) -> bool:
        return any(job.id == job_id for job in self.emulation.engine.jobs)

    def _read(self, url: str, headers: dict[str, str] | None = None) -> httpx.Response:
        response = self._reading.handle_sync(httpx.Request("GET", url, headers=headers))
        response.read()
        return response

    @property
    def endpoint(self) -> Endpoint:
        endpoint = self.emulation.engine.contracts.get(self.provider, self.endpoint_id)
        if endpoint is None:
            raise LookupError(f"no {self.provider} contract for {self.endpoint_id!r}")
        return endpoint

    def hosted_media(self) -> list[str]:
        """The emulator-hosted input media every scenario may name."""
        return [file_url(self.surface.cdn_base, HOSTED_MEDIA_ID, "input.png")]

    def upload(self, data: bytes, name: str) -> str:
        """Store ``data`` as an upload of the emulator's, as another part of the user's
        application would have uploaded it; its CDN URL."""
        stored = self.emulation.engine.storage.put(data, "image/png", name)
        return file_url(self.surface.cdn_base, stored.id, stored.name)

    def __enter__(self) -> Session:
        emulation = self.emulation
        with ExitStack() as undo:  # undone at once if a step fails, else on exit
            if self._owned:
                emulation.start()
                undo.callback(emulation.stop)
            else:  # a borrowed emulation is handed back as it was lent
                undo.callback(_restorer(emulation))
            undo.callback(self._reading.close)
            logger = logging.getLogger("emulator")
            logger.addFilter(_not_a_staged_drop)
            undo.callback(logger.removeFilter, _not_a_staged_drop)
            undo.enter_context(self._guard.installed())
            undo.enter_context(fenceable_sleeps())  # a poller's, asleep when it is fenced
            undo.enter_context(mock.patch.object(emulation.engine, "poll", self._watched_poll))
            self._undo = undo.pop_all()
        return self

    def __exit__(self, *exc: object) -> None:
        # Work of the client's still running (a poller asleep in its backoff) would reach
        # the real hosts once the interception is gone: fenced off before it goes.
        fence_off(self._guard.leftovers())
        self._undo.close()

    # -- one scenario ----------------------------------------------------------------------

    def _stage(self, scenario: Scenario) -> None:
        emulation = self.emulation
        emulation.reset(scenario.seed)
        self._polls = {}
        emulation.progression = scenario.progression
        for rule in scenario.faults:
            emulation.add_fault(**rule)
        emulation.engine.storage.put(tiny_picture(), "image/png", "input.png", HOSTED_MEDIA_ID)

    def time_limit(self, scenario: Scenario, patience: float = 1) -> float:
        """The seconds a call in ``scenario`` may take: `Limits.call_timeout`, stretched
        ``patience`` times, and the time the provider's clients spend retrying the answer
        of its failure on top (`Surface.retry_allowance`)."""
        allowance = self.surface.retry_allowance(scenario.faults)
        return self.limits.call_timeout * patience + allowance

    def run(self, scenario: Scenario, *, patience: float = 1) -> Observation:
        """One call of the client in ``scenario``; ``patience`` stretches its time limit."""
        self._guard.settle()
        self._stage(scenario)
        seen = Observation(scenario)
        with SyncRuns(self.emulation.engine) as sync_runs:
            self._guard.open_call(
                lose_submit_answer=scenario.lose_submit_answer,
                time_limit=self.time_limit(scenario, patience),
            )
            try:
                self._call_into(seen)
            finally:
                self._guard.close_call()
        self._collect(seen, sync_runs.outputs)
        self._guard.retired.update(seen.job_ids)
        return seen

    def calls(self, arguments: list[Any]) -> tuple[list[Observation], dict[str, Any]]:
        """Several calls at once, one thread each, on the emulation as it stands (no
        reset): what each call did, and the references of the jobs they made."""
        self._guard.settle()
        engine = self.emulation.engine
        before = {job.id for job in engine.jobs}
        seen = [Observation(Scenario("session", value)) for value in arguments]
        self._guard.open_call(lose_submit_answer=False, calls=len(arguments))
        threads = [threading.Thread(target=self._call_into, args=(one,)) for one in seen]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(self.limits.call_timeout + 1)
        self._guard.close_call()
        self.emulation.clear_faults()
        made = [job for job in engine.jobs if job.id not in before]
        self._guard.retired.update(job.id for job in made)
        return seen, {job.id: self._reference(job) for job in made}

    def _call_into(self, seen: Observation) -> None:
        try:
            with call_timed(self._guard.time_limit):  # a command client's, unless given one
                seen.output = call_client(self.client, self.endpoint_id, seen.scenario.input)
        except ClientRanAway as stopped:
            seen.ran_away = str(stopped)
        except Exception as error:
            seen.error = error

    @property
    def late_requests(self) -> list[str]:
        """Requests clients made about their jobs after their calls had returned."""
        return list(self._guard.late)

    def _collect(self, seen: Observation, sync_outputs: dict[str, Any]) -> None:
        """What the call did; ``sync_outputs`` are the outputs the engine made for its
        sync runs' jobs (kept nowhere, so not among the engine's jobs): what the client
        must return, as a queued job's result is."""
        engine = self.emulation.engine
        seen.requests = [(entry, self.surface.classify(entry)) for entry in engine.record]
        seen.polls = {job_id: list(phases) for job_id, phases in self._polls.items()}
        jobs = list(engine.jobs)
        seen.job_ids = [job.id for job in jobs]
        seen.unfinished = [
            job.id
            for job in jobs
            if engine.look(job).phase is not Phase.DONE
            and not (job.failure is not None and job.failure.kind == "cancelled")
        ]
        seen.exchange_fault_fired = any(
            rule.fired for rule in self.emulation.faults if rule.stage == "exchange"
        )
        self.emulation.clear_faults()  # the harness's own reads are not the client's
        for job in jobs:
            seen.references[job.id] = self._reference(job)
        seen.references.update(sync_outputs)  # (billed as runs: the record counts them)

    def _reference(self, job: Job) -> Any:
        """What the provider answers for ``job``'s result, read as a client would."""
        if self.emulation.engine.look(job).phase is not Phase.DONE:
            return None
        url = self.surface.result_url(self.endpoint_id, job.id)
        answer = self._read(url, {"Authorization": self.surface.authorization(job.owner)})
        if answer.status_code != 200:
            return None
        return self.surface.output_of(answer.json())

    def fetch(self, url: str) -> httpx.Response:
        """GET a URL the client returned, from the emulator, as the harness's own read."""
        return self._read(url)
