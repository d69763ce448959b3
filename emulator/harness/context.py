"""What every property is made of: the run's context, the property record, and the
scenario strategies they share."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
from hypothesis import Phase, currently_in_test_context, find, reject, settings
from hypothesis import strategies as st

from emulator.contracts.documents import Endpoint
from emulator.contracts.limits import COUNT_FIELDS, Limits, check_limits
from emulator.contracts.validation import check_input
from emulator.harness.checks import error_text
from emulator.harness.guard import DEFAULT_LIMITS
from emulator.harness.scenario import Scenario
from emulator.harness.session import Observation
from emulator.harness.surfaces import Surface
from emulator.strategies import boundary_inputs, valid_inputs

__all__ = [
    "Context",
    "Probe",
    "Property",
    "beyond_emulator",
    "minimal",
    "ran_away",
    "raised",
    "scenarios",
    "sent_nothing",
]

#: cheap progressions (the client's own poll sleeps are the cost of each example)
QUICK = ("immediate", "polls:0,1", "polls:1,0", "polls:1,1")
#: progressions with a status poll before the job is done
POLLING = ("polls:0,1", "polls:1,0", "polls:1,1", "polls:2,1")
#: progressions with enough polls to see a client's pace (at least three status polls)
POLLED = ("polls:1,1", "polls:2,1", "polls:1,2")
#: seconds a slow answer keeps the client waiting, by default: longer than a hasty client's
#: timeout, well within a call's time limit (`Limits.call_timeout`, 5 s by default)
SLOW_ANSWER = 2.5
NO_FAULTS: st.SearchStrategy[tuple[dict[str, Any], ...]] = st.just(())
ANSWERS_ARRIVE = st.just(False)


@dataclass(frozen=True)
class Context:
    """What properties know of the run: the endpoint, and the user's settings."""

    provider: str
    endpoint: Endpoint
    surface: Surface
    fetch: Callable[[str], httpx.Response]
    hosted_media: tuple[str, ...] = ()
    #: a client polling faster than this (on average) is busy-polling; fal_client's own
    #: interval is 0.1 s (10/s), so the default allows twice its pace
    max_polls_per_second: float = 20.0
    #: the Retry-After (whole seconds, as HTTP sends it) of staged 429s, where the
    #: provider's say one (`Surface.says_retry_after`)
    retry_after: int = 1
    #: how long `survives_slow_answers` keeps the client waiting for one answer
    slow_answer: float = SLOW_ANSWER
    #: says whether a returned value is the user's explicit error value
    is_error: Callable[[Any], bool] | None = None
    #: what the emulation renders (its `Engine.limits`): drawn inputs keep within them
    emulator_limits: Limits = Limits()
    #: the most one call may take (`harness.guard.Limits.call_timeout`)
    call_timeout: float = DEFAULT_LIMITS.call_timeout

    def inputs(self) -> st.SearchStrategy[Any]:
        """Valid and boundary inputs, without webhook URLs: deliveries are the webhook
        helper's business, and a drawn URL would only be refused or sent nowhere."""
        media, limits = self.hosted_media, self.emulator_limits
        drawn = valid_inputs(self.endpoint, media=media, limits=limits) | boundary_inputs(
            self.endpoint, media=media, limits=limits
        )
        return drawn.map(_without_webhooks)

    def declared_error(self, output: Any) -> bool:
        return self.is_error is not None and bool(self.is_error(output))


def beyond_emulator(context: Context, seen: Observation) -> bool:
    """Whether the scenario's input asks for more than the emulator renders (an
    ``emulator_limit`` refusal, seen in the emulator's own check or in what the client
    raised): no valid input, so no verdict on the client. In a Hypothesis test the
    example is discarded (`hypothesis.reject`); on a replay the caller gets True."""
    value = seen.scenario.input
    inputs, violations = check_input(context.endpoint, value)
    limited = not violations and bool(
        check_limits(context.endpoint, inputs, context.emulator_limits)
    )
    limited = limited or (
        seen.error is not None and "emulator_limit" in error_text(seen.error, with_bodies=True)
    )
    if limited and currently_in_test_context():
        reject()
    return limited


