"""`Options`: what they refuse, and the command line's words for them in a replay line."""

from __future__ import annotations

import math
from typing import Any

import pytest

from emulator.harness import Limits, Options
from emulator.harness.options import setting_words


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


def test_a_replay_line_names_the_settings_that_are_not_the_defaults() -> None:
    assert setting_words(Options()) == []
    options = Options(limits=Limits(call_timeout=7), slow_answer=1.5, max_polls_per_second=20)
    assert setting_words(options) == ["--call-timeout", "7", "--slow-answer", "1.5"]
