"""What an audio output is asked to be, read from the input by convention: its format
(and codec), sample rate and channels. No model is named here.

fal's apps ask it many ways: ElevenLabs' ``output_format`` (``"mp3_22050_32"``,
``"ulaw_8000"``: codec, rate, bitrate), lava-sr's ``audio_format``, mirelo's
``upload_audio_format``, inworld's ``sample_rate_hertz``, maya's ``sample_rate: "48 kHz"``;
or in a settings object: minimax's ``audio_setting`` (``{format, sample_rate, channel}``),
xai's ``output_format`` (``{container, encoding, sample_rate}``). A settings object the
input leaves out takes its schema's defaults, as the provider does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from emulator.contracts.media_formats import MediaFormats

#: the fields that name the format, at the input's top level or in a settings object,
#: first found first
FORMAT_FIELDS = (
    *("output_format", "audio_format", "upload_audio_format"),
    *("format", "container", "encoding"),
)
#: the fields that give the sample rate (Hz, or fal's ``"48 kHz"``)
SAMPLE_RATE_FIELDS = ("sample_rate", "sample_rate_hertz")
#: the fields that give the number of channels (minimax's ``channel``)
CHANNEL_FIELDS = ("channel", "channels", "num_channels")
#: the input objects that hold those fields
SETTINGS_FIELDS = ("audio_setting", "output_format")

#: a word of a format's name → the format made and its codec ("" for the format's own),
#: the first of these the name holds winning (``"pcm_mulaw"`` is mu-law, ``"ogg_opus"``
#: an Ogg); raw PCM is made as a WAV of it
_FORMAT_WORDS = {
    "ulaw": ("wav", "pcm_mulaw"),
    "mulaw": ("wav", "pcm_mulaw"),
    "alaw": ("wav", "pcm_alaw"),
    **{name: (name, "") for name in ("mp3", "wav", "flac", "ogg", "opus", "aac", "m4a")},
    "pcm": ("wav", ""),
}
_RATE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(k?)(?:hz)?\s*")
_CHANNEL_WORDS = {"mono": 1, "stereo": 2}


@dataclass(frozen=True)
class AudioAsk:
    """What the input asks of an audio output (None: nothing asked)."""

    format: str | None = None
    codec: str = ""  # the format's own where ""; else a WAV's (``pcm_mulaw``, ``pcm_alaw``)
    sample_rate: int | None = None
    channels: int | None = None


def audio_format(requested: Any) -> tuple[str | None, str, int | None]:
    """A format's name (``"mp3_44100_128"``, ``"ulaw_8000"``, ``"pcm_mulaw"``, ``"wav"``)
    → the format, its codec ("" for its own) and the sample rate it names."""
    if not isinstance(requested, str):
        return None, "", None
    words = re.findall(r"[a-z0-9]+", requested.lower())
    named = next((_FORMAT_WORDS[w] for w in _FORMAT_WORDS if w in words), None)
    if named is None:
        return None, "", None
    rates = (hertz(int(word)) for word in words if word.isdigit() and 4 <= len(word) <= 6)
    return named[0], named[1], next((rate for rate in rates if rate), None)


def hertz(value: Any) -> int | None:
    """A sample rate: ``24000``, ``"24000"`` or ``"48 kHz"``; None outside 8 to 96 kHz."""
    if isinstance(value, bool):
        return None
    rate: float
    if isinstance(value, (int, float)):
        rate = value
    elif isinstance(value, str) and (found := _RATE.fullmatch(value.lower())):
        rate = float(found[1]) * (1000 if found[2] else 1)
    else:
        return None
    return int(rate) if 8000 <= rate <= 96000 else None


def _channels(value: Any) -> int | None:
    if isinstance(value, str):
        return _CHANNEL_WORDS.get(value.lower())
    return value if type(value) is int and value in (1, 2) else None


def asked_audio(
    inputs: Mapping[str, Any], setting_defaults: Callable[[str], Mapping[str, Any]]
) -> AudioAsk:
    """What ``inputs`` ask of an audio output, at their top level first, then in their
    settings objects (``setting_defaults(name)``: the defaults of settings object
    ``name``'s fields, which fill in what the input leaves out)."""
    views = [inputs]
    for name in SETTINGS_FIELDS:
        given = inputs.get(name)
        defaults = setting_defaults(name)
        if isinstance(given, Mapping) or defaults:
            views.append({**defaults, **(given if isinstance(given, Mapping) else {})})
    values = [view[name] for view in views for name in FORMAT_FIELDS if name in view]
    media_format, codec, rate = next(
        (found for found in map(audio_format, values) if found[0]), (None, "", None)
    )
    rates = (hertz(view[name]) for view in views for name in SAMPLE_RATE_FIELDS if name in view)
    rate = rate or next((found for found in rates if found), None)
    channels = (_channels(view[name]) for view in views for name in CHANNEL_FIELDS if name in view)
    return AudioAsk(media_format, codec, rate, next((found for found in channels if found), None))


def audio_shape(
    inputs: Mapping[str, Any],
    setting_defaults: Callable[[str], Mapping[str, Any]],
    formats: MediaFormats,
) -> tuple[str, str, int, int]:
    """An audio output's format, codec, sample rate and channels: as its input asks, in a
    format its schema allows."""
    asked = asked_audio(inputs, setting_defaults)
    media_format = formats.fitting(asked.format or formats.declared or "wav")
    codec = asked.codec if media_format == asked.format else ""  # a mu-law WAV's
    # all Opus decodes to 48 kHz
    rate = 48000 if media_format in ("ogg", "opus") else asked.sample_rate or 44100
    return media_format, codec, rate, asked.channels or 1
