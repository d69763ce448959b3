"""The plain value of an output field no convention fills: the first value its schema
names (its const, default, examples, enum) that keeps it, else, for a scalar, the
simplest value its type and keywords allow.

A number is the lowest its bounds allow (0 if they allow it), a multiple of its
``multipleOf``; a string is a sample of its ``format`` (formats.py), else one its
``pattern`` matches (patterns.py), else empty, padded to its ``minLength`` (of at most
``LONGEST`` characters); a boolean is ``false``; a type that allows ``null`` is ``null``.
Where no value is worked out (a format without a sample, a pattern the walk does not
follow, keywords no simple value keeps together), the field is `Unmade`: making it fails
the job, saying why.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from emulator.contracts.documents import Endpoint
from emulator.contracts.formats import FORMAT_SAMPLES
from emulator.contracts.output_checks import OutputUnmade, keeping
from emulator.contracts.patterns import LONGEST, shortest_match
from emulator.contracts.steps import Const, Job, Step

#: the keywords that narrow a value beyond its type
NARROWING = frozenset(
    {
        "const",
        "enum",
        "pattern",
        "format",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minItems",
        "maxItems",
    }
)


class Unmade:
    """A field the emulator cannot make a value of, as its schema says."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def make(self, job: Job) -> Any:
        raise OutputUnmade(self.reason)


def given_value(endpoint: Endpoint, schema: Mapping[str, Any]) -> Step | None:
    """The first value (resolved) ``schema`` names that keeps it: its const, its default,
    its examples, its enum values, in turn (None if none does)."""
    given = [schema[key] for key in ("const", "default") if key in schema]
    for key in ("examples", "enum"):
        if isinstance(schema.get(key), list):
            given += schema[key]
    if not given:
        return None
    keeps = keeping(endpoint, schema)
    return next((Const(value) for value in given if keeps(value)), None)


def scalar_plain(endpoint: Endpoint, schema: Mapping[str, Any]) -> Step:
    """The simplest value of a (resolved) scalar ``schema``, or why there is none."""
    try:
        value = scalar_value(schema)
    except Unmakeable as exc:
        return Unmade(str(exc))
    if NARROWING.isdisjoint(schema):  # a type alone: its simplest value is one
        return Const(value)
    broken = keeping(endpoint, schema).first_error(value)
    return Const(value) if broken is None else Unmade(f"its simplest value is refused: {broken[1]}")


class Unmakeable(Exception):
    """No value of a schema is worked out; the message says what stands in the way."""


def scalar_value(schema: Mapping[str, Any]) -> Any:
    """The simplest value ``schema`` allows (it may yet break a keyword the caller checks:
    a pattern and a ``minLength`` together, say); raises `Unmakeable`."""
    kind = schema.get("type")
    if isinstance(kind, list):  # ["string", "null"]: null, as the field may be empty
        if "null" in kind or not kind:
            return None
        kind = kind[0]
    if kind == "string":
        return _string(schema)
    if kind in ("integer", "number"):
        return _number(schema, integer=kind == "integer")
    return {"boolean": False}.get(str(kind))


def _string(schema: Mapping[str, Any]) -> str:
    name, pattern = schema.get("format"), schema.get("pattern")
    if isinstance(name, str):
        if name not in FORMAT_SAMPLES:
            raise Unmakeable(f"provider-emulator makes no string of format {name!r}")
        value = FORMAT_SAMPLES[name]
    elif isinstance(pattern, str):
        match = shortest_match(pattern)
        if match is None:
            raise Unmakeable(f"provider-emulator finds no string the pattern {pattern!r} matches")
        value = match
    else:
        value = ""
    shortest = schema.get("minLength", 0)
    if not isinstance(shortest, int):
        return value
    if shortest > LONGEST:
        raise Unmakeable(f"provider-emulator writes no string longer than {LONGEST} characters")
    return value + "x" * (shortest - len(value))


def _bound(schema: Mapping[str, Any], inclusive: str, exclusive: str) -> tuple[Any, bool]:
    """A bound and whether it is exclusive (None if the schema sets none)."""
    for keyword, is_exclusive in ((inclusive, False), (exclusive, True)):
        value = schema.get(keyword)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value, is_exclusive
    return None, False


def _number(schema: Mapping[str, Any], *, integer: bool) -> int | float:
    low, above = _bound(schema, "minimum", "exclusiveMinimum")
    high, below = _bound(schema, "maximum", "exclusiveMaximum")
    if low is not None:  # the lowest value allowed: a field's minimum, as it always was
        value = low
        if above:
            past = math.floor(low) + 1 if integer else low + 1
            value = past if integer or high is None or past < high else (low + high) / 2
    elif high is None or high > 0 or (high == 0 and not below):
        value = 0
    else:
        value = (math.ceil(high) - 1 if integer else high - 1) if below else high
    step = schema.get("multipleOf")
    if isinstance(step, int | float) and not isinstance(step, bool) and step > 0:
        value = math.ceil(value / step) * step
    return math.ceil(value) if integer else float(value)
