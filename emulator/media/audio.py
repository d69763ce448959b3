"""Synthetic audio with PyAV: exact duration and sample rate, in the format asked for.

The sound is a soft tone whose pitch comes from the spec (so a different seed sounds
different), broken by a seeded pattern of short silences, about the rhythm of speech: a
developer hears that something was made, and a player or decoder sees a real file.
"""

from __future__ import annotations

import hashlib
import io
import math
from array import array
from collections.abc import Iterator

import av
from av.audio.stream import AudioStream

from emulator.media.spec import SOUND_TRACK_BITRATE, MediaSpec, sound_rate

#: format → (PyAV container format, codec, sample format the codec takes)
AUDIO_CODECS = {
    "wav": ("wav", "pcm_s16le", "s16"),
    "mp3": ("mp3", "libmp3lame", "s16p"),
    "flac": ("flac", "flac", "s16"),
    "ogg": ("ogg", "libopus", "s16"),
    "opus": ("ogg", "libopus", "s16"),
    "aac": ("adts", "aac", "fltp"),
    "m4a": ("ipod", "aac", "fltp"),
}
_AMPLITUDE = 0.2


def _pattern(spec: MediaSpec) -> bytes:
    return hashlib.sha256(spec.digest("sound").encode()).digest()


def _samples(spec: MediaSpec, rate: int) -> Iterator[array]:
    """Mono 16-bit samples, a quarter-second "word" at a time (tone, or silence where the
    pattern's bit is 0), exactly ``duration * rate`` in all."""
    pattern = _pattern(spec)
    pitch = 180 + pattern[0] * 2  # Hz
    total = round(spec.duration * rate)
    word = max(1, rate // 4)
    tone = array(
        "h",
        (int(_AMPLITUDE * 32767 * math.sin(2 * math.pi * pitch * n / rate)) for n in range(word)),
    )
    silence = array("h", bytes(2 * word))
    for index, start in enumerate(range(0, total, word)):
        sounding = pattern[index % 32] & 1 and not spec.blank
        yield (tone if sounding else silence)[: total - start]


def audio_frames(
    spec: MediaSpec, rate: int, sample_format: str, layout: str = "mono"
) -> Iterator[av.AudioFrame]:
    """The sound of ``spec`` as PyAV frames in ``sample_format`` and ``layout`` (the same
    sound in each channel; used for sound tracks too)."""
    resampler = av.AudioResampler(format=sample_format, layout=layout, rate=rate)
    position = 0
    for chunk in _samples(spec, rate):
        frame = av.AudioFrame(format="s16", layout="mono", samples=len(chunk))
        frame.planes[0].update(chunk.tobytes())
        frame.sample_rate = rate
        frame.pts = position
        position += len(chunk)
        yield from resampler.resample(frame)
    yield from resampler.resample(None)


def render_audio(spec: MediaSpec) -> bytes:
    """The encoded bytes of ``spec``: same spec, same bytes."""
    container_format, codec, sample_format = AUDIO_CODECS[spec.format]
    codec = spec.codec or codec  # a WAV of mu-law or A-law samples (which take 16-bit)
    rate = sound_rate(spec, codec)
    layout = "stereo" if spec.channels == 2 else "mono"
    out = io.BytesIO()
    # bitexact: no random stream serials (Ogg) or encoder tags, so same spec, same bytes
    options = {"fflags": "+bitexact"}
    with av.open(out, "w", format=container_format, container_options=options) as container:
        stream = container.add_stream(codec, rate=rate, layout=layout)
        assert isinstance(stream, AudioStream)  # an audio codec makes an audio stream
        stream.format = sample_format
        for frame in audio_frames(spec, rate, sample_format, layout):
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


#: a sound track's codec → the sample format it takes
_TRACK_SAMPLES = {"aac": "fltp", "libopus": "s16"}


def sound_stream(
    container: av.container.OutputContainer, spec: MediaSpec, codec: str | None
) -> AudioStream | None:
    """A video's sound track's stream in ``codec``, added before the video is muxed (None:
    the video has no sound, or its format takes none)."""
    if not spec.with_audio or codec is None:
        return None
    stream = container.add_stream(codec, rate=sound_rate(spec, codec), layout="mono")
    assert isinstance(stream, AudioStream)  # an audio codec makes an audio stream
    stream.bit_rate = SOUND_TRACK_BITRATE
    return stream


def sound_track(
    container: av.container.OutputContainer, stream: AudioStream, spec: MediaSpec
) -> None:
    """The sound track, as long as the video (after its frames: the muxer interleaves)."""
    for frame in audio_frames(spec, stream.rate, _TRACK_SAMPLES[stream.codec_context.name]):
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
