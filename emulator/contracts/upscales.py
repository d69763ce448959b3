"""How many times its input's size an upscaler's output is, read by convention.

An upscaler names its factor (``upscale_factor``, ``scale``, ``scale_factor``,
``scale_ratio``, bria's ``desired_increase``: ``"4"``) or the resolution it reaches
(``target_resolution``: seedvr's in its ``upscale_mode: "target"``, bytedance's unless a
``scale_ratio`` is set). One that names neither (recraft's, ideogram's, bria's image
upscalers) doubles its input: a guess, as most of fal's upscalers default to 2, kept
within the emulator's pixel bound. No model is named here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from emulator.contracts.sizes import number, short_side

#: input fields by which an upscaler multiplies its input's size, first found first
SCALE_FIELDS = ("upscale_factor", "scale", "scale_factor", "scale_ratio", "desired_increase")
#: a factor written as text (bria's enum ``"2"``, ``"4"``; ``"4x"`` as its description says)
_FACTOR_TEXT = re.compile(r"\s*([0-9]{1,2}(?:\.[0-9]+)?)\s*[xX]?\s*")
#: the factor of an upscaler whose input names none (a guess)
DEFAULT_FACTOR = 2.0
#: ids of upscalers (``…/upscale``, ``…-upscaler``, esrgan…), but no "upscale-or-vary"
_UPSCALER_ID = re.compile(
    r"upscaler|upscale(?![-\w])|super-resolution|increase-resolution|esrgan|aura-sr|ccsr"
)


def upscale_factor(
    endpoint_id: str, inputs: Mapping[str, Any], size: tuple[int, int], max_pixels: int
) -> float:
    """The factor by which an output of no asked size multiplies its input's ``size``:
    the one asked (from 0 to 16, else 1), else the target resolution's, else an
    upscaler's default, else 1."""
    if inputs.get("upscale_mode") != "target":
        for name in SCALE_FIELDS:
            factor = _factor(inputs.get(name))
            if factor is not None:
                return factor if 0 < factor <= 16 else 1.0
    target = inputs.get("target_resolution")
    if isinstance(target, str) and min(size) > 0:
        return short_side(target) / min(size)
    if not _UPSCALER_ID.search(endpoint_id.lower()) or size[0] * size[1] <= 0:
        return 1.0
    return max(1.0, min(DEFAULT_FACTOR, math.sqrt(max_pixels / (size[0] * size[1]))))


def _factor(value: Any) -> float | None:
    """A factor as a number (``4``, ``2.5``) or as text (``"4"``, ``"4x"``); else None."""
    if isinstance(value, str):
        found = _FACTOR_TEXT.fullmatch(value)
        return float(found[1]) if found else None
    # as `number` reads it: a whole number past a float's range (``10**400``, which an
    # unbounded catalogue field takes) is infinity, no factor, where float() raised (a 500)
    return number(value)
