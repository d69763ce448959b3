"""Local ``$ref`` pointers replaced by what they point to, before a validator is built.

jsonschema follows a ``$ref`` through its ``referencing`` registry on every validation;
for a typical input (one ``$ref`` to the input model) that lookup cost more than the
checks themselves (about 13 µs against 5 µs per submit). A pointer that is alone in its
schema means exactly its target, so the target is put in its place, once per validator;
so is one whose siblings only annotate it (fal's ``{"$ref": …, "description": …}`` on an
output's file: a validator reads no annotation, so the target alone checks the same).
A ``$ref`` with a sibling that checks something (``x-emulator-size``, ``nullable``…), to
a non-local or missing target, or inside its own target (a recursive model) stays as it
is: the validator still resolves it as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulator.contracts.rules import SIZE_RULE

#: how deep inlining goes before leaving the rest to the validator
MAX_DEPTH = 64
#: keywords that annotate a schema and check nothing (JSON Schema's meta-data vocabulary,
#: OpenAPI's ``example``); an ``x-`` extension is one too, but for those a validator
#: enforces (``x-emulator-size``: rules.py)
ANNOTATIONS = frozenset(
    ("$ref", "title", "description", "default", "deprecated", "readOnly", "writeOnly")
    + ("examples", "example", "$comment")
)
ENFORCED_EXTENSIONS = frozenset((SIZE_RULE,))


def _target(document: Mapping[str, Any], ref: str) -> Any:
    if not ref.startswith("#/"):
        return None
    node: Any = document
    for part in ref[2:].split("/"):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part.replace("~1", "/").replace("~0", "~"))
    return node if isinstance(node, Mapping) else None


def inline_refs(schema: Any, document: Mapping[str, Any]) -> Any:
    """``schema`` with every lone local ``$ref`` into ``document`` replaced by its target
    (copies: neither argument is changed)."""
    return _inline(schema, document, (), 0)


def _inline(node: Any, document: Mapping[str, Any], following: tuple[str, ...], depth: int) -> Any:
    if depth > MAX_DEPTH:
        return node
    if isinstance(node, list):
        return [_inline(item, document, following, depth + 1) for item in node]
    if not isinstance(node, Mapping):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and _annotates(node) and ref not in following:
        target = _target(document, ref)
        if target is not None:
            return _inline(target, document, (*following, ref), depth + 1)
    return {
        key: value if _is_data(key) else _inline(value, document, following, depth + 1)
        for key, value in node.items()
    }


def _annotates(node: Mapping[str, Any]) -> bool:
    """Whether every keyword beside ``node``'s ``$ref`` only annotates it."""
    return all(
        key in ANNOTATIONS or (key.startswith("x-") and key not in ENFORCED_EXTENSIONS)
        for key in node
    )


def _is_data(keyword: str) -> bool:
    """Keywords whose values are data, not schemas: never rewritten."""
    return keyword in ("enum", "const", "default", "examples", "example", "required")
