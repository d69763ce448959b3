import io
import struct
import zlib

import av
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


@pytest.mark.parametrize("extra", [5, 6, 257, 258, 259, 1000])
def test_gif_padding_is_a_comment_before_the_trailer(extra: int) -> None:
    data = encoded("GIF")
    padded = pad("GIF", data, len(data) + extra)
    assert len(padded) == len(data) + extra and padded.endswith(b"\x00;")
    comment, at = padded[len(data) - 1 :], 2  # where the trailer was
    assert comment[:2] == b"\x21\xfe"
    while comment[at]:  # sub-blocks, each its length first, then a zero
        at += 1 + comment[at]
    assert comment[at:] == b"\x00;"
    image = Image.open(io.BytesIO(padded))
    image.load()
    assert image.size == (40, 30)


def _matroska() -> bytes:
    out = io.BytesIO()
    with av.open(out, "w", format="matroska") as container:
        stream = container.add_stream("mpeg4", rate=4)
        stream.width, stream.height = 32, 32
        for index in range(4):
            frame = av.VideoFrame(32, 32, "yuv420p")
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()


@pytest.mark.parametrize("extra", [9, 10, 70_000])
def test_matroska_padding_is_a_void_element_its_segment_holds(extra: int) -> None:
    data = _matroska()
    padded = pad("MKV", data, len(data) + extra)
    assert len(padded) == len(data) + extra and padded[len(data)] == 0xEC
    with av.open(io.BytesIO(padded)) as container:
        assert len(list(container.decode(video=0))) == 4
    with pytest.raises(ValueError):  # a file its segment does not run to the end of
        pad("MKV", padded + b"junk", len(padded) + 4 + extra)
