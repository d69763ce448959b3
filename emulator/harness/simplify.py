"""Simpler variants of a failing scenario, tried before Hypothesis's own shrinking.

Hypothesis shrinks what it generated, within the harness's budget, and does not shrink an
explicit example at all (the fullest input, say). A failure is far easier to read on the
simplest input, seed 0, without the fault rules that play no part, so those variants are
tried first, each once: a few runs that often reach what a long shrink would.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from emulator.contracts.documents import Endpoint
from emulator.harness.scenario import Scenario

__all__ = ["kinds", "simpler", "size"]

#: what varies between two runs of one failure: request ids, counts, seconds
_VARYING = re.compile(r"[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}|\d+(?:\.\d+)?")


def kinds(problems: list[str]) -> set[str]:
    """The problems without their ids and figures: two failures that share a kind fail
    the same way."""
    return {_VARYING.sub("#", problem) for problem in problems}


def size(scenario: Scenario) -> tuple[int, bool, int, int]:
    """How far a scenario is from the simplest (smaller is simpler): fault rules first,
    then a lost answer, the input's length and the seed."""
    text = json.dumps(scenario.input, sort_keys=True, default=repr)
    return (len(scenario.faults), scenario.lose_submit_answer, len(text), scenario.seed)


def simpler(
    scenario: Scenario, simplest: Any, endpoint: Endpoint, *, drop_faults: bool
) -> Iterator[Scenario]:
    """Variants of ``scenario``, the simplest first: everything simplified at once, then
    the simplest input, seed 0, each fault rule dropped (``drop_faults``: when the property
    draws scenarios without them), the submit's answer kept, each input field dropped or
    set as in the simplest input. An invalid input (``broken_field``) is kept as it is."""
    valid = scenario.broken_field is None
    faults = scenario.faults if not drop_faults else ()
    yield replace(
        scenario,
        input=simplest if valid else scenario.input,
        seed=0,
        faults=faults,
        lose_submit_answer=False,
    )
    if valid:
        yield replace(scenario, input=simplest)
    yield replace(scenario, seed=0)
    if drop_faults:
        for index in range(len(scenario.faults)):
            kept = scenario.faults[:index] + scenario.faults[index + 1 :]
            yield replace(scenario, faults=kept)
    yield replace(scenario, lose_submit_answer=False)
    if valid:
        for fewer in _fewer_fields(scenario.input, simplest, endpoint):
            yield replace(scenario, input=fewer)


def _fewer_fields(value: Any, simplest: Any, endpoint: Endpoint) -> Iterator[Any]:
    """``value`` with one field dropped, or set to the simplest input's, where still valid."""
    if not isinstance(value, dict) or not isinstance(simplest, dict):
        return
    for key in value:
        if key in simplest and value[key] == simplest[key]:
            continue
        fewer = {k: v for k, v in value.items() if k != key}
        if key in simplest:
            fewer[key] = simplest[key]
        if endpoint.input_validator.is_valid(fewer):
            yield fewer
