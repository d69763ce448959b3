"""The quick "certainly valid" test never accepts what jsonschema rejects, so check_input
reports exactly what jsonschema alone reported."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from emulator.contracts.acceptance import compile_acceptance
from emulator.contracts.documents import DEFAULT_CONTRACTS_DIR, load_contracts
from emulator.contracts.rules import ContractValidator
from emulator.contracts.validation import _acceptance, _violation, apply_defaults, check_input
from emulator.strategies import invalid_inputs, valid_inputs

CONTRACTS = load_contracts([DEFAULT_CONTRACTS_DIR])
ENDPOINTS = list(CONTRACTS)
KNOWN = frozenset(ContractValidator.VALIDATORS)

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=6,
)


def _with_field_replaced(drawn: tuple[dict[str, Any], int, Any]) -> dict[str, Any]:
    """A valid input whose one field holds any JSON value (often of the wrong kind)."""
    valid, index, value = drawn
    if not valid:
        return {"prompt": value}
    return {**valid, list(valid)[index % len(valid)]: value}


def _inputs(endpoint: Any) -> st.SearchStrategy[Any]:
    replaced = st.tuples(valid_inputs(endpoint), st.integers(0, 50), JSON_VALUES)
    return st.one_of(
        valid_inputs(endpoint),
        invalid_inputs(endpoint),
        replaced.map(_with_field_replaced),
        JSON_VALUES,
    )


def _jsonschema_alone(endpoint: Any, payload: Any) -> tuple[Any, list[Any]]:
    """What check_input answered before it had a quick test."""
    errors = sorted(
        endpoint.input_validator.iter_errors(payload),
        key=lambda e: list(map(str, e.absolute_path)),
    )
    if errors:
        return payload, [_violation(error) for error in errors]
    return apply_defaults(endpoint, endpoint.input_schema, payload), []


def test_every_shipped_contract_has_a_quick_test() -> None:
    assert ENDPOINTS and all(_acceptance(endpoint) is not None for endpoint in ENDPOINTS)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.provider}:{e.id}")
@given(data=st.data())
def test_check_input_reports_what_jsonschema_reports(endpoint: Any, data: Any) -> None:
    payload = data.draw(_inputs(endpoint))
    accepts = _acceptance(endpoint)
    assert accepts is not None
    if accepts(payload):
        assert list(endpoint.input_validator.iter_errors(payload)) == []
    assert check_input(endpoint, payload) == _jsonschema_alone(endpoint, payload)


@pytest.mark.parametrize(
    ("provider", "endpoint_id"),
    [("wavespeed", "wavespeed-ai/bitdance-14b/text-to-image"), ("fal", "fal-ai/bitdance")],
)
def test_a_plain_valid_input_takes_the_quick_path(provider: str, endpoint_id: str) -> None:
    accepts = _acceptance(CONTRACTS.get(provider, endpoint_id))
    assert accepts is not None and accepts({"prompt": "a lighthouse at dusk"})


@pytest.mark.parametrize(
    "schema",
    [
        {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        {"$ref": "#/components/schemas/X"},
        {"not": {"type": "string"}},
        {"type": "object", "patternProperties": {"^x": {"type": "string"}}},
        {"$schema": "http://json-schema.org/draft-04/schema#", "type": "string"},
        {"properties": {"a": False}},
        {"type": "string", "multipleOf": 2},
        {"type": "array", "prefixItems": [{"type": "string"}], "items": {"type": "string"}},
    ],
)
def test_a_keyword_not_compiled_leaves_the_schema_to_jsonschema(schema: Any) -> None:
    assert compile_acceptance(schema, KNOWN) is None


@pytest.mark.parametrize(
    ("schema", "value", "accepted"),
    [
        # annotations and format are not checked by the contracts' validator
        ({"type": "string", "title": "T", "x-fal-order": 1, "format": "uri"}, "x", True),
        ({"type": "integer"}, 2.0, True),  # JSON Schema's integers include 2.0
        ({"type": "integer"}, True, False),
        ({"type": "integer"}, 2.5, False),
        ({"minimum": 1}, "text", True),  # a bound applies to numbers only
        ({"minimum": 1}, Decimal(0), False),  # a number jsonschema knows: left to it
        ({"minimum": 1}, 1, True),
        ({"exclusiveMinimum": 1}, 1, False),
        ({"maxLength": 2}, "abc", False),
        ({"enum": ["a", 1]}, "a", True),
        ({"enum": ["a", 1]}, 1.0, False),  # equal to 1 for jsonschema: left to it
        ({"const": "a"}, "a", True),
        ({"pattern": "^a"}, "ab", True),
        ({"pattern": "^a"}, "ba", False),
        ({"type": "object", "required": ["a"]}, {"b": 1}, False),
        ({"additionalProperties": False, "properties": {"a": {}}}, {"a": 1}, True),
        ({"type": "object", "additionalProperties": False}, {"a": 1}, False),
        ({"type": "array", "items": {"type": "string"}, "maxItems": 1}, ["a"], True),
        ({"type": "array", "items": {"type": "string"}}, [1], False),
        ({"anyOf": [{"type": "string"}, {"type": "null"}]}, None, True),
        ({"allOf": [{"type": "string"}, {"minLength": 2}]}, "a", False),
        ({"x-emulator-size": {"sides": [256, 512]}}, "1024*1024", False),
        ({"x-emulator-size": {"sides": [256, 512]}}, "512*512", True),
        ({"type": "string"}, type("Text", (str,), {})("x"), False),  # a subclass: not certain
    ],
)
def test_the_quick_test_is_certain_or_silent(schema: Any, value: Any, accepted: bool) -> None:
    accepts = compile_acceptance(schema, KNOWN)
    assert accepts is not None
    assert accepts(value) is accepted
    if accepted:
        assert Draft202012Validator(schema).is_valid(value) or "x-emulator-size" in schema
        assert ContractValidator(schema).is_valid(value)
