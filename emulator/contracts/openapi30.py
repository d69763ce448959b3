"""OpenAPI 3.0's schema keywords in JSON Schema 2020-12's terms, which the emulator reads.

fal's documents say ``"openapi": "3.0.4"`` but write their schemas as 2020-12 (``anyOf``
with ``{"type": "null"}``); a document written by hand for 3.0 may use its own words:
``nullable: true``, and ``exclusiveMinimum: true`` beside a ``minimum``. Those are
translated as the document loads; a document without them is left as it is (not copied).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from emulator.contracts.checks import mappings

_THREE_ZERO_WORDS = ("nullable", "exclusiveMinimum", "exclusiveMaximum")
#: what a nullable schema without a type keeps beside its ``anyOf`` of itself or null
_ANNOTATIONS = ("description", "title", "default")


def as_json_schema(document: Mapping[str, Any]) -> Mapping[str, Any]:
    """``document`` with its OpenAPI 3.0 schema keywords translated (a copy), or itself
    when it is no 3.0 document or uses none of them."""
    if not str(document.get("openapi", "")).startswith("3.0") or not _uses_3_0_words(document):
        return document
    translated = copy.deepcopy(dict(document))
    _translate(translated)
    return translated


def _uses_3_0_words(document: Mapping[str, Any]) -> bool:
    return any(
        node.get("nullable") is not None
        or any(isinstance(node.get(word), bool) for word in _THREE_ZERO_WORDS[1:])
        for node in mappings(document)
    )


def _translate(document: dict[str, Any]) -> None:
    """Translate every schema in ``document``, in place."""
    for node in mappings(document):
        if isinstance(node, dict):
            _translate_schema(node)


def _translate_schema(schema: dict[str, Any]) -> None:
    for word, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(schema.get(word), bool):
            if schema.pop(word) and bound in schema:
                schema[word] = schema.pop(bound)
    if "nullable" not in schema or not isinstance(schema["nullable"], bool):
        return
    if not schema.pop("nullable"):
        return
    kind = schema.get("type")
    if isinstance(kind, str):
        schema["type"] = [kind, "null"]
        if isinstance(schema.get("enum"), list) and None not in schema["enum"]:
            schema["enum"] = [*schema["enum"], None]
    elif kind is None:  # a $ref, an allOf…: it, or null
        rest = {key: schema.pop(key) for key in list(schema) if key not in _ANNOTATIONS}
        schema["anyOf"] = [rest, {"type": "null"}]
