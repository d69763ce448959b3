"""Judgements of exchanges: transient errors, lasting outages and slow answers (what a
call leaves billed is `billing_checks`')."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from emulator.core.record import RecordedRequest
from emulator.harness.billing_checks import judge_restarts
from emulator.harness.context import (
    Context,
    fails_unprovoked,
    minimal,
    raised,
    ran_away,
    scenarios,
)
from emulator.harness.guard import STILL_CALLING
from emulator.harness.job_checks import judge_output, wrong_unprovoked
from emulator.harness.scenario import Scenario
from emulator.harness.sdk_calls import same_sdk_call, sdk_call
from emulator.harness.session import Observation, retryable
from emulator.harness.surfaces import Surface

# -- survives_slow_answers -----------------------------------------------------------------


def every_slow_answer(context: Context) -> list[tuple[dict[str, Any], ...]]:
    """A slow answer (`Context.slow_answer` seconds) at each exchange, once."""
    targets = context.surface.exchange_targets(context.endpoint.id)
    return [(_slow(context.slow_answer, targets[name]),) for name in sorted(targets)]


def _slow(seconds: float, where: dict[str, Any]) -> dict[str, Any]:
    """The rule that keeps the answer at the exchange ``where`` names ``seconds`` late."""
    return {"effect": "delay", "seconds": seconds, "times": 1, **where}


def applies_slow(context: Context, probe: Callable[[Scenario], Observation]) -> str | None:
    """Only where a slow answer fits in a call's time limit (else a client that waits is
    stopped for time), and to a client whose output is right without a slow answer: one
    whose output is wrong anyway is `returns_valid_output`'s finding, not a timeout's."""
    if context.slow_answer >= context.call_timeout:
        return (
            f"a slow answer of {context.slow_answer:g} s does not fit in a call's time limit "
            f"({context.call_timeout:g} s): raise --call-timeout or lower --slow-answer"
        )
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


def _http_error(status: int, times: int, where: dict[str, Any]) -> dict[str, Any]:
    """The rule that answers ``status`` ``times`` times at the exchange ``where`` names."""
    return {"effect": "http_error", "status": status, "times": times, **where}


def _transient(context: Context, status: int, target: str, times: int) -> dict[str, Any]:
    targets = context.surface.exchange_targets(context.endpoint.id)
    rule = _http_error(status, times, targets[target])
    if status == 429 and context.surface.says_retry_after:
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
    """A call that meets transient errors must succeed, retrying each no sooner than its
    Retry-After (where the provider's 429s say one), and with the job it made
    (`judge_restarts`). One that fails is blamed on
    the error only if it gave up on one; one that retried each until answered failed after
    (its input fails with nothing staged too, the runner checks: `Property.unstaged`)."""
    (rule,) = seen.scenario.faults
    if seen.ran_away:
        return ran_away(seen)
    entries = [entry for entry, _ in seen.requests]
    fired = [entry for entry in entries if entry.status == rule.get("status")]
    restarts = judge_restarts(seen, rule["status"])
    if seen.error is not None and fired:  # (an error with no transient one is another's)
        return [_gave_up(rule, fired, entries, raised(seen)), *restarts]
    early = _early_retries(rule, entries) if context.surface.says_retry_after else []
    return [*early, *restarts]


def _early_retries(rule: dict[str, Any], entries: list[RecordedRequest]) -> list[str]:
    """The retries sent sooner than a 429's Retry-After said. A 429's retry is the call's
    next request, whatever it asks: the same one again, or a submit that starts over."""
    problems = []
    for entry, retry in zip(entries, entries[1:], strict=False):
        waited = retry.started - (entry.started + entry.duration)
        if entry.status == 429 and waited < 0.9 * rule["retry_after"]:
            call = same_sdk_call(entry, retry)
            problems.append(
                f"retried {waited:.2f} s after a 429 that said Retry-After: {rule['retry_after']}"
                + (f" (the retry was {call}'s own, inside the call your code made)" if call else "")
            )
    return problems


def _gave_up(
    rule: dict[str, Any], fired: list[RecordedRequest], entries: list[RecordedRequest], error: str
) -> str:
    """What a call that failed did with the transient errors it met: gave up on one (never
    answered otherwise when sent again), or retried each until it was answered."""
    status = rule["status"]
    given_up = [entry for entry in fired if not _answered_later(entry, entries)]
    if not given_up:
        return (
            f"failed after retrying each transient {status} (stopped after {rule['times']}) "
            f"until it was answered: {error}"
        )
    last = given_up[-1]
    tries = sum((e.method, e.path) == (last.method, last.path) for e in fired)
    call = sdk_call(last)
    did = "did not retry it" if tries == 1 else f"gave up after {tries} tries"
    sent = f" (sent inside {call}, which {did})" if call else ""
    return f"gave up on a transient {status} that stopped after {rule['times']}{sent}: {error}"


def _answered_later(entry: RecordedRequest, entries: list[RecordedRequest]) -> bool:
    """Whether ``entry``'s request, sent again later, was answered other than with an
    error a client may retry."""
    later = entries[entries.index(entry) + 1 :]
    return any(
        (e.method, e.path) == (entry.method, entry.path) and not retryable(e.status) for e in later
    )


# -- gives_up_during_outage ----------------------------------------------------------------

#: how many errors a lasting outage answers at one exchange before the harness ends it:
#: twice the most patient official client's attempts (fal_client's 10); a client that
#: tries once more after the last has no limit of its own
OUTAGE_ANSWERS = 20
#: what the provider answers meanwhile (fal's ingress nginx page, WaveSpeed's envelope),
#: without Retry-After: the client's own backoff paces it
OUTAGE_STATUS = 503
OUTAGE_WORDS = {"fal": "fal's ingress nginx page", "wavespeed": "WaveSpeed's error envelope"}
#: the exchanges an outage strikes (those the provider has), and the requests of the
#: client's that try each
OUTAGE_TRIES = {"submit": ("submit", "run"), "stream": ("run",), "poll": ("poll",)}


def every_outage(context: Context) -> list[tuple[dict[str, Any], ...]]:
    """A lasting outage at the submit (or the stream), and one at the status poll (the job
    accepted)."""
    return _outages(context.surface.exchange_targets(context.endpoint.id))


def _outages(targets: dict[str, dict[str, Any]]) -> list[tuple[dict[str, Any], ...]]:
    return [
        (_http_error(OUTAGE_STATUS, OUTAGE_ANSWERS, targets[name]),)
        for name in OUTAGE_TRIES
        if name in targets
    ]


def replay_problem(scenario: Scenario, surface: Surface, endpoint_id: str) -> str | None:
    """Why a replayed scenario (a report's line, edited by hand) stages faults its
    property's judge cannot read, if it does: the judges read the one rule they staged."""
    targets = surface.exchange_targets(endpoint_id)
    faults = tuple(scenario.faults)
    if scenario.property in _AT_EXCHANGES and (elsewhere := _elsewhere(faults, targets)):
        where = f"{surface.provider}'s {endpoint_id}"
        return f"{elsewhere}: was it written for another provider or endpoint than {where}?"
    if scenario.property == "gives_up_during_outage" and faults not in _outages(targets):
        return (
            f"must stage one of its outages: a {OUTAGE_STATUS} answered {OUTAGE_ANSWERS} "
            "times at the submit or at the status poll, as its replay lines do"
        )
    if scenario.property == "retries_transient_errors" and not _one_transient(
        faults, targets, surface
    ):
        said = " (429 with retry_after)" if surface.says_retry_after else ""
        return (
            "must stage one transient error: an http_error of "
            f"{', '.join(map(str, TRANSIENT))}{said} a number of times at "
            "one exchange, as its replay lines do"
        )
    if scenario.property == "survives_slow_answers" and not _one_slow(faults, targets):
        return "must stage one slow answer: a delay of some seconds, once, at one exchange"
    return None


#: the properties whose replays stage their rule at one of the call's exchanges
_AT_EXCHANGES = ("gives_up_during_outage", "retries_transient_errors", "survives_slow_answers")


def _elsewhere(faults: tuple[dict[str, Any], ...], targets: dict[str, Any]) -> str | None:
    """What is wrong with a rule staged at none of ``targets`` (the exchanges of another
    provider's or endpoint's call, say), if one is."""
    wheres = sorted({(where["method"], where["path"]) for where in targets.values()})
    for rule in faults:
        if isinstance(rule, dict) and (rule.get("method"), rule.get("path")) not in wheres:
            exchanges = ", ".join(f"{method} {path}" for method, path in wheres)
            where = f"{rule.get('method', '*')} {rule.get('path', '*')}"
            return f"stages a fault at {where}, which is none of the call's exchanges ({exchanges})"
    return None


def _one_slow(faults: tuple[dict[str, Any], ...], targets: dict[str, Any]) -> bool:
    if len(faults) != 1:
        return False
    (rule,) = faults
    seconds = rule.get("seconds")
    if not isinstance(seconds, int | float) or not (math.isfinite(seconds) and seconds > 0):
        return False
    return any(rule == _slow(seconds, where) for where in targets.values())


def _one_transient(
    faults: tuple[dict[str, Any], ...], targets: dict[str, Any], surface: Surface
) -> bool:
    """Whether ``faults`` is one transient error its judge reads: a 429 says Retry-After
    where the provider's do (a WaveSpeed replay line written when its 429s said one still
    replays, unjudged on it)."""
    if len(faults) != 1:
        return False
    (rule,) = faults
    where = {"method": rule.get("method"), "path": rule.get("path")}
    return (
        rule.get("effect") == "http_error"
        and rule.get("status") in TRANSIENT
        and type(rule.get("times")) is int
        and where in targets.values()
        and (rule["status"] != 429 or "retry_after" in rule or not surface.says_retry_after)
    )


def outage_scenarios(context: Context, name: str) -> st.SearchStrategy[Scenario]:
    return scenarios(context, name, faults=st.sampled_from(every_outage(context)))


def _tries(context: Context, seen: Observation) -> tuple[str, list[RecordedRequest]]:
    """The exchange the outage struck, and the client's tries at it (of its busiest job,
    for polls)."""
    (rule,) = seen.scenario.faults
    targets = context.surface.exchange_targets(context.endpoint.id)
    exchange = next(
        name for name in OUTAGE_TRIES if name in targets and targets[name].items() <= rule.items()
    )
    tries: dict[str | None, list[RecordedRequest]] = {}
    for entry, what in seen.requests:
        if what.kind in OUTAGE_TRIES[exchange]:
            tries.setdefault(what.job_id, []).append(entry)
    return exchange, max(tries.values(), key=len, default=[])


def _unseen_end(context: Context, seen: Observation) -> str | None:
    """Why a run did not show whether the client gives up (None: it did): it was still
    retrying, its last try answered by the outage, when the call's time limit ran out."""
    exchange, tries = _tries(context, seen)
    stopped = seen.ran_away is not None and STILL_CALLING in seen.ran_away
    if not (stopped and tries and tries[-1].status == OUTAGE_STATUS):
        return None
    return (
        f"the client was still retrying through a lasting outage when the harness stopped "
        f"it ({seen.ran_away}: {len(tries)} {exchange}s, each answered {OUTAGE_STATUS}): "
        "whether it gives up was not seen (a longer time limit shows it: --call-timeout, "
        "Limits(call_timeout=...))"
    )


def applies_outage(context: Context, probe: Callable[[Scenario], Observation]) -> str | None:
    """Not to a client that fails with nothing staged (`returns_valid_output`'s finding),
    nor, unless another case fails, to one still retrying in an outage when its call's time
    limit runs out (a backoff longer than the limit: fal_client's 10 tries take 51 s)."""
    reason = fails_unprovoked(context, probe, "gives_up_during_outage")
    if reason is not None:
        return reason
    unseen = None
    for rules in every_outage(context):
        seen = probe(Scenario("gives_up_during_outage", minimal(context), faults=rules))
        if judge_outage(context, seen):
            return None  # a finding: the property's own runs report it
        unseen = unseen or _unseen_end(context, seen)
    return unseen


def judge_outage(context: Context, seen: Observation) -> list[str]:
    """The client must stop within the outage's answers and say so (raise, or return an
    error value), without a job started over at each error (`judge_restarts`); a success
    must be the job's. A run that never met the outage (struck at an exchange the client
    does not use) shows nothing of it: its output is `returns_valid_output`'s to judge."""
    if not seen.exchange_fault_fired:
        return ran_away(seen)
    return [*judge_restarts(seen, OUTAGE_STATUS), *_outage_end(context, seen)]


def _outage_end(context: Context, seen: Observation) -> list[str]:
    """How the call through a lasting outage ended: gave up, went on past it, or returned
    a success."""
    exchange, tries = _tries(context, seen)
    failed = [entry for entry in tries if entry.status == OUTAGE_STATUS]
    if len(failed) == OUTAGE_ANSWERS and tries[-1] is not failed[-1]:  # tried once more
        span = failed[-1].started + failed[-1].duration - failed[0].started
        return [
            f"kept retrying through a lasting outage: {len(failed)} {exchange}s in "
            f"{span:.1f} s, each answered {OUTAGE_STATUS} ({OUTAGE_WORDS[context.provider]}), "
            "still retrying when the harness ended it"
        ]
    if _unseen_end(context, seen) is not None:
        return []  # not seen to give up, nor to go on past the outage: see applies_outage
    if seen.ran_away:
        return ran_away(seen)
    if seen.error is not None or context.declared_error(seen.output):
        return []
    if not seen.references:
        return [f"returned a success through a lasting outage at the {exchange}: no job was made"]
    return [
        f"returned a success through a lasting outage at the {exchange} that is not the "
        f"job's output: {problem}"
        for problem in judge_output(context, seen)
    ]
