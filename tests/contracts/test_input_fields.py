"""The input fields synthesis reads by convention: a video's format and codec, the text a
talking video says."""

from __future__ import annotations

import pytest

from emulator.contracts.input_fields import (
    OWN_BACKDROP,
    backdrop,
    every_nth_frame,
    gives_audio,
    speaking_seconds,
    spoken_text,
    token_limit,
    video_format,
)


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
        # 66 of the catalogue's inputs (cosmos, longcat, sam 3, birefnet's video…)
        ({"video_output_type": "VP9 (.webm)"}, ("webm", "")),
        ({"video_type": "PRORES4444 (.mov)"}, ("mov", "prores")),
        ({"video_type": "human"}, ("mp4", "")),  # another video_type: what the video shows
        ({"output_codec": "vp9"}, ("webm", "")),  # a codec alone: its home
        ({"codec": "libx265"}, ("mp4", "h265")),
        ({"output_container_and_codec": "mkv_mpeg4"}, ("mkv", "mpeg4")),
        ({"output_format": "webm", "codec": "libx264"}, ("webm", "")),  # WebM holds VP9 only
        ({"output_format": "jpeg"}, ("mp4", "")),  # no video format: the default
    ],
)
def test_a_videos_format_and_codec_in_fals_spellings(inputs: dict, asked: tuple) -> None:
    assert video_format(inputs) == asked


def test_a_talking_videos_text_is_what_it_says_and_lasts_as_long_as_saying_it() -> None:
    two = {"first_text_input": "Hello there.", "second_text_input": "Hi!", "prompt": "a bar"}
    assert spoken_text("fal-ai/ai-avatar/multi-text", two) == "Hello there. Hi!"
    assert spoken_text("veed/avatars/text-to-video", {"text": "  "}) == ""
    assert spoken_text("fal-ai/flux/dev", {"text": "a cat"}) == ""  # no talking model
    assert speaking_seconds("one two three four five") == 2.0
    assert speaking_seconds("word") == 1.0 and speaking_seconds("w " * 500) == 60.0


def test_audio_given_under_any_name_of_an_audio_url() -> None:
    assert gives_audio({"audio_url_person1": "https://x.test/a.wav"})
    assert gives_audio({"first_audio_url": "https://x.test/a.wav"})
    assert not gives_audio({"audio_url": None, "prompt": "audio_url"})


@pytest.mark.parametrize(
    ("inputs", "asked"),
    [
        ({}, ""),
        ({"background_color": "Black"}, "000000"),  # bria's names
        ({"background_color": "Orange"}, "ffa500"),
        ({"background_color": "Transparent"}, ""),
        ({"background_color": [0, 255, 0]}, "00ff00"),  # ben's RGB list
        ({"background_color": "#1A2b3C"}, "1a2b3c"),
        ({"background_color": [0, 255]}, ""),  # what cannot be read: as none asked
        ({"background_color": [0, 256, 0]}, ""),
        ({"background_color": "mauve-ish"}, ""),
        ({"background_type": "blur", "background_color": "Black"}, OWN_BACKDROP),
    ],
)
def test_a_background_removers_backdrop_in_its_spellings(inputs: dict, asked: str) -> None:
    assert backdrop(inputs) == asked


def test_the_tokens_a_model_may_write_are_the_least_bound_asked() -> None:
    assert token_limit({"max_tokens": 20}) == 20
    assert token_limit({"max_tokens": 64.0, "max_new_tokens": 32}) == 32
    assert token_limit({"max_tokens": 0}) is None and token_limit({}) is None
    assert token_limit({"max_tokens": True}) is None


@pytest.mark.parametrize(
    ("inputs", "taken"),
    [
        ({"frame_interval": 12}, 3),  # frames 0, 12, 24 of 36
        ({"frame_interval": 7}, 6),
        ({"frame_interval": 7, "max_frames": 4}, 4),
        ({"frame_interval": 100}, 1),  # the first
        ({"frame_interval": 0}, None),
        ({"frame_interval": True}, None),
        ({}, None),
    ],
)
def test_every_nth_frame_is_the_first_and_each_nth_after_it(inputs: dict, taken: int) -> None:
    assert every_nth_frame(inputs, 36) == taken
