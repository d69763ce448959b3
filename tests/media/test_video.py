import io
import itertools

import av
import pytest
from PIL import Image

from emulator.media import MediaSpec
from emulator.media.video import _Clock, render_video


def decoded(data: bytes) -> tuple[av.container.InputContainer, list[av.VideoFrame]]:
    """The container and every frame, decoded by FFmpeg with its strictest error checks:
    a malformed slice raises instead of being concealed."""
    container = av.open(io.BytesIO(data))
    stream = container.streams.video[0]
    stream.codec_context.options = {"err_detect": "explode+bitstream+buffer+careful"}
    return container, list(container.decode(stream))


def facts(data: bytes) -> tuple:
    container, frames = decoded(data)
    stream = container.streams.video[0]
    return (
        stream.codec_context.name,
        stream.width,
        stream.height,
        len(frames),
        container.duration / 1e6,
        stream.average_rate,
    )


def luma(frame: av.VideoFrame, box: tuple[int, int, int, int]) -> bytes:
    """The decoded luma samples of ``box`` (left, top, right, bottom), row by row."""
    plane, (left, top, right, bottom) = frame.planes[0], box
    rows = bytes(plane)
    return b"".join(
        rows[row * plane.line_size + left : row * plane.line_size + right]
        for row in range(top, bottom)
    )


def test_exact_size_length_and_rate_deterministically() -> None:
    spec = MediaSpec("video", 320, 240, "mp4", "acme/v", "waves", 3, duration=2, fps=12)
    data = render_video(spec, lambda _: None)
    assert facts(data) == ("h264", 320, 240, 24, 2.0, 12)
    assert len(data) == spec.byte_size
    assert render_video(spec, lambda _: None) == data


def test_frames_come_from_the_source_picture() -> None:
    red = io.BytesIO()
    Image.new("RGB", (100, 100), (255, 0, 0)).save(red, "PNG")
    spec = MediaSpec("video", 160, 96, "mp4", "acme/v", "", 1, duration=1, fps=4, source="red")
    _, frames = decoded(render_video(spec, lambda key: red.getvalue()))
    for frame in frames:  # the first (x264's) and the ones written between pictures
        middle = frame.to_image().getpixel((80, 30))
        assert middle[0] > 200 and middle[1] < 60 and middle[2] < 60


def test_the_clock_moves_every_frame_and_the_picture_moves_too() -> None:
    spec = MediaSpec("video", 320, 240, "mp4", "acme/v", "waves", 3, duration=2, fps=12)
    frames = [f.to_image() for f in decoded(render_video(spec, lambda _: None))[1]]
    corner = (0, 0, 60, 20)  # where the clock is
    clocks = [frame.crop(corner).tobytes() for frame in frames]
    assert all(a != b for a, b in itertools.pairwise(clocks))
    middle = (100, 60, 220, 160)  # the picture, away from the clock and the caption
    assert frames[0].crop(middle).tobytes() != frames[-1].crop(middle).tobytes()


def test_between_pictures_only_the_clock_changes_and_it_shows_the_time_exactly() -> None:
    spec = MediaSpec("video", 640, 360, "mp4", "acme/v", "waves", 5, duration=2, fps=8)
    _, frames = decoded(render_video(spec, lambda _: None))
    clock = _Clock(spec)
    box = (0, 0, clock.width, clock.height)
    beside = (clock.width, 0, spec.width, clock.height)
    below = (0, clock.height, spec.width, spec.height)
    for n in (1, 2, 7, 9, 15):  # not a multiple of 8: between two pictures
        assert luma(frames[n], box) == clock.glyphs(n / spec.fps).tobytes()
        for rest in (beside, below):
            assert luma(frames[n], rest) == luma(frames[n - 1], rest)
    assert luma(frames[8], below) != luma(frames[7], below)  # a new picture each second


def test_every_second_starts_with_a_keyframe() -> None:
    spec = MediaSpec("video", 320, 240, "mp4", "acme/v", "waves", 3, duration=3, fps=10)
    container = av.open(io.BytesIO(render_video(spec, lambda _: None)))
    packets = [packet for packet in container.demux(video=0) if packet.size]
    assert [n for n, packet in enumerate(packets) if packet.is_keyframe] == [0, 10, 20]


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1000, 562)])
def test_sizes_that_are_not_whole_macroblocks(width: int, height: int) -> None:
    spec = MediaSpec("video", width, height, "mp4", "acme/v", "waves", 2, duration=0.5, fps=8)
    assert facts(render_video(spec, lambda _: None)) == ("h264", width, height, 4, 0.5, 8)


def test_a_small_video_keeps_its_size_with_a_clock_that_moves_each_second() -> None:
    """Raw clock samples in every frame would not fit a tiny video's byte budget; its
    clock moves with each new picture instead."""
    spec = MediaSpec("video", 160, 96, "mp4", "acme/v", "waves", 4, duration=10, fps=24)
    data = render_video(spec, lambda _: None)
    assert len(data) == spec.byte_size
    assert facts(data) == ("h264", 160, 96, 240, 10.0, 24)
    frames = decoded(data)[1]
    box = (0, 0, 48, 16)
    clock = _Clock(spec)
    assert luma(frames[1], box) == luma(frames[23], box)
    assert luma(frames[25], box) != luma(frames[1], box)
    assert luma(frames[25], (0, 0, clock.width, clock.height)) == clock.glyphs(1).tobytes()


def test_every_frame_carries_the_caption_at_its_foot() -> None:
    spec = MediaSpec("video", 640, 360, "mp4", "acme/v", "a lighthouse", 6, duration=2, fps=4)
    for n, frame in enumerate(decoded(render_video(spec, lambda _: None))[1]):
        foot = frame.to_image().convert("L").crop((0, 330, 640, 360)).tobytes()
        dark = sum(1 for value in foot if value < 40) / len(foot)
        assert dark > 0.7 and max(foot) > 200, n  # white text on the black caption strip
