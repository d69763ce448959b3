"""`check` and its `Options`: what they refuse before any call is made."""

from __future__ import annotations

import math
from typing import Any

import pytest

from emulator.harness import Limits, Options, check, check_webhook_handler

from .gallery import careful


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Options(max_examples=0), "max_examples must be at least 1, not 0"),
        (lambda: Options(max_polls_per_second=-1), "max_polls_per_second must be a finite"),
        (lambda: Options(shrink_seconds=math.inf), "shrink_seconds must be a finite number"),
        (lambda: Options(shrink_budget=-1), "shrink_budget must be at least 0"),
        (lambda: Options(machine_steps=0), "machine_steps must be at least 1"),
        (lambda: Limits(call_timeout=0), "call_timeout must be a finite number more than 0"),
        (lambda: Limits(max_requests=0), "max_requests must be at least 1"),
        (lambda: Limits(straggler_grace=-1), "straggler_grace must be a finite number at least 0"),
        (lambda: Options(slow_answer=0), "slow_answer must be a finite number more than 0"),
    ],
)
def test_an_option_that_would_mislead_the_run_is_refused(make: Any, message: str) -> None:
    # max_examples=0 ran the profile's 100; call_timeout=0 stopped every call, and a
    # property that saw no call was "not applicable": ok.
    with pytest.raises(ValueError, match=message):
        make()


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
