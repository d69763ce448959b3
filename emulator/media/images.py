"""Synthetic pictures with Pillow.

The picture tells a developer what was asked: its input picture (an edit's, an
upscaler's, a background remover's), else a colour field and shapes derived from the spec
(so a different seed looks different), with the prompt, size, seed and endpoint written
on it.
"""

from __future__ import annotations

import hashlib
import io
import textwrap
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from emulator.media.padding import budget, encode_within
from emulator.media.spec import FORMATS, MediaSpec

#: gives the bytes of an input picture by its storage id (None: gone)
SourceLoader = Callable[[str], bytes | None]

#: Encoder settings per format, best first: a later one is tried only if an image does not
#: fit its byte budget (see padding), which a picture like ours is far from doing.
_SAVE_OPTIONS: dict[str, list[dict[str, int]]] = {
    "JPEG": [{"quality": q} for q in (85, 60, 35, 10)],
    "PNG": [{"compress_level": 1}, {"compress_level": 9}],
    "WEBP": [{"quality": 80, "method": 0}],
    "GIF": [{"optimize": 0}],
}


_LINE_GAP = 4  # pixels between the caption's lines


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont:
    font = ImageFont.load_default(size=size)
    # Pillow's wheels carry FreeType; without it there is no font of a chosen size
    if not isinstance(font, ImageFont.FreeTypeFont):
        raise RuntimeError("Pillow was built without FreeType: captions need it")
    return font


def palette(spec: MediaSpec) -> bytes:
    """The bytes every colour and shape of ``spec``'s picture is drawn from."""
    return hashlib.sha512(spec.digest("palette").encode()).digest()


def _background(spec: MediaSpec, colours: bytes) -> Image.Image:
    # A 3x3 grid of colours stretched smoothly over the canvas: cheap at any size.
    grid = Image.frombytes("RGB", (3, 3), colours[:27])
    return grid.resize((spec.width, spec.height), Image.Resampling.BILINEAR)


