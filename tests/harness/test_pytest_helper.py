"""``check_client`` inside a user's test run: it fails the test with the report, honours
the Hypothesis profile, and works beside the ``provider_emulator`` fixture."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from emulator import Emulation
from emulator.harness import HELD, Options
from emulator.harness.pytest import check_client

from .gallery import CarefulClient, Wrong


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
    # the profile's two draws, and the fullest input the harness always tries
    assert report.outcome("returns_valid_output").examples == 3


def test_beside_the_fixture_it_uses_the_fixtures_emulation(
    provider_emulator: Emulation,
) -> None:
    # The supported pattern: no @given on a test that takes the fixture (Hypothesis's
    # function-scoped-fixture health check), but check_client(emulation=...) runs its own
    # examples on that emulation, resetting it for each.
    report = check_client(
        CarefulClient(), provider="fal", endpoint="fal-ai/bitdance",
        properties=["returns_valid_output"], emulation=provider_emulator,
        options=Options(max_examples=3),
    )  # fmt: skip
    assert report.ok
    assert provider_emulator.requests.filter(provider="fal", path="/requests/")
