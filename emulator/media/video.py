"""Synthetic video with PyAV (whose wheels carry libx264 and the other codecs): H.264 in
MP4, QuickTime or Matroska, made fast as below, or any other codec (codecs.py).

A video starts from its input picture (or a drawn one), cropped to the output's aspect
with the caption (prompt, size, seed) along its foot, and zooms in step by step (a new
picture every second), drifting towards a side chosen by the seed, a running clock in
the corner that changes every frame. Same spec, same bytes.

x264 encodes only the pictures, each an IDR (a keyframe: every second is a seek point);
every frame between two pictures is a P picture written by ``h264``: all of it skipped (a
copy of the frame before) but the few macroblocks of the clock that changed, sent raw.
(x264 analyses every macroblock of every frame it is given, changed or not: given every
frame, that was most of a render.)
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Iterator
from fractions import Fraction

import av
from PIL import Image, ImageChops, ImageDraw, ImageFont

from emulator.media.audio import sound_stream, sound_track
from emulator.media.codecs import BIT_EXACT, CONTAINERS, encodings
from emulator.media.h264 import StreamFormat, p_frame
from emulator.media.images import (
    SourceLoader,
    caption_panel,
    on_backdrop,
    render_picture,
    start_picture,
    subject,
)
from emulator.media.padding import encode_within
from emulator.media.spec import FORMATS, SOUND_CODECS, MediaSpec

#: x264 constant-rate factors, best first: a later one only if a video exceeds its budget
_QUALITIES = ("28", "36", "44", "51")
_ZOOM = 0.15  # how far the camera moves in over the whole video
#: how long each picture of the camera's move is held (the clock still moves every frame)
_STILL_SECONDS = 1.0
_BLACK, _WHITE, _NEUTRAL = 16, 235, b"\x80"  # video-range luma; chroma of grey
MB = tuple[int, int]  # a macroblock's column and row


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
    """The running clock in the top-left corner: a dark box with the time in light figures
    (its chroma neutral), a whole number of macroblocks so that a frame can replace it
    alone, and no larger than the picture."""

    def __init__(self, spec: MediaSpec) -> None:
        self.size = max(10, min(48, spec.height // 20))
        self.font = ImageFont.load_default(size=self.size)
        left, _, right, bottom = (math.ceil(edge) for edge in self.font.getbbox("00.00s"))
        self.margin = max(2, self.size // 4)
        self.width = _macroblocks(min(right - left + 2 * self.margin, spec.width)) * 16
        self.height = _macroblocks(min(bottom + 2 * self.margin, spec.height)) * 16

    def glyphs(self, seconds: float) -> Image.Image:
        box = Image.new("L", (self.width, self.height), _BLACK)
        ImageDraw.Draw(box).text(
            (self.margin, self.margin), f"{seconds:05.2f}s", fill=_WHITE, font=self.font
        )
        return box

    def stamp(self, frame: av.VideoFrame, glyphs: Image.Image) -> None:
        """``glyphs`` written into ``frame`` in place: its luma, and neutral chroma."""
        luma = memoryview(frame.planes[0])
        width, height = min(self.width, frame.width), min(self.height, frame.height)
        rows = glyphs.crop((0, 0, width, height)).tobytes()
        for row in range(height):
            start = row * frame.planes[0].line_size
            luma[start : start + width] = rows[row * width : (row + 1) * width]
        for plane in frame.planes[1:]:
            chroma = memoryview(plane)
            for row in range((height + 1) // 2):
                start = row * plane.line_size
                chroma[start : start + (width + 1) // 2] = _NEUTRAL * ((width + 1) // 2)

    def changes(self, before: Image.Image | None, after: Image.Image) -> dict[MB, bytes]:
        """The macroblocks of ``after`` that differ from ``before`` (all of them if None),
        as I_PCM samples."""
        changed = (0, 0, self.width, self.height)
        if before is not None:
            changed = ImageChops.difference(before, after).getbbox() or (0, 0, 0, 0)
        left, top = changed[0] // 16, changed[1] // 16
        right, bottom = _macroblocks(changed[2]), _macroblocks(changed[3])
        luma, width = after.tobytes(), self.width
        return {
            (column, row): b"".join(
                luma[start : start + 16]
                for start in range(16 * (row * width + column), 16 * (row + 1) * width, width)
            )
            + _NEUTRAL * 128
            for row in range(top, bottom)
            for column in range(left, right)
        }


def _macroblocks(pixels: int) -> int:
    return (pixels + 15) // 16


def _yuv(picture: Image.Image, spec: MediaSpec) -> av.VideoFrame:
    # swscale scales and converts to YUV in one pass, far faster than Pillow.
    return av.VideoFrame.from_image(picture).reformat(
        width=spec.width, height=spec.height, format="yuv420p", interpolation="BILINEAR"
    )


def _pictures(
    spec: MediaSpec, base: Image.Image, clock: _Clock, per_still: int
) -> Iterator[av.VideoFrame]:
    """The frames x264 encodes, each an IDR: every new picture of the camera's move, with
    the clock of its time."""
    panel = _panel(spec)
    for n in range(0, spec.frames, per_still):
        frame = _yuv(_still(spec, base, panel, n), spec)
        clock.stamp(frame, clock.glyphs(n / spec.fps))
        frame.pts, frame.pict_type = n, av.video.frame.PictureType.I
        yield frame


def _packets(
    spec: MediaSpec,
    stream: av.VideoStream,
    pictures: list[av.Packet],
    clock: _Clock,
    steps: tuple[int, int],
) -> Iterator[av.Packet]:
    """Every frame's packet in order: x264's for a new picture, else a P picture that
    copies the frame before it but for the clock. ``steps``: how many frames each picture
    and each time on the clock lasts."""
    per_still, tick = steps
    form = StreamFormat.from_extradata(stream.codec_context.extradata or b"")
    shown: Image.Image | None = None  # the clock as the frame before shows it, if exactly
    for n in range(spec.frames):
        if n % per_still == 0:
            yield pictures[n // per_still]
            shown = None  # x264's clock is lossy: the next frame writes it afresh
            continue
        glyphs = clock.glyphs(n // tick * tick / spec.fps)
        packet = av.Packet(p_frame(form, n % per_still, clock.changes(shown, glyphs)))
        packet.stream, packet.time_base = stream, Fraction(1, spec.fps)
        packet.pts = packet.dts = n
        packet.duration, shown = 1, glyphs
        yield packet


def _frames_per_picture(spec: MediaSpec) -> int:
    return max(1, round(spec.fps * _STILL_SECONDS))


def _encode(spec: MediaSpec, base: Image.Image, crf: str, tick: int) -> bytes:
    """The H.264 video at x264's ``crf``, its clock moving every ``tick`` frames."""
    out = io.BytesIO()
    muxer = CONTAINERS[spec.format]
    with av.open(out, "w", format=muxer, container_options=BIT_EXACT) as container:
        stream = container.add_stream("libx264", rate=spec.fps)
        stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
        # Fixed settings: x264 is deterministic unless told otherwise, threads or not.
        # forced-idr: a picture marked I starts afresh (the frames after it copy it).
        stream.options = {"preset": "ultrafast", "crf": crf, "threads": "2", "forced-idr": "1"}
        sound = sound_stream(container, spec, SOUND_CODECS[spec.format])
        clock, per_still = _Clock(spec), _frames_per_picture(spec)
        pictures = [
            packet
            for frame in [*_pictures(spec, base, clock, per_still), None]
            for packet in stream.encode(frame)
        ]
        for packet in _packets(spec, stream, pictures, clock, (per_still, tick)):
            container.mux(packet)
        if sound is not None:
            sound_track(container, sound, spec)
    return out.getvalue()


