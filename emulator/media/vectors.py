"""Synthetic vector pictures: SVG, as a vector model (recraft's text-to-vector, a
vectorizer) answers.

The same picture the raster one shows, written as SVG: the spec's 3x3 colours (as
rectangles), its three rings and its caption (the prompt, size, seed and endpoint) as text
along its foot, at the width and height asked. Same spec, same bytes.
"""

from __future__ import annotations

import re
from dataclasses import replace
from xml.sax.saxutils import escape

from emulator.media.images import caption, font_size, palette, rings
from emulator.media.spec import MediaSpec

#: characters XML 1.0 cannot hold (control characters, surrogates, non-characters)
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _grid(spec: MediaSpec, colours: bytes) -> list[str]:
    width, height = spec.width / 3, spec.height / 3
    return [
        f'<rect x="{column * width:g}" y="{row * height:g}" width="{width:g}" '
        f'height="{height:g}" fill="#{colours[(row * 3 + column) * 3 :][:3].hex()}"/>'
        for row in range(3)
        for column in range(3)
    ]


def _caption(spec: MediaSpec) -> list[str]:
    """The caption, white on a black strip along the foot (as the raster picture's)."""
    size = font_size(spec)
    lines = _NOT_XML.sub("\ufffd", caption(spec)).split("\n")
    step, margin = size + 4, size // 2
    height = len(lines) * step + 2 * margin
    top = spec.height - height
    text = [
        f'<text x="{margin}" y="{top + margin + size + index * step}">{escape(line)}</text>'
        for index, line in enumerate(lines)
    ]
    return [
        f'<rect x="0" y="{top}" width="{spec.width}" height="{height}" fill="#000"/>',
        f'<g fill="#fff" font-family="sans-serif" font-size="{size}">',
        *text,
        "</g>",
    ]


def render_vector(spec: MediaSpec) -> bytes:
    """The SVG of ``spec``, ``spec.width`` by ``spec.height`` (256 square if it has none)."""
    if not (spec.width and spec.height):
        spec = replace(spec, width=256, height=256)
    colours = palette(spec)
    shapes = [
        f'<circle cx="{x}" cy="{y}" r="{r}" fill="none" stroke="#{bytes(colour).hex()}" '
        f'stroke-width="{max(1, r // 8)}"/>'
        for x, y, r, colour in rings(spec, colours)
    ]
    body = [] if spec.blank else [*_grid(spec, colours), *shapes, *_caption(spec)]
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{spec.width}" '
            f'height="{spec.height}" viewBox="0 0 {spec.width} {spec.height}">',
            '<rect width="100%" height="100%" fill="#000"/>',
            *body,
            "</svg>\n",
        ]
    ).encode()
