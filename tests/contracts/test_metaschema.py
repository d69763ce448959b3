"""The merged metaschema (`emulator.contracts.metaschema`) finds in a schema what
jsonschema's own 2020-12 check finds: the same errors, at the same places."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from emulator.contracts.catalogue import shipped_catalogue
from emulator.contracts.loading import DEFAULT_CONTRACTS_DIR
from emulator.contracts.metaschema import check_schema, metaschema_validator

_JSONSCHEMAS = Draft202012Validator(
    Draft202012Validator.META_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER
)
_KEYWORDS = sorted(metaschema_validator().schema["properties"])


def _errors(validator: Draft202012Validator, schema: Any) -> set[tuple[str, str]]:
    # a set: jsonschema's check finds a wrong type once in each vocabulary (eight times)
    return {(json.dumps(list(e.absolute_path)), e.message) for e in validator.iter_errors(schema)}


def _same_errors(schema: Any) -> None:
    assert _errors(metaschema_validator(), schema) == _errors(_JSONSCHEMAS, schema)


_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(-2, 2) | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=8,
)
_patterns = st.sampled_from(["^a+$", "(", "[[:alpha:]]", "a{2,}", "\\p{L}"])
_schemas = st.recursive(
    st.booleans() | st.builds(dict),
    lambda inner: st.dictionaries(
        st.sampled_from(_KEYWORDS) | st.text(max_size=3),
        inner
        | _values
        | st.dictionaries(st.text(max_size=3), inner, max_size=3)
        | st.lists(inner, max_size=3)
        | _patterns
        | st.sampled_from(["object", "string", "integer", "nothing", ["null", "number"]]),
        max_size=5,
    ),
    max_leaves=12,
)


@given(_schemas)
def test_any_schema_has_the_errors_jsonschemas_check_finds(schema: Any) -> None:
    _same_errors(schema)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "nothing"},
        {"properties": {"a": {"minLength": -1}}},
        {"$defs": {"x": {"pattern": "("}}, "items": [True]},
        {"dependencies": {"a": 3}, "$ref": 4, "$dynamicRef": {}},
        {"anyOf": [], "required": ["a", "a"], "$id": "x#frag"},
        ["not", "a", "schema"],
    ],
)
def test_an_invalid_schema_has_the_errors_jsonschemas_check_finds(schema: Any) -> None:
    _same_errors(schema)
    with pytest.raises(SchemaError):
        check_schema(schema)


def test_the_shipped_schemas_have_what_jsonschemas_check_finds() -> None:
    documents = [
        json.loads(p.read_text()) for p in sorted(Path(DEFAULT_CONTRACTS_DIR).rglob("*.json"))
    ]
    catalogue = shipped_catalogue()
    assert catalogue is not None
    documents += [catalogue.document(i) for i in sorted(catalogue.ids())[::50]]
    schemas = [s for d in documents for s in d["components"]["schemas"].values()]
    assert len(schemas) > 250
    for schema in schemas:
        _same_errors(schema)
        check_schema(schema)
