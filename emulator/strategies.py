"""Hypothesis strategies generated from an endpoint's contract.

``valid_inputs(endpoint)`` draws inputs the contract accepts; ``invalid_inputs(endpoint)``
draws inputs it rejects, each one valid input with one thing broken. Media dimensions are
capped (``max_dimension``) so that a property test renders in milliseconds; everything
else ranges as far as the contract allows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from emulator.contracts.documents import Endpoint
from emulator.contracts.rules import SIZE_RULE, size_problem

__all__ = ["invalid_inputs", "valid_inputs"]

_INT32 = 2**31 - 1
_DIMENSIONS = ("width", "height")


def _integers(schema: Mapping[str, Any], cap: int | None) -> st.SearchStrategy[int]:
    low = schema.get("minimum", -_INT32)
    if "exclusiveMinimum" in schema:
        low = max(low, schema["exclusiveMinimum"] + 1)
    high = schema.get("maximum", _INT32)
    if "exclusiveMaximum" in schema:
        high = min(high, schema["exclusiveMaximum"] - 1)
    if cap is not None:
        high = min(high, cap)
    return st.integers(int(low), int(high))


def _numbers(schema: Mapping[str, Any]) -> st.SearchStrategy[float]:
    return st.floats(
        min_value=schema.get("minimum", schema.get("exclusiveMinimum")),
        max_value=schema.get("maximum", schema.get("exclusiveMaximum")),
        exclude_min="exclusiveMinimum" in schema,
        exclude_max="exclusiveMaximum" in schema,
        allow_nan=False,
        allow_infinity=False,
    )


def _legal_sizes(
    rule: Mapping[str, Any], as_text: bool, max_dimension: int
) -> st.SearchStrategy[Any]:
    """Square sizes the contract's size rule accepts, at the small end of its range."""
    low, high = rule.get("sides", (1, 2**14))
    if "pixels" in rule:
        low = max(low, math.isqrt(rule["pixels"][0] - 1) + 1)
        high = min(high, math.isqrt(rule["pixels"][1]))
    sides = st.integers(low, max(low, min(high, max_dimension)))
    if as_text:
        return sides.map(lambda side: f"{side}*{side}")
    return sides.map(lambda side: {"width": side, "height": side})


def _from_schema(
    endpoint: Endpoint, schema: Mapping[str, Any], name: str, max_dimension: int
) -> st.SearchStrategy[Any]:
    schema = endpoint.resolve(schema)
    if SIZE_RULE in schema:
        rule = schema[SIZE_RULE]
        as_text = schema.get("type") == "string"
        legal = _legal_sizes(rule, as_text, max_dimension)
        if as_text:  # a "W*H" text field: random text would almost never be a legal size
            return legal
        unruled = {k: v for k, v in schema.items() if k != SIZE_RULE}
        drawn = _from_schema(endpoint, unruled, name, max_dimension)
        return drawn.filter(lambda value: size_problem(rule, value) is None) | legal
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return st.one_of([_from_schema(endpoint, s, name, max_dimension) for s in schema[key]])
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        return st.fixed_dictionaries(
            {
                k: _from_schema(endpoint, v, k, max_dimension)
                for k, v in properties.items()
                if k in required
            },
            optional={
                k: _from_schema(endpoint, v, k, max_dimension)
                for k, v in properties.items()
                if k not in required
            },
        )
    if kind == "integer":
        return _integers(schema, max_dimension if name in _DIMENSIONS else None)
    if kind == "number":
        return _numbers(schema)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        items = _from_schema(endpoint, schema.get("items", {}), name, max_dimension)
        low = schema.get("minItems", 0)
        return st.lists(items, min_size=low, max_size=max(low, schema.get("maxItems", 3)))
    if "pattern" in schema:
        return st.from_regex(schema["pattern"], fullmatch=True)
    return st.text(max_size=schema.get("maxLength", 200))


def valid_inputs(
    endpoint: Endpoint, *, max_dimension: int = 512
) -> st.SearchStrategy[dict[str, Any]]:
    """Inputs the endpoint's contract accepts."""
    return _from_schema(endpoint, endpoint.input_schema, "", max_dimension)


_WRONG_TYPES = {
    "string": st.integers(),
    "integer": st.text(max_size=5)
    | st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: f != int(f)),
    "number": st.text(max_size=5),
    "boolean": st.text(max_size=5) | st.integers(2),
    "object": st.integers(),
    "array": st.text(max_size=5),
}


def _breakages(endpoint: Endpoint, name: str, prop: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    prop = endpoint.resolve(prop)
    options: list[st.SearchStrategy[Any]] = [st.none()]
    if "enum" in prop:
        options.append(st.text(max_size=10).filter(lambda v: v not in prop["enum"]))
    if prop.get("type") in _WRONG_TYPES:
        options.append(_WRONG_TYPES[prop["type"]])
    if "maximum" in prop:
        options.append(st.integers(int(prop["maximum"]) + 1, int(prop["maximum"]) + 1000))
    if "minimum" in prop:
        options.append(st.integers(int(prop["minimum"]) - 1000, int(prop["minimum"]) - 1))
    return st.one_of(options)


def invalid_inputs(endpoint: Endpoint) -> st.SearchStrategy[Any]:
    """Inputs the contract rejects: a valid input with one field removed or broken."""
    schema = endpoint.resolve(endpoint.input_schema)
    properties = schema.get("properties", {})
    required = list(schema.get("required", []))

    @st.composite
    def broken(draw: st.DrawFn) -> Any:
        base = dict(draw(valid_inputs(endpoint)))
        if required and draw(st.booleans()):  # type: ignore[arg-type] # hypothesis' DrawFn
            base.pop(draw(st.sampled_from(required)), None)
        else:
            name = draw(st.sampled_from(sorted(properties)))
            base[name] = draw(_breakages(endpoint, name, properties[name]))
        return base

    validator = endpoint.input_validator
    return broken().filter(lambda value: not validator.is_valid(value))
