"""Synthetic H.264 video with PyAV (whose wheels carry libx264).

A video starts from its input picture (or a drawn one), cropped to the output's aspect
with the caption (prompt, size, seed) along its foot, and zooms in step by step (a new
picture every second), drifting towards a side chosen by the seed, a running clock in
the corner that changes every frame. Same spec, same bytes.
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Callable, Iterator

import av
from av.audio.stream import AudioStream
from PIL import Image, ImageDraw, ImageFont

from emulator.media.audio import audio_frames
from emulator.media.images import caption_panel, render_picture
from emulator.media.padding import encode_within
from emulator.media.spec import MediaSpec

#: x264 constant-rate factors, best first: a later one only if a video exceeds its budget
_QUALITIES = ("28", "36", "44", "51")
_ZOOM = 0.15  # how far the camera moves in over the whole video
#: how long each picture of the camera's move is held (the clock still moves every frame)
_STILL_SECONDS = 1.0
_BLACK, _WHITE, _NEUTRAL = 16, 235, b"\x80"  # video-range luma; chroma of grey


def _cover(picture: Image.Image, width: int, height: int) -> Image.Image:
    """``picture`` cropped to the aspect of width x height, keeping its centre."""
    scale = max(width / picture.width, height / picture.height)
    crop_w, crop_h = width / scale, height / scale
    left, top = (picture.width - crop_w) / 2, (picture.height - crop_h) / 2
    box = (round(left), round(top), round(left + crop_w), round(top + crop_h))
    return picture.crop(box).resize((width, height), Image.Resampling.BILINEAR)


def _still(spec: MediaSpec, base: Image.Image, panel: Image.Image | None, n: int) -> Image.Image:
    """The picture at frame ``n``: ``base`` zoomed in towards the seed's side, the caption
    kept at its foot."""
    focus_x = 0.2 + 0.6 * ((spec.seed * 7919) % 1000) / 1000  # where the camera drifts
    focus_y = 0.2 + 0.6 * ((spec.seed * 104729) % 1000) / 1000
    keep = 1 - _ZOOM * n / max(1, spec.frames - 1)
    crop_w, crop_h = round(spec.width * keep), round(spec.height * keep)
    left = round((spec.width - crop_w) * focus_x)
    top = round((spec.height - crop_h) * focus_y)
    frame = base.crop((left, top, left + crop_w, top + crop_h))
    if panel is not None:  # the caption stays put while the picture moves
        scaled = panel.resize((crop_w, max(1, round(panel.height * keep))))
        frame.paste(scaled, (0, crop_h - scaled.height))
    return frame


class _Clock:
    """The running clock in the top-left corner, written straight into the frame's luma
    plane: a dark box with the time in light figures (its chroma neutral), so that a frame
    between two pictures costs a few dozen row copies instead of a whole new frame."""

    def __init__(self, spec: MediaSpec) -> None:
        self.size = max(10, min(48, spec.height // 20))
        self.font = ImageFont.load_default(size=self.size)
        left, _, right, bottom = (math.ceil(edge) for edge in self.font.getbbox("00.00s"))
        margin = max(2, self.size // 4)
        self.width = min(spec.width, (right - left + 2 * margin + 1) // 2 * 2)
        self.height = min(spec.height, (bottom + 2 * margin + 1) // 2 * 2)
        self.margin, self.at = margin, 2 * (margin // 2)  # even: chroma is half the size

    def glyphs(self, seconds: float) -> bytes:
        box = Image.new("L", (self.width, self.height), _BLACK)
        ImageDraw.Draw(box).text(
            (self.margin, self.margin), f"{seconds:05.2f}s", fill=_WHITE, font=self.font
        )
        return box.tobytes()

    def clear_chroma(self, planes: list[memoryview], strides: list[int]) -> None:
        half = self.at // 2
        for plane, stride in zip(planes[1:], strides[1:], strict=True):
            for row in range(half, half + (self.height + 1) // 2):
                start = row * stride + half
                plane[start : start + (self.width + 1) // 2] = _NEUTRAL * ((self.width + 1) // 2)

    def stamp(self, luma: memoryview, stride: int, glyphs: bytes) -> None:
        for row in range(self.height):
            start = (self.at + row) * stride + self.at
            luma[start : start + self.width] = glyphs[row * self.width : (row + 1) * self.width]


def _yuv(picture: Image.Image, spec: MediaSpec) -> av.VideoFrame:
    # swscale scales and converts to YUV in one pass, far faster than Pillow.
    return av.VideoFrame.from_image(picture).reformat(
        width=spec.width, height=spec.height, format="yuv420p", interpolation="BILINEAR"
    )


def _frames(spec: MediaSpec, base: Image.Image) -> Iterator[av.VideoFrame]:
    """The frames, one at a time. The picture moves on every ``_STILL_SECONDS`` (converting
    a full picture for every frame cost most of a render); the clock moves every frame,
    written into the same frame in place (the encoder copies a frame when it takes it)."""
    panel = None if spec.blank else caption_panel(spec)
    clock = _Clock(spec)
    per_still = max(1, round(spec.fps * _STILL_SECONDS))
    for n in range(spec.frames):
        if n % per_still == 0:
            frame = _yuv(_still(spec, base, panel, n), spec)
            planes = [memoryview(plane) for plane in frame.planes]
            strides = [plane.line_size for plane in frame.planes]
            clock.clear_chroma(planes, strides)
        clock.stamp(planes[0], strides[0], clock.glyphs(n / spec.fps))
        frame.pts = n  # the same frame again: its time is set each time
        yield frame


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