def _panel(spec: MediaSpec) -> Image.Image | None:
    """The caption along the foot, but for a blanked video and a mask (data, not a view)."""
    return None if spec.blank or spec.matte == "mask" else caption_panel(spec)


def _every_frame(spec: MediaSpec, base: Image.Image) -> Iterator[av.VideoFrame]:
    """Every frame whole, for the codecs that are given all of them (codecs.py): each
    picture of the camera's move held for its second, the clock moving every frame; a
    cut-out's with an alpha plane, transparent around its subject."""
    clock, per_still, panel = _Clock(spec), _frames_per_picture(spec), _panel(spec)
    alpha = _alpha(spec, clock, panel) if spec.clear else None
    picture = None
    for n in range(spec.frames):
        if n % per_still == 0:
            picture = _yuv(_still(spec, base, panel, n), spec)
        assert picture is not None  # made at frame 0
        frame = av.VideoFrame(spec.width, spec.height, "yuv420p" if alpha is None else "yuva420p")
        for copy, plane in zip(frame.planes, picture.planes, strict=False):
            memoryview(copy)[:] = memoryview(plane)  # the encoder may keep the frame a while
        if alpha is not None:
            frame.planes[3].update(alpha.ljust(frame.planes[3].buffer_size, b"\xff"))
        clock.stamp(frame, clock.glyphs(n / spec.fps))
        frame.pts = n
        yield frame


def _alpha(spec: MediaSpec, clock: _Clock, panel: Image.Image | None) -> bytes:
    """A cut-out's alpha plane, its rows as wide as a frame's: opaque on its subject, its
    caption and its clock, transparent elsewhere (as a background remover's pictures)."""
    mask = subject((spec.width, spec.height))
    if panel is not None:
        mask.paste(255, (0, spec.height - panel.height, spec.width, spec.height))
    mask.paste(255, (0, 0, clock.width, clock.height))
    line = av.VideoFrame(spec.width, spec.height, "yuva420p").planes[3].line_size
    rows = mask.tobytes()
    return b"".join(
        rows[y * spec.width : (y + 1) * spec.width].ljust(line, b"\xff") for y in range(spec.height)
    )


def render_video(spec: MediaSpec, load_source: SourceLoader) -> bytes:
    """The bytes of video ``spec``; ``load_source`` gives the bytes of its start picture."""
    if spec.matte == "mask":  # where the subject is, white on black, zooming as a view would
        base = subject((spec.width, spec.height)).convert("RGB")
    else:
        base = start_picture(spec, load_source) or render_picture(spec, caption=False)
    if spec.backdrop and spec.matte == "cutout":  # the subject over the colour asked
        base = on_backdrop(base, spec.backdrop, subject(base.size))
    family = FORMATS[spec.format][2]
    if spec.video_codec != "h264":
        attempts = encodings(spec, functools.partial(_every_frame, spec, base))
        return encode_within(family, spec.byte_size, attempts)
    # A small video's budget may not hold a clock that moves every frame (its raw samples):
    # then the clock moves with each picture, rather than the picture losing quality.
    seldom = _frames_per_picture(spec)
    attempts = [functools.partial(_encode, spec, base, _QUALITIES[0], 1)]
    attempts += [functools.partial(_encode, spec, base, crf, seldom) for crf in _QUALITIES]
    return encode_within(family, spec.byte_size, attempts)
