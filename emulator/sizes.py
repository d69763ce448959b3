"""How big an output is, read from the input by convention (no model is named here).

Images: ``image_size`` (fal's presets, or ``{width, height}``), else ``width`` and
``height``, else ``size`` (``"W*H"`` or a ``"W:H"`` ratio), else ``aspect_ratio``.
Videos: the short side from ``resolution`` (``480p``…), the shape from ``aspect_ratio``
(``auto``: the input picture's), the length from ``duration`` in seconds; a contract may
give defaults for a model in ``x-emulator-media`` on the output field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["DEFAULT_SIZE", "IMAGE_SIZE_PRESETS", "image_size", "video_shape"]

#: fal's documented image size presets
IMAGE_SIZE_PRESETS = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
    "auto_2K": (2048, 2048),
    "auto_4K": (4096, 4096),
}
DEFAULT_SIZE = (1024, 1024)
DEFAULT_VIDEO = {"resolution": "720p", "aspect_ratio": "16:9", "duration": 5, "fps": 24}


def _ratio(text: Any) -> float | None:
    if isinstance(text, str) and ":" in text:
        a, _, b = text.partition(":")
        if a.isdigit() and b.isdigit() and int(a) and int(b):
            return int(a) / int(b)
    return None


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def image_size(inputs: Mapping[str, Any], field_default: Any = None) -> tuple[int, int]:
    """``field_default`` is the input schema's default for ``image_size``: what ``auto``
    and other unknown presets fall back to, when it is an explicit size."""
    size = inputs.get("image_size")
    if isinstance(size, Mapping):
        return int(size.get("width", 512)), int(size.get("height", 512))
    if isinstance(size, str):
        if size in IMAGE_SIZE_PRESETS:
            return IMAGE_SIZE_PRESETS[size]
        if isinstance(field_default, Mapping) and {"width", "height"} <= field_default.keys():
            return int(field_default["width"]), int(field_default["height"])
        return DEFAULT_SIZE
    width, height = inputs.get("width"), inputs.get("height")
    if isinstance(width, int) and isinstance(height, int):
        return width, height
    text = inputs.get("size")
    if isinstance(text, str) and "*" in text:
        w, _, h = text.partition("*")
        if w.strip().isdigit() and h.strip().isdigit():
            return int(w), int(h)
    for ratio in (_ratio(text), _ratio(inputs.get("aspect_ratio"))):
        if ratio:
            area = DEFAULT_SIZE[0] * DEFAULT_SIZE[1]
            return round(math.sqrt(area * ratio) / 8) * 8, round(math.sqrt(area / ratio) / 8) * 8
    return DEFAULT_SIZE


def video_shape(
    inputs: Mapping[str, Any], hints: Mapping[str, Any], picture: tuple[int, int] | None
) -> tuple[int, int, float, int]:
    """Width, height, seconds and frames per second of a video output."""
    settings = {**DEFAULT_VIDEO, **hints, **{k: inputs[k] for k in DEFAULT_VIDEO if k in inputs}}
    short = int(str(settings["resolution"]).rstrip("pP") or 720)
    ratio = _ratio(settings["aspect_ratio"])
    if ratio is None:  # "auto": the input picture's shape
        ratio = picture[0] / picture[1] if picture else _ratio(DEFAULT_VIDEO["aspect_ratio"])
    width, height = (_even(short * ratio), short) if ratio >= 1 else (short, _even(short / ratio))
    return width, height, float(settings["duration"]), int(settings["fps"])
