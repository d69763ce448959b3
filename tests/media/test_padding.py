import io
import struct
import zlib

import pytest
from PIL import Image

from emulator.media.padding import budget, pad


def encoded(pil_format: str, size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 200, 30)).save(out, pil_format)
    return out.getvalue()


@pytest.mark.parametrize("extra", [4, 5, 100, 65537, 65538, 65540, 65541, 200_000])
def test_jpeg_padding_hits_the_size_and_still_decodes(extra: int) -> None:
    data = encoded("JPEG")
    padded = pad("JPEG", data, len(data) + extra)
    assert len(padded) == len(data) + extra
    assert padded[:4] == b"\xff\xd8\xff\xfe"  # comment segments right after start-of-image
    image = Image.open(io.BytesIO(padded))
    image.load()
    assert image.size == (40, 30)


@pytest.mark.parametrize("extra", [12, 13, 5000])
def test_png_padding_is_a_valid_private_chunk(extra: int) -> None:
    data = encoded("PNG")
    padded = pad("PNG", data, len(data) + extra)
    assert len(padded) == len(data) + extra and padded.endswith(data[-12:])
    start = len(data) - 12  # where IEND was
    length, kind = struct.unpack(">I4s", padded[start : start + 8])
    body = padded[start + 8 : start + 8 + length]
    (crc,) = struct.unpack(">I", padded[start + 8 + length : start + 12 + length])
    assert kind == b"paDd" and crc == zlib.crc32(kind + body)
    Image.open(io.BytesIO(padded)).load()  # Pillow checks chunk CRCs


def test_too_little_room_is_an_error() -> None:
    data = encoded("PNG")
    with pytest.raises(ValueError):
        pad("PNG", data, len(data) + 5)
    assert pad("JPEG", data, len(data)) is data


def test_budgets_grow_with_pixels_and_only_for_fixed_formats() -> None:
    assert budget("JPEG", 1024, 1024) == 16384 + 262144
    assert budget("PNG", 10, 10) == 16384 + 50
    assert budget("WEBP", 10, 10) is None
