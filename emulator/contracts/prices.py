"""A model's published price, read from its contract, and how many of its units a run uses.

A contract may carry its provider's published price in ``info.x-emulator-price``
(``{"usd": 0.01, "per": "image", "source": "…"}``, ``per``: image, second or call). The
live harness's spend cap estimates a call's cost from it, and the emulated WaveSpeed account
charges a run by it: both read it here, so they agree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

from emulator.contracts.documents import Endpoint
from emulator.contracts.limits import COUNT_FIELDS, output_count
from emulator.contracts.sizes import FPS_FIELDS
from emulator.contracts.validation import apply_defaults

PRICE_KEY = "x-emulator-price"
_FRAMES_PER_SECOND = 24


class Price(NamedTuple):
    """An endpoint's published price: dollars per image, second or call, and where it is from."""

    usd: float
    per: str  # "image" | "second" | "call"
    source: str


def published_price(endpoint: Endpoint) -> Price | None:
    """The price ``endpoint``'s contract publishes, or None when it names none."""
    published = endpoint.document.get("info", {}).get(PRICE_KEY)
    if not isinstance(published, Mapping):
        return None
    usd = published.get("usd")
    if not isinstance(usd, int | float) or isinstance(usd, bool):
        return None
    return Price(float(usd), published.get("per", "call"), published.get("source", "the contract"))


def units(price: Price, inputs: Mapping[str, Any]) -> float:
    """How many of ``price``'s units a run with ``inputs`` (defaults filled in) uses: its
    images (the count asked, under any of its names, × ``max_images``), its video's
    seconds (``num_frames`` at the frame rate asked, else 24 a second; else ``duration``,
    else 10: a long one), or one call."""
    if price.per == "image":
        # as many as are made (`output_count`: 2.5 makes two)
        counts = [output_count(inputs[name]) or 1 for name in COUNT_FIELDS if name in inputs]
        return max(counts, default=1) * number(inputs.get("max_images"), 1)
    if price.per == "second":
        frames = inputs.get("num_frames")
        if isinstance(frames, int):
            rates = [number(inputs[name], 0) for name in FPS_FIELDS if name in inputs]
            return math.ceil(frames / (max(rates, default=0) or _FRAMES_PER_SECOND))
        return number(inputs.get("duration"), 10)
    return 1


def cost(endpoint: Endpoint, price: Price, inputs: Mapping[str, Any]) -> float:
    """What a run of ``endpoint`` with ``inputs`` costs at ``price``, in USD: the units it
    uses, its defaults filled in, at ``price.usd`` each."""
    if price.per == "call":
        return round(price.usd, 6)
    filled = apply_defaults(endpoint, endpoint.input_schema, dict(inputs))
    return round(price.usd * units(price, filled), 6)


def number(value: Any, default: float) -> float:
    """``value`` as a number of at least 0 (a whole number past a float's range: infinity),
    else ``default``."""
    try:
        return max(float(value), 0)
    except OverflowError:  # 10**400, an unbounded field of a user's contract
        return math.inf if value > 0 else 0
    except (TypeError, ValueError):
        return default
