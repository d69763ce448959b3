"""How `emulator.strategies` draws a value from a contract's JSON Schema: by hand, keeping
each field that shapes an output within what the emulator makes (`Options`), with objects,
``allOf`` and ``not`` drawn here and formats and the rarer constructs by
hypothesis-jsonschema; input media as small pictures."""

from __future__ import annotations

import base64
import functools
import io
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from emulator.contracts.documents import Endpoint
from emulator.contracts.input_fields import DURATION_FIELDS
from emulator.contracts.input_media import names_media
from emulator.contracts.limits import COUNT_FIELDS, MAX_AUDIO_SECONDS, Limits
from emulator.contracts.matching import fullmatches
from emulator.contracts.rules import SIZE_RULE, size_problem

_INT32 = 2**31 - 1
#: what the emulator renders by default (an `EmulatorConfig()`'s limits)
DEFAULT_LIMITS = Limits()
_DIMENSIONS = ("width", "height")
#: constructs drawn by hypothesis-jsonschema, which knows all of JSON Schema but not this
#: emulator's caps. Its object generation does not run on the pinned Hypothesis (0.23.1
#: calls ``many.more()``, gone from Hypothesis), so objects are always drawn here; so is
#: a string with a pattern (its draws are kept by Python's backtracking ``re``).
_DELEGATED = ("format", "if", "dependentRequired", "dependentSchemas", "patternProperties")


@functools.cache
def tiny_picture(kind: str = "png", side: int = 8) -> bytes:
    """A small square picture (``png`` or ``jpeg``; 8x8, the smallest input media every
    model accepts, unless ``side`` says otherwise)."""
    from PIL import Image  # only drawn when an endpoint takes media

    out = io.BytesIO()
    Image.new("RGB", (side, side), (200, 40, 40)).save(out, kind.upper())
    return out.getvalue()


def tiny_picture_uri(kind: str = "png", side: int = 8) -> str:
    """`tiny_picture` as a data URI."""
    return f"data:image/{kind};base64,{base64.b64encode(tiny_picture(kind, side)).decode()}"


def media_inputs(media: Sequence[str] = ()) -> st.SearchStrategy[str]:
    """Input media: data URIs of small pictures, or one of ``media`` (URLs the emulator
    hosts, such as uploaded files)."""
    pictures = st.sampled_from(["png", "jpeg"]).map(tiny_picture_uri)
    return st.sampled_from(list(media)) | pictures if media else pictures


def _is_media(name: str, schema: Mapping[str, Any]) -> bool:
    """Whether a field names input media: ``image_url``… (a webhook URL is no medium), or
    a field the emulator reads as media (WaveSpeed's ``image``, ``images``, ``video``…)."""
    named = name.endswith(("_url", "_urls")) and "webhook" not in name
    read = names_media(name)
    return schema.get("type") == "string" and (named or read)


@dataclass(frozen=True)
class Options:
    """What a draw keeps to: sides, lengths and the emulator's limits, the input media to
    draw from, and whether each bounded field is at an edge."""

    max_dimension: int
    media: tuple[str, ...]
    max_seconds: float = 10.0
    limits: Limits = DEFAULT_LIMITS
    boundary: bool = False

    def shaping_range(self, name: str) -> tuple[float, float, bool] | None:
        """The range of a field that shapes an output (a side, a count, a length, a
        rate), and whether its values are whole; None for any other field."""
        seconds = min(self.max_seconds, self.limits.max_video_seconds, MAX_AUDIO_SECONDS)
        if name in _DIMENSIONS:
            return 1, min(self.max_dimension, math.isqrt(self.limits.max_image_pixels)), True
        if name in COUNT_FIELDS:
            return 1, self.limits.max_outputs, True
        if name == "fps":
            return 1, self.limits.max_video_fps, True
        if name == "num_frames":  # at the default 24 fps, as long as ``max_seconds``
            return 1, max(1, int(seconds * 24)), True
        if name in DURATION_FIELDS:  # in its unit (ElevenLabs' milliseconds)
            return 1, seconds / DURATION_FIELDS[name], False
        return None


def _range(schema: Mapping[str, Any], whole: bool) -> tuple[float | None, float | None]:
    """The schema's inclusive bounds (None: unbounded); an exclusive bound moves in by
    one, or for a fractional number to the next float."""

    def inside(bound: float, towards: float) -> float:
        return bound + math.copysign(1, towards) if whole else math.nextafter(bound, towards)

    low, high = schema.get("minimum"), schema.get("maximum")
    if "exclusiveMinimum" in schema:
        inner = inside(schema["exclusiveMinimum"], math.inf)
        low = inner if low is None else max(low, inner)
    if "exclusiveMaximum" in schema:
        inner = inside(schema["exclusiveMaximum"], -math.inf)
        high = inner if high is None else min(high, inner)
    return low, high


