"""Sizes known before rendering.

A result states each file's ``file_size``; to state it without rendering, a JPEG, PNG or
MP4 gets a byte size fixed by its spec (a budget from its pixel count, about what a real
generator's file weighs), is encoded to fit, and is padded to exactly that size with data
every decoder skips: JPEG comment segments, a private ancillary PNG chunk, or a trailing
top-level MP4 ``free`` box.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterable

#: encoder → bytes per pixel (per frame, for video) of the budget; others are not padded
BYTES_PER_PIXEL = {"JPEG": 0.25, "PNG": 0.5, "MP4": 0.02}
_BASE = 16 * 1024  # room for the caption and headers on small images
_JPEG_SEGMENT = 4 + 65533  # a COM marker, its length, and the most payload it can hold
_PNG_CHUNK_TYPE = b"paDd"  # ancillary, private, safe to copy
_FILLER = b"provider-emulator padding "


def budget(encoder: str, width: int, height: int, frames: int = 1) -> int | None:
    """The exact byte size of a file so encoded and sized, or None if not fixed."""
    per_pixel = BYTES_PER_PIXEL.get(encoder)
    return None if per_pixel is None else _BASE + int(width * height * frames * per_pixel)


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
MINIMUM_PADDING = {"JPEG": 4, "PNG": 12, "MP4": 8}


def pad(pil_format: str, data: bytes, size: int) -> bytes:
    """``data`` grown to exactly ``size`` bytes; it must fit with room for the padding."""
    missing = size - len(data)
    if missing == 0:
        return data
    if missing < MINIMUM_PADDING[pil_format]:
        raise ValueError(f"{len(data)} bytes cannot be padded to {size}")
    if pil_format == "JPEG":  # right after the start-of-image marker
        return data[:2] + _jpeg_comments(missing) + data[2:]
    if pil_format == "MP4":  # a box at the end (32-bit sizes: files stay under 4 GiB)
        return data + struct.pack(">I", missing) + b"free" + _filler(missing - 8)
    return data[:-12] + _png_chunk(missing) + data[-12:]  # just before IEND


def encode_within(encoder: str, size: int | None, attempts: Iterable[Callable[[], bytes]]) -> bytes:
    """The first encoding that fits ``size`` (with room to pad), padded to it exactly.

    ``attempts`` run best quality first; with no fixed size the first one is taken as is.
    """
    for encode in attempts:
        data = encode()
        if size is None:
            return data
        if len(data) == size or len(data) + MINIMUM_PADDING[encoder] <= size:
            return pad(encoder, data, size)
    raise ValueError(f"no {encoder} encoding fits in {size} bytes")
