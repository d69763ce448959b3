import io
import re

import av
import pytest

from emulator.media.h264 import StreamFormat, Unsupported, p_frame


def headers(options: dict[str, str], width: int = 1920, height: int = 1080) -> bytes:
    """The SPS and PPS libx264 writes with ``options``."""
    stream = av.open(io.BytesIO(), "w", format="mp4").add_stream("libx264", rate=24)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.options = options
    stream.codec_context.open()
    return stream.codec_context.extradata


def test_the_format_of_the_videos_stream() -> None:
    form = StreamFormat.from_extradata(headers({"preset": "ultrafast"}))
    assert (form.width_mbs, form.height_mbs, form.pps_id) == (120, 68, 0)
    assert form.frame_num_bits >= 4  # x264 writes 4: frame_num wraps within a second


def test_a_stream_these_slices_cannot_join_is_refused() -> None:
    with pytest.raises(Unsupported):  # High profile, CABAC, B frames
        StreamFormat.from_extradata(headers({"preset": "medium"}))
    with pytest.raises(Unsupported):
        StreamFormat.from_extradata(b"")


def test_raw_samples_are_escaped_from_start_codes() -> None:
    form = StreamFormat(4, 2, 9, 0)
    samples = bytes(range(1, 4)) + b"\x00\x00\x01\x00\x00\x00" + bytes(375)
    frame = p_frame(form, 3, {(1, 1): samples})
    body = frame[4:]  # after the start code
    assert not re.search(rb"\x00\x00[\x00-\x02]", body)
    assert samples in body.replace(b"\x00\x00\x03", b"\x00\x00")


def test_a_frame_without_changes_is_a_few_bytes() -> None:
    form = StreamFormat(120, 68, 9, 0)
    assert len(p_frame(form, 1, {})) < 16
