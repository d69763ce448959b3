"""Outputs without the fields their schema does not require (the ``sparse_output`` rule).

A provider may leave out any output field its schema does not list as required (fal's
``file_size``, ``width`` or ``content_type`` of an image; WaveSpeed's
``has_nsfw_contents`` and ``timings``), and a client that reads one unguarded breaks on
such an answer. The emulator always writes them, so a sparse output is made from a full
one: every field an object's schema does not require is dropped, at every depth the
schema describes (an array's items, an ``anyOf``/``oneOf`` branch the value is, the
parts of an ``allOf``, ``additionalProperties``). A sparse output that would not validate
(a constraint the walk does not read, such as ``minProperties``) is not made: the output
stays whole.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from emulator.contracts.documents import Endpoint

__all__ = ["optional_fields", "without_optional"]


def without_optional(endpoint: Endpoint, output: Any) -> Any:
    """``output`` without the fields ``endpoint``'s output schema does not require; the
    output itself where that would not validate."""
    sparse = _sparse(endpoint, endpoint.output_schema, output)
    return sparse if endpoint.output_validator.is_valid(sparse) else output


def optional_fields(endpoint: Endpoint) -> list[str]:
    """The names of the fields some object of ``endpoint``'s output schema declares and
    does not require, sorted: what a sparse output may lack."""
    names: set[str] = set()
    for schema in _objects(endpoint, endpoint.output_schema, set()):
        required = _required(endpoint, schema)
        names.update(name for name in _properties(endpoint, schema) if name not in required)
    return sorted(names)


def _sparse(endpoint: Endpoint, schema: Mapping[str, Any], value: Any) -> Any:
    schema = endpoint.resolve(schema)
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            # the first branch the value is: what it was made as (outputs.py's `plain`)
            branch = next((b for b in schema[key] if endpoint.validator(b).is_valid(value)), None)
            return value if branch is None else _sparse(endpoint, branch, value)
    if isinstance(value, dict):
        required = _required(endpoint, schema)
        properties = _properties(endpoint, schema)
        extra = schema.get("additionalProperties")
        others = extra if isinstance(extra, Mapping) else {}
        return {
            name: _sparse(endpoint, properties.get(name, others), item)
            for name, item in value.items()
            if name in required
        }
    items = schema.get("items")
    if isinstance(value, list) and isinstance(items, Mapping):
        return [_sparse(endpoint, items, item) for item in value]
    return value


def _parts(endpoint: Endpoint, schema: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """``schema`` (resolved) and the parts of its ``allOf``, which a value meets at once."""
    return [schema, *(endpoint.resolve(part) for part in schema.get("allOf", ()))]


def _required(endpoint: Endpoint, schema: Mapping[str, Any]) -> set[str]:
    return {name for part in _parts(endpoint, schema) for name in part.get("required", ())}


def _properties(endpoint: Endpoint, schema: Mapping[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for part in _parts(endpoint, schema):
        for name, field in part.get("properties", {}).items():
            found.setdefault(name, field)
    return found


def _objects(
    endpoint: Endpoint, schema: Mapping[str, Any], seen: set[str]
) -> Iterator[Mapping[str, Any]]:
    """Every schema reachable from ``schema`` that may describe an object (each named
    schema once: a recursive one ends)."""
    ref = schema.get("$ref")
    if isinstance(ref, str):
        if ref in seen:
            return
        seen.add(ref)
    schema = endpoint.resolve(schema)
    yield schema  # with its allOf's parts: `_required` and `_properties` read them all
    children = [*_properties(endpoint, schema).values()]
    for key in ("anyOf", "oneOf"):
        children += schema.get(key, ())
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), Mapping):
            children.append(schema[key])
    for child in children:
        yield from _objects(endpoint, child, seen)
