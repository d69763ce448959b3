"""JSON Schema 2020-12's metaschema as one document, to check contracts' schemas against.

jsonschema's own check (``Draft202012Validator.check_schema``) follows the metaschema into
its seven vocabulary documents, by ``$dynamicRef``, at every subschema of the schema it
checks: about 13 ms for one of fal's endpoint schemas here. Merged into one document, each
``$dynamicRef`` a plain ``$ref`` to its root (where it leads when the schema checked is not
itself a metaschema: a contract's ``$schema`` does not change the check), the same check
takes a fifth of that. tests/contracts/test_metaschema.py holds the two to the same answers.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator


def check_schema(schema: Any) -> None:
    """jsonschema's `SchemaError` (its first error, as its own check raises) unless
    ``schema`` is JSON Schema 2020-12."""
    from jsonschema.exceptions import SchemaError

    for error in metaschema_validator().iter_errors(schema):
        raise SchemaError.create_from(error)


@cache
def metaschema_validator() -> Draft202012Validator:
    """A validator of schemas: the 2020-12 metaschema merged with its vocabularies, checking
    each ``format`` its own check does (a ``pattern`` must compile)."""
    from jsonschema import Draft202012Validator
    from jsonschema_specifications import REGISTRY

    root = Draft202012Validator.META_SCHEMA
    vocabularies = [REGISTRY.contents(urljoin(root["$id"], part["$ref"])) for part in root["allOf"]]
    merged: dict[str, Any] = {"type": ["object", "boolean"], "properties": {}, "$defs": {}}
    for document in (*vocabularies, root):  # the vocabularies' names are all distinct
        merged["properties"].update(document.get("properties", {}))
        merged["$defs"].update(document.get("$defs", {}))
    return Draft202012Validator(
        _into_merged(merged), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def _into_merged(schema: Any) -> Any:
    """``schema`` with each reference to the metaschema (``$dynamicRef: #meta``) or into one
    of its vocabularies (``meta/core#/$defs/…``) a reference into the merged document."""
    if isinstance(schema, list):
        return [_into_merged(each) for each in schema]
    if not isinstance(schema, dict):
        return schema
    merged = {}
    for keyword, value in schema.items():
        if keyword in ("$ref", "$dynamicRef"):
            merged["$ref"] = "#" + value.partition("#")[2] if value != "#meta" else "#"
        elif keyword in ("properties", "$defs"):  # names (one is "$ref"), each a schema
            merged[keyword] = {name: _into_merged(each) for name, each in value.items()}
        else:
            merged[keyword] = _into_merged(value)
    return merged
