"""The properties a client of an async media API should have, each from a provider behaviour.

Each property draws its scenarios (input, progression, fault rules, seed), says whether it
applies to the client at all (judged once, from a probe), and judges one `Observation`:
the problems it finds, none when the property holds. Names are stable: reports, the CLI's
``--property`` and users' CI depend on them.
"""

from __future__ import annotations

from collections.abc import Callable

from emulator.harness.billing_checks import (
    applies_cancel,
    duplicate_scenarios,
    every_duplicate_case,
    every_starved,
    judge_cancels,
    judge_duplicates,
    starved_scenarios,
)
from emulator.harness.context import Context, Property, scenarios
from emulator.harness.exchange_checks import (
    applies_outage,
    applies_retries,
    applies_slow,
    every_outage,
    every_slow_answer,
    every_transient_error,
    judge_outage,
    judge_retries,
    judge_slow,
    outage_scenarios,
    slow_scenarios,
    transient_scenarios,
)
from emulator.harness.job_checks import (
    SPARSE,
    applies_invalid,
    applies_pace,
    applies_sparse,
    applies_stops,
    failure_scenarios,
    invalid_scenarios,
    judge_failure,
    judge_invalid,
    judge_output,
    judge_pace,
    judge_sparse,
    judge_stops,
    paced_scenarios,
    polling_scenarios,
    running_a_while,
    sparse_scenarios,
)
from emulator.harness.media_checks import (
    applies_downloads,
    applies_media,
    judge_downloads,
    judge_media_faults,
    media_fault_scenarios,
)
from emulator.harness.scenario import Scenario
from emulator.harness.session import Observation

__all__ = ["PROPERTIES", "Context", "Property"]


def webhooks_apply(context: Context, probe: Callable[[Scenario], Observation]) -> str | None:
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
            scenarios,
            judge_output,
            explicit=running_a_while,
        ),
        Property(
            "tolerates_optional_fields",
            "A field the output schema does not require may be absent (fal: an image's "
            "file_size, width, content_type; on many apps seed, timings; WaveSpeed: "
            "has_nsfw_contents, timings); a client must not read one as if it were always "
            "there.",
            sparse_scenarios,
            judge_sparse,
            applies_sparse,
            every=lambda context: [SPARSE],
            unstaged=judge_output,
        ),
        Property(
            "downloads_work",
            "Outputs name media by CDN URL, each declared with content_type and file_size; "
            "the CDN serves exactly those bytes.",
            scenarios,
            judge_downloads,
            applies_downloads,
        ),
        Property(
            "surfaces_job_failure",
            "fal reports failed requests with an error_type (runner_disconnected, "
            "request_timeout…) and models' 422s; WaveSpeed with task codes (1200-5004); both "
            "flag NSFW outputs (has_nsfw_concepts / has_nsfw_contents) and blank them.",
            failure_scenarios,
            judge_failure,
            every=lambda context: [
                (rule,) for rule in context.surface.job_failures(context.endpoint)
            ],
        ),
        Property(
            "surfaces_validation_errors",
            "An input the model rejects is answered 422 (fal, at the result, with loc naming "
            "the field) or 400 (WaveSpeed, at submit, 'Invalid parameters: field: …').",
            invalid_scenarios,
            judge_invalid,
            applies_invalid,
        ),
        Property(
            "stops_polling_when_done",
            "A status of COMPLETED (fal) or completed/failed (WaveSpeed) is final; fal serves "
            "the result at response_url, WaveSpeed inside the last poll.",
            polling_scenarios,
            judge_stops,
            applies_stops,
        ),
        Property(
            "polls_politely",
            "Jobs take seconds to minutes; both providers rate-limit keys (429), so a status "
            "loop must sleep between polls.",
            paced_scenarios,
            judge_pace,
            applies_pace,
        ),
        Property(
            "retries_transient_errors",
            "Both providers answer 429 under load: fal's are staged with Retry-After, and a "
            "retry sooner fails; WaveSpeed documents no Retry-After, so its client's own "
            "backoff paces a retry. fal's ingress answers 502/503/504 nginx pages (its "
            "Python client retries those); WaveSpeed answers 5xx in its envelope.",
            transient_scenarios,
            judge_retries,
            applies_retries,
            every=every_transient_error,
            unstaged=judge_output,
        ),
        Property(
            "gives_up_during_outage",
            "Either provider can be down for minutes (fal's ingress answers 503 nginx pages, "
            "WaveSpeed 5xx in its envelope): a client that retries without end hammers it "
            "and hangs its caller.",
            outage_scenarios,
            judge_outage,
            applies_outage,
            every=every_outage,
            exhaustive=True,
        ),
        Property(
            "survives_slow_answers",
            "Either provider may take seconds to answer a request (a cold start, a busy "
            "ingress); a client that stops waiting must say so, not take its timeout for an "
            "answer.",
            slow_scenarios,
            judge_slow,
            applies_slow,
            every=every_slow_answer,
            exhaustive=True,
        ),
        Property(
            "no_duplicate_jobs",
            "Every accepted submit is a billed job; a submit whose answer is lost may still "
            "have created one (neither provider has an idempotency key).",
            duplicate_scenarios,
            judge_duplicates,
            explicit=every_duplicate_case,
        ),
        Property(
            "cancels_abandoned_jobs",
            "A job can stay queued for as long as the provider is busy: a client must give "
            "up after a deadline, not hang its caller, and cancel what it started where it "
            "can (a queued fal request runs, and is billed, unless cancelled: PUT …/cancel).",
            starved_scenarios,
            judge_cancels,
            applies_cancel,
            every=every_starved,
            exhaustive=True,
        ),
        Property(
            "survives_media_faults",
            "CDN downloads can be missing (404) or cut short (a dropped connection after a "
            "Content-Length); a client must not hand on partial bytes.",
            media_fault_scenarios,
            judge_media_faults,
            applies_media,
            every=lambda context: [
                ({"effect": "media_missing"},),
                ({"effect": "media_truncated"},),
            ],
        ),
        Property(
            "keeps_calls_apart",
            "Providers run many jobs of one key at once; each job's output is fetched by "
            "its own request id, and transient errors come and go between calls.",
            scenarios,
            lambda context, seen: [],
            stateful=True,
        ),
        Property(
            "webhook_verification",
            "fal signs webhooks with ED25519 (X-Fal-Webhook-*), WaveSpeed with HMAC-SHA256 "
            "(webhook-id/-timestamp/-signature); forged and replayed deliveries must be refused.",
            scenarios,
            lambda context, seen: [],
            webhooks_apply,
        ),
    )
}
