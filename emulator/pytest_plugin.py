"""The pytest plugin: a ``provider_emulator`` fixture, configured by a marker.

    @pytest.mark.provider_emulator(seed=7, progression="polls:1,1")
    def test_polling(provider_emulator):
        fal_client.subscribe("fal-ai/bitdance", arguments={"prompt": "a cat"})
        assert provider_emulator.requests.filter(path="/status")

Each test gets its own emulator (jobs, media, record); nothing leaks between tests.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulator.emulation import Emulation

__all__ = ["provider_emulator"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "provider_emulator(**options): options of the provider_emulator fixture "
        "(seed, progression, api_keys, unmatched, contracts, clock, fake_credentials)",
    )


@pytest.fixture
def provider_emulator(request: pytest.FixtureRequest) -> Iterator[Emulation]:
    """The fal and WaveSpeed APIs answered in-process for the duration of the test."""
    marker = request.node.get_closest_marker("provider_emulator")
    with Emulation(**(marker.kwargs if marker else {})) as emulation:
        yield emulation
