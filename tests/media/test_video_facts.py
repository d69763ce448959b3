"""A video's facts, known from its spec, are what FFmpeg's probe reads of its file."""

import io
from fractions import Fraction

import av
import pytest

from emulator.media import MediaSpec
from emulator.media.video import render_video
from emulator.media.video_facts import VideoFacts, video_facts


def _spec(media_format: str, codec: str = "", size: tuple[int, int] = (64, 48), fps: int = 12,
          **more: object) -> MediaSpec:  # fmt: skip
    width, height = size
    return MediaSpec(
        "video", width, height, media_format, "m", "p", 1, duration=1.0, fps=fps, codec=codec,
        **more,  # type: ignore[arg-type]
    )  # fmt: skip


def _probed(spec: MediaSpec) -> VideoFacts:
    """What FFmpeg reads of the rendered file, a level as fal writes it (4.1); the level
    the spec gives where PyAV reads none (13, the lowest of the range, has no `level`)."""
    with av.open(io.BytesIO(render_video(spec, lambda _: None))) as container:
        video = container.streams.video[0].codec_context
        base = container.streams.video[0].time_base
        audio = container.streams.audio[0] if container.streams.audio else None
        divisor = {"h264": 10, "hevc": 30}.get(video.name, 1)
        read = getattr(video, "level", None)
        return VideoFacts(
            video.pix_fmt or "",
            video.profile or "",
            video_facts(spec).level if read is None else max(read, 0) / divisor,
            str(Fraction(base)) if base else "",
            audio.codec_context.name if audio else "",
            audio.sample_rate if audio else 0,
        )


SOUND = {"with_audio": True, "sample_rate": 44100}


@pytest.mark.parametrize(
    "spec",
    [
        _spec("mp4", **SOUND), _spec("mov", **SOUND), _spec("mkv", **SOUND),
        _spec("webm", **SOUND), _spec("mkv", "vp9"), _spec("mp4", "h265", **SOUND),
        _spec("mkv", "h265"), _spec("mov", "prores", **SOUND), _spec("mkv", "mpeg4"),
        _spec("gif"),
        # a cut-out: ProRes 4444 with its alpha plane; VP9's is beside what FFmpeg reads
        _spec("mov", "prores", matte="cutout"), _spec("webm", matte="cutout"),
        # levels and MP4 time scales
        _spec("mp4", size=(320, 240)), _spec("mp4", size=(352, 288), fps=30),
        _spec("mp4", size=(640, 360), fps=24), _spec("mp4", size=(1280, 720), fps=60),
        _spec("mp4", size=(160, 96), fps=25), _spec("mp4", size=(1024, 128), fps=24),
        _spec("mp4", "h265", size=(320, 240)), _spec("mp4", "h265", size=(640, 360), fps=24),
    ],
    ids=lambda spec: f"{spec.format}-{spec.video_codec}-{spec.width}x{spec.height}-{spec.fps}",
)  # fmt: skip
def test_a_videos_facts_are_what_ffmpeg_reads_of_its_file(spec: MediaSpec) -> None:
    assert video_facts(spec) == _probed(spec)


@pytest.mark.parametrize(
    ("codec", "size", "fps", "level"),
    [
        # as x264 and x265 wrote them (probed by hand on 2026-12-03: too slow for a fast test)
        ("h264", (1280, 720), 24, 3.1), ("h264", (1920, 1080), 30, 4.0),
        ("h264", (1920, 1080), 60, 4.2), ("h264", (2560, 1440), 30, 5.0),
        ("h264", (3840, 2160), 24, 5.1), ("h264", (1024, 1024), 24, 3.2),
        ("h264", (4096, 256), 24, 4.0), ("h265", (1280, 720), 24, 3.1),
        ("h265", (1920, 1080), 30, 4.0), ("h265", (1920, 1080), 60, 4.1),
        ("h265", (4096, 256), 24, 4.0),
    ],
)  # fmt: skip
def test_a_large_videos_level_is_the_lowest_that_holds_it(
    codec: str, size: tuple[int, int], fps: int, level: float
) -> None:
    assert video_facts(_spec("mp4", codec, size, fps)).level == level
