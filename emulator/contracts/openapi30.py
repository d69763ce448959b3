"""OpenAPI 3.0's schema keywords in JSON Schema 2020-12's terms, which the emulator reads.

fal's documents say ``"openapi": "3.0.4"`` but write their schemas as 2020-12 (``anyOf``
with ``{"type": "null"}``); a document written by hand for 3.0 may use its own words:
``nullable: true``, and ``exclusiveMinimum: true`` beside a ``minimum``. Those are
translated as the document loads; a document without them is left as it is (not copied).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: what a nullable schema without a type keeps beside its ``anyOf`` of itself or null
_ANNOTATIONS = ("description", "title", "default")
#: what most of a document's values are: told apart from a `Mapping` cheaply (an ABC)
_SCALARS = (str, int, float, type(None))


def as_json_schema(document: Mapping[str, Any]) -> Mapping[str, Any]:
    """``document`` with its OpenAPI 3.0 schema keywords translated (a copy), or itself
    when it is no 3.0 document or uses none of them."""
    if not str(document.get("openapi", "")).startswith("3.0") or not _uses_3_0_words(document):
        return document
    return _translated_copy(document)


# Both walks below keep their own stack, not Python's (a document may nest deeper than it),
# and read plain dicts and lists directly: walked with `checks.mappings` and copied with
# `copy.deepcopy`, the shipped documents' translation was 8 ms of every start (issue 17).


def _uses_3_0_words(document: Mapping[str, Any]) -> bool:
    stack: list[Any] = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, _SCALARS):
            continue
        if isinstance(node, Mapping):
            if (
                node.get("nullable") is not None
                or isinstance(node.get("exclusiveMinimum"), bool)
                or isinstance(node.get("exclusiveMaximum"), bool)
            ):
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def _translated_copy(document: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``document`` (its objects and arrays new) with every schema translated:
    each object as it is reached, then what it holds then."""
    root = dict(document)
    stack: list[dict[str, Any] | list[Any]] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            _translate_schema(node)
            places: Any = node.items()
        else:
            places = enumerate(node)
        for place, value in places:
            if isinstance(value, _SCALARS):
                continue
            if isinstance(value, Mapping):
                node[place] = value = dict(value)  # (a value replaced: no key added)
                stack.append(value)
            elif isinstance(value, list):
                node[place] = value = list(value)
                stack.append(value)
    return root


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
