"""The properties a client of an async media API should have, each from a provider behaviour.

Each property draws its scenarios (input, progression, fault rules, seed), says whether it
applies to the client at all (judged once, from a probe), and judges one `Observation`:
the problems it finds, none when the property holds. Names are stable: reports, the CLI's
``--property`` and users' CI depend on them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import Phase, find, settings
from hypothesis import strategies as st

from emulator.contracts.documents import Endpoint
from emulator.harness.checks import (
    differences,
    error_text,
    has_true_flag,
    media_urls,
    returned_bytes,
    without_bytes,
)
from emulator.harness.scenario import Scenario
from emulator.harness.session import Observation
from emulator.harness.surfaces import Surface
from emulator.strategies import boundary_inputs, broken_inputs, valid_inputs

__all__ = ["PROPERTIES", "Context", "Property"]

#: cheap progressions (the client's own poll sleeps are the cost of each example)
QUICK = ("immediate", "polls:0,1", "polls:1,0", "polls:1,1")
#: progressions with enough polls to see a client's pace (at least three status polls)
POLLED = ("polls:1,1", "polls:2,1", "polls:1,2", "polls:2,2")
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
    #: the Retry-After (whole seconds, as HTTP sends it) of staged 429s
    retry_after: int = 1
    #: says whether a returned value is the user's explicit error value
    is_error: Callable[[Any], bool] | None = None

    def inputs(self) -> st.SearchStrategy[Any]:
        media = self.hosted_media
        return valid_inputs(self.endpoint, media=media) | boundary_inputs(
            self.endpoint, media=media
        )

    def declared_error(self, output: Any) -> bool:
        return self.is_error is not None and bool(self.is_error(output))


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


def _scenarios(
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


def _ran_away(seen: Observation) -> list[str]:
    return [f"the harness had to stop the client: {seen.ran_away}"] if seen.ran_away else []


def _raised(seen: Observation) -> str:
    return f"{type(seen.error).__name__}: {str(seen.error)[:200]}"


# -- returns_valid_output ----------------------------------------------------------------


def _judge_output(context: Context, seen: Observation) -> list[str]:
    if not seen.succeeded:
        return _ran_away(seen) or [f"a valid input failed: {_raised(seen)}"]
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
    return problems


# -- downloads_work ------------------------------------------------------------------------


def _judge_downloads(context: Context, seen: Observation) -> list[str]:
    if not seen.succeeded:
        return []  # returns_valid_output's concern
    problems = []
    for entry in seen.of_kind("media"):
        if entry.status >= 400:
            problems.append(f"downloaded {entry.path} and got {entry.status}, yet succeeded")
    for url, declared in media_urls(without_bytes(seen.output)):
        answer = context.fetch(url)
        if answer.status_code != 200:
            problems.append(f"returned {url}, which answers {answer.status_code}")
            continue
        problems += _declared_matches(url, answer, declared)
    problems += _attached_bytes_match(context, seen.output)
    return problems


def _declared_matches(url: str, answer: httpx.Response, declared: Any) -> list[str]:
    declared = declared if isinstance(declared, dict) else {}
    problems = []
    kind, served = declared.get("content_type"), answer.headers.get("content-type", "")
    if kind and served.split(";")[0] != kind:
        problems.append(f"{url} is declared {kind}, served {served}")
    size = declared.get("file_size")
    if isinstance(size, int) and size != len(answer.content):
        problems.append(f"{url} is declared {size} bytes, served {len(answer.content)}")
    return problems


def _attached_bytes_match(context: Context, output: Any) -> list[str]:
    """Bytes returned beside a media URL must be what that URL serves."""
    problems = []
    for url, declared in media_urls(without_bytes(output)):
        original = _same_object(output, declared)
        attached = [v for v in original.values() if isinstance(v, bytes)] if original else []
        if attached and any(data != context.fetch(url).content for data in attached):
            problems.append(f"the bytes returned beside {url} are not what it serves")
    return problems


def _same_object(output: Any, stripped: Any) -> dict[str, Any] | None:
    """The dict of ``output`` that ``stripped`` (its copy without bytes) was made from."""
    if isinstance(output, dict):
        if without_bytes(output) == stripped:
            return output
        found = (_same_object(v, stripped) for v in output.values())
    elif isinstance(output, list | tuple):
        found = (_same_object(v, stripped) for v in output)
    else:
        return None
    return next((item for item in found if item is not None), None)


# -- surfaces_job_failure ------------------------------------------------------------------


def _failure_scenarios(context: Context, name: str) -> st.SearchStrategy[Scenario]:
    rules = st.sampled_from(context.surface.job_failures()).map(lambda rule: (rule,))
    return _scenarios(context, name, faults=rules)


def _judge_failure(context: Context, seen: Observation) -> list[str]:
    if seen.ran_away:
        return _ran_away(seen)
    if seen.error is not None or context.declared_error(seen.output):
        return []
    (rule,) = seen.scenario.faults
    if rule["effect"] == "nsfw" and has_true_flag(seen.output):
        return []  # the provider's own flag reached the caller: an explicit error value
    return [f"the provider reported a failure ({rule}) and the client returned it as a success"]


# -- surfaces_validation_errors ------------------------------------------------------------


def _invalid_scenarios(context: Context, name: str) -> st.SearchStrategy[Scenario]:
    return st.builds(
        lambda drawn, progression, seed: Scenario(
            name, drawn[0], progression, seed=seed, broken_field=drawn[1]
        ),
        broken_inputs(context.endpoint, media=context.hosted_media),
        st.sampled_from(QUICK),
        st.integers(0, 2**16),
    )


def _judge_invalid(context: Context, seen: Observation) -> list[str]:
    problems = _ran_away(seen)
    submits = len(seen.of_kind("submit", "run"))
    if submits > 1:
        problems.append(f"submitted the invalid input {submits} times (a 4xx is not transient)")
    if seen.error is None and not seen.ran_away and not context.declared_error(seen.output):
        problems.append("returned a success for an input the provider rejects")
    elif seen.error is not None and seen.scenario.broken_field not in error_text(seen.error):
        problems.append(
            f"the error does not name the offending field {seen.scenario.broken_field!r}: "
            f"{_raised(seen)}"
        )
    return problems


# -- stops_polling_when_done, polls_politely -----------------------------------------------


def _polled_scenarios(context: Context, name: str) -> st.SearchStrategy[Scenario]:
    failure = st.sampled_from(context.surface.job_failures()).map(lambda rule: (rule,))
    return _scenarios(context, name, progressions=POLLED, faults=st.just(()) | failure)


def _judge_stops(context: Context, seen: Observation) -> list[str]:
    problems = _ran_away(seen)
    for job_id, phases in seen.polls.items():
        if "done" in (p.value for p in phases):
            extra = len(phases) - [p.value for p in phases].index("done") - 1
            if extra:
                problems.append(f"polled job {job_id} {extra} more time(s) after it was done")
    if context.surface.result_kind == "result":
        fetched: dict[str | None, int] = {}
        for _, what in seen.requests:
            if what.kind == "result":
                fetched[what.job_id] = fetched.get(what.job_id, 0) + 1
        problems += [f"fetched the result of {j} {n} times" for j, n in fetched.items() if n > 1]
    return problems


def _poll_times(seen: Observation) -> list[float]:
    return [entry.started for entry in seen.of_kind("poll")]


def _judge_pace(context: Context, seen: Observation) -> list[str]:
    times = _poll_times(seen)
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


def _applies_pace(context: Context, probe: Callable[[Scenario], Observation]) -> str | None:
    seen = probe(Scenario("polls_politely", _minimal(context), "polls:2,2"))
    if len(_poll_times(seen)) < 3:
        return "the client does not poll the status (it streams, or runs synchronously)"
    return None


def _minimal(context: Context) -> Any:
    """The simplest valid input (what Hypothesis shrinks any valid input towards)."""
    return find(
        valid_inputs(context.endpoint),
        lambda value: True,
        settings=settings(database=None, max_examples=1, phases=[Phase.generate, Phase.shrink]),
    )


# -- retries_transient_errors --------------------------------------------------------------


def _transient_scenarios(context: Context, name: str) -> st.SearchStrategy[Scenario]:
    targets = context.surface.exchange_targets(context.endpoint.id)

    @st.composite
    def rules(draw: st.DrawFn) -> tuple[dict[str, Any], ...]:
        status = draw(st.sampled_from([429, 502, 503, 504]))
        rule = {"effect": "http_error", "status": status, "times": draw(st.integers(1, 2))}
        rule.update(targets[draw(st.sampled_from(sorted(targets)))])
        if status == 429:
            rule["retry_after"] = context.retry_after
        return (rule,)

    return _scenarios(context, name, faults=rules())


def _judge_retries(context: Context, seen: Observation) -> list[str]:
    (rule,) = seen.scenario.faults
    if seen.ran_away:
        return _ran_away(seen)
    if seen.error is not None:
        return [
            f"gave up on a transient {rule['status']} that stopped after {rule['times']}: "
            f"{_raised(seen)}"
        ]
    problems = []
    entries = [entry for entry, _ in seen.requests]
    for i, entry in enumerate(entries):
        if entry.status != 429:
            continue
        later = [e for e in entries[i + 1 :] if (e.method, e.path) == (entry.method, entry.path)]
        answered = entry.started + entry.duration
        if later and later[0].started - answered < 0.9 * rule["retry_after"]:
            problems.append(
                f"retried {later[0].started - answered:.2f} s after a 429 that said "
                f"Retry-After: {rule['retry_after']}"
            )
    return problems


# -- no_duplicate_jobs ---------------------------------------------------------------------


def _duplicate_scenarios(context: Context, name: str) -> st.SearchStrategy[Scenario]:
    submit = context.surface.exchange_targets(context.endpoint.id)["submit"]
    dropped = ({"effect": "reset", "nth": 1, **submit},)
    refused = ({"effect": "http_error", "status": 503, "times": 1, **submit},)
    lost = _scenarios(context, name, lose_submit_answer=st.just(True))
    return lost | _scenarios(context, name, faults=st.sampled_from([dropped, refused]))


def _judge_duplicates(context: Context, seen: Observation) -> list[str]:
    runs = [entry for entry in seen.of_kind("run") if entry.status == 200]
    billable = len(seen.job_ids) + len(runs)
    if billable > 1:
        return [f"one call created {billable} billable jobs"]
    return []


# -- cancels_abandoned_jobs ----------------------------------------------------------------

STARVED = ({"effect": "starve"},)


def _starved_scenarios(context: Context, name: str) -> st.SearchStrategy[Scenario]:
    return _scenarios(context, name, faults=st.just(STARVED))


def _judge_cancels(context: Context, seen: Observation) -> list[str]:
    if seen.ran_away:
        return _ran_away(seen)
    if seen.error is None:
        return []  # it did not give up (a synchronous run, say)
    return [
        f"gave up ({_raised(seen)}) and left job {job_id} running: no cancel was sent"
        for job_id in seen.unfinished
    ]


def _applies_cancel(context: Context, probe: Callable[[Scenario], Observation]) -> str | None:
    if not context.surface.has_cancel:
        return f"{context.provider}'s API has no cancel operation"
    seen = probe(Scenario("cancels_abandoned_jobs", _minimal(context), faults=STARVED))
    if seen.ran_away:
        return f"the client never gives up on a job stuck in the queue ({seen.ran_away})"
    return None


# -- survives_media_faults -----------------------------------------------------------------


def _media_fault_scenarios(context: Context, name: str) -> st.SearchStrategy[Scenario]:
    rules = st.builds(
        lambda effect, times: ({"effect": effect, "times": times},),
        st.sampled_from(["media_missing", "media_truncated"]),
        st.sampled_from([None, 1]),
    )
    return _scenarios(context, name, faults=rules.map(lambda r: tuple(_compact(x) for x in r)))


def _compact(rule: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in rule.items() if v is not None}


def _judge_media_faults(context: Context, seen: Observation) -> list[str]:
    if seen.ran_away:
        return _ran_away(seen)
    if seen.error is not None:
        return []
    whole = [context.fetch(url).content for url, _ in media_urls(without_bytes(seen.output))]
    problems = [
        f"returned {len(data)} bytes that are not a whole medium (a download was cut short)"
        for data in returned_bytes(seen.output)
        if data not in whole
    ]
    missing = [e for e in seen.of_kind("media") if e.status == 404]
    fetched = {e.path for e in seen.of_kind("media") if e.status == 200}
    problems += [
        f"a download of {e.path} failed (404) and the call still succeeded"
        for e in missing
        if e.path not in fetched
    ]
    return problems


def _downloads(seen: Observation) -> bool:
    return bool(seen.of_kind("media")) or any(True for _ in returned_bytes(seen.output))


def _applies_media(context: Context, probe: Callable[[Scenario], Observation]) -> str | None:
    seen = probe(Scenario("survives_media_faults", _minimal(context)))
    return None if _downloads(seen) else "the client never downloads media"


def _applies_downloads(context: Context, probe: Callable[[Scenario], Observation]) -> str | None:
    seen = probe(Scenario("downloads_work", _minimal(context)))
    if _downloads(seen) or any(True for _ in media_urls(without_bytes(seen.output))):
        return None
    return "the client neither returns media URLs nor downloads media"


def _webhooks_apply(context: Context, probe: Callable[[Scenario], Observation]) -> str | None:
    return (
        "concerns webhook handlers, not generate callables: check one with "
        "emulator.harness.check_webhook_handler"
    )


PROPERTIES: dict[str, Property] = {
    p.name: p
    for p in (
        Property(
            "returns_valid_output",
            "A finished job's result is the model's output as the contract's output schema "
            "describes it (fal: the result body; WaveSpeed: the prediction's outputs).",
            _scenarios,
            _judge_output,
        ),
        Property(
            "downloads_work",
            "Outputs name media by CDN URL, each declared with content_type and file_size; "
            "the CDN serves exactly those bytes.",
            _scenarios,
            _judge_downloads,
            _applies_downloads,
        ),
        Property(
            "surfaces_job_failure",
            "fal reports failed requests with an error_type (runner_disconnected, "
            "request_timeout…) and models' 422s; WaveSpeed with task codes (1200-5004); both "
            "flag NSFW outputs (has_nsfw_concepts / has_nsfw_contents) and blank them.",
            _failure_scenarios,
            _judge_failure,
        ),
        Property(
            "surfaces_validation_errors",
            "An input the model rejects is answered 422 (fal, at the result, with loc naming "
            "the field) or 400 (WaveSpeed, at submit, 'Invalid parameters: field: …').",
            _invalid_scenarios,
            _judge_invalid,
        ),
        Property(
            "stops_polling_when_done",
            "A status of COMPLETED (fal) or completed/failed (WaveSpeed) is final; fal serves "
            "the result at response_url, WaveSpeed inside the last poll.",
            _polled_scenarios,
            _judge_stops,
        ),
        Property(
            "polls_politely",
            "Jobs take seconds to minutes; both providers rate-limit keys (429), so a status "
            "loop must sleep between polls.",
            _polled_scenarios,
            _judge_pace,
            _applies_pace,
        ),
        Property(
            "retries_transient_errors",
            "Both providers answer 429 with Retry-After under load; fal's ingress answers "
            "502/503/504 nginx pages (its Python client retries those); WaveSpeed answers "
            "5xx in its envelope.",
            _transient_scenarios,
            _judge_retries,
        ),
        Property(
            "no_duplicate_jobs",
            "Every accepted submit is a billed job; a submit whose answer is lost may still "
            "have created one (neither provider has an idempotency key).",
            _duplicate_scenarios,
            _judge_duplicates,
        ),
        Property(
            "cancels_abandoned_jobs",
            "A queued fal request runs, and is billed, unless cancelled (PUT …/cancel); a "
            "client that stops waiting should cancel what it started.",
            _starved_scenarios,
            _judge_cancels,
            _applies_cancel,
        ),
        Property(
            "survives_media_faults",
            "CDN downloads can be missing (404) or cut short (a dropped connection after a "
            "Content-Length); a client must not hand on partial bytes.",
            _media_fault_scenarios,
            _judge_media_faults,
            _applies_media,
        ),
        Property(
            "webhook_verification",
            "fal signs webhooks with ED25519 (X-Fal-Webhook-*), WaveSpeed with HMAC-SHA256 "
            "(webhook-id/-timestamp/-signature); forged and replayed deliveries must be refused.",
            _scenarios,
            lambda context, seen: [],
            _webhooks_apply,
        ),
    )
}
