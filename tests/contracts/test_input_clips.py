"""What a video output takes from its input's video or audio: here, its sound track."""

from __future__ import annotations

import pytest

from emulator.contracts.input_clips import carries_sound
from emulator.media.sources import Clip

SILENT, SOUNDING = Clip(2.0, 64, 48, 12, sound=False), Clip(2.0, 64, 48, 12, sound=True)


@pytest.mark.parametrize(
    ("inputs", "clip", "sound"),
    [
        ({"preserve_audio": True}, SOUNDING, True),
        ({"keep_audio": True}, SILENT, False),
        ({"keep_original_sound": True}, None, True),  # unread: the flag taken at its word
        ({"keep_audio": False}, SOUNDING, False),
        ({"media_url": "x"}, SOUNDING, True),  # described, its sound too
        ({"media_url": "x"}, SILENT, False),
        ({"generate_audio": True, "keep_audio": False}, SILENT, True),
    ],
)
def test_a_kept_sound_track_is_there_if_the_input_has_one(
    inputs: dict, clip: Clip | None, sound: bool
) -> None:
    assert carries_sound("acme/video-to-video", inputs, lambda: clip) is sound


def test_the_input_clip_is_read_only_to_keep_its_sound() -> None:
    def unread() -> Clip:
        raise AssertionError("the clip was read")

    assert carries_sound("acme/video-to-video", {"prompt": "p"}, unread) is False
