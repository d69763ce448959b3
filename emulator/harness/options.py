"""How a conformance run goes (`Options`), and the command line's words for it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.harness.context import SLOW_ANSWER
from emulator.harness.guard import Limits, require_number
from emulator.harness.report import PropertyOutcome

__all__ = ["Options", "setting_words"]


@dataclass(frozen=True)
class Options:
    """How a run goes; every field has a documented default (docs/harness.md)."""

    max_examples: int | None = None  # None: the active Hypothesis profile's
    seed: int | None = None  # None: the profile's (random unless derandomize)
    limits: Limits = field(default_factory=Limits)
    max_polls_per_second: float = 20.0
    retry_after: int = 1
    #: seconds `survives_slow_answers` keeps the client waiting for an answer: set it past
    #: your client's own timeout, and ``limits.call_timeout`` past it, to check what the
    #: client does when it stops waiting (`--slow-answer`)
    slow_answer: float = SLOW_ANSWER
    shrink_budget: int = 100
    shrink_seconds: float = 5.0
    machine_steps: int = 6  # steps per run of the keeps_calls_apart state machine
    is_error: Callable[[Any], bool] | None = None
    target: str = ""  # how the replay line names the client; "": MODULE:NAME, derived
    #: called with each property's outcome as it is decided (the CLI prints its line)
    progress: Callable[[PropertyOutcome], None] | None = None
    #: contract documents (or folders) of your own, beside the shipped ones: the harness's
    #: emulation serves them, and its replay lines name them (`--contracts`)
    contracts: tuple[Path | str, ...] = ()

    def __post_init__(self) -> None:
        require_number("max_polls_per_second", self.max_polls_per_second)
        require_number("shrink_seconds", self.shrink_seconds, zero=True)
        require_number("slow_answer", self.slow_answer)
        least = {"max_examples": 1, "retry_after": 0, "shrink_budget": 0, "machine_steps": 1}
        for name, lowest in least.items():
            value = getattr(self, name)
            if value is not None and value < lowest:
                raise ValueError(f"{name} must be at least {lowest}, not {value!r}")


def setting_words(options: Options) -> list[str]:
    """The command line's settings where ``options`` differ from the defaults: a replay
    under the defaults could judge otherwise (a poll pace, a call cut short)."""
    defaults = Options()
    words = []
    for flag, value, default in (
        ("--call-timeout", options.limits.call_timeout, defaults.limits.call_timeout),
        ("--max-polls-per-second", options.max_polls_per_second, defaults.max_polls_per_second),
        ("--slow-answer", options.slow_answer, defaults.slow_answer),
    ):
        if value != default:
            words += [flag, str(value)]
    return words
