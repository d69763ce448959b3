"""Sizes known before rendering.

A result states each file's ``file_size``; to state it without rendering, a JPEG or PNG
gets a byte size fixed by its spec (a budget from its pixel count, about what a real
generator's file weighs), is encoded to fit, and is padded to exactly that size with data
every decoder skips: JPEG comment segments, or a private ancillary PNG chunk.
"""

from __future__ import annotations

import struct
import zlib

__all__ = ["BYTES_PER_PIXEL", "MINIMUM_PADDING", "budget", "pad"]

#: Pillow format → bytes per pixel of the budget. Formats not listed are not padded.
BYTES_PER_PIXEL = {"JPEG": 0.25, "PNG": 0.5}
_BASE = 16 * 1024  # room for the caption and headers on small images
_JPEG_SEGMENT = 4 + 65533  # a COM marker, its length, and the most payload it can hold
_PNG_CHUNK_TYPE = b"paDd"  # ancillary, private, safe to copy
_FILLER = b"provider-emulator padding "


def budget(pil_format: str, width: int, height: int) -> int | None:
    """The exact byte size of an image in this format and size, or None if not fixed."""
    per_pixel = BYTES_PER_PIXEL.get(pil_format)
    return None if per_pixel is None else _BASE + int(width * height * per_pixel)


def _filler(length: int) -> bytes:
    return (_FILLER * (length // len(_FILLER) + 1))[:length]


def _jpeg_comments(length: int) -> bytes:
    """COM segments totalling exactly ``length`` (>= 4) bytes."""
    segments = []
    while length:
        size = min(length, _JPEG_SEGMENT)
        if 0 < length - size < 4:  # leave a remainder that fits an empty segment
            size = length - 4
        segments.append(b"\xff\xfe" + struct.pack(">H", size - 2) + _filler(size - 4))
        length -= size
    return b"".join(segments)


def _png_chunk(length: int) -> bytes:
    """One private chunk of exactly ``length`` (>= 12) bytes."""
    data = _filler(length - 12)
    crc = zlib.crc32(_PNG_CHUNK_TYPE + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + _PNG_CHUNK_TYPE + data + struct.pack(">I", crc)


#: the least padding each format can add, when it adds any
MINIMUM_PADDING = {"JPEG": 4, "PNG": 12}


def pad(pil_format: str, data: bytes, size: int) -> bytes:
    """``data`` grown to exactly ``size`` bytes; it must fit with room for the padding."""
    missing = size - len(data)
    if missing == 0:
        return data
    if missing < MINIMUM_PADDING[pil_format]:
        raise ValueError(f"{len(data)} bytes cannot be padded to {size}")
    if pil_format == "JPEG":  # right after the start-of-image marker
        return data[:2] + _jpeg_comments(missing) + data[2:]
    return data[:-12] + _png_chunk(missing) + data[-12:]  # just before IEND
