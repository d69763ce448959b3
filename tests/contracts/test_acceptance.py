"""The quick "certainly valid" test never accepts what jsonschema rejects, so check_input
reports exactly what jsonschema alone reported; its defaults, prepared once per endpoint,
complete an input exactly as apply_defaults does."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from emulator.contracts.acceptance import compile_acceptance, validator_acceptance
from emulator.contracts.formats import format_checker
from emulator.contracts.loading import DEFAULT_CONTRACTS_DIR, load_contracts
from emulator.contracts.rules import contract_validator
from emulator.contracts.validation import (
    _distinct,
    _input_rules,
    _violations,
    apply_defaults,
    check_input,
    object_branch,
)
from emulator.strategies import invalid_inputs, valid_inputs

CONTRACTS = load_contracts([DEFAULT_CONTRACTS_DIR])
ENDPOINTS = list(CONTRACTS)
KNOWN = frozenset(contract_validator().VALIDATORS) - {"format"}  # no format checker

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


def _defaults_as_before(endpoint: Any, schema: Any, value: Any) -> Any:
    """apply_defaults as it was before its properties were prepared once: the oracle."""
    if isinstance(value, float) and value.is_integer():
        if endpoint.resolve(schema).get("type") == "integer":
            return int(value)
    object_schema = object_branch(endpoint, schema) if isinstance(value, dict) else None
    if object_schema is None:
        return value
    filled = dict(value)
    for name, prop in object_schema.get("properties", {}).items():
        if name in filled:
            filled[name] = _defaults_as_before(endpoint, prop, filled[name])
        elif "default" in prop:
            default = prop["default"]
            filled[name] = copy.deepcopy(default) if isinstance(default, dict | list) else default
    return filled


def _jsonschema_alone(endpoint: Any, payload: Any) -> tuple[Any, list[Any]]:
    """What check_input answered before it had a quick test (each complaint once)."""
    errors = sorted(
        endpoint.input_validator.iter_errors(payload),
        key=lambda e: list(map(str, e.absolute_path)),
    )
    if errors:
        return payload, _distinct(v for error in errors for v in _violations(error))
    return _defaults_as_before(endpoint, endpoint.input_schema, payload), []


def test_every_shipped_contract_has_a_quick_test() -> None:
    assert ENDPOINTS and all(_input_rules(endpoint).accepts is not None for endpoint in ENDPOINTS)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.provider}:{e.id}")
@given(data=st.data())
def test_check_input_reports_what_jsonschema_reports(endpoint: Any, data: Any) -> None:
    payload = data.draw(_inputs(endpoint))
    accepts = _input_rules(endpoint).accepts
    assert accepts is not None
    if accepts(payload):
        assert list(endpoint.input_validator.iter_errors(payload)) == []
    # the same inputs, in the same order, and the same violations
    expected = repr(_jsonschema_alone(endpoint, payload))
    assert repr(check_input(endpoint, payload)) == expected
    assert repr(apply_defaults(endpoint, endpoint.input_schema, payload)) == repr(
        _defaults_as_before(endpoint, endpoint.input_schema, payload)
    )


@pytest.mark.parametrize(
    ("provider", "endpoint_id"),
    [("wavespeed", "wavespeed-ai/bitdance-14b/text-to-image"), ("fal", "fal-ai/bitdance")],
)
def test_a_plain_valid_input_takes_the_quick_path(provider: str, endpoint_id: str) -> None:
    accepts = _input_rules(CONTRACTS.get(provider, endpoint_id)).accepts
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


def test_a_validators_quick_test_asserts_format_only_with_a_format_checker() -> None:
    ignoring = validator_acceptance(Draft202012Validator({"format": "uri", "minLength": 3}))
    checker = Draft202012Validator({"format": "uri"}, format_checker=format_checker())
    asserting = validator_acceptance(checker)
    assert ignoring is not None and asserting is not None
    assert ignoring("not a uri") and not ignoring("x")  # its class's keywords are enforced
    assert not asserting("not a uri") and asserting("https://example.com/")


def test_format_is_checked_only_where_the_validator_asserts_it() -> None:
    # an input's validator does not; an output's check does, with formats.py's checker
    schema = {"format": "uri"}
    ignoring = compile_acceptance(schema, KNOWN)
    asserting = compile_acceptance(schema, KNOWN | {"format"})
    assert ignoring is not None and asserting is not None
    assert ignoring("not a uri") and not asserting("not a uri")
    assert asserting("https://example.com/") and asserting(3)  # a format checks strings only


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
        ({"type": "object", "required": ["a", "b"]}, {"b": 1, "a": 2, "c": 3}, True),
        # an object's type, required and properties are tested together
        ({"type": "object", "properties": {"a": {"type": "string"}}}, {"a": 1}, False),
        ({"type": "object", "properties": {"a": {}}, "required": ["a"]}, {"a": 1}, True),
        ({"type": "object", "required": ["a"]}, type("Map", (dict,), {})(a=1), False),
        ({"type": "object"}, [], False),
        (
            {"additionalProperties": {"type": "string"}, "properties": {"a": {}}},
            {"a": 1, "b": "x"},
            True,
        ),
        (
            {"additionalProperties": {"type": "string"}, "properties": {"a": {}}},
            {"a": "x", "b": 1},
            False,
        ),
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
        assert contract_validator()(schema).is_valid(value)


@pytest.mark.parametrize(
    ("endpoint_id", "payload"),
    [
        ("fal-ai/bitdance", {"prompt": "x", "num_images": 2.0, "seed": 7.0}),
        (
            "fal-ai/bytedance/seedream/v4/text-to-image",
            {"prompt": "x", "image_size": {"width": 2e3}},
        ),
        ("fal-ai/bytedance/seedream/v4/text-to-image", {"prompt": "x", "num_images": 1.5}),
    ],
)
def test_whole_floats_and_objects_are_completed_as_before(endpoint_id: str, payload: Any) -> None:
    endpoint = CONTRACTS.get("fal", endpoint_id)
    inputs, _ = check_input(endpoint, payload)
    assert repr(inputs) == repr(_jsonschema_alone(endpoint, payload)[0])