def _without_webhooks(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    return {k: v for k, v in value.items() if "webhook" not in k}


Judge = Callable[[Context, Observation], list[str]]
Draw = Callable[[Context, str], st.SearchStrategy[Scenario]]
Probe = Callable[[Context, Callable[[Scenario], Observation]], str | None]


@dataclass(frozen=True)
class Property:
    name: str
    #: the provider behaviour the property comes from
    behaviour: str
    scenarios: Draw
    judge: Judge
    applies: Probe = field(default=lambda context, probe: None)
    #: run as the multi-call state machine (`emulator.harness.machine`), not per scenario
    stateful: bool = False
    #: fault-rule sets each tried once (on the simplest input) before Hypothesis draws, so
    #: that every failure kind is covered whatever ``max_examples`` is
    every: Callable[[Context], list[tuple[dict[str, Any], ...]]] | None = None
    #: whole scenarios each tried once before Hypothesis draws (as ``every``'s fault sets)
    explicit: Callable[[Context], list[Scenario]] | None = None
    #: ``every``'s and ``explicit``'s scenarios only, none drawn: each takes seconds
    exhaustive: bool = False
    #: the judge a run of a failing scenario's input with nothing staged must pass for the
    #: failure to be blamed on what was staged (`judge_output`): a client that fails that
    #: input anyway is `returns_valid_output`'s finding, and the example is not judged
    unstaged: Judge | None = None


def scenarios(
    context: Context,
    name: str,
    *,
    progressions: tuple[str, ...] = QUICK,
    faults: st.SearchStrategy[tuple[dict[str, Any], ...]] = NO_FAULTS,
    lose_submit_answer: st.SearchStrategy[bool] = ANSWERS_ARRIVE,
) -> st.SearchStrategy[Scenario]:
    return st.builds(
        Scenario,
        property=st.just(name),
        input=context.inputs(),
        progression=st.sampled_from(progressions),
        faults=faults,
        seed=st.integers(0, 2**16),
        lose_submit_answer=lose_submit_answer,
    )


def fails_unprovoked(
    context: Context, probe: Callable[[Scenario], Observation], name: str
) -> str | None:
    """Why a property about a provider's failure mode does not apply: the client fails a
    valid input with nothing staged too, which `returns_valid_output` reports; blaming the
    failure mode would send its reader the wrong way (None: it succeeds). Tried at once and
    with a job that takes polls (a queued status taken for a failure fails only there), on
    the simplest input; `Property.unstaged` asks it again of each input that fails."""
    for progression in ("immediate", "polls:1,2"):
        seen = probe(Scenario(name, minimal(context), progression))
        if seen.error is not None and not seen.ran_away:
            return (
                f"the client fails a valid input with nothing staged too ({raised(seen)}): "
                "see returns_valid_output"
            )
    return None


def fails_unstaged(
    context: Context, judge: Judge, run: Callable[[Scenario], Observation], scenario: Scenario
) -> str | None:
    """Why a failure of ``scenario`` is not what it staged's doing, if it is not: its input
    fails ``judge`` with nothing staged too (`Property.unstaged`). `fails_unprovoked` asks
    it of the simplest input only, before any draw; a drawn one may fail where that does
    not (fal's ``sync_mode: true`` answers data URIs, which a client may not read)."""
    if not (scenario.faults or scenario.lose_submit_answer):
        return None
    problems = judge(context, run(replace(scenario, faults=(), lose_submit_answer=False)))
    if not problems:
        return None
    return (
        f"the client fails this input with nothing staged too ({problems[0]}): "
        "see returns_valid_output"
    )


def sent_nothing(seen: Observation, so: str) -> str | None:
    """Why a property about the requests a client sends does not apply to it: it sent the
    provider none (a canned output, an error raised first), so there is nothing to judge,
    and "held" would say too much; ``so`` says what it therefore never did. None when it
    sent one, or was stopped (a call that hangs is its properties' finding)."""
    if seen.requests or seen.ran_away:
        return None
    return (
        f"the client sent the provider no request for the simplest valid input, so {so}: "
        "see returns_valid_output"
    )


def ran_away(seen: Observation) -> list[str]:
    return [f"the harness had to stop the client: {seen.ran_away}"] if seen.ran_away else []


def raised(seen: Observation) -> str:
    """The client's error on one line of the report: its lines joined, at most 200
    characters of them."""
    text = " ".join(str(seen.error).split())
    return f"{type(seen.error).__name__}: {text if len(text) <= 200 else text[:199] + '…'}"


def minimal(context: Context) -> Any:
    """The simplest valid input (what Hypothesis shrinks any valid input towards)."""
    return _simplest(context.endpoint)


#: how many outputs the fullest input asks for, at most
MOST_OUTPUTS = 4


def fullest(context: Context) -> Any:
    """The simplest valid input with every count field (``num_images``) at its largest, up
    to 4: the case where a client that handles only the first of several outputs shows,
    tried whatever Hypothesis draws."""
    return _fullest(context.endpoint)


@functools.cache
def _fullest(endpoint: Endpoint) -> Any:
    inputs = _simplest(endpoint)
    if not isinstance(inputs, dict):
        return inputs
    properties = endpoint.resolve(endpoint.input_schema).get("properties", {})
    counts = {}
    for name in COUNT_FIELDS:
        schema = endpoint.resolve(properties.get(name, {}))
        if schema.get("type") == "integer":
            counts[name] = min(int(schema.get("maximum", MOST_OUTPUTS)), MOST_OUTPUTS)
    fuller = {**inputs, **counts}
    return fuller if endpoint.input_validator.is_valid(fuller) else inputs


@functools.cache
def _simplest(endpoint: Endpoint) -> Any:
    quiet = settings(database=None, max_examples=1, phases=[Phase.generate, Phase.shrink])
    return find(valid_inputs(endpoint), lambda value: True, settings=quiet)
