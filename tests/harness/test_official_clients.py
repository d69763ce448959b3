"""The official clients through the whole suite, each in the thinnest adapter
(tests/harness/official.py). What they fail is a finding about the client, documented in
docs/harness.md ("What the official clients do"); this test keeps that page true: if a
client release changes its behaviour, the test says so and the page is updated with it.
"""

from __future__ import annotations

import socket
import time

import pytest

from emulator.harness import FAILED, NOT_APPLICABLE, Options, check

from ..conftest import is_loopback
from . import gallery, official

FAL = "fal-ai/bitdance"
WAVESPEED = "wavespeed-ai/bitdance-14b/text-to-image"

#: adapter → (provider, endpoint, properties it fails, properties that do not apply)
FINDINGS = {
    "fal_subscribe": (
        "fal", FAL,
        {"retries_transient_errors", "no_duplicate_jobs", "cancels_abandoned_jobs"},
        {"gives_up_during_outage", "survives_media_faults", "webhook_verification"},
    ),
    "fal_subscribe_with_timeout": (
        "fal", FAL,
        {"retries_transient_errors", "no_duplicate_jobs"},
        {"survives_media_faults", "webhook_verification"},
    ),
    "fal_subscribe_async": (
        "fal", FAL,
        {"retries_transient_errors", "no_duplicate_jobs"},
        {"survives_media_faults", "webhook_verification"},
    ),
    "wavespeed_run": (
        "wavespeed", WAVESPEED,
        {"retries_transient_errors", "surfaces_job_failure"},
        {"gives_up_during_outage", "cancels_abandoned_jobs", "survives_media_faults",
         "webhook_verification"},
    ),
}  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("adapter", sorted(FINDINGS))
def test_the_official_clients_fail_what_the_docs_say(adapter: str) -> None:
    provider, endpoint, fails, not_applicable = FINDINGS[adapter]
    report = check(
        getattr(official, adapter),
        provider=provider,
        endpoint=endpoint,
        options=Options(max_examples=5, target=f"tests.harness.official:{adapter}"),
    )
    failed = {o.name for o in report.outcomes if o.status == FAILED}
    skipped = {o.name for o in report.outcomes if o.status == NOT_APPLICABLE}
    assert (failed, skipped) == (fails, not_applicable), report.text()


@pytest.mark.slow
def test_an_abandoned_sync_subscribe_keeps_polling_until_the_harness_stops_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    report = check(
        official.fal_subscribe_with_timeout,
        provider="fal",
        endpoint=FAL,
        properties=["cancels_abandoned_jobs", "returns_valid_output"],
        options=Options(max_examples=3),
    )
    # A late request is noted on the property running when it comes: cancels_abandoned_jobs
    # makes one call for fal, whose poller goes on after it, into the next property's.
    notes = [note for outcome in report.outcomes for note in outcome.notes]
    assert any("after its calls had returned" in note for note in notes), report.text()
    # Once the harness is gone, no poller it saw is left to reach for the real host (the
    # servers other tests in this process run are looked up on loopback: not counted).
    looked_up: list[object] = []
    guarded = socket.getaddrinfo

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        if not is_loopback(host):
            looked_up.append(host)
        return guarded(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    time.sleep(1.0)  # ten of fal_client's polling intervals
    assert looked_up == [], "a client thread still polls a real host"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("adapter", "provider", "endpoint", "property_name", "told"),
    [
        ("fal_subscribe", "fal", FAL, "retries_transient_errors",
         "(the retry was fal_client's SyncClient.subscribe's own, inside the call your code made)"),
        ("fal_subscribe_async", "fal", FAL, "retries_transient_errors",
         "(the retry was fal_client's AsyncClient.subscribe's own"),
        ("fal_subscribe", "fal", FAL, "no_duplicate_jobs",
         "(each sent inside one call of fal_client's SyncClient.subscribe: the SDK resubmitted)"),
        ("wavespeed_run", "wavespeed", WAVESPEED, "retries_transient_errors",
         "(sent inside wavespeed's run, which did not retry it)"),
    ],
)  # fmt: skip
def test_a_failure_of_the_sdks_own_making_says_so(
    adapter: str, provider: str, endpoint: str, property_name: str, told: str
) -> None:
    # the SDKs' retries and resubmits were reported as the user's (a harness audit)
    problems = _failed(getattr(official, adapter), provider, endpoint, property_name)
    assert any(told in problem for problem in problems), problems


def test_a_retry_of_the_users_own_making_names_no_sdk() -> None:
    problems = _failed(gallery.ignores_retry_after, "fal", FAL, "retries_transient_errors")
    assert problems and not any("inside" in problem for problem in problems), problems


def _failed(client: object, provider: str, endpoint: str, property_name: str) -> list[str]:
    """What ``client`` fails ``property_name`` with (it must fail it)."""
    report = check(client, provider=provider, endpoint=endpoint, properties=[property_name],
                   options=Options(max_examples=2))  # fmt: skip
    (outcome,) = report.outcomes
    assert outcome.status == FAILED, report.text()
    return outcome.problems
