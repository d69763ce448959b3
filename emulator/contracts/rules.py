"""Constraints a provider enforces but its schema states only in text, made machine-readable.

A contract puts them on a property as ``x-emulator-size``; the validator every endpoint
uses (`contract_validator`) enforces them beside JSON Schema, and their violations are
rendered like any other (see ``validation.py``)::

    "image_size": {"anyOf": [...], "x-emulator-size": {
        "sides": [512, 2048],            # each side within (inclusive)
        "pixels": [921600, 16777216],    # width × height within (inclusive)
        "message": "Total pixels must be between 960x960 and 4096x4096."}}

Only explicit sizes are checked (``{"width", "height"}`` objects, ``"W*H"`` strings):
preset names are the provider's own sizes. Nothing here names a model.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from typing import Any

from emulator.contracts.matching import PATTERN_KEYWORDS
from emulator.contracts.sizes import image_size

SIZE_RULE = "x-emulator-size"
_PRODUCT = re.compile(r"\s*[0-9]{1,6}\s*\*\s*[0-9]{1,6}\s*")


def explicit_size(value: Any) -> tuple[int, int] | None:
    """Width and height the value spells out, or None (a preset, or not a size at all).
    A missing side of an object is fal's ImageSize default, as the provider fills it."""
    if isinstance(value, Mapping):
        sides = [value.get(k) for k in ("width", "height") if k in value]
        if all(isinstance(s, int) and not isinstance(s, bool) for s in sides):
            return image_size({"image_size": value})
        return None
    if isinstance(value, str) and _PRODUCT.fullmatch(value):
        return image_size({"size": value})
    return None


def _within(value: int, bounds: Any) -> bool:
    low, high = bounds
    return low <= value <= high


def size_problem(rule: Mapping[str, Any], value: Any) -> str | None:
    """Why ``value`` breaks the size rule, or None when it keeps it (or is no size)."""
    size = explicit_size(value)
    if size is None:
        return None
    width, height = size
    default = f"{width}x{height} is outside the sizes this endpoint accepts"
    message = rule.get("message", default)
    if "sides" in rule and not (_within(width, rule["sides"]) and _within(height, rule["sides"])):
        return message
    if "pixels" in rule and not _within(width * height, rule["pixels"]):
        return message
    return None


def _size_keyword(
    validator: Any, rule: Any, instance: Any, schema: Mapping[str, Any]
) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if isinstance(rule, Mapping):
        problem = size_problem(rule, instance)
        if problem:
            yield ValidationError(problem)


@functools.cache
def contract_validator() -> Any:
    """The validator class of JSON Schema 2020-12 plus the ``x-emulator-*`` rules, its
    patterns matched in linear time (matching.py; jsonschema loads with the first
    validator, not with the emulator)."""
    from jsonschema import Draft202012Validator, validators

    return validators.extend(Draft202012Validator, {SIZE_RULE: _size_keyword, **PATTERN_KEYWORDS})


_TEXT_RULES = (
    (
        re.compile(
            r"total pixels must be between (\d+)\s*[x×*]\s*(\d+) and (\d+)\s*[x×*]\s*(\d+)", re.I
        ),
        lambda m: {
            "pixels": [int(m[1]) * int(m[2]), int(m[3]) * int(m[4])],
            "message": f"Total pixels must be between {m[1]}x{m[2]} and {m[3]}x{m[4]}.",
        },
    ),
    (
        re.compile(r"(?:width and height|each side|sides?) must be between (\d+) and (\d+)", re.I),
        lambda m: _sides(m),
    ),
    (re.compile(r"(\d+)\s*~\s*(\d+) per (?:dimension|side)", re.I), lambda m: _sides(m)),
)


def _sides(match: re.Match[str]) -> dict[str, Any]:
    low, high = int(match[1]), int(match[2])
    return {"sides": [low, high], "message": f"Width and height must be between {low} and {high}."}


def rule_from_text(text: Any) -> dict[str, Any] | None:
    """The size rule a field's description states in one of the providers' phrasings
    ("Total pixels must be between 960x960 and 4096x4096", "Width and height must be
    between 512 and 2048", "1024 ~ 4096 per dimension"), or None."""
    if not isinstance(text, str):
        return None
    for pattern, build in _TEXT_RULES:
        match = pattern.search(text)
        if match:
            return build(match)
    return None
