"""Each property as a Hypothesis test: its examples kept under a database key of its own."""

from __future__ import annotations

import os

from hypothesis import settings
from hypothesis.database import InMemoryExampleDatabase

from emulator.harness import Options, PropertyOutcome, check

from .gallery import careful


class FetchesNoted(InMemoryExampleDatabase):
    """Notes the keys it is asked for (each property's run asks for its own first)."""

    def __init__(self) -> None:
        super().__init__()
        self.fetched: set[bytes] = set()

    def fetch(self, key: bytes):  # type: ignore[no-untyped-def]
        self.fetched.add(key)
        return super().fetch(key)


def test_each_property_keeps_its_examples_under_a_key_of_its_own() -> None:
    # Every property's key was Hypothesis's digest of the runner's one test function: a
    # failure saved by one property was tried first by every other
    database = FetchesNoted()
    asked: list[set[bytes]] = []

    def property_ended(outcome: PropertyOutcome) -> None:
        asked.append(set(database.fetched))
        database.fetched.clear()

    settings.register_profile(
        "harness-database", parent=settings.get_profile("ci"), derandomize=False,
        database=database,
    )  # fmt: skip
    settings.load_profile("harness-database")
    try:
        check(careful, provider="fal", endpoint="fal-ai/bitdance",
              properties=["returns_valid_output", "stops_polling_when_done"],
              options=Options(max_examples=1, progress=property_ended))  # fmt: skip
    finally:  # back to the suite's profile (tests/conftest.py)
        settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
    first, second = asked
    assert first and second and not first & second, asked
