"""Videos in the codecs other than H.264 (VP9, H.265, ProRes, MPEG-4 Part 2) and as GIFs:
every frame through the codec, best quality first.

H.264 is made fastest (video.py: x264 encodes only the new pictures, the frames between
are written by hand); no such shortcut is made for the rest, which inputs ask for far more
seldom, so a first download of one takes seconds where H.264's takes a fraction of one
(docs/performance.md). Settings are fixed and the muxers bit-exact: same spec, same bytes.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Iterator

import av
from av.video.stream import VideoStream

from emulator.media.audio import sound_stream, sound_track
from emulator.media.spec import ALPHA_CODECS, SOUND_CODECS, MediaSpec

#: a video format → the FFmpeg muxer that writes it
CONTAINERS = {"mp4": "mp4", "mov": "mov", "mkv": "matroska", "webm": "webm", "gif": "gif"}
#: no random ids (Matroska's segment UID) nor encoder tags: same spec, same bytes
BIT_EXACT = {"fflags": "+bitexact"}

#: codec → (FFmpeg encoder, pixel format, options, the quality options tried in turn)
_ENCODERS: dict[str, tuple[str, str, dict[str, str], tuple[dict[str, str], ...]]] = {
    "vp9": (
        "libvpx-vp9",
        "yuv420p",
        {"deadline": "realtime", "cpu-used": "8", "row-mt": "1", "threads": "2", "b": "0"},
        ({"crf": "36"}, {"crf": "48"}, {"crf": "63"}),
    ),
    "h265": (
        "libx265",
        "yuv420p",
        # one frame at a time: x265's frame threads would make the bytes vary by timing
        {"preset": "ultrafast", "x265-params": "log-level=error:frame-threads=1"},
        ({"crf": "28"}, {"crf": "40"}, {"crf": "51"}),
    ),
    # ProRes 422 Proxy, the lightest, whatever profile was asked (but 4444 for an alpha
    # plane); FFmpeg's faster encoder
    "prores": ("prores_aw", "yuv422p10le", {"profile": "0"}, ({},)),
    "mpeg4": ("mpeg4", "yuv420p", {}, ({"q": "8"}, {"q": "16"}, {"q": "31"})),
    # 256 colours at most, 3-3-2 bits of each: FFmpeg's GIF encoder takes no fuller palette
    "gif": ("gif", "bgr8", {}, ({},)),
}

#: options a codec takes for an alpha plane (ProRes's 4444 profile: 4:4:4, with alpha)
_ALPHA_OPTIONS = {"prores": {"profile": "4"}}


def encodings(
    spec: MediaSpec, frames: Callable[[], Iterator[av.VideoFrame]]
) -> list[Callable[[], bytes]]:
    """The encodings of ``spec`` to try, best quality first: each the ``frames`` (YUV
    4:2:0, the clock in them, a cut-out's with alpha) through its codec, and its sound
    track if it has one."""
    encoder, pixels, options, qualities = _ENCODERS[spec.video_codec]
    if spec.clear and spec.video_codec in ALPHA_CODECS:
        pixels = ALPHA_CODECS[spec.video_codec]
        options = options | _ALPHA_OPTIONS.get(spec.video_codec, {})

    def encode(quality: dict[str, str]) -> bytes:
        out = io.BytesIO()
        muxer = CONTAINERS[spec.format]
        with av.open(out, "w", format=muxer, container_options=BIT_EXACT) as container:
            stream = container.add_stream(encoder, rate=spec.fps)
            assert isinstance(stream, VideoStream)  # a video codec makes a video stream
            stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, pixels
            stream.options = {**options, **quality}
            sound = sound_stream(container, spec, SOUND_CODECS[spec.format])
            for frame in frames():
                if frame.format.name != pixels:
                    frame = frame.reformat(format=pixels)
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode(None):
                container.mux(packet)
            if sound is not None:
                sound_track(container, sound, spec)
        return out.getvalue()

    return [functools.partial(encode, quality) for quality in qualities]
