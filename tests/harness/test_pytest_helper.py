"""``check_client`` inside a user's test run: it fails the test with the report, honours
the Hypothesis profile, and works beside the ``provider_emulator`` fixture."""

from __future__ import annotations

import os

import fal_client
import pytest
from hypothesis import settings

from emulator import Emulation
from emulator.harness import HELD, Options
from emulator.harness.pytest import check_client

from .gallery import CarefulClient, Wrong
from .official import fal_subscribe


@pytest.mark.slow  # two properties of 30 examples, each waiting on its polls: 4 s
def test_a_holding_client_passes_and_returns_the_report() -> None:
    report = check_client(
        CarefulClient(), provider="fal", endpoint="fal-ai/bitdance",
        properties=["returns_valid_output", "surfaces_validation_errors"],
    )  # fmt: skip
    assert [o.status for o in report.outcomes] == [HELD, HELD]


def test_a_failing_client_fails_the_test_with_the_report() -> None:
    with pytest.raises(pytest.fail.Exception) as failed:
        check_client(Wrong("polls_after_done"), provider="fal", endpoint="fal-ai/bitdance",
                     properties=["stops_polling_when_done"])  # fmt: skip
    text = str(failed.value)
    assert "stops_polling_when_done      FAILED" in text and "replay:" in text


def test_the_active_hypothesis_profile_sets_the_number_of_examples() -> None:
    settings.register_profile("harness-tiny", parent=settings.get_profile("ci"), max_examples=2)
    settings.load_profile("harness-tiny")
    try:
        report = check_client(CarefulClient(), provider="fal", endpoint="fal-ai/bitdance",
                              properties=["returns_valid_output"])  # fmt: skip
    finally:  # back to the suite's profile (tests/conftest.py)
        settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
    # the profile's two draws, the fullest input and a job long running, always tried
    assert report.outcome("returns_valid_output").examples == 4


def test_beside_the_fixture_it_uses_the_fixtures_emulation(
    provider_emulator: Emulation,
) -> None:
    # The supported pattern: no @given on a test that takes the fixture (Hypothesis's
    # function-scoped-fixture health check), but check_client(emulation=...) runs its own
    # examples on that emulation, resetting it for each.
    answered_by_the_fixture = []

    def client(endpoint_id: str, arguments: dict) -> dict:
        output = CarefulClient()(endpoint_id, arguments)
        answered_by_the_fixture.append(len(provider_emulator.requests.filter(provider="fal")))
        return output

    report = check_client(
        client, provider="fal", endpoint="fal-ai/bitdance",
        properties=["returns_valid_output"], emulation=provider_emulator,
        options=Options(max_examples=3),
    )  # fmt: skip
    assert report.ok
    assert answered_by_the_fixture and all(answered_by_the_fixture)


@pytest.mark.provider_emulator(seed=7, progression="polls:1,2")
def test_beside_the_fixture_the_check_hands_the_emulation_back_as_it_was(
    provider_emulator: Emulation,
) -> None:
    fresh_id = fal_client.submit("fal-ai/bitdance", arguments={"prompt": "a"}).request_id
    provider_emulator.reset()
    provider_emulator.add_fault("http_error", status=503, path="*/nowhere")
    for _ in range(2):  # a second check on the same emulation runs as the first
        check_client(fal_subscribe, provider="fal", endpoint="fal-ai/bitdance",
                     properties=["returns_valid_output"], emulation=provider_emulator,
                     options=Options(max_examples=1))  # fmt: skip
    # the fixture's seed, progression and fault rules; no guard, no leftover jobs
    assert [rule.path for rule in provider_emulator.faults] == ["*/nowhere"]
    assert len(provider_emulator.jobs) == 0 and not provider_emulator.requests
    updates: list[object] = []
    handle = fal_client.submit("fal-ai/bitdance", arguments={"prompt": "a"})
    assert handle.request_id == fresh_id
    for update in handle.iter_events(interval=0):
        updates.append(type(update).__name__)
    assert updates == ["Queued", "InProgress", "InProgress", "Completed"]
    assert handle.get()["images"]
