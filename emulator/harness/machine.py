"""``keeps_calls_apart``: multi-call sessions as a Hypothesis state machine.

Real applications run several generations at once, through one client, while the
provider's weather changes. The machine makes calls (one to three at a time, in threads,
so several jobs are in flight together; every run starts with two), uploads files that
later calls name as input media, stages a transient error or a provider-side cancellation
for the next step, and changes how fast jobs move; after every step it checks that each
output a call returned is the output of a job made in that step (a cancelled job has
none), that no two calls got the same job's output, and that no step made more jobs than
it had calls.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from emulator.harness.checks import differences, media_urls, without_bytes
from emulator.harness.context import QUICK, Context
from emulator.harness.session import Session
from emulator.harness.sync_runs import SyncRuns
from emulator.strategies import tiny_picture

__all__ = ["CallsMachine", "machine_for"]


class CallsMachine(RuleBasedStateMachine):
    session: Session
    context: Context
    runs = 0
    #: the problems of the first run that failed (kept in case the run does not replay)
    first_problems: list[str] | None = None

    def __init__(self) -> None:
        super().__init__()
        type(self).runs += 1
        self.session.emulation.reset(0)
        self.session.emulation.progression = "immediate"
        self.calls = self.jobs = 0
        self.problems: list[str] = []
        self.uploads: list[str] = []

    def _faults(self) -> st.SearchStrategy[dict[str, Any] | None]:
        targets = self.context.surface.exchange_targets(self.context.endpoint.id)
        transient = [
            {"effect": "http_error", "status": 503, "times": 1, **target}
            for target in targets.values()
        ]
        cancelled = {"effect": "cancel", "times": 1}  # the provider cancels the next job
        return st.sampled_from([None, *transient, cancelled])

    def _with_uploads(self, data: st.DataObject, value: Any) -> Any:
        """``value`` with its input media naming files uploaded earlier, when there are."""
        if not self.uploads or not isinstance(value, dict):
            return value
        return {
            key: data.draw(st.sampled_from(self.uploads), key) if _names_media(key, item) else item
            for key, item in value.items()
        }

    @rule(data=st.data())
    def upload(self, data: st.DataObject) -> None:
        kind = data.draw(st.sampled_from(["png", "jpeg"]), "picture")
        self.uploads.append(self.session.upload(tiny_picture(kind), f"upload.{kind}"))

    @initialize(data=st.data())
    def two_calls_together(self, data: st.DataObject) -> None:
        """Every run starts with two calls at once: what the property is about, so that
        even a short run (a few examples) has calls in flight together."""
        self._calls(data, min_size=2, max_size=2)

    @rule(data=st.data())
    def call_together(self, data: st.DataObject) -> None:
        self._calls(data, min_size=1, max_size=3)

    def _calls(self, data: st.DataObject, *, min_size: int, max_size: int) -> None:
        drawn = data.draw(
            st.lists(self.context.inputs(), min_size=min_size, max_size=max_size), "inputs"
        )
        inputs = [self._with_uploads(data, value) for value in drawn]
        # A sync run's job is kept nowhere: its output is the one the engine made for it.
        with SyncRuns(self.session.emulation.engine) as sync_runs:
            seen, references = self.session.calls(inputs)
        references.update(sync_runs.outputs)
        self.calls += len(inputs)
        self.jobs += len(references)
        claimed: set[str] = set()
        for number, one in enumerate(seen):
            if one.output is None or one.error is not None or one.ran_away:
                continue
            matches = _owners(without_bytes(one.output), references)
            if not matches:
                self.problems.append(
                    f"call {number} returned no output of a job it made: {_brief(one.output)}"
                    " (one kept from an earlier call, or an error it caught and returned?)"
                )
            elif set(matches) <= claimed:
                self.problems.append(f"call {number} returned another call's output")
            claimed.update(matches[:1])

    @rule(data=st.data())
    def switch_faults(self, data: st.DataObject) -> None:
        self.session.emulation.clear_faults()
        fault = data.draw(self._faults(), "fault")
        if fault is not None:
            self.session.emulation.add_fault(**fault)

    @rule(progression=st.sampled_from(QUICK))
    def set_progression(self, progression: str) -> None:
        self.session.emulation.progression = progression

    def _holds(self, problems: list[str]) -> None:
        if problems and type(self).first_problems is None:
            type(self).first_problems = list(problems)
        assert not problems, "; ".join(problems)

    @invariant()
    def every_output_is_its_own(self) -> None:
        self._holds(self.problems)

    @invariant()
    def no_more_jobs_than_calls(self) -> None:
        self._holds([f"{self.jobs} jobs for {self.calls} calls"] if self.jobs > self.calls else [])


def _names_media(key: str, value: Any) -> bool:
    return key.endswith("_url") and "webhook" not in key and isinstance(value, str)


def _media(value: Any) -> set[str]:
    """The media a value names: CDN URLs and data URIs (each job's media are its own)."""
    if isinstance(value, str):
        return {value} if value.startswith("data:") else set()
    if isinstance(value, dict):
        found = {url for url, _ in media_urls(value)}
        return found.union(*(_media(item) for item in value.values()))
    if isinstance(value, list | tuple):
        return set().union(*(_media(item) for item in value))
    return set()


def _brief(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 80 else shown[:77] + "..."


def _owners(output: Any, references: dict[str, Any]) -> list[str]:
    """The jobs whose output this is: those whose media it names, or, for outputs without
    media, those it reproduces field for field."""
    named = _media(output)
    if named:
        return [job for job, reference in references.items() if named <= _media(reference)]
    return [
        job
        for job, reference in references.items()
        if reference is not None and not differences(reference, output)
    ]


def machine_for(session: Session, context: Context) -> type[CallsMachine]:
    """The machine bound to one session and context (Hypothesis makes a fresh instance
    per run, so the binding is on a subclass)."""
    return type("CallsMachine", (CallsMachine,), {"session": session, "context": context})
