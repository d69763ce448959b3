"""The input fields synthesis reads by convention: a video's format and codec."""

from __future__ import annotations

import pytest

from emulator.contracts.input_fields import video_format


@pytest.mark.parametrize(
    ("inputs", "asked"),
    [
        ({}, ("mp4", "")),
        ({"output_format": "mp4"}, ("mp4", "")),
        ({"output_format": "webm"}, ("webm", "")),  # its own codec: VP9
        ({"output_container_and_codec": "mkv_h265"}, ("mkv", "h265")),
        ({"output_container_and_codec": "mov_proresks"}, ("mov", "prores")),
        ({"output_container_and_codec": "mp4_h264"}, ("mp4", "")),
        ({"output_container_and_codec": "gif"}, ("gif", "")),
        ({"output_format": "PRORES4444 (.mov)"}, ("mov", "prores")),
        ({"output_format": "X264 (.mp4)"}, ("mp4", "")),
        ({"output_codec": "vp9"}, ("webm", "")),  # a codec alone: its home
        ({"codec": "libx265"}, ("mp4", "h265")),
        ({"output_container_and_codec": "mkv_mpeg4"}, ("mkv", "mpeg4")),
        ({"output_format": "webm", "codec": "libx264"}, ("webm", "")),  # WebM holds VP9 only
        ({"output_format": "jpeg"}, ("mp4", "")),  # no video format: the default
    ],
)
def test_a_videos_format_and_codec_in_fals_spellings(inputs: dict, asked: tuple) -> None:
    assert video_format(inputs) == asked
