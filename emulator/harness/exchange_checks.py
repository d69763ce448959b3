"""Judgements of exchanges: transient errors, slow answers, lost answers and abandoned
jobs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from emulator.harness.context import (
    Context,
    fails_unprovoked,
    minimal,
    raised,
    ran_away,
    scenarios,
)
from emulator.harness.job_checks import judge_output, wrong_unprovoked
from emulator.harness.scenario import Scenario
from emulator.harness.sdk_calls import same_sdk_call, sdk_call
from emulator.harness.session import Observation

# -- survives_slow_answers -----------------------------------------------------------------

#: how long a slow answer keeps the client waiting: longer than a hasty client's timeout,
#: well within the harness's own (`Limits.call_timeout`, 5 s by default)
SLOW_ANSWER_SECONDS = 2.5


def every_slow_answer(context: Context) -> list[tuple[dict[str, Any], ...]]:
    """A slow answer at each exchange, once."""
    targets = context.surface.exchange_targets(context.endpoint.id)
    return [
        ({"effect": "delay", "seconds": SLOW_ANSWER_SECONDS, "times": 1, **targets[name]},)
        for name in sorted(targets)
    ]


def applies_slow(context: Context, probe: Callable[[Scenario], Observation]) -> str | None:
    """Only to a client whose output is right without a slow answer: one whose output is
    wrong anyway is `returns_valid_output`'s finding, not a timeout's."""
    if wrong_unprovoked(context, probe, "survives_slow_answers"):
        return "its output is not the job's even without a slow answer: see returns_valid_output"
    return None


def slow_scenarios(context: Context, name: str) -> st.SearchStrategy[Scenario]:
    return scenarios(context, name, faults=st.sampled_from(every_slow_answer(context)))


def judge_slow(context: Context, seen: Observation) -> list[str]:
    """A client that stopped waiting must say so (raise, or return an error value); one
    that waited must return the output, as `judge_output` judges it."""
    if seen.ran_away:
        return ran_away(seen)
    if seen.error is not None or context.declared_error(seen.output):
        return []
    (rule,) = seen.scenario.faults
    where = f"{rule['method']} {rule['path']}"
    return [
        f"after a {rule['seconds']:g} s wait for {where}, returned a success that is not the "
        f"job's output (a timeout taken for an answer?): {problem}"
        for problem in judge_output(context, seen)
    ]


# -- retries_transient_errors --------------------------------------------------------------


TRANSIENT = (429, 502, 503, 504)


def _transient(context: Context, status: int, target: str, times: int) -> dict[str, Any]:
    rule = {"effect": "http_error", "status": status, "times": times}
    rule.update(context.surface.exchange_targets(context.endpoint.id)[target])
    if status == 429:
        rule["retry_after"] = context.retry_after
    return rule


def applies_retries(context: Context, probe: Callable[[Scenario], Observation]) -> str | None:
    return fails_unprovoked(context, probe, "retries_transient_errors")


def transient_scenarios(context: Context, name: str) -> st.SearchStrategy[Scenario]:
    targets = sorted(context.surface.exchange_targets(context.endpoint.id))
    rules = st.builds(
        lambda status, target, times: (_transient(context, status, target, times),),
        st.sampled_from(TRANSIENT),
        st.sampled_from(targets),
        st.integers(1, 2),
    )
    return scenarios(context, name, faults=rules)


def every_transient_error(context: Context) -> list[tuple[dict[str, Any], ...]]:
    """Each transient status at each exchange, once."""
    targets = sorted(context.surface.exchange_targets(context.endpoint.id))
    return [(_transient(context, s, t, 1),) for s in TRANSIENT for t in targets]


def judge_retries(context: Context, seen: Observation) -> list[str]:
    (rule,) = seen.scenario.faults
    if seen.ran_away:
        return ran_away(seen)
    fired = [entry for entry, _ in seen.requests if entry.status == rule.get("status")]
    if seen.error is not None and fired:  # (an error with no transient one is another's)
        call = sdk_call(fired[-1])
        sent = f" (sent inside {call}, which did not retry it)" if call else ""
        return [
            f"gave up on a transient {rule['status']} that stopped after {rule['times']}"
            f"{sent}: {raised(seen)}"
        ]
    problems = []
    entries = [entry for entry, _ in seen.requests]
    for i, entry in enumerate(entries):
        if entry.status != 429:
            continue
        later = [e for e in entries[i + 1 :] if (e.method, e.path) == (entry.method, entry.path)]
        answered = entry.started + entry.duration
        if later and later[0].started - answered < 0.9 * rule["retry_after"]:
            call = same_sdk_call(entry, later[0])
            problems.append(
                f"retried {later[0].started - answered:.2f} s after a 429 that said "
                f"Retry-After: {rule['retry_after']}"
                + (f" (the retry was {call}'s own, inside the call your code made)" if call else "")
            )
    return problems


# -- no_duplicate_jobs ---------------------------------------------------------------------


def _duplicate_cases(context: Context) -> list[dict[str, Any]]:
    """No fault; the submit's answer lost after the job was made; its connection dropped
    before; a 503 at submit."""
    submit = context.surface.exchange_targets(context.endpoint.id)["submit"]
    return [
        {},
        {"lose_submit_answer": True},
        {"faults": ({"effect": "reset", "nth": 1, **submit},)},
        {"faults": ({"effect": "http_error", "status": 503, "times": 1, **submit},)},
    ]


def duplicate_scenarios(context: Context, name: str) -> st.SearchStrategy[Scenario]:
    # Without faults first: a client that makes two jobs per call fails there, and a
    # failure shrinks towards it (the first branch) when the faults play no part.
    return st.one_of(
        [
            scenarios(
                context,
                name,
                faults=st.just(case.get("faults", ())),
                lose_submit_answer=st.just(case.get("lose_submit_answer", False)),
            )
            for case in _duplicate_cases(context)
        ]
    )


def every_duplicate_case(context: Context) -> list[Scenario]:
    """Each case on the simplest input, so that each is tried whatever ``max_examples``."""
    simplest = minimal(context)
    return [Scenario("no_duplicate_jobs", simplest, **case) for case in _duplicate_cases(context)]


def judge_duplicates(context: Context, seen: Observation) -> list[str]:
    runs = [entry for entry in seen.of_kind("run") if entry.status == 200]
    billable = len(seen.job_ids) + len(runs)
    if billable <= 1:
        return []
    submits = seen.of_kind("submit", "run")
    call = same_sdk_call(submits[0], submits[-1]) if len(submits) > 1 else None
    inside = f" (each sent inside one call of {call}: the SDK resubmitted)" if call else ""
    return [f"one call created {billable} billable jobs{inside}"]


# -- cancels_abandoned_jobs ----------------------------------------------------------------

STARVED = ({"effect": "starve"},)


def starved_scenarios(context: Context, name: str) -> st.SearchStrategy[Scenario]:
    return scenarios(context, name, faults=st.just(STARVED))


def every_starved(context: Context) -> list[tuple[dict[str, Any], ...]]:
    """One starved job decides it: each run waits out the client's own patience, and what
    a client does when it gives up does not vary with the input (100 draws took 5 minutes
    of a careful client's run, an audit measured)."""
    return [STARVED]


def judge_cancels(context: Context, seen: Observation) -> list[str]:
    if seen.ran_away:
        return ran_away(seen)
    if seen.error is None:
        return []  # it did not give up (a synchronous run, say)
    return [
        f"gave up ({raised(seen)}) and left job {job_id} running: no cancel was sent"
        for job_id in seen.unfinished
    ]


def applies_cancel(context: Context, probe: Callable[[Scenario], Observation]) -> str | None:
    if not context.surface.has_cancel:
        return f"{context.provider}'s API has no cancel operation"
    seen = probe(Scenario("cancels_abandoned_jobs", minimal(context), faults=STARVED))
    if seen.ran_away:
        return f"the client never gives up on a job stuck in the queue ({seen.ran_away})"
    return None
