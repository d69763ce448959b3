"""Sizes known before rendering.

A result states each file's ``file_size``; to state it without rendering, a JPEG, PNG,
GIF or video gets a byte size fixed by its spec (a budget from its pixel count, about what
a real generator's file weighs), is encoded to fit, and is padded to exactly that size
with data every decoder skips: JPEG comment segments, a private ancillary PNG chunk, a GIF
comment, a trailing top-level MP4 (or QuickTime) ``free`` box, or a Matroska (or WebM)
``Void`` element at the end of its segment.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterable

#: encoder → bytes per pixel of an image's budget; others are not padded
BYTES_PER_PIXEL = {"JPEG": 0.25, "PNG": 0.5, "GIF": 0.5}
#: a video's budget by codec: bytes per pixel of each frame, and bytes more per frame
#: (ProRes, every frame a keyframe with headers of its own, weighs most)
VIDEO_BUDGETS = {"h264": (0.02, 0), "h265": (0.02, 0), "vp9": (0.02, 0), "mpeg4": (0.02, 0)}
VIDEO_BUDGETS |= {"gif": (0.02, 0), "prores": (0.1, 2048)}
#: the same, of a video with an alpha plane, where it weighs more (ProRes 4444)
ALPHA_BUDGETS = {"prores": (0.6, 8192)}
_BASE = 16 * 1024  # room for the caption and headers on small images
_JPEG_SEGMENT = 4 + 65533  # a COM marker, its length, and the most payload it can hold
_PNG_CHUNK_TYPE = b"paDd"  # ancillary, private, safe to copy
_FILLER = b"provider-emulator padding "


def budget(encoder: str, width: int, height: int) -> int | None:
    """The exact byte size of an image so encoded and sized, or None if not fixed."""
    per_pixel = BYTES_PER_PIXEL.get(encoder)
    return None if per_pixel is None else _BASE + int(width * height * per_pixel)


def video_budget(codec: str, width: int, height: int, frames: int, alpha: bool = False) -> int:
    """The exact byte size of a video so encoded and sized, but for its sound."""
    per_pixel, per_frame = (alpha and ALPHA_BUDGETS.get(codec)) or VIDEO_BUDGETS[codec]
    return _BASE + int(width * height * frames * per_pixel) + frames * per_frame


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


def _gif_comment(length: int) -> bytes:
    """A comment extension of exactly ``length`` (3, or >= 5) bytes: its introducer and
    label, sub-blocks of up to 255 bytes each after its length, and a terminator."""
    blocks, left = [], length - 3
    while left:
        size = min(left, 256) if left - 256 != 1 else 255  # never one byte left over
        blocks.append(bytes([size - 1]) + _filler(size - 1))
        left -= size
    return b"\x21\xfe" + b"".join(blocks) + b"\x00"


_SEGMENT = b"\x18\x53\x80\x67"
_VOID = b"\xec"


def _matroska_void(data: bytes, length: int) -> bytes:
    """``data``, a Matroska file whose one segment runs to its end with an 8-byte size (as
    FFmpeg writes it), with a ``Void`` element of exactly ``length`` (>= 9) bytes at the
    segment's end and the segment's size grown by as much."""
    at = data.index(_SEGMENT) + len(_SEGMENT)
    size = int.from_bytes(data[at : at + 8], "big") ^ (1 << 56)  # its marker bit cleared
    if data[at] != 1 or at + 8 + size != len(data):
        raise ValueError("not a Matroska segment FFmpeg sized, running to the end")
    void = _VOID + ((1 << 56) | (length - 9)).to_bytes(8, "big") + _filler(length - 9)
    return data[:at] + ((1 << 56) | (size + length)).to_bytes(8, "big") + data[at + 8 :] + void


#: the least padding each format can add, when it adds any
MINIMUM_PADDING = {"JPEG": 4, "PNG": 12, "GIF": 5, "MP4": 8, "MKV": 9}


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
    if pil_format == "MKV":
        return _matroska_void(data, missing)
    if pil_format == "GIF":  # just before the trailer
        return data[:-1] + _gif_comment(missing) + data[-1:]
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
