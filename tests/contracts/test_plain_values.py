"""The simplest value a scalar schema allows: bounds, multiples, formats, patterns and
lengths kept, or why none is worked out."""

from __future__ import annotations

import re
from typing import Any

import pytest

from emulator.contracts.plain_values import Unmakeable, scalar_value


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        ({"type": "integer"}, 0),
        ({"type": "number"}, 0.0),
        ({"type": "integer", "minimum": 3}, 3),  # the lowest allowed, as it always was
        ({"type": "integer", "minimum": 0.5}, 1),
        ({"type": "integer", "exclusiveMinimum": 3}, 4),
        ({"type": "number", "exclusiveMinimum": 0}, 1.0),
        ({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}, 0.5),
        ({"type": "integer", "maximum": -4}, -4),
        ({"type": "integer", "exclusiveMaximum": 0}, -1),
        ({"type": "number", "exclusiveMaximum": -2.5}, -2.6),  # just below it
        ({"type": "number", "exclusiveMinimum": 0.2}, 0.3),  # just above it
        ({"type": "number", "minimum": -5}, -5.0),  # the minimum, though 0 is allowed
        ({"type": "integer", "minimum": 10, "multipleOf": 8}, 16),
        # jsonschema divides by a float step: 0.3 / 0.1 is 2.9999999999999996, no multiple
        ({"type": "number", "minimum": 0.3, "multipleOf": 0.1}, 0.4),
        ({"type": "number", "exclusiveMinimum": 0.2, "multipleOf": 0.1}, 0.4),
        ({"type": "number", "maximum": -4, "multipleOf": 3}, -6.0),
        ({"type": "integer", "exclusiveMinimum": 2.2, "multipleOf": 0.5}, 3),
        ({"type": "integer", "minimum": 10**400}, 10**400),
        ({"type": "string"}, ""),
        ({"type": "string", "minLength": 2}, "xx"),
        ({"type": "string", "minLength": 1024}, "x" * 1024),
        ({"type": "string", "format": "date-time"}, "1970-01-01T00:00:00Z"),
        ({"type": "string", "pattern": "^id-[0-9]{3}$"}, "id-000"),
        ({"type": "boolean"}, False),
        ({"type": ["string", "null"]}, None),
        ({"type": ["integer", "string"]}, 0),
        ({}, None),
    ],
)
def test_the_simplest_value_the_schema_allows(schema: dict[str, Any], value: Any) -> None:
    made = scalar_value(schema)
    assert made == value and type(made) is type(value)


@pytest.mark.parametrize(
    ("schema", "words"),
    [
        ({"type": "string", "format": "phone"}, "no string of format 'phone'"),
        ({"type": "string", "pattern": "(?=a)b"}, "no string the pattern '(?=a)b' matches"),
        ({"type": "string", "minLength": 10**9}, "no string longer than 1024 characters"),
        ({"type": "number", "minimum": 10**400}, "no number its bounds allow"),
        (
            {"type": "number", "minimum": 0.3, "maximum": 0.35, "multipleOf": 0.1},
            "no number its bounds and multipleOf 0.1 allow",
        ),
        ({"type": "integer", "minimum": 3, "maximum": 2}, "no number its bounds allow"),
    ],
)
def test_a_value_not_worked_out_says_why(schema: dict[str, Any], words: str) -> None:
    with pytest.raises(Unmakeable, match=re.escape(words)):
        scalar_value(schema)
