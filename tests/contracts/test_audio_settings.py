"""What an audio output is asked to be: its format and codec, sample rate and channels,
under any of the names and in any of the settings objects of fal's catalogue."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.contracts.audio_settings import AudioAsk, asked_audio, audio_format, hertz


@pytest.mark.parametrize(
    ("name", "made"),
    [
        ("mp3_44100_128", ("mp3", "", 44100)),
        ("pcm_16000", ("wav", "", 16000)),
        ("ulaw_8000", ("wav", "pcm_mulaw", 8000)),  # ElevenLabs' telephony formats
        ("alaw_8000", ("wav", "pcm_alaw", 8000)),
        ("pcm_mulaw", ("wav", "pcm_mulaw", None)),  # xai's raw encoding
        ("ogg_opus", ("ogg", "", None)),
        ("opus_48000_64", ("opus", "", 48000)),
        ("FLAC", ("flac", "", None)),
        ("url", (None, "", None)),
        ("hex", (None, "", None)),
        (None, (None, "", None)),
    ],
)
def test_a_format_name_gives_its_format_codec_and_rate(name: Any, made: tuple) -> None:
    assert audio_format(name) == made


def test_a_sample_rate_is_read_in_hertz_or_kilohertz_within_bounds() -> None:
    assert [hertz(v) for v in (24000, "24000", "48 kHz", "22.05kHz")] == [24000] * 2 + [
        48000,
        22050,
    ]
    assert [hertz(v) for v in (100, 10**6, True, "fast", None)] == [None] * 5


def _none(name: str) -> dict[str, Any]:
    return {}


def test_the_inputs_top_level_names_are_read() -> None:
    assert asked_audio({"audio_format": "flac"}, _none) == AudioAsk("flac")  # lava-sr's
    assert asked_audio({"upload_audio_format": "mp3"}, _none).format == "mp3"  # mirelo's
    asked = asked_audio({"output_format": "mp3_22050_32", "sample_rate": 16000}, _none)
    assert asked == AudioAsk("mp3", "", 22050)  # the format's rate first
    assert asked_audio({"sample_rate": "24 kHz"}, _none) == AudioAsk(sample_rate=24000)


def test_a_settings_object_is_read_with_its_schemas_defaults() -> None:
    # minimax's audio_setting: its output_format is "hex" or "url", no audio format
    defaults = {"format": "mp3", "sample_rate": 32000, "channel": 1}

    def settings(name: str) -> dict[str, Any]:
        return defaults if name == "audio_setting" else {}

    asked = {"output_format": "hex", "audio_setting": {"format": "flac", "channel": 2}}
    assert asked_audio(asked, settings) == AudioAsk("flac", "", 32000, 2)
    assert asked_audio({"output_format": "hex"}, settings) == AudioAsk("mp3", "", 32000, 1)
    # xai's output_format object: a raw container's encoding names the samples
    raw = {"output_format": {"container": "raw", "encoding": "pcm_mulaw", "sample_rate": 8000}}
    assert asked_audio(raw, _none) == AudioAsk("wav", "pcm_mulaw", 8000)
    # wan's audio_setting is a word ("auto", "origin"), no settings object
    assert asked_audio({"audio_setting": "origin"}, _none) == AudioAsk()
