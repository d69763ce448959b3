"""Hypothesis strategies generated from an endpoint's contract.

``valid_inputs(endpoint)`` draws inputs the contract accepts; ``boundary_inputs(endpoint)``
valid ones with every bounded number at one of its bounds and every string at its shortest;
``invalid_inputs(endpoint)`` draws inputs it rejects, each one valid input with one thing
broken (``broken_inputs`` also says which field). Every field that shapes an output is
kept to what the emulator makes (`emulator.contracts.limits`) and small enough that a
property test renders in milliseconds: sides up to ``max_dimension``, lengths up to
``max_seconds``, counts up to ``limits.max_outputs``; everything else ranges as far as the
contract allows. A drawn input is one the emulator accepts (`Engine.check_input`) and its
provider does not refuse (`Layout.refused_inputs`). Media inputs (``*_url`` strings, and the
fields the emulator reads as media: ``image``, ``images``, ``video``, ``mask_image``…) are
data URIs of small pictures, or the emulator-hosted URLs the caller passes as ``media``.
``allOf`` and ``not`` are drawn from the schema without them and checked; formats and the
rarer constructs are drawn by hypothesis-jsonschema (the drawing is `emulator._drawing`'s).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import strategies as st

from emulator._drawing import DEFAULT_LIMITS as DEFAULT_LIMITS  # re-exported, not in __all__
from emulator._drawing import Options, from_schema, media_inputs, tiny_picture, tiny_picture_uri
from emulator.contracts.documents import Endpoint
from emulator.contracts.limits import Limits, check_limits
from emulator.contracts.validation import check_input
from emulator.core.registry import LAYOUTS

__all__ = [
    "boundary_inputs",
    "broken_inputs",
    "invalid_inputs",
    "media_inputs",
    "tiny_picture",
    "tiny_picture_uri",
    "valid_inputs",
]


def _accepted(endpoint: Endpoint, options: Options) -> st.SearchStrategy[Any]:
    """Inputs drawn from the contract that the emulator makes an output of and the
    provider does not refuse: what is left after the ranges `Options` keeps to is rare (a
    default that asks too much beside a drawn field, a pair of fields the provider will not
    combine)."""
    refused = [endpoint.validator(rule) for rule in LAYOUTS[endpoint.provider].refused_inputs]

    def accepted(value: Any) -> bool:
        if any(rule.is_valid(value) for rule in refused):
            return False
        inputs, violations = check_input(endpoint, value)
        return not violations and not check_limits(endpoint, inputs, options.limits)

    return from_schema(endpoint, endpoint.input_schema, "", options).filter(accepted)


def valid_inputs(
    endpoint: Endpoint,
    *,
    max_dimension: int = 512,
    max_seconds: float = 10.0,
    media: Sequence[str] = (),
    limits: Limits = DEFAULT_LIMITS,
) -> st.SearchStrategy[dict[str, Any]]:
    """Inputs the endpoint's contract accepts and the emulator (under ``limits``, the
    `EmulatorConfig`'s by default) makes an output of: image sides up to
    ``max_dimension``, lengths up to ``max_seconds``."""
    return _accepted(endpoint, Options(max_dimension, tuple(media), max_seconds, limits))


def boundary_inputs(
    endpoint: Endpoint,
    *,
    max_dimension: int = 512,
    max_seconds: float = 10.0,
    media: Sequence[str] = (),
    limits: Limits = DEFAULT_LIMITS,
) -> st.SearchStrategy[dict[str, Any]]:
    """Valid inputs at the edges: each bounded number at its minimum or maximum (a field
    that shapes an output at the edges of the range the emulator makes), each string at
    its shortest."""
    options = Options(max_dimension, tuple(media), max_seconds, limits, boundary=True)
    return _accepted(endpoint, options)


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
    kinds = prop.get("type")
    for kind in kinds if isinstance(kinds, list) else [kinds]:
        if kind in _WRONG_TYPES:  # wrong for one listed type may suit another: filtered later
            options.append(_WRONG_TYPES[kind])
    if "maximum" in prop:
        options.append(st.integers(int(prop["maximum"]) + 1, int(prop["maximum"]) + 1000))
    if "minimum" in prop:
        options.append(st.integers(int(prop["minimum"]) - 1000, int(prop["minimum"]) - 1))
    return st.one_of(options)


#: names a client might misspell a field as (an identifier, as the contracts' fields are)
_FIELD_NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)


def broken_inputs(
    endpoint: Endpoint, *, media: Sequence[str] = ()
) -> st.SearchStrategy[tuple[dict[str, Any], str]]:
    """Inputs the contract rejects, each with the name of the field that was removed or
    broken: a valid input with exactly one thing wrong."""
    schema = endpoint.resolve(endpoint.input_schema)
    properties = schema.get("properties", {})
    required = list(schema.get("required", []))
    closed = schema.get("additionalProperties", True) is False
    if not (properties or required or closed):
        raise ValueError(f"{endpoint.id} accepts any object: no input of one breaks it")

    @st.composite
    def broken(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
        base = dict(draw(valid_inputs(endpoint, media=media)))
        if required and draw(st.booleans()):  # type: ignore[arg-type] # hypothesis' DrawFn
            name = draw(st.sampled_from(required))
            base.pop(name, None)
        elif properties:
            name = draw(st.sampled_from(sorted(properties)))
            base[name] = draw(_breakages(endpoint, name, properties[name]))
        else:  # nothing declared to break: a field the closed contract does not declare
            name = draw(_FIELD_NAMES.filter(lambda n: n not in base))
            base[name] = draw(st.integers())
        return base, name

    validator = endpoint.input_validator
    return broken().filter(lambda drawn: not validator.is_valid(drawn[0]))


def invalid_inputs(endpoint: Endpoint) -> st.SearchStrategy[Any]:
    """Inputs the contract rejects: a valid input with one field removed or broken."""
    return broken_inputs(endpoint).map(lambda drawn: drawn[0])
