"""What a call to a real provider may cost, estimated before it is made.

A contract may carry its published price in ``info.x-emulator-price``
(``{"usd": 0.01, "per": "image", "source": "…"}``, ``per``: image, second or call);
otherwise the category's conservative price applies, else `DEFAULT_PRICE`. Estimates
round up: they decide whether a call may be made under the cap, so they err high.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from emulator.contracts.documents import Endpoint
from emulator.contracts.prices import Price, cost, number, published_price
from emulator.contracts.rules import SIZE_RULE
from emulator.contracts.sizes import IMAGE_SIZE_PRESETS
from emulator.strategies import tiny_picture_uri

__all__ = ["DEFAULT_PRICE", "Price", "cheapest", "estimate", "price_of", "smallest_arguments"]

#: GUESSES, deliberately high: used only when a contract carries no published price
CATEGORY_PRICES = {
    "text-to-image": Price(0.05, "image", "conservative default for text-to-image"),
    "image-to-image": Price(0.05, "image", "conservative default for image-to-image"),
    "text-to-video": Price(0.20, "second", "conservative default for text-to-video"),
    "image-to-video": Price(0.20, "second", "conservative default for image-to-video"),
}
DEFAULT_PRICE = Price(1.00, "call", "conservative default for an unknown category")


def price_of(endpoint: Endpoint) -> Price:
    published = published_price(endpoint)
    if published is not None:
        return published
    return CATEGORY_PRICES.get(endpoint.category or "", DEFAULT_PRICE)


def estimate(endpoint: Endpoint, arguments: Mapping[str, Any]) -> float:
    """The estimated cost in USD of one call with ``arguments`` (defaults filled in)."""
    return cost(endpoint, price_of(endpoint), arguments)


def _smallest(endpoint: Endpoint, name: str, schema: Mapping[str, Any]) -> Any:
    schema = endpoint.resolve(schema)
    if SIZE_RULE in schema:
        rule = schema[SIZE_RULE]
        side = max(rule.get("sides", [1])[0], math.isqrt(rule.get("pixels", [1])[0] - 1) + 1)
        return (
            f"{side}*{side}" if schema.get("type") == "string" else {"width": side, "height": side}
        )
    presets = [
        v for b in schema.get("anyOf", [schema]) for v in endpoint.resolve(b).get("enum", [])
    ]
    sized = [p for p in presets if p in IMAGE_SIZE_PRESETS]
    if sized:
        return min(sized, key=lambda p: IMAGE_SIZE_PRESETS[p][0] * IMAGE_SIZE_PRESETS[p][1])
    if name in ("duration", "resolution") and "enum" in schema:
        return min(schema["enum"], key=lambda v: number(str(v).rstrip("pP"), math.inf))
    if name in ("num_images", "max_images"):
        return int(schema.get("minimum", 1))
    return None


def smallest_arguments(endpoint: Endpoint) -> dict[str, Any]:
    """A valid input at the cheap end: the required fields (an example where the contract
    gives one), one image, the smallest size, the shortest duration, the lowest resolution."""
    schema = endpoint.resolve(endpoint.input_schema)
    arguments: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        resolved = endpoint.resolve(prop)
        value = _smallest(endpoint, name, resolved)
        if value is None and name in schema.get("required", []):
            examples = resolved.get("examples") or []
            value = examples[0] if examples else None
            if value is None:
                value = tiny_picture_uri(side=64) if "image" in name else "a red square on white"
        if value is not None:
            arguments[name] = value
    return arguments


def cheapest(endpoints: Iterable[Endpoint]) -> Endpoint:
    """The endpoint whose smallest call is estimated to cost least (the family's cheapest)."""
    return min(endpoints, key=lambda e: (estimate(e, smallest_arguments(e)), e.id))
