"""Minimal valid inputs for any catalogue endpoint: what a newcomer's first call sends.

Required fields take their enum's first value or default; media URLs are files the
emulator can read (passed in by the caller: uploads, or data URIs); sizes are kept small
so a sweep over many endpoints stays fast.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulator.contracts.documents import Endpoint

#: small outputs: every size field the conventions read, set small where the schema lets
SMALL = {"image_size": {"width": 64, "height": 64}, "duration": 1, "resolution": "480p"}
_MEDIA_WORDS = (("video", "video"), ("audio", "audio"), ("mask", "image"), ("image", "image"))


def media_word(name: str) -> str:
    for word, kind in _MEDIA_WORDS:
        if word in name:
            return kind
    return "image"


def _value(
    endpoint: Endpoint, name: str, schema: Mapping[str, Any], urls: Mapping[str, str]
) -> Any:
    schema = endpoint.resolve(schema)
    if "url" in name and schema.get("type") == "string":
        return urls[media_word(name)]  # a file the emulator reads, not a default's example
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return _value(endpoint, name, schema[key][0], urls)
    kind = schema.get("type")
    if kind == "string":
        return urls[media_word(name)] if "url" in name or name in urls else "a red fox at dawn"
    if kind == "array":
        return [_value(endpoint, name.rstrip("s"), schema.get("items", {}), urls)]
    if kind == "object" or "properties" in schema:
        return {
            key: _value(endpoint, key, prop, urls)
            for key, prop in schema.get("properties", {}).items()
            if key in schema.get("required", [])
        }
    return {"number": 1, "integer": 1, "boolean": False}.get(kind, "x")


def minimal_input(endpoint: Endpoint, urls: Mapping[str, str]) -> dict[str, Any]:
    """Required fields, plus small sizes where the endpoint takes them."""
    schema = endpoint.resolve(endpoint.input_schema)
    properties = schema.get("properties", {})
    payload = _value(endpoint, "", schema, urls)
    for name, value in SMALL.items():
        prop = endpoint.resolve(properties.get(name, {}))
        if name in properties and endpoint.validator(prop).is_valid(value):
            payload[name] = value
    if "seed" in properties:
        payload["seed"] = 7
    return payload
