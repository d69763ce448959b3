"""Driving the properties with Hypothesis, and the Python API: `check` → `Report`.

Each property runs as one Hypothesis test over its scenarios (hypothesis_test.py: the
active profile's settings, a database key of its own). Shrinking re-runs the client, which
can sleep, so it has a budget: past ``shrink_budget`` runs or ``shrink_seconds`` after the
first failure, the search ends (`_BudgetSpent`) and the smallest failure found so far is
reported.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

import hypothesis
from hypothesis import Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from emulator.core.faults import EFFECTS
from emulator.core.record import RecordedRequest
from emulator.emulation import Emulation
from emulator.harness.context import fails_unstaged, minimal
from emulator.harness.guard import STILL_CALLING
from emulator.harness.hypothesis_test import property_settings, property_test
from emulator.harness.machine import machine_for
from emulator.harness.options import Options, setting_words
from emulator.harness.probes import Probes
from emulator.harness.properties import PROPERTIES, Context, Property
from emulator.harness.report import FAILED, HELD, NOT_APPLICABLE, PropertyOutcome, Report
from emulator.harness.scenario import Scenario
from emulator.harness.session import Observation, Session
from emulator.harness.simplify import kinds, simpler, size
from emulator.harness.targets import client_target
from emulator.harness.time_recheck import recheck_time

__all__ = ["Options", "check"]


#: why a failing multi-call run comes without its steps
NOT_REPLAYED = (
    "the same steps did not fail the same way when run again: the client keeps state "
    "across calls (a cache, a shared object), so what a call returns depends on earlier "
    "calls, even those of earlier runs"
)

#: why Hypothesis's replay of a failure went otherwise
NOT_REPEATED = (
    "a failing scenario went otherwise when Hypothesis ran it again: the client's "
    "behaviour depends on more than the scenario (state kept across calls, or timing)"
)

#: why a property none of whose drawn scenarios Hypothesis could use does not apply
NOTHING_JUDGED = (
    "Hypothesis discarded every scenario it drew (inputs the emulation cannot render): "
    "none was put to the test"
)


class PropertyFailed(AssertionError):
    def __init__(self, scenario: Scenario, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.scenario, self.problems = scenario, problems


class _BudgetSpent(BaseException):  # noqa: N818 (not an error: the end of a search)
    """Ends Hypothesis's search once the shrink budget is spent: not an ``Exception``, so
    Hypothesis does not take it for a failure to shrink (or replay), but stops."""


def check(
    client: Callable[..., Any],
    *,
    provider: str,
    endpoint: str,
    properties: Iterable[str] | None = None,
    options: Options | None = None,
    emulation: Emulation | None = None,
    replay: Scenario | None = None,
) -> Report:
    """Run the client under test through the selected properties (all by default).

    ``client(endpoint_id, arguments)`` runs one generation, sync or async, and returns the
    output or raises. ``emulation`` reuses an emulation (the ``provider_emulator``
    fixture's); by default the harness makes its own. ``replay`` runs one scenario only.
    """
    if not callable(client):
        raise TypeError(f"the client must be callable, not {client!r}")
    if isinstance(properties, str):
        raise TypeError(f"properties is a list of names, not the string {properties!r}")
    options = options or Options()
    if not options.target:
        options = replace(options, target=client_target(client))
    names = list(properties or PROPERTIES)
    unknown = [name for name in names if name not in PROPERTIES]
    if unknown:
        raise ValueError(f"unknown properties: {', '.join(unknown)} (see PROPERTIES)")
    report = Report(provider, endpoint, options.target)
    session = Session(
        client,
        provider,
        endpoint,
        limits=options.limits,
        emulation=emulation,
        contracts=options.contracts,
    )
    with session as s:
        context = Context(
            provider,
            s.endpoint,
            s.surface,
            s.fetch,
            tuple(s.hosted_media()),
            options.max_polls_per_second,
            options.retry_after,
            options.slow_answer,
            options.is_error,
            s.emulation.engine.limits,
            options.limits.call_timeout,
        )
        probes = Probes(s.run)
        for name in names:
            runner = _PropertyRun(PROPERTIES[name], context, s, options, probes)
            outcome = runner.replay(replay) if replay else runner.run()
            report.outcomes.append(outcome)
            if options.progress is not None:
                options.progress(outcome)
    return report


class _PropertyRun:
    def __init__(
        self, prop: Property, context: Context, session: Session, options: Options, probes: Probes
    ) -> None:
        self.prop, self.context, self.session, self.options = prop, context, session, options
        self.probes = probes  # the check's, shared by its properties
        self.examples = 0  # runs of the client (a probe given another's run is none)
        self.failures: list[PropertyFailed] = []
        self.after_failure = 0
        self.first_failure_at = 0.0
        self.shrink_cut_short = False  # a simpler candidate was left untried: budget spent
        self.notes: list[str] = []
        self.late_before = len(session.late_requests)
        #: runs with an error or a delay staged at an exchange, and whether one ever fired
        self.exchange_runs, self.exchange_fired = 0, False
        self.last_requests: list[RecordedRequest] = []
        #: scenarios judged, and those whose input fails with nothing staged too (why)
        self.judged, self.unstaged_runs = 0, 0
        self.unstaged_reason: str | None = None

    def _observe(self, scenario: Scenario) -> Observation:
        self.examples += 1
        return self._exchanged(self.session.run(scenario))

    def _probe(self, scenario: Scenario) -> Observation:
        seen, ran = self.probes.probe(scenario)
        self.examples += ran
        return self._exchanged(seen)

    def _exchanged(self, seen: Observation) -> Observation:
        """``seen``, noted if its scenario staged a fault at an exchange."""
        if any(rule.get("effect") in EFFECTS["exchange"] for rule in seen.scenario.faults):
            self.exchange_runs += 1
            self.exchange_fired = self.exchange_fired or seen.exchange_fault_fired
            self.last_requests = [entry for entry, _ in seen.requests]
        return seen

    def _held(self, started: float) -> PropertyOutcome:
        """Held, unless every error or delay it staged at an exchange missed the client's
        requests (a client of an exchange the harness does not stage faults at): then it
        was never put to the test."""
        if self.exchange_runs and not self.exchange_fired:
            sent = sorted({f"{entry.method} {entry.host}" for entry in self.last_requests})
            reason = (
                "none of the errors or delays it stages at the provider's exchanges met a "
                f"request of the client's (it sent {', '.join(sent) or 'none'})"
            )
            return self._outcome(started, status=NOT_APPLICABLE, reason=reason)
        return self._outcome(started, status=HELD)

    def _outcome(self, started: float, **fields: Any) -> PropertyOutcome:
        late = self.session.late_requests[self.late_before :]
        notes = list(self.notes)
        if late:
            notes.append(
                f"after its calls had returned, the client went on with {len(late)} request(s) "
                f"about their jobs (stopped by the harness), e.g. {late[0]}"
            )
        return PropertyOutcome(
            self.prop.name,
            behaviour=self.prop.behaviour,
            examples=self.examples,
            seconds=time.monotonic() - started,
            notes=notes,
            **fields,
        )

    def _failed(self, started: float, failure: PropertyFailed) -> PropertyOutcome:
        replay = failure.scenario.replay_command(
            self.options.target,
            self.context.provider,
            self.context.endpoint.id,
            self.options.contracts,
            setting_words(self.options),
        )
        if any(STILL_CALLING in problem for problem in failure.problems) and (
            note := recheck_time(self.prop, self.context, self.session, failure.scenario)
        ):
            self.notes.append(note)
        if self.shrink_cut_short:
            self.notes.append(
                f"simplifying stopped at its budget ({self.options.shrink_budget} runs or "
                f"{self.options.shrink_seconds:g} s after the first failure): the scenario may "
                "keep fields its failure does not need (Options(shrink_seconds=...))"
            )
        return self._outcome(
            started,
            status=FAILED,
            problems=failure.problems,
            scenario=failure.scenario,
            replay=replay,
        )

    def replay(self, scenario: Scenario) -> PropertyOutcome:
        started = time.monotonic()
        problems = self.prop.judge(self.context, self._observe(scenario))
        if problems and (reason := self._unprovoked(scenario)):
            return self._outcome(started, status=NOT_APPLICABLE, reason=reason)
        if problems:
            return self._failed(started, PropertyFailed(scenario, problems))
        return self._held(started)

    def _unprovoked(self, scenario: Scenario) -> str | None:
        if self.prop.unstaged is None:
            return None
        return fails_unstaged(self.context, self.prop.unstaged, self.session.run, scenario)

    def run(self) -> PropertyOutcome:
        started = time.monotonic()
        reason = self.prop.applies(self.context, self._probe)
        if reason is not None:
            return self._outcome(started, status=NOT_APPLICABLE, reason=reason)
        try:
            if self.prop.stateful:
                return self._run_machine(started)
            return self._run_drawn(started)
        except hypothesis.errors.Unsatisfiable:
            # raised only before any failure: one property's, never the whole check's
            return self._outcome(started, status=NOT_APPLICABLE, reason=NOTHING_JUDGED)

    def _run_drawn(self, started: float) -> PropertyOutcome:
        try:
            property_test(self.prop, self.context, self.options, self._example)()
        except (PropertyFailed, _BudgetSpent):
            pass
        except hypothesis.errors.HypothesisException as error:
            if not self.failures:
                raise
            if isinstance(error, hypothesis.errors.Flaky):
                self.notes.append(NOT_REPEATED)
        if self.failures:
            return self._failed(started, self._smallest_failure())
        if self.unstaged_reason is not None and not self.judged:
            return self._outcome(started, status=NOT_APPLICABLE, reason=self.unstaged_reason)
        if self.unstaged_reason is not None:
            self.notes.append(
                f"{self.unstaged_runs} of its inputs were not held against it: "
                f"{self.unstaged_reason}"
            )
        return self._held(started)

    def _run_machine(self, started: float) -> PropertyOutcome:
        machine = machine_for(self.session, self.context)
        try:
            # A step is up to three real calls, each taking the client's own time: runs stay
            # short (so a failing run is readable as it is) and are not shrunk.
            short_runs = settings(
                property_settings(self.prop, self.options),
                stateful_step_count=self.options.machine_steps,
                phases=[Phase.explicit, Phase.reuse, Phase.generate],
            )
            run_state_machine_as_test(machine, settings=short_runs)
        except hypothesis.errors.Flaky:
            if machine.first_problems is None:
                raise
            self.examples = machine.runs
            problems = [*machine.first_problems, NOT_REPLAYED]
            return self._outcome(
                started, status=FAILED, problems=problems, replay=self._machine_replay()
            )
        except AssertionError as failure:
            self.examples = machine.runs
            notes = getattr(failure, "__notes__", [])
            steps = [note for note in notes if "state." in note or note.startswith("Draw ")]
            problems = [str(failure).splitlines()[0], "the steps:", *steps]
            return self._outcome(
                started, status=FAILED, problems=problems, replay=self._machine_replay()
            )
        self.examples = machine.runs
        return self._outcome(started, status=HELD)

    def _machine_replay(self) -> str:
        """The line that runs the property again (Hypothesis's example database keeps the
        failing run and tries it first)."""
        return shlex.join(
            ["provider-emulator", "conformance", self.options.target, "--provider",
             self.context.provider, "--endpoint", self.context.endpoint.id,
             "--property", self.prop.name, *setting_words(self.options)]
        )  # fmt: skip

    def _spent(self) -> bool:
        """Whether the shrink budget (runs and seconds since the first failure) is spent."""
        late = time.monotonic() - self.first_failure_at >= self.options.shrink_seconds
        return late or self.after_failure >= self.options.shrink_budget

    def _example(self, scenario: Scenario) -> None:
        if self.failures:
            if self._spent():
                # Hypothesis would go on shrinking (and replay its smallest failure): each
                # candidate a run of the client, whose every failure may take its time limit
                self.shrink_cut_short = True
                raise _BudgetSpent
            self.after_failure += 1
        problems = self.prop.judge(self.context, self._observe(scenario))
        if problems and (reason := self._unprovoked(scenario)):
            # returns_valid_output's finding, which blaming the faults would hide; the draw
            # counts (a reject would ask for another, two calls more, and fail the property
            # with Unsatisfiable if none is left)
            self.unstaged_runs, self.unstaged_reason = self.unstaged_runs + 1, reason
            return
        self.judged += not problems
        if problems:
            failure = PropertyFailed(scenario, problems)
            first = not self.failures
            if first:
                self.first_failure_at = time.monotonic()
            self.failures.append(failure)
            if first:
                self._try_simpler(failure)
            raise failure

    def _try_simpler(self, failure: PropertyFailed) -> None:
        """Try the simpler variants of the first failure (`simplify.simpler`), greedily,
        within the shrink budget; those that fail the same way join the failures."""
        same_way, tried = kinds(failure.problems), {failure.scenario.to_json()}
        simplest, current = minimal(self.context), failure.scenario
        # fault rules may go unless the property is about them (`Property.every`)
        drop_faults = self.prop.every is None
        while True:
            candidates = simpler(current, simplest, self.context.endpoint, drop_faults=drop_faults)
            for candidate in candidates:
                if candidate.to_json() in tried:
                    continue
                tried.add(candidate.to_json())
                if self._spent():
                    self.shrink_cut_short = True
                    return
                self.after_failure += 1
                problems = self.prop.judge(self.context, self._observe(candidate))
                if kinds(problems) & same_way and not self._unprovoked(candidate):
                    self.failures.append(PropertyFailed(candidate, problems))
                    current = candidate
                    break
            else:
                return

    def _smallest_failure(self) -> PropertyFailed:
        return min(reversed(self.failures), key=lambda failure: size(failure.scenario))
