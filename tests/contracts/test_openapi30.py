"""A document written for OpenAPI 3.0 means what 3.0 says: ``nullable``, and a boolean
``exclusiveMinimum`` beside its ``minimum``."""

from __future__ import annotations

import json
from typing import Any

from emulator.contracts.documents import endpoint_from_document
from emulator.contracts.loading import DEFAULT_CONTRACTS_DIR
from emulator.contracts.openapi30 import as_json_schema
from emulator.contracts.validation import check_input

BITDANCE = DEFAULT_CONTRACTS_DIR / "fal" / "fal-ai" / "bitdance.json"


def three_zero() -> dict[str, Any]:
    document = json.loads(BITDANCE.read_text())
    properties = document["components"]["schemas"]["BitdanceInput"]["properties"]
    properties["negative_prompt"] = {"type": "string", "nullable": True}
    properties["strength"] = {"type": "number", "minimum": 0, "exclusiveMinimum": True}
    properties["style"] = {"$ref": "#/components/schemas/ImageSize", "nullable": True}
    return document


def test_nullable_and_boolean_bounds_are_read_as_openapi_3_0_means_them() -> None:
    # a 3.0 document was refused ("True is not of type 'number'") or its null refused
    endpoint = endpoint_from_document("fal", three_zero(), source="mine.json")
    _, violations = check_input(endpoint, {"prompt": "x", "negative_prompt": None, "style": None})
    assert violations == []
    _, violations = check_input(endpoint, {"prompt": "x", "strength": 0})
    assert [v.type for v in violations] == ["greater_than"]
    assert check_input(endpoint, {"prompt": "x", "strength": 0.5})[1] == []


def test_a_document_without_3_0_words_is_left_as_it_is() -> None:
    document = json.loads(BITDANCE.read_text())
    assert as_json_schema(document) is document
    three_one = {**three_zero(), "openapi": "3.1.0"}  # 3.1's schemas are 2020-12's own
    assert as_json_schema(three_one) is three_one
