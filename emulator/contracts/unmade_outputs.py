"""Output fields a contract declares that the emulator makes no file for, found as a
document of the user's own loads, so that it says so then (one line each, naming the file
and the field) rather than at a job that fails or comes back empty:

- a file whose declared type (a ``contentMediaType``, a ``content_type`` ``const`` or
  ``enum``) is none the emulator makes a file of: each job fails (fal's 501
  ``emulator_unsupported``, WaveSpeed's task code 5003), as described.py's rule says;
- a provider's list of media URLs (`Layout.media_urls`: WaveSpeed's ``data.outputs``)
  whose items declare no ``contentMediaType``: nothing says what to make, so it stays
  empty (an example URL there is the provider's own file, never served).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from emulator.contracts.described import unmade_types
from emulator.contracts.documents import Endpoint
from emulator.core.registry import LAYOUTS

#: how deep the walk goes into an output (a schema may point back to itself)
_DEEPEST = 12


def unmade_outputs(endpoint: Endpoint) -> list[str]:
    """One line per output field of ``endpoint`` that the emulator makes no file for."""
    lines = [
        f"{endpoint.source}: output field {where}: its type {types[0]!r} is none the emulator "
        "makes a file of, so each job fails (fal: 501 emulator_unsupported; WaveSpeed: task "
        "code 5003)"
        for where, types in _unmade(endpoint, endpoint.output_schema, (), {})
    ]
    listed = _untyped_media_list(endpoint)
    if listed:
        lines.append(
            f"{endpoint.source}: output field {listed}: its items declare no contentMediaType "
            "(image/jpeg, video/mp4, audio/mpeg…), so the emulator makes no file for them and "
            "the list stays empty"
        )
    return lines


def _unmade(
    endpoint: Endpoint, schema: Any, path: tuple[str, ...], seen: dict[int, Any]
) -> Iterator[tuple[str, tuple[str, ...]]]:
    """Each file under ``schema`` (at ``path``) of a type the emulator makes no file of;
    a schema ``seen`` already, as written or resolved, is not walked again (``seen``
    holds each, so that no id is another's once it is gone)."""
    if not isinstance(schema, Mapping) or len(path) > _DEEPEST or id(schema) in seen:
        return
    seen[id(schema)] = schema
    resolved = endpoint.resolve(schema)
    if id(resolved) in seen and resolved is not schema:
        return
    schema = seen[id(resolved)] = resolved
    properties = schema.get("properties")
    properties = properties if isinstance(properties, Mapping) else {}
    if schema.get("type") == "string" or "url" in properties:  # a URL, or a file object
        types = unmade_types(schema, endpoint.resolve)
        if types:
            yield "/".join(path) or "(the whole output)", types
            return
    for name, field in properties.items():
        yield from _unmade(endpoint, field, (*path, name), seen)
    yield from _unmade(endpoint, schema.get("items"), path, seen)
    for key in ("anyOf", "oneOf"):
        branches = schema.get(key)
        for branch in branches if isinstance(branches, list) else ():
            yield from _unmade(endpoint, branch, path, seen)


def _untyped_media_list(endpoint: Endpoint) -> str | None:
    """The path of the provider's list of media URLs if its items declare no type."""
    path = LAYOUTS[endpoint.provider].media_urls
    schema: Any = endpoint.output_schema
    for name in path:
        properties = endpoint.resolve(schema).get("properties")
        schema = properties.get(name) if isinstance(properties, Mapping) else None
        if not isinstance(schema, Mapping):
            return None
    items = endpoint.resolve(schema).get("items") if path else None
    if not isinstance(items, Mapping):
        return None
    items = endpoint.resolve(items)
    untyped = items.get("type") == "string" and "contentMediaType" not in items
    return "/".join(path) if untyped else None