def _shaping(
    schema: Mapping[str, Any], shaping: tuple[float, float, bool], boundary: bool
) -> st.SearchStrategy[Any]:
    """A field that shapes an output: within both the contract's bounds and the
    emulator's range. A contract's ``number`` size or count is drawn as a whole number."""
    floor, ceiling, whole = shaping
    whole = whole or schema.get("type") == "integer"
    low, high = _range(schema, whole)
    low = floor if low is None else max(low, floor)
    high = max(low, ceiling if high is None else min(high, ceiling))
    if whole:
        low, high = math.ceil(low), max(math.ceil(low), math.floor(high))
    if boundary:
        return st.sampled_from(sorted({low, high}))
    if whole:
        return st.integers(int(low), int(high))
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def _within_range(members: list[Any], shaping: tuple[float, float, bool] | None) -> list[Any]:
    """The members of an enum within a shaping field's range (``5``, ``"10"``, ``"5s"``),
    or all of them when none is (the contract's choices come first)."""
    if shaping is None:
        return members
    low, high, _ = shaping
    kept = [m for m in members if low <= _amount(m) <= high]
    return kept or members


def _amount(member: Any) -> float:
    try:
        return float(str(member).removesuffix("s"))
    except ValueError:
        return math.nan  # a word ("auto"): outside every range, kept only with the rest


def _integers(schema: Mapping[str, Any], boundary: bool = False) -> st.SearchStrategy[int]:
    low, high = _range(schema, whole=True)
    low = -_INT32 if low is None else low
    high = _INT32 if high is None else high
    if boundary:
        return st.sampled_from(sorted({int(low), int(high)}))
    return st.integers(int(low), int(high))


def _numbers(schema: Mapping[str, Any], boundary: bool = False) -> st.SearchStrategy[float]:
    if boundary and "minimum" in schema and "maximum" in schema:
        return st.sampled_from(sorted({schema["minimum"], schema["maximum"]}))
    return st.floats(
        min_value=schema.get("minimum", schema.get("exclusiveMinimum")),
        max_value=schema.get("maximum", schema.get("exclusiveMaximum")),
        exclude_min="exclusiveMinimum" in schema,
        exclude_max="exclusiveMaximum" in schema,
        allow_nan=False,
        allow_infinity=False,
    )


def _legal_sizes(
    rule: Mapping[str, Any], as_text: bool, max_dimension: int
) -> st.SearchStrategy[Any]:
    """Square sizes the contract's size rule accepts, at the small end of its range."""
    low, high = rule.get("sides", (1, 2**14))
    if "pixels" in rule:
        low = max(low, math.isqrt(rule["pixels"][0] - 1) + 1)
        high = min(high, math.isqrt(rule["pixels"][1]))
    sides = st.integers(low, max(low, min(high, max_dimension)))
    if as_text:
        return sides.map(lambda side: f"{side}*{side}")
    return sides.map(lambda side: {"width": side, "height": side})


def _sized(
    endpoint: Endpoint, schema: Mapping[str, Any], name: str, options: Options
) -> st.SearchStrategy[Any]:
    """A field under the contract's size rule: a legal size, or a drawn one the rule keeps."""
    rule = schema[SIZE_RULE]
    as_text = schema.get("type") == "string"
    legal = _legal_sizes(rule, as_text, options.max_dimension)
    if as_text:  # a "W*H" text field: random text would almost never be a legal size
        return legal
    unruled = {k: v for k, v in schema.items() if k != SIZE_RULE}
    drawn = from_schema(endpoint, unruled, name, options)
    return drawn.filter(lambda value: size_problem(rule, value) is None) | legal


def _strings(schema: Mapping[str, Any], boundary: bool) -> st.SearchStrategy[str]:
    if "pattern" in schema:
        return _matching(schema["pattern"])
    low = schema.get("minLength", 0)
    high = max(low, schema.get("maxLength", 200))
    return st.text(min_size=low, max_size=low if boundary else high)


def _matching(pattern: str) -> st.SearchStrategy[str]:
    """Strings ``pattern`` matches whole: drawn from its tree as ``st.from_regex`` draws
    them, but kept by RE2 (matching.py), not by Python's backtracking ``re``, which holds
    a draw of ``^(a*)*\\B`` for years. The tree is ASCII's, as RE2's ``\\d`` and ``\\w``
    are: Unicode's digits would almost all be thrown away, failing the health check."""
    tree = re.compile(pattern, re.ASCII)
    alphabet = st.characters(codec="utf-8")
    from_tree = _tree_drawer()
    if from_tree is None:  # (from_regex's own check is Python's re, backtracking as it may)
        drawn = st.from_regex(tree, fullmatch=True, alphabet=alphabet)
    else:
        drawn = from_tree(tree, alphabet=alphabet)
    return drawn.filter(lambda text: fullmatches(pattern, text))


@functools.cache
def _tree_drawer() -> Callable[..., st.SearchStrategy[str]] | None:
    """Hypothesis's ``base_regex_strategy`` (its ``from_regex`` without the check by
    Python's ``re``), or None if a later Hypothesis moved it: it is private. Imported
    with the first pattern: its module reads Hypothesis's Unicode tables."""
    try:
        from hypothesis.strategies._internal.regex import base_regex_strategy
    except ImportError:
        return None
    return base_regex_strategy


