"""Judgements of what a call leaves billed: the jobs it made (a lost answer resubmitted, or
a job started over after a transient error, is a second one), those it gave up on without
cancelling, and a job stuck in the queue it never gives up on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from emulator.core.record import RecordedRequest
from emulator.harness.context import Context, minimal, raised, scenarios, sent_nothing
from emulator.harness.scenario import Scenario
from emulator.harness.sdk_calls import same_sdk_call
from emulator.harness.session import Observation, retryable

# -- no_duplicate_jobs ---------------------------------------------------------------------


def _duplicate_cases(context: Context) -> list[dict[str, Any]]:
    """No fault; the submit's answer lost after the job was made; its connection dropped
    before; a 503 at submit (each at a fal stream too: a streamed run is a job made)."""
    targets = context.surface.exchange_targets(context.endpoint.id)
    made = [targets[name] for name in ("submit", "stream") if name in targets]
    return [
        {},
        {"lose_submit_answer": True},
        *({"faults": ({"effect": "reset", "nth": 1, **where},)} for where in made),
        *(
            {"faults": ({"effect": "http_error", "status": 503, "times": 1, **where},)}
            for where in made
        ),
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


def billable_jobs(seen: Observation) -> int:
    """The jobs a call made that the provider bills: each accepted submit's, and each
    synchronous run answered (a fal.run job is kept nowhere: the record counts them)."""
    runs = [entry for entry in seen.of_kind("run") if entry.status == 200]
    return len(seen.job_ids) + len(runs)


def judge_duplicates(context: Context, seen: Observation) -> list[str]:
    billable = billable_jobs(seen)
    if billable <= 1:
        return []
    submits = seen.of_kind("submit", "run")
    call = same_sdk_call(submits[0], submits[-1]) if len(submits) > 1 else None
    inside = f" (each sent inside one call of {call}: the SDK resubmitted)" if call else ""
    return [f"one call created {billable} billable jobs{inside}"]


#: what a request about a job is, in a report's words
_ASKED = {"poll": "status poll", "result": "result fetch"}


def judge_restarts(seen: Observation, status: int) -> list[str]:
    """A call that met an error answered ``status`` at a request about its job (a status
    poll, a result fetch) and started a new job rather than send that request again: each
    such job is billed, and the first is abandoned (a 429 or a 5xx there says nothing of
    the job, which goes on). An error at a submit made no job: submitting again is its
    retry."""
    for n, (entry, what) in enumerate(seen.requests):
        if entry.status != status or what.job_id is None or what.kind not in _ASKED:
            continue
        anew = _submitted_anew(seen, n)
        if anew is None:
            continue
        call = same_sdk_call(entry, anew)
        inside = f" (each sent inside one call of {call}: the SDK resubmitted)" if call else ""
        return [
            f"started the job over after a {status} at its {_ASKED[what.kind]}: one call "
            f"created {billable_jobs(seen)} billable jobs, job {what.job_id} abandoned{inside} "
            "(send the request that failed again, not a new submit)"
        ]
    return []


def _submitted_anew(seen: Observation, n: int) -> RecordedRequest | None:
    """The accepted submit that followed request ``n`` (an error about a job) before any
    request about that job was answered otherwise, the job never asked about after it
    (abandoned), if one did. A submit the call's own job outlived is no restart: another
    thread's, say (a poller an earlier call left retrying its submit)."""
    job_id = seen.requests[n][1].job_id
    later = seen.requests[n + 1 :]
    for m, (entry, what) in enumerate(later):
        if what.job_id == job_id and not retryable(entry.status):
            return None  # the call went on with its job
        if what.kind in ("submit", "run") and entry.status == 200:
            abandoned = all(asked.job_id != job_id for _, asked in later[m + 1 :])
            return entry if abandoned else None
    return None


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
        return [_hangs(context, seen)]
    if seen.error is None or not context.surface.has_cancel:
        return []  # it did not give up (a synchronous run, say), or had nothing to send
    return [
        f"gave up ({raised(seen)}) and left job {job_id} running: no cancel was sent"
        for job_id in seen.unfinished
    ]


def _hangs(context: Context, seen: Observation) -> str:
    """A call still waiting on its starved job when the harness stopped it: with no
    deadline of its own, it would wait for as long as the job stays queued."""
    polls = len(seen.of_kind("poll"))
    asked = f"; {polls} status polls, each answered queued" if polls else ""
    cancel = ", and cancel the job" if context.surface.has_cancel else ""
    return (
        f"hangs its caller on a job stuck in the queue (the harness stopped it: "
        f"{seen.ran_away}{asked}): give up after a deadline{cancel} (one longer than the "
        "call's time limit shows with --call-timeout, Limits(call_timeout=...))"
    )


def applies_cancel(context: Context, probe: Callable[[Scenario], Observation]) -> str | None:
    """To every client of a provider with a cancel; to one of a provider without only if
    it hangs on a starved job (`judge_cancels` reports that): one that gives up has
    nothing to send. Not to a client that sends the provider nothing: it made no job to
    give up on, and held vacuously."""
    made_none = "it made no job to give up on or cancel"
    if context.surface.has_cancel:
        # the plain probe, which other properties share: a starved one waits out the
        # client's patience, and the property's own run waits it out again
        return sent_nothing(probe(Scenario("cancels_abandoned_jobs", minimal(context))), made_none)
    seen = probe(Scenario("cancels_abandoned_jobs", minimal(context), faults=STARVED))
    if seen.ran_away:
        return None
    return sent_nothing(seen, made_none) or (
        f"{context.provider}'s API has no cancel operation (and the client gives up on a "
        "job stuck in the queue)"
    )