def rings(spec: MediaSpec, colours: bytes) -> list[tuple[int, int, int, tuple[int, int, int]]]:
    """The three rings drawn over the colours: each one's centre, radius and colour."""
    w, h = spec.width, spec.height
    found = []
    for i in range(3):
        b = colours[27 + 4 * i :]
        radius = max(1, (b[2] % 64 + 32) * min(w, h) // 400)
        found.append(
            (b[0] * w // 255, b[1] * h // 255, radius, (b[3], 255 - b[3], (b[3] * 7) % 256))
        )
    return found


def _shapes(draw: ImageDraw.ImageDraw, spec: MediaSpec, colours: bytes) -> None:
    for cx, cy, r, colour in rings(spec, colours):
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=colour, width=max(1, r // 8))


#: the most lines of a prompt a caption shows
_CAPTION_LINES = 4


def caption(spec: MediaSpec) -> str:
    """The caption's text: the prompt, wrapped, and a footer of what was asked."""
    columns = max(16, spec.width // max(8, font_size(spec) // 2 + 2))
    # Four lines show little of a long prompt: wrapping it all (textwrap splits it in one
    # call that holds the GIL: 1.3 s for 19 MiB) stalled every request of the server, from a
    # realtime frame or a run. Twice the lines shown keeps the lines and the "…" as they were.
    prompt = spec.prompt[: _CAPTION_LINES * columns * 2].encode("utf-8", "replace").decode("utf-8")
    lines = textwrap.wrap(prompt, columns, max_lines=_CAPTION_LINES, placeholder=" …")
    lines = lines or ["(no prompt)"]
    footer = f"{spec.width}x{spec.height} · seed {spec.seed} · #{spec.index + 1} · {spec.label}"
    return "\n".join([*lines, footer])


def font_size(spec: MediaSpec) -> int:
    return max(10, min(48, min(spec.width, spec.height) // 28))


@lru_cache(maxsize=16)
def _line_metrics(size: int) -> tuple[int, int, int]:
    """For the caption font of ``size``: how far below a line's anchor its capitals start,
    the distance between lines (Pillow's multiline spacing) and a line's full height."""
    font = _font(size)
    _, top, _, bottom = font.getbbox("A")
    ascent, descent = font.getmetrics()
    return round(top), round(bottom) + _LINE_GAP, ascent + descent


def caption_panel(spec: MediaSpec) -> Image.Image | None:
    """A black strip as wide as the picture with the caption on it; None if too small."""
    if spec.width < 96 or spec.height < 48:
        return None  # too small to carry legible text
    size = font_size(spec)
    text, margin = caption(spec), size // 2
    # The height from the font's metrics, not from laying the text out a first time to
    # measure it (a quarter of the caption's cost)
    top, spacing, line = _line_metrics(size)
    height = text.count("\n") * spacing + line - top + 2 * margin
    # white on black: one channel to draw, converted when pasted onto the picture
    panel = Image.new("L", (spec.width, min(spec.height, height)))
    ImageDraw.Draw(panel).multiline_text(
        (margin, margin - top), text, font=_font(size), fill=255, spacing=_LINE_GAP
    )
    return panel


def _captioned(image: Image.Image, spec: MediaSpec) -> Image.Image:
    """``image`` with the caption of ``spec`` along its foot."""
    panel = caption_panel(spec)
    if panel is not None:
        image.paste(panel, (0, spec.height - panel.height))
    return image


def render_picture(
    spec: MediaSpec, *, caption: bool = True, size: tuple[int, int] | None = None
) -> Image.Image:
    """The picture of ``spec`` drawn, not yet encoded; with ``size``, drawn that small (the
    same colours and shapes, no caption): a thumbnail that costs no full-size render."""
    if spec.blank:
        return Image.new("RGB", size or (spec.width, spec.height))
    colours = palette(spec)  # of the spec itself: a smaller one would draw other colours
    drawn = replace(spec, width=size[0], height=size[1]) if size else spec
    image = _background(drawn, colours)
    _shapes(ImageDraw.Draw(image), drawn, colours)
    return _captioned(image, spec) if caption and size is None else image


def cover(picture: Image.Image, width: int, height: int) -> Image.Image:
    """``picture`` cropped to the aspect of width x height, keeping its centre."""
    scale = max(width / picture.width, height / picture.height)
    crop_w, crop_h = width / scale, height / scale
    left, top = (picture.width - crop_w) / 2, (picture.height - crop_h) / 2
    box = (round(left), round(top), round(left + crop_w), round(top + crop_h))
    # resized from its box: no copy of the crop first (a 6 MP photo's is 20 ms)
    return picture.resize((width, height), Image.Resampling.BILINEAR, box=box)


def start_picture(spec: MediaSpec, load_source: SourceLoader) -> Image.Image | None:
    """The input picture ``spec`` starts from, covering its size; None if it starts from
    none (or is blanked), or its bytes are gone or unreadable here: then it is drawn."""
    data = load_source(spec.source) if spec.source and not spec.blank else None
    if data is None:
        return None
    try:
        with Image.open(io.BytesIO(data)) as picture:
            picture.draft("RGB", (spec.width, spec.height))  # a JPEG decodes about that small
            rgb = picture if picture.mode == "RGB" else picture.convert("RGB")  # no copy
            return cover(rgb, spec.width, spec.height)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None  # kept by a process whose Pillow read it (AVIF from 11.2), not this one


def subject(size: tuple[int, int]) -> Image.Image:
    """Where a background remover's subject is: an ellipse in the middle of the frame."""
    mask = Image.new("L", size)
    width, height = size
    inset_x, inset_y = width // 8, height // 8
    box = (inset_x, inset_y, width - 1 - inset_x, height - 1 - inset_y)
    ImageDraw.Draw(mask).ellipse(box, fill=255)
    return mask


def _matted(image: Image.Image, spec: MediaSpec) -> Image.Image:
    """A cut-out (transparent around its subject and caption, or over its backdrop's
    colour) or its subject's mask."""
    subject_mask = subject(image.size)
    if spec.matte == "mask":
        return subject_mask
    panel = caption_panel(spec)
    if panel is not None:  # the caption stays readable
        subject_mask.paste(255, (0, spec.height - panel.height, spec.width, spec.height))
    if spec.backdrop:
        return on_backdrop(image, spec.backdrop, subject_mask)
    image.putalpha(subject_mask)
    return image


def on_backdrop(image: Image.Image, colour: str, kept: Image.Image) -> Image.Image:
    """``image`` where ``kept`` is white, the backdrop's colour (``"rrggbb"``) elsewhere."""
    return Image.composite(image, Image.new("RGB", image.size, "#" + colour), kept)


def _encoder(image: Image.Image, pil_format: str, options: dict[str, int]) -> Callable[[], bytes]:
    def encode() -> bytes:
        out = io.BytesIO()
        image.save(out, pil_format, **options)
        return out.getvalue()

    return encode


def _no_source(_: str) -> None:
    return None


def render_image(spec: MediaSpec, load_source: SourceLoader = _no_source) -> bytes:
    """The encoded bytes of ``spec``: always the same bytes for the same spec;
    ``load_source`` gives the bytes of its input picture."""
    pil_format = FORMATS[spec.format][2]
    start = start_picture(spec, load_source)
    image = render_picture(spec) if start is None else _captioned(start, spec)
    if spec.matte and not spec.blank:
        image = _matted(image, spec)
    attempts = [_encoder(image, pil_format, options) for options in _SAVE_OPTIONS[pil_format]]
    return encode_within(pil_format, budget(pil_format, spec.width, spec.height), attempts)