def _of_type(
    endpoint: Endpoint, schema: Mapping[str, Any], kind: Any, name: str, options: Options
) -> st.SearchStrategy[Any]:
    if isinstance(kind, list):  # a type list: any one of them
        return st.one_of([_of_type(endpoint, schema, k, name, options) for k in kind])
    if kind == "object" or (kind is None and "properties" in schema):
        return _objects(endpoint, schema, options)
    shaping = options.shaping_range(name)
    if kind in ("integer", "number") and shaping is not None:
        return _shaping(schema, shaping, options.boundary)
    if kind == "integer":
        return _integers(schema, options.boundary)
    if kind == "number":
        return _numbers(schema, options.boundary)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        items = from_schema(endpoint, schema.get("items", {}), name, options)
        low = schema.get("minItems", 0)
        return st.lists(items, min_size=low, max_size=max(low, schema.get("maxItems", 3)))
    if _is_media(name, {**schema, "type": "string"}) and "pattern" not in schema:
        return media_inputs(options.media)
    return _strings(schema, options.boundary)


def _objects(
    endpoint: Endpoint, schema: Mapping[str, Any], options: Options
) -> st.SearchStrategy[dict[str, Any]]:
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    drawn = {k: from_schema(endpoint, v, k, options) for k, v in properties.items()}
    return st.fixed_dictionaries(
        {k: v for k, v in drawn.items() if k in required},
        optional={k: v for k, v in drawn.items() if k not in required},
    )


def _delegated(endpoint: Endpoint, schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    """A construct the hand-written generator does not know, drawn by hypothesis-jsonschema
    against the whole document (so its local ``$ref``s resolve). Imported here: its import
    reads Hypothesis's Unicode tables, which the pytest plugin's start (a live run's
    ledger, in `pytest_configure`) must not, or Hypothesis warns of a slow plugin."""
    import hypothesis_jsonschema

    components = endpoint.document.get("components", {})
    return hypothesis_jsonschema.from_schema({**schema, "components": components})


def _merged(endpoint: Endpoint, schema: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` with its ``allOf`` folded in: properties and requirements united, other
    keywords from the last part that sets them (the draw is checked against the original)."""
    merged = {k: v for k, v in schema.items() if k != "allOf"}
    for part in schema["allOf"]:
        part = endpoint.resolve(part)
        part = _merged(endpoint, part) if "allOf" in part else part
        properties = {**merged.get("properties", {}), **part.get("properties", {})}
        required = [*merged.get("required", []), *part.get("required", [])]
        merged.update(part)
        merged["properties"], merged["required"] = properties, sorted(set(required))
    return merged


def _checked(
    endpoint: Endpoint, schema: Mapping[str, Any], name: str, options: Options
) -> st.SearchStrategy[Any]:
    """``allOf`` and ``not``: drawn from the schema without them, kept when valid."""
    base = _merged(endpoint, schema) if "allOf" in schema else dict(schema)
    base.pop("not", None)
    validator = endpoint.validator(schema)
    return from_schema(endpoint, base, name, options).filter(validator.is_valid)


def from_schema(
    endpoint: Endpoint, schema: Mapping[str, Any], name: str, options: Options
) -> st.SearchStrategy[Any]:
    """Values of ``schema``, the field ``name``'s (which says whether it shapes an output
    or is a medium)."""
    if "$ref" in schema or "allOf" in schema:  # (`_merged` follows the $refs of its parts)
        return _referenced(endpoint, json.dumps(schema, sort_keys=True), name, options)
    return _resolved(endpoint, schema, name, options)


@functools.lru_cache(maxsize=1024)
def _referenced(
    endpoint: Endpoint, written: str, name: str, options: Options
) -> st.SearchStrategy[Any]:
    """A schema with a ``$ref`` (or an ``allOf`` of one), drawn when first drawn from, and
    one strategy for each field of it: a recursive model (a tree's ``children``) is then
    one strategy that refers to itself, not one built anew at every level for ever."""
    schema = endpoint.resolve(json.loads(written))
    return st.deferred(lambda: _resolved(endpoint, schema, name, options))


def _resolved(
    endpoint: Endpoint, schema: Mapping[str, Any], name: str, options: Options
) -> st.SearchStrategy[Any]:
    schema = endpoint.resolve(schema)
    if SIZE_RULE in schema:
        return _sized(endpoint, schema, name, options)
    if "allOf" in schema or "not" in schema:
        return _checked(endpoint, schema, name, options)
    delegated = any(key in schema for key in _DELEGATED)
    if delegated and schema.get("type") != "object" and "pattern" not in schema:
        return _delegated(endpoint, schema)
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(_within_range(schema["enum"], options.shaping_range(name)))
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return st.one_of([from_schema(endpoint, s, name, options) for s in schema[key]])
    drawn = _of_type(endpoint, schema, schema.get("type"), name, options)
    return drawn | st.none() if schema.get("nullable") is True else drawn
