"""Synthetic H.264 video with PyAV (whose wheels carry libx264).

A video starts from its input picture (or a drawn one), cropped to the output's aspect
with the caption (prompt, size, seed) along its foot, and slowly zooms in, drifting towards
a side chosen by the seed, a running clock in the corner. Same spec, same bytes.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Iterator

import av
from av.audio.stream import AudioStream
from PIL import Image, ImageDraw

from emulator.media.audio import audio_frames
from emulator.media.images import caption_panel, render_picture
from emulator.media.padding import encode_within
from emulator.media.spec import MediaSpec

__all__ = ["render_video"]

#: x264 constant-rate factors, best first: a later one only if a video exceeds its budget
_QUALITIES = ("28", "36", "44", "51")
_ZOOM = 0.15  # how far the camera moves in over the whole video


def _cover(picture: Image.Image, width: int, height: int) -> Image.Image:
    """``picture`` cropped to the aspect of width x height, keeping its centre."""
    scale = max(width / picture.width, height / picture.height)
    crop_w, crop_h = width / scale, height / scale
    left, top = (picture.width - crop_w) / 2, (picture.height - crop_h) / 2
    box = (round(left), round(top), round(left + crop_w), round(top + crop_h))
    return picture.crop(box).resize((width, height), Image.Resampling.BILINEAR)


def _frames(spec: MediaSpec, base: Image.Image) -> Iterator[av.VideoFrame]:
    """The frames, one at a time (a list of them would hold gigabytes of pixels)."""
    focus_x = 0.2 + 0.6 * ((spec.seed * 7919) % 1000) / 1000  # where the camera drifts
    focus_y = 0.2 + 0.6 * ((spec.seed * 104729) % 1000) / 1000
    panel = None if spec.blank else caption_panel(spec)
    for n in range(spec.frames):
        keep = 1 - _ZOOM * n / max(1, spec.frames - 1)
        crop_w, crop_h = round(spec.width * keep), round(spec.height * keep)
        left = round((spec.width - crop_w) * focus_x)
        top = round((spec.height - crop_h) * focus_y)
        frame = base.crop((left, top, left + crop_w, top + crop_h))
        if panel is not None:  # the caption stays put while the picture moves
            scaled = panel.resize((crop_w, max(1, round(panel.height * keep))))
            frame.paste(scaled, (0, crop_h - scaled.height))
        ImageDraw.Draw(frame).text((6, 6), f"{n / spec.fps:05.2f}s", fill=(255, 255, 255))
        # swscale scales and converts to YUV in one pass, far faster than Pillow.
        yield av.VideoFrame.from_image(frame).reformat(
            width=spec.width, height=spec.height, format="yuv420p", interpolation="BILINEAR"
        )


def _encode(spec: MediaSpec, base: Image.Image, crf: str) -> bytes:
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=spec.fps)
        stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
        # Fixed settings: x264 is deterministic unless told otherwise, threads or not.
        stream.options = {"preset": "ultrafast", "crf": crf, "threads": "2"}
        sound = _sound_stream(container, spec) if spec.with_audio else None
        for frame in _frames(spec, base):
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
        if sound is not None:
            _sound_track(container, sound, spec)
    return out.getvalue()


def _sound_stream(container: av.container.OutputContainer, spec: MediaSpec) -> AudioStream:
    stream = container.add_stream("aac", rate=spec.sample_rate or 44100, layout="mono")
    stream.bit_rate = 64000
    return stream


def _sound_track(
    container: av.container.OutputContainer, stream: AudioStream, spec: MediaSpec
) -> None:
    """The AAC track, as long as the video (after its frames: the muxer interleaves)."""
    for frame in audio_frames(spec, stream.rate, "fltp"):
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)


def render_video(spec: MediaSpec, load_source: Callable[[str], bytes | None]) -> bytes:
    """The MP4 bytes of ``spec``; ``load_source`` gives the bytes of its start picture."""
    source = load_source(spec.source) if spec.source and not spec.blank else None
    if source is None:
        base = render_picture(spec, caption=False)
    else:
        base = _cover(Image.open(io.BytesIO(source)).convert("RGB"), spec.width, spec.height)
    attempts = [functools.partial(_encode, spec, base, crf) for crf in _QUALITIES]
    return encode_within("MP4", spec.byte_size, attempts)
