"""An input sent as a query string, typed as its contract declares.

A query string carries only text: ``@fal-ai/client``'s ``run(…, {method: "get"})`` writes
``num_images: 2`` as ``num_images=2``. Read as text, every number and flag in it would fail
its schema, so a value is converted where its property does not take text (as FastAPI reads
typed query parameters): to a number, a whole number or a flag, or, for an array, one item
per repetition of its name (``?image_urls=a&image_urls=b``), or, for an array of numbers or
flags, one per comma of its one value, as the client joins an array (``?seeds=1,2``: a
list of texts cannot be split so, a data URI holding a comma). A value that converts to
none of them stays text, for validation to name. Objects cannot be written in a query
string (the client writes ``[object Object]``), and stay text too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from emulator.contracts.documents import Endpoint

#: a number as JSON writes it (no blanks, underscores or ``nan``, which Python would read)
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?P<fraction>(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)")
#: the most digits of a whole number read from text (Python's own guard, as for JSON)
_MAX_DIGITS = 4300


def query_input(endpoint: Endpoint, pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """The input of ``endpoint`` that a query string's ``pairs`` say, its values typed as
    the input schema's properties take them."""
    values: dict[str, list[str]] = {}
    for name, value in pairs:
        values.setdefault(name, []).append(value)
    properties = endpoint.resolve(endpoint.input_schema).get("properties", {})
    return {name: _typed(endpoint, properties.get(name), texts) for name, texts in values.items()}


def _typed(endpoint: Endpoint, schema: Any, texts: list[str]) -> Any:
    """The last of ``texts`` (as a repeated name reads elsewhere) converted as ``schema``
    takes it; all of them, as a list, for a property that takes an array but not text."""
    types = _types(endpoint, schema)
    if "array" in types and "string" not in types:
        items = endpoint.resolve(schema).get("items") if isinstance(schema, Mapping) else None
        item_types = _types(endpoint, items)
        if len(texts) == 1 and item_types and "string" not in item_types:
            texts = texts[0].split(",")  # as @fal-ai/client writes an array: "1,2"
        return [_converted(item_types, text) for text in texts]
    return _converted(types, texts[-1])


def _types(endpoint: Endpoint, schema: Any) -> set[str]:
    """The JSON types ``schema`` takes, through its ``anyOf``/``oneOf`` options (empty: it
    says none, or is no schema)."""
    if not isinstance(schema, Mapping):
        return set()
    schema = endpoint.resolve(schema)
    declared = schema.get("type")
    types = {declared} if isinstance(declared, str) else set(declared or ())
    for option in (*schema.get("anyOf", ()), *schema.get("oneOf", ())):
        types |= _types(endpoint, option)
    return types


def _converted(types: set[str], text: str) -> Any:
    if not types or "string" in types:
        return text  # text is what it takes (or it says nothing of a type)
    if "boolean" in types and text in ("true", "false"):
        return text == "true"
    number = _NUMBER.fullmatch(text) if types & {"integer", "number"} else None
    if number is not None and len(text) <= _MAX_DIGITS:
        if not number["fraction"]:
            return int(text)
        if "number" in types and math.isfinite(value := float(text)):
            return value
    if "null" in types and text == "null":
        return None
    return text
