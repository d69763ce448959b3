"""The plain value of an output field no convention fills: the first value its schema
names (its const, default, examples, enum) that keeps it, else, for a scalar, the
simplest value its type and keywords allow.

A number is the lowest its minimum allows (its minimum, or just above an exclusive one),
else 0 if its maximum allows that, else the highest its maximum allows, worked out
exactly and a multiple of its ``multipleOf`` that jsonschema takes; a string is a sample
of its ``format`` (formats.py), else one its ``pattern`` matches (patterns.py), else
empty, padded to its ``minLength`` (of at most ``LONGEST`` characters); a boolean is
``false``; a type that allows ``null`` is ``null``. Where no value is worked out (a
format without a sample, a pattern the walk does not follow, keywords no simple value
keeps together), the field is `Unmade`: making it fails the job, saying why.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping
from fractions import Fraction
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
    its examples, its enum values, in turn (None if none does). An example naming a web
    address is left out: it is the provider's own file (WaveSpeed's CloudFront outputs),
    which an output of the emulator's never names."""
    given = [schema[key] for key in ("const", "default") if key in schema]
    examples = schema.get("examples")
    if isinstance(examples, list):
        given += [example for example in examples if not _names_address(example)]
    if isinstance(schema.get("enum"), list):
        given += schema["enum"]
    if not given:
        return None
    keeps = keeping(endpoint, schema)
    return next((Const(value) for value in given if keeps(value)), None)


def _names_address(value: Any) -> bool:
    """Whether ``value`` is, or holds at any depth, an http(s) URL (walked without
    recursion: a document may nest deeper than Python's stack)."""
    pending = [value]
    while pending:
        value = pending.pop()
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            return True
        if isinstance(value, Mapping):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


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


def _exact(number: int | float) -> Fraction:
    """``number`` as written (0.1 is one tenth, not the float nearest it); raises
    ValueError for an infinity or NaN."""
    return Fraction(number) if isinstance(number, int) else Fraction(str(number))


def _bound(schema: Mapping[str, Any], inclusive: str, exclusive: str) -> tuple[Any, bool]:
    """A bound, exact, and whether it is exclusive (None if the schema sets none)."""
    for keyword, is_exclusive in ((inclusive, False), (exclusive, True)):
        value = schema.get(keyword)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return _exact(value), is_exclusive
    return None, False


def _number(schema: Mapping[str, Any], *, integer: bool) -> int | float:
    step = schema.get("multipleOf")
    if not isinstance(step, int | float) or isinstance(step, bool) or step <= 0:
        step = None
    try:
        for value in itertools.islice(_candidates(schema, integer, step), _TRIES):
            made = int(value) if integer else float(value)
            if step is None or _multiple(made, step):
                return made
    except (OverflowError, ValueError):  # minimum: 10**400 is no float; nor is an infinity
        raise Unmakeable("provider-emulator makes no number its bounds allow") from None
    keywords = "bounds" if step is None else f"bounds and multipleOf {step}"
    raise Unmakeable(f"provider-emulator finds no number its {keywords} allow")


#: how many of the values a number's bounds and multipleOf allow are tried, lowest first
_TRIES = 16


def _candidates(schema: Mapping[str, Any], integer: bool, step: float | None) -> Iterator[Fraction]:
    """The values a number's bounds allow, nearest its minimum first (or 0, or nearest its
    maximum), exactly: on the grid of its ``multipleOf`` (of integers, for an integer)."""
    low, above = _bound(schema, "minimum", "exclusiveMinimum")
    high, below = _bound(schema, "maximum", "exclusiveMaximum")
    grid = _grid(step, integer)
    if low is not None:  # the lowest value allowed: a field's minimum, as it always was
        if grid is None:  # any number: the minimum, or one just above it
            value = low + _last_digit(low) if above else low
            yield value if high is None or value < high else (low + high) / 2
            return
        first = math.floor(low / grid) + 1 if above else math.ceil(low / grid)
        for index in itertools.count(first):
            value = index * grid
            if high is not None and (value > high or below and value == high):
                return
            yield value
    elif high is None or high > 0 or (high == 0 and not below):
        yield Fraction(0)
    elif grid is None:  # any number below 0: the maximum, or one just below it
        yield high - _last_digit(high) if below else high
    else:
        last = math.ceil(high / grid) - 1 if below else math.floor(high / grid)
        yield from (index * grid for index in itertools.count(last, -1))


def _grid(step: float | None, integer: bool) -> Fraction | None:
    """The spacing of the values a number may take: its ``multipleOf`` (for an integer,
    the smallest integer multiple of it), 1 for an integer without one, None for any."""
    if step is None:
        return Fraction(1) if integer else None
    exact = _exact(step)
    return Fraction(exact.numerator) if integer else exact


def _last_digit(bound: Fraction) -> Fraction:
    """The place of a bound's last decimal digit (0.01 for 0.25), 1 for a whole number:
    the step to a plain number just past it."""
    places = 0
    while (bound * 10**places).denominator != 1 and places < 17:
        places += 1
    return Fraction(1, 10**places)


def _multiple(value: int | float, step: int | float) -> bool:
    """Whether jsonschema, which checks every output, takes ``value`` as a multiple of
    ``step``: by a float step it divides in floats, so that 0.3 is no multiple of 0.1."""
    if not isinstance(step, float):
        return value % step == 0
    try:
        quotient = value / step
        return int(quotient) == quotient
    except OverflowError:
        return (Fraction(value) / Fraction(step)).denominator == 1
