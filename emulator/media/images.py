"""Synthetic pictures with Pillow.

The picture tells a developer what was asked: a colour field and shapes derived from the
spec (so a different seed looks different), with the prompt, size, seed and endpoint
written on it.
"""

from __future__ import annotations

import hashlib
import io
import textwrap
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from emulator.media.padding import MINIMUM_PADDING, budget, pad
from emulator.media.spec import FORMATS, MediaSpec

__all__ = ["render_image"]

#: Encoder settings per format, best first: a later one is tried only if an image does not
#: fit its byte budget (see padding), which a picture like ours is far from doing.
_SAVE_OPTIONS = {
    "JPEG": [{"quality": q} for q in (85, 60, 35, 10)],
    "PNG": [{"compress_level": 1}, {"compress_level": 9}],
    "WEBP": [{"quality": 80, "method": 0}],
}


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def _palette(spec: MediaSpec) -> bytes:
    return hashlib.sha512(spec.digest("palette").encode()).digest()


def _background(spec: MediaSpec, palette: bytes) -> Image.Image:
    # A 3x3 grid of colours stretched smoothly over the canvas: cheap at any size.
    grid = Image.frombytes("RGB", (3, 3), palette[:27])
    return grid.resize((spec.width, spec.height), Image.Resampling.BILINEAR)


def _shapes(draw: ImageDraw.ImageDraw, spec: MediaSpec, palette: bytes) -> None:
    w, h = spec.width, spec.height
    for i in range(3):
        b = palette[27 + 4 * i :]
        cx, cy = b[0] * w // 255, b[1] * h // 255
        r = max(1, (b[2] % 64 + 32) * min(w, h) // 400)
        colour = (b[3], 255 - b[3], (b[3] * 7) % 256)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=colour, width=max(1, r // 8))


def _caption(spec: MediaSpec) -> str:
    prompt = spec.prompt.encode("utf-8", "replace").decode("utf-8")
    columns = max(16, spec.width // max(8, _font_size(spec) // 2 + 2))
    lines = textwrap.wrap(prompt, columns, max_lines=4, placeholder=" …") or ["(no prompt)"]
    footer = f"{spec.width}x{spec.height} · seed {spec.seed} · #{spec.index + 1} · {spec.label}"
    return "\n".join([*lines, footer])


def _font_size(spec: MediaSpec) -> int:
    return max(10, min(48, min(spec.width, spec.height) // 28))


def _draw_caption(image: Image.Image, spec: MediaSpec) -> None:
    if spec.width < 96 or spec.height < 48:
        return  # too small to carry legible text
    font = _font(_font_size(spec))
    draw = ImageDraw.Draw(image)
    text = _caption(spec)
    margin = _font_size(spec) // 2
    left, top, right, bottom = draw.multiline_textbbox((margin, 0), text, font=font)
    panel_top = max(0, spec.height - (bottom - top) - 2 * margin)
    draw.rectangle((0, panel_top, spec.width, spec.height), fill=(0, 0, 0))
    draw.multiline_text((margin, panel_top + margin - top), text, font=font, fill=(255, 255, 255))


def render_image(spec: MediaSpec) -> bytes:
    """The encoded bytes of ``spec``: always the same bytes for the same spec."""
    pil_format = FORMATS[spec.format][2]
    palette = _palette(spec)
    image = _background(spec, palette)
    _shapes(ImageDraw.Draw(image), spec, palette)
    _draw_caption(image, spec)
    size = budget(pil_format, spec.width, spec.height)
    for options in _SAVE_OPTIONS[pil_format]:
        out = io.BytesIO()
        image.save(out, pil_format, **options)
        data = out.getvalue()
        if size is None:
            return data
        if len(data) + MINIMUM_PADDING[pil_format] <= size or len(data) == size:
            return pad(pil_format, data, size)
    raise ValueError(f"cannot encode {spec} within {size} bytes")
