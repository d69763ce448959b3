"""`check`: what it refuses before any call is made."""

from __future__ import annotations

import pytest

from emulator.harness import Options, check, check_webhook_handler

from .gallery import careful


def test_a_client_that_cannot_be_called_is_refused() -> None:
    # a "MODULE:CALLABLE" string, as the CLI takes, reported polls_politely "not applicable"
    with pytest.raises(TypeError, match="the client must be callable"):
        check("tests.harness.gallery:careful", provider="fal", endpoint="fal-ai/bitdance")


def test_an_unknown_provider_is_named() -> None:
    with pytest.raises(ValueError, match="unknown provider 'falx': one of fal, wavespeed"):
        check(careful, provider="falx", endpoint="fal-ai/bitdance")
    with pytest.raises(ValueError, match="unknown provider 'nope'"):
        check_webhook_handler(lambda body, headers: True, provider="nope")


def test_properties_are_a_list_of_names() -> None:
    # a string was read letter by letter: "unknown properties: p, o, l, l, s…"
    with pytest.raises(TypeError, match="not the string 'polls_politely'"):
        check(careful, provider="fal", endpoint="fal-ai/bitdance", properties="polls_politely")


def test_each_outcome_is_given_to_progress_as_its_property_ends() -> None:
    # the CLI printed nothing until every property had run, minutes into a run (an audit)
    seen: list[str] = []
    names = ["returns_valid_output", "stops_polling_when_done"]
    options = Options(max_examples=2, progress=lambda outcome: seen.append(outcome.name))
    report = check(careful, provider="fal", endpoint="fal-ai/bitdance", properties=names,
                   options=options)  # fmt: skip
    assert seen == names == [outcome.name for outcome in report.outcomes]
