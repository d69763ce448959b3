"""Digests of the outputs synthesis makes for every shipped endpoint, a few inputs each.

A change meant to leave outputs alone (issue 17: the per-endpoint plans of plans.py)
must keep every digest: the same seed and inputs give the same JSON, byte for byte, and
the same errors. The digests in output_digests.json were written by the synthesis before
plans (commit 095b860), those of the catalogue's delisted endpoints by the synthesis of the
commit that added them, WaveSpeed's twelve by the synthesis that kept output schemas'
formats (their ``created_at`` had been ``""``, no date-time); after a change that is
meant to change outputs, write them anew:

    .venv/bin/python tests/contracts/output_digests.py --write

Each endpoint makes four outputs, in turn, with the same plan: its inputs' defaults (or
first example or enum value), the other ends of its enums, examples and bounds, that first
input again flagged (NSFW), and no input at all. Media are linked by a linker that names
each file by its whole spec, so any change to what would be rendered shows too.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator, Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

from emulator.contracts.catalogue import shipped_catalogue
from emulator.contracts.documents import Endpoint
from emulator.contracts.limits import Limits
from emulator.contracts.loading import DEFAULT_CONTRACTS_DIR, load_contracts
from emulator.contracts.synthesis import synthesize
from emulator.media import MediaSpec

DIGESTS = Path(__file__).with_name("output_digests.json")
PROMPTS = ("a red fox at dawn", "two foxes run across a frozen lake under a low moon")
_MAX_DEPTH = 6


class SpecLinker:
    """Links each file by its whole spec: a URL and size that change when the spec does
    (a field a spec leaves at its default is left out: a new field moves only the specs
    that set it)."""

    def __call__(self, spec: MediaSpec) -> tuple[str, int]:
        return f"https://cdn.test/{self._name(spec)}.{spec.extension}", len(_shown(spec))

    def raw(self, spec: MediaSpec) -> str:
        return f"raw-{self._name(spec)}"

    @staticmethod
    def _name(spec: MediaSpec) -> str:
        return hashlib.sha256(_shown(spec).encode()).hexdigest()[:16]


def _shown(spec: MediaSpec) -> str:
    """The fields ``spec`` sets: every one without a default, and those not at theirs."""
    values = ((field.name, getattr(spec, field.name), field.default) for field in fields(spec))
    return ", ".join(f"{name}={value!r}" for name, value, default in values if value != default)


def _scalar(name: str, schema: Mapping[str, Any], pick: int) -> Any:
    kind = schema.get("type")
    if kind == "string":
        return "https://example.test/in.png" if "url" in name else PROMPTS[pick]
    if kind in ("integer", "number"):
        bound = schema.get("maximum" if pick else "minimum")
        return bound if isinstance(bound, int | float) else 1 + pick
    return {"boolean": bool(pick), "null": None}.get(str(kind), "x")


def _value(endpoint: Endpoint, name: str, schema: Any, pick: int, depth: int = 0) -> Any:
    """Input ``pick`` 0: defaults, first examples and enum values; 1: the other ends."""
    schema = endpoint.resolve(schema) if isinstance(schema, Mapping) else {}
    if "const" in schema:
        return schema["const"]
    for key in ("enum", "examples"):
        if schema.get(key) and (pick or "default" not in schema):
            return schema[key][-pick]
    if "default" in schema and not pick:
        return schema["default"]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return _value(endpoint, name, schema[key][-pick], pick, depth)
    if schema.get("type") == "array" and depth < _MAX_DEPTH:
        item = _value(endpoint, name, schema.get("items", {}), pick, depth + 1)
        return [item] * (1 + pick)
    if (schema.get("type") == "object" or "properties" in schema) and depth < _MAX_DEPTH:
        return {
            key: _value(endpoint, key, prop, pick, depth + 1)
            for key, prop in schema.get("properties", {}).items()
        }
    return _scalar(name, schema, pick)


def made(endpoint: Endpoint, inputs: Any, seed: int, flagged: bool) -> Any:
    link: Any = SpecLinker()  # a linker in all but type
    try:
        return synthesize(endpoint, inputs, seed, link, limits=Limits(), flagged=flagged)
    except Exception as exc:  # noqa: BLE001  (how it fails is part of what is compared)
        return f"{type(exc).__name__}: {exc}"


def outputs(endpoint: Endpoint) -> list[Any]:
    """The endpoint's four outputs (see the module's text), in the order they are made."""
    defaults = _value(endpoint, "", endpoint.input_schema, 0)
    others = _value(endpoint, "", endpoint.input_schema, 1)
    defaults = defaults if isinstance(defaults, dict) else {}
    others = others if isinstance(others, dict) else {}
    return [
        made(endpoint, defaults, 7, False),
        made(endpoint, others, 8, False),
        made(endpoint, defaults, 9, True),
        made(endpoint, {}, 10, False),
    ]


def digest(endpoint: Endpoint) -> str:
    text = json.dumps(outputs(endpoint), ensure_ascii=False, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def endpoints(every: int = 1) -> Iterator[Endpoint]:
    """The curated endpoints, then every ``every``-th of the catalogue's."""
    curated = load_contracts([DEFAULT_CONTRACTS_DIR], catalogue=None)
    for provider in ("fal", "wavespeed"):
        yield from curated.of(provider)
    catalogue = shipped_catalogue()
    for endpoint_id in sorted(catalogue.ids())[::every]:
        yield catalogue.endpoint(endpoint_id)


def key(endpoint: Endpoint) -> str:
    return f"{endpoint.tier}:{endpoint.provider}:{endpoint.id}"


def main() -> None:
    digests = {key(endpoint): digest(endpoint) for endpoint in endpoints()}
    if "--write" in sys.argv:
        DIGESTS.write_text(json.dumps(digests, indent=0, sort_keys=True) + "\n")
    print(f"{len(digests)} endpoints")


if __name__ == "__main__":
    main()
