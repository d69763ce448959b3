"""The contract strategies on schema constructs the shipped contracts do not all use."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.contracts.documents import endpoint_from_document
from emulator.strategies import (
    boundary_inputs,
    broken_inputs,
    media_inputs,
    tiny_picture,
    valid_inputs,
)


def endpoint(input_schema: dict[str, Any], **components: Any) -> Any:
    document = {
        "openapi": "3.0.4",
        "paths": {
            "/x/y": {
                "post": {
                    "requestBody": {
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/In"}}
                        }
                    }
                }
            },
            "/x/y/requests/{request_id}": {
                "get": {"responses": {"200": {"content": {"application/json": {"schema": {}}}}}}
            },
        },
        "components": {"schemas": {"In": input_schema, **components}},
    }
    return endpoint_from_document("fal", document)


COMBINED = endpoint(
    {
        "type": "object",
        "allOf": [
            {"$ref": "#/components/schemas/Named"},
            {"properties": {"count": {"type": "integer", "minimum": 1, "maximum": 3}}},
        ],
        "not": {"properties": {"count": {"const": 2}}, "required": ["count"]},
        "properties": {
            "label": {"type": ["string", "null"], "minLength": 3, "maxLength": 5},
            "image_url": {"type": "string"},
            "ratio": {"type": "number", "minimum": 0.5, "maximum": 2},
        },
        "required": ["count", "label", "image_url"],
    },
    Named={"properties": {"name": {"type": "string", "minLength": 2}}, "required": ["name"]},
)


@given(valid_inputs(COMBINED, media=["https://v3.fal.media/files/uploads/ab/x.png"]))
def test_all_of_not_type_lists_and_min_length_are_honoured(value: dict) -> None:
    assert COMBINED.input_validator.is_valid(value)
    assert value["count"] in (1, 3) and len(value["name"]) >= 2
    assert value["label"] is None or 3 <= len(value["label"]) <= 5


@given(valid_inputs(COMBINED))
def test_media_inputs_are_pictures_the_emulator_can_read(value: dict) -> None:
    header, _, data = value["image_url"].partition(",")
    assert header in ("data:image/png;base64", "data:image/jpeg;base64")
    assert base64.b64decode(data) in (tiny_picture("png"), tiny_picture("jpeg"))


@given(boundary_inputs(COMBINED))
def test_boundary_inputs_sit_on_the_bounds(value: dict) -> None:
    assert COMBINED.input_validator.is_valid(value)
    assert value["count"] in (1, 3)
    assert value.get("ratio", 0.5) in (0.5, 2)
    assert value["label"] is None or len(value["label"]) == 3


@given(broken_inputs(COMBINED))
def test_broken_inputs_name_the_field_they_break(drawn: tuple[dict, str]) -> None:
    value, field = drawn
    assert not COMBINED.input_validator.is_valid(value)
    assert field in ("count", "label", "image_url", "ratio", "name")


CLOSED_AND_EMPTY = endpoint({"type": "object", "additionalProperties": False})


@given(broken_inputs(CLOSED_AND_EMPTY))
def test_a_contract_with_nothing_declared_is_broken_by_an_undeclared_field(
    drawn: tuple[dict, str],
) -> None:
    value, field = drawn
    assert value == {field: value[field]}
    assert not CLOSED_AND_EMPTY.input_validator.is_valid(value)


def test_a_contract_that_accepts_any_object_has_no_broken_inputs() -> None:
    with pytest.raises(ValueError, match="accepts any object"):
        broken_inputs(endpoint({"type": "object"}))


@given(st.data())
def test_hosted_media_are_drawn_too(data: st.DataObject) -> None:
    hosted = "https://v3.fal.media/files/uploads/ab/x.png"
    drawn = data.draw(st.lists(media_inputs([hosted]), min_size=20, max_size=20))
    assert all(url == hosted or url.startswith("data:image/") for url in drawn)


FORMATTED = endpoint(
    {
        "type": "object",
        "properties": {"when": {"type": "string", "format": "date-time"}},
        "required": ["when"],
    }
)


@given(valid_inputs(FORMATTED))
def test_formats_are_drawn_by_hypothesis_jsonschema(value: dict) -> None:
    assert RFC3339.fullmatch(value["when"]), value


RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
