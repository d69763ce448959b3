"""Judgements of a job's life: its output, its failures, invalid input, and polling."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from emulator.contracts.optional_fields import optional_fields
from emulator.contracts.validation import input_violations
from emulator.core.lifecycle import Phase
from emulator.core.record import RecordedRequest
from emulator.harness.checks import (
    differences,
    error_text,
    has_true_flag,
    kept_bodies,
    without_bytes,
)
from emulator.harness.context import (
    POLLED,
    POLLING,
    QUICK,
    Context,
    beyond_emulator,
    fails_unprovoked,
    minimal,
    raised,
    ran_away,
    scenarios,
    sent_nothing,
)
from emulator.harness.scenario import Scenario
from emulator.harness.sdk_calls import same_sdk_call, sdk_call
from emulator.harness.session import Observation, retryable
from emulator.strategies import broken_inputs

# -- returns_valid_output ----------------------------------------------------------------


def running_a_while(context: Context) -> list[Scenario]:
    """A job seen queued once and running twice before it is done, tried whatever
    ``max_examples``: a client that takes "running" for "done" fetches its result early
    (the drawn progressions end after at most one running poll)."""
    return [Scenario("returns_valid_output", minimal(context), "polls:1,2")]


def judge_output(context: Context, seen: Observation) -> list[str]:
    if beyond_emulator(context, seen):  # no valid input: the emulator's limit, not the client's
        return []
    if not seen.succeeded:
        return ran_away(seen) or [f"a valid input failed: {raised(seen)}"]
    output = without_bytes(seen.output)
    problems = []
    if context.provider == "fal":
        validator = context.endpoint.output_validator
        problems += [
            f"not the contract's output: {e.message}" for e in validator.iter_errors(output)
        ]
    references = [ref for ref in seen.references.values() if ref is not None]
    if references and all(differences(ref, output) for ref in references):
        problems += differences(references[-1], output)
    refused = _result_refused(context, seen) if problems else None
    # the output is then the error's body: its missing fields say nothing of the cause
    if refused:
        return [refused]
    # with no job done there is no output to compare with: WaveSpeed's unfinished
    # prediction (outputs []) returned as the result held, unjudged
    early = _returned_early(seen)
    if early:
        return [early, *problems]
    if not seen.requests:  # likewise no job to compare with: a canned output held
        return [
            "returned an output without sending the provider a request: a canned or cached "
            "output is not the job's",
            *problems,
        ]
    return problems


def _returned_early(seen: Observation) -> str | None:
    """The wording for a call that returned an output while no job it made was done (it
    took a queued or running job's answer for its result); None when one was done."""
    if not seen.job_ids or not set(seen.job_ids) <= set(seen.unfinished):
        return None
    job_id = seen.job_ids[-1]
    answered = seen.polls.get(job_id)
    last = f"last answered {answered[-1].value} to a poll" if answered else "never polled"
    return (
        f"returned an output before its job was done (job {job_id} was {last}): poll the "
        "status until the job is done, then read its output"
    )


def _result_refused(context: Context, seen: Observation) -> str | None:
    """The wording for a client that returned an output though every result fetch it made
    was answered an error (one that never checks a status code, or fetches the result
    before the job is done); None when one succeeded, or none was made."""
    if context.surface.result_kind != "result":  # WaveSpeed's result is a poll, always 200
        return None
    fetches = [entry for entry, what in seen.requests if what.kind == "result"]
    if not fetches or any(200 <= entry.status < 300 for entry in fetches):
        return None
    last = fetches[-1]
    return (
        f"returned an output, but its result fetch was answered {last.status} "
        f"({last.method} {last.path}): check each answer's status code (fal answers 400 to "
        "a result fetched before the job is COMPLETED)"
    )


def wrong_unprovoked(context: Context, probe: Callable[[Scenario], Observation], name: str) -> bool:
    """Whether the client returns, for the simplest valid input with nothing staged, a
    success that is not the job's output: `returns_valid_output`'s finding, which a
    property about a provider's behaviour would otherwise blame on that behaviour."""
    seen = probe(Scenario(name, minimal(context)))
    return seen.succeeded and bool(judge_output(context, seen))


# -- tolerates_optional_fields ------------------------------------------------------------

SPARSE = ({"effect": "sparse_output"},)
#: what leaves a field out, in each provider's words
_SCHEMA_OF = {"fal": "fal's output schema", "wavespeed": "WaveSpeed's prediction schema"}


def sparse_scenarios(context: Context, name: str) -> st.SearchStrategy[Scenario]:
    return scenarios(context, name, faults=st.just(SPARSE))


def applies_sparse(context: Context, probe: Callable[[Scenario], Observation]) -> str | None:
    if not optional_fields(context.endpoint):
        return (
            f"the output schema of {context.endpoint.id} requires every field it declares: "
            "no answer leaves one out"
        )
    name = "tolerates_optional_fields"
    reason = fails_unprovoked(context, probe, name)
    if reason is None and wrong_unprovoked(context, probe, name):
        return "its output is not the job's even with every field there: see returns_valid_output"
    return reason


def judge_sparse(context: Context, seen: Observation) -> list[str]:
    """A call on an output without its optional fields must return that output, as
    `judge_output` judges it; a crash is worded by the field it missed, when it names one."""
    if beyond_emulator(context, seen):
        return []
    if seen.ran_away:
        return ran_away(seen)
    optional = optional_fields(context.endpoint)
    if seen.error is not None:
        missed = _missing_key(seen.error)
        if missed in optional:
            return [
                f"crashed (KeyError {missed!r}) on an output without its optional field "
                f"{missed}: {_SCHEMA_OF[context.provider]} does not require it"
            ]
        listed = ", ".join(optional[:6]) + (", …" if len(optional) > 6 else "")
        return [f"failed on an output without its optional fields ({listed}): {raised(seen)}"]
    return [
        f"on an output without its optional fields, {problem}"
        for problem in judge_output(context, seen)
    ]


def _missing_key(error: BaseException) -> str | None:
    """The key of the first KeyError in ``error`` and its causes (a client may wrap it)."""
    seen: BaseException | None = error
    for _ in range(8):
        if seen is None:
            return None
        if isinstance(seen, KeyError) and seen.args and isinstance(seen.args[0], str):
            return seen.args[0]
        seen = seen.__cause__ or seen.__context__
    return None


# -- surfaces_job_failure ------------------------------------------------------------------


def failure_scenarios(context: Context, name: str) -> st.SearchStrategy[Scenario]:
    return scenarios(context, name, faults=_job_failure(context))


def _job_failure(context: Context) -> st.SearchStrategy[tuple[dict[str, Any], ...]]:
    """One of the ways the provider reports the endpoint's job failed, as its fault rules."""
    rules = context.surface.job_failures(context.endpoint)
    return st.sampled_from(rules).map(lambda rule: (rule,))


def judge_failure(context: Context, seen: Observation) -> list[str]:
    if seen.ran_away:  # (a loop waiting for "completed" polls a failed job until stopped)
        return [*polled_after_end(seen), *ran_away(seen)]
    if seen.error is not None or context.declared_error(seen.output):
        return []
    (rule,) = seen.scenario.faults
    if rule["effect"] == "nsfw" and has_true_flag(seen.output):
        return []  # the provider's own flag reached the caller: an explicit error value
    return [f"{reported(context.provider, rule)}, and the client returned a success"]


def reported(provider: str, rule: dict[str, Any]) -> str:
    """What the provider told the client, in its own terms, for a job failure ``rule``."""
    effect = rule["effect"]
    if effect == "nsfw":
        flag = "has_nsfw_concepts" if provider == "fal" else "has_nsfw_contents"
        return f"the provider flagged the output NSFW ({flag}: [true], its media blanked)"
    if effect == "timeout":
        return "the provider timed the job out"
    if effect == "cancel":
        return "the provider cancelled the job"
    if "code" in rule:
        return f"WaveSpeed failed the prediction (status failed, code {rule['code']})"
    if "error_type" in rule:
        return f"fal failed the request (error_type {rule['error_type']})"
    return f"the model refused the input ({rule.get('status', 422)}: {rule.get('message')})"


# -- surfaces_validation_errors ------------------------------------------------------------


def invalid_scenarios(context: Context, name: str) -> st.SearchStrategy[Scenario]:
    return st.builds(
        lambda drawn, progression, seed: Scenario(
            name, drawn[0], progression, seed=seed, broken_field=drawn[1]
        ),
        broken_inputs(context.endpoint, media=context.hosted_media),
        st.sampled_from(QUICK),
        st.integers(0, 2**16),
    )


def applies_invalid(context: Context, probe: Callable[[Scenario], Observation]) -> str | None:
    try:
        broken_inputs(context.endpoint)
    except ValueError as error:  # a contract that accepts any object: nothing to break
        return str(error)
    return fails_unprovoked(context, probe, "surfaces_validation_errors")


def judge_invalid(context: Context, seen: Observation) -> list[str]:
    problems = ran_away(seen)
    submits = len(seen.of_kind("submit", "run"))
    if submits > 1:
        problems.append(f"submitted the invalid input {submits} times (a 4xx is not transient)")
    if seen.error is None and not seen.ran_away and not context.declared_error(seen.output):
        if not _sent_valid(context, seen):  # (one that sent a valid input had no error)
            problems.append("returned a success for an input the provider rejects")
    elif seen.error is not None and str(seen.scenario.broken_field) not in error_text(seen.error):
        problems.append(
            f"the error does not name the offending field {seen.scenario.broken_field!r}: "
            f"{raised(seen)}{_named_in_refusal(context, seen)}"
        )
    return problems


def _named_in_refusal(context: Context, seen: Observation) -> str:
    """Where the provider named the field, for a client whose error hid it: the body of
    the answer that refused the input (fal's 422 at the result, WaveSpeed's 400 at the
    submit), and where the client's error keeps it (httpx's ``.response.text``), or else
    how the provider's SDKs show it."""
    refusal = next((entry for entry, _ in seen.requests if entry.status in (400, 422)), None)
    if refusal is None or seen.error is None:
        return ""
    named = (
        f" (the provider's {refusal.status} to {refusal.method} {refusal.path} named it in its body"
    )
    field = str(seen.scenario.broken_field)
    kept = [where for where, body in kept_bodies(seen.error).items() if field in body]
    if kept:
        return f"{named}, which the error keeps as {kept[0]}: put it in the error's message)"
    return f"{named}: show it in the error's message; {context.surface.shows_refusal})"


def _sent_valid(context: Context, seen: Observation) -> bool:
    """Whether every input the client submitted is one the provider accepts: a client (or
    its SDK: wavespeed's turns ``enable_sync_mode: null`` into ``true``) may mend what it
    was given, and the provider then has nothing to refuse."""
    sent = [entry.json for entry in seen.of_kind("submit", "run")]
    return bool(sent) and all(
        isinstance(body, dict) and not input_violations(context.endpoint, body) for body in sent
    )


# -- stops_polling_when_done, polls_politely -----------------------------------------------


def polling_scenarios(context: Context, name: str) -> st.SearchStrategy[Scenario]:
    """Jobs that take a poll or more, finishing or failing."""
    failure = _job_failure(context)
    return scenarios(context, name, progressions=POLLING, faults=st.just(()) | failure)


def paced_scenarios(context: Context, name: str) -> st.SearchStrategy[Scenario]:
    """Jobs that take three polls or more: enough to measure a pace."""
    return scenarios(context, name, progressions=POLLED)


def applies_stops(context: Context, probe: Callable[[Scenario], Observation]) -> str | None:
    """Not to a client that sends the provider nothing: with no poll to judge it held,
    vacuously."""
    seen = probe(Scenario("stops_polling_when_done", minimal(context)))
    return sent_nothing(seen, "it made no job to poll")


def judge_stops(context: Context, seen: Observation) -> list[str]:
    problems = [*polled_after_end(seen), *ran_away(seen)]
    if context.surface.result_kind == "result":
        fetched = _fetched(seen)
        problems += [f"fetched the result of {j} {n} times" for j, n in fetched.items() if n > 1]
    return problems


def polled_after_end(seen: Observation) -> list[str]:
    """Per job, the status polls after the one that said it had ended, named by how it
    ended; told also of a call the harness stopped (a loop that waits for "completed"
    polls a failed job until then). An SDK's own look just before the result fetch it
    makes (`_sdk_look_before_fetch`) is not counted."""
    sent: dict[str | None, list[RecordedRequest]] = {}
    for entry, what in seen.requests:
        if what.kind == "poll":
            sent.setdefault(what.job_id, []).append(entry)
    problems = []
    for job_id, phases in seen.polls.items():
        # The engine also looks on the provider's side (a sync-mode wait, an SSE stream):
        # the client's polls are its last looks, one per poll request.
        polls = sent.get(job_id, [])[-len(phases) :]
        answered = phases[len(phases) - len(polls) :]
        if Phase.DONE not in answered:
            continue
        after = polls[answered.index(Phase.DONE) + 1 :]
        extra = [entry for entry in after if not _sdk_look_before_fetch(entry, seen)]
        if extra:
            call = sdk_call(extra[0])
            inside = f" (sent inside {call})" if call else ""
            problems.append(
                f"polled job {job_id} {len(extra)} more time(s) after it was "
                f"{_ended(seen.scenario.faults)}{inside}"
            )
    return problems


def _sdk_look_before_fetch(poll: RecordedRequest, seen: Observation) -> bool:
    """Whether ``poll`` is an SDK's own look at a job it was told had ended, just before it
    fetches the result, in the same call: fal_client's ``get`` (and ``subscribe``, which
    calls it) polls once before every fetch, and its documented API has no fetch without
    that look; a user cannot leave it out."""
    n = next(i for i, (entry, _) in enumerate(seen.requests) if entry is poll)
    job_id = seen.requests[n][1].job_id
    following = next(((e, w) for e, w in seen.requests[n + 1 :] if w.job_id == job_id), None)
    if following is None:
        return False
    fetch, what = following
    return what.kind == "result" and same_sdk_call(poll, fetch) is not None


def _ended(faults: tuple[dict[str, Any], ...]) -> str:
    """How a job of a polling scenario ended, as the provider's status told the client."""
    rule = faults[0] if faults else {}
    effect = rule.get("effect")
    if effect == "timeout":
        return "timed out"
    if effect == "cancel":
        return "cancelled"
    if effect != "fail":
        return "done"
    if "code" in rule:
        return f"failed (code {rule['code']})"
    if "error_type" in rule:
        return f"failed (error_type {rule['error_type']})"
    return f"failed (the model refused the input: {rule.get('status', 422)})"


def _fetched(seen: Observation) -> dict[str | None, int]:
    """Per job, the fetches of its result from the first that was answered (not with an
    error a client may retry: fal's own @fal-ai/client retries a retryable 502-504
    result three times) on."""
    fetched: dict[str | None, int] = {}
    for entry, what in seen.requests:
        if what.kind == "result" and (what.job_id in fetched or not retryable(entry.status)):
            fetched[what.job_id] = fetched.get(what.job_id, 0) + 1
    return fetched


def poll_times(seen: Observation) -> list[float]:
    return [entry.started for entry in seen.of_kind("poll")]


def judge_pace(context: Context, seen: Observation) -> list[str]:
    times = poll_times(seen)
    if len(times) < 3:
        return []
    span = max(times[-1] - times[0], 1e-6)
    rate = (len(times) - 1) / span
    if rate > context.max_polls_per_second:
        return [
            f"polled {len(times)} times in {span:.3f} s ({rate:.0f}/s; "
            f"the bound is {context.max_polls_per_second:g}/s)"
        ]
    return []


def applies_pace(context: Context, probe: Callable[[Scenario], Observation]) -> str | None:
    seen = probe(Scenario("polls_politely", minimal(context), "polls:2,2"))
    # (one that sent nothing at all neither streams nor runs synchronously)
    nothing = sent_nothing(seen, "it polled no status")
    if nothing is not None:
        return nothing
    if len(poll_times(seen)) < 3:
        return "the client does not poll the status (it streams, or runs synchronously)"
    return None
