"""What a synthetic video's file says of itself as FFmpeg's probe reads it (its pixel
format, profile, level, time base and sound track), known from its spec without rendering
it: as the encoders and muxers of video.py and codecs.py write them."""

from __future__ import annotations

from typing import NamedTuple

from emulator.media.spec import SOUND_CODECS, MediaSpec, sound_rate

#: codec → the pixel format FFmpeg's decoder reads it in (a GIF's 3-3-2 palette as BGRA)
_PIXELS = {"h264": "yuv420p", "h265": "yuv420p", "vp9": "yuv420p", "prores": "yuv422p10le"}
_PIXELS |= {"mpeg4": "yuv420p", "gif": "bgra"}
#: codec → its profile, as FFmpeg names it (a GIF has none)
_PROFILES = {"h264": "Constrained Baseline", "h265": "Main", "vp9": "Profile 0"}
_PROFILES |= {"prores": "Proxy", "mpeg4": "Simple Profile", "gif": ""}
#: a transparent cut-out's codec → its profile and pixel format: ProRes 4444 (a VP9 alpha
#: plane is beside the stream FFmpeg's own decoder reads: yuv420p, as without one)
_ALPHA = {"prores": ("4444", "yuva444p12le")}
#: H.264's levels (ITU-T H.264 table A-1): (level, most macroblocks a frame, most a
#: second); x264 writes the lowest that holds the video
_H264_LEVELS = (
    (1.0, 99, 1485), (1.1, 396, 3000), (1.2, 396, 6000), (1.3, 396, 11880),
    (2.0, 396, 11880), (2.1, 792, 19800), (2.2, 1620, 20250), (3.0, 1620, 40500),
    (3.1, 3600, 108000), (3.2, 5120, 216000), (4.0, 8192, 245760), (4.1, 8192, 245760),
    (4.2, 8704, 522240), (5.0, 22080, 589824), (5.1, 36864, 983040), (5.2, 36864, 2073600),
    (6.0, 139264, 4177920), (6.1, 139264, 8355840), (6.2, 139264, 16711680),
)  # fmt: skip
#: H.265's (ITU-T H.265 table A.8): (level, most luma samples a frame, most a second);
#: x265 writes the lowest that holds the video
_H265_LEVELS = (
    (1.0, 36864, 552960), (2.0, 122880, 3686400), (2.1, 245760, 7372800),
    (3.0, 552960, 16588800), (3.1, 983040, 33177600), (4.0, 2228224, 66846720),
    (4.1, 2228224, 133693440), (5.0, 8912896, 267386880), (5.1, 8912896, 534773760),
    (5.2, 8912896, 1069547520), (6.0, 35651584, 1069547520), (6.1, 35651584, 2139095040),
    (6.2, 35651584, 4278190080),
)  # fmt: skip
#: the time bases of the containers that do not take the frame rate's: Matroska's
#: milliseconds, a GIF's hundredths
_TIME_BASES = {"mkv": 1000, "webm": 1000, "gif": 100}
#: an MP4's or QuickTime's time scale is the frame rate doubled until at least this
_MOV_TIMESCALE = 10000


class VideoFacts(NamedTuple):
    pixel_format: str
    profile: str
    level: float  # 4.1, as fal writes it (0: the codec has none: VP9, ProRes, GIF)
    time_base: str  # "1/12288"
    sound_codec: str  # the sound track's, as FFmpeg names it ("": none)
    sound_rate: int  # its sample rate (0: none)


def video_facts(spec: MediaSpec) -> VideoFacts:
    """The facts of the video file ``spec`` renders to."""
    codec = spec.video_codec
    profile, pixels = _PROFILES[codec], _PIXELS[codec]
    if spec.clear and codec in _ALPHA:
        profile, pixels = _ALPHA[codec]
    encoder = SOUND_CODECS[spec.format] if spec.with_audio else None
    sound = (encoder.removeprefix("lib"), sound_rate(spec, encoder)) if encoder else ("", 0)
    return VideoFacts(pixels, profile, _level(spec), _time_base(spec), *sound)


def _level(spec: MediaSpec) -> float:
    width, height, fps = spec.width, spec.height, spec.fps
    if spec.video_codec == "h264":  # in macroblocks; neither side past √(8 × a frame's)
        across, down = -(-width // 16), -(-height // 16)
        return _lowest(_H264_LEVELS, across * down, fps, max(across, down))
    if spec.video_codec == "h265":
        return _lowest(_H265_LEVELS, width * height, fps, max(width, height))
    return 1.0 if spec.video_codec == "mpeg4" else 0.0  # FFmpeg's MPEG-4 encoder's: 1


def _lowest(levels: tuple[tuple[float, int, int], ...], frame: int, fps: int, side: int) -> float:
    """The lowest of ``levels`` that holds frames of ``frame`` units at ``fps``, with no
    side of more than ``side`` units past √(8 × its most a frame)."""
    for level, most, per_second in levels:
        if frame <= most and frame * fps <= per_second and side * side <= 8 * most:
            return level
    return levels[-1][0]


def _time_base(spec: MediaSpec) -> str:
    scale = _TIME_BASES.get(spec.format)
    if scale is None:
        scale = max(spec.fps, 1)
        while scale < _MOV_TIMESCALE:
            scale *= 2
    return f"1/{scale}"
