import io
import itertools

import av
from PIL import Image

from emulator.media import MediaSpec
from emulator.media.video import render_video


def facts(data: bytes) -> tuple:
    container = av.open(io.BytesIO(data))
    stream = container.streams.video[0]
    frames = list(container.decode(video=0))
    return (
        stream.codec_context.name,
        stream.width,
        stream.height,
        len(frames),
        container.duration / 1e6,
    )


def test_exact_size_length_and_rate_deterministically() -> None:
    spec = MediaSpec("video", 320, 240, "mp4", "acme/v", "waves", 3, duration=2, fps=12)
    data = render_video(spec, lambda _: None)
    assert facts(data) == ("h264", 320, 240, 24, 2.0)
    assert len(data) == spec.byte_size
    assert render_video(spec, lambda _: None) == data


def test_frames_come_from_the_source_picture() -> None:
    red = io.BytesIO()
    Image.new("RGB", (100, 100), (255, 0, 0)).save(red, "PNG")
    spec = MediaSpec("video", 160, 96, "mp4", "acme/v", "", 1, duration=1, fps=4, source="red")
    container = av.open(io.BytesIO(render_video(spec, lambda key: red.getvalue())))
    middle = next(container.decode(video=0)).to_image().getpixel((80, 30))
    assert middle[0] > 200 and middle[1] < 60 and middle[2] < 60


def test_the_clock_moves_every_frame_and_the_picture_moves_too() -> None:
    spec = MediaSpec("video", 320, 240, "mp4", "acme/v", "waves", 3, duration=2, fps=12)
    frames = [
        f.to_image() for f in av.open(io.BytesIO(render_video(spec, lambda _: None))).decode()
    ]
    corner = (0, 0, 60, 20)  # where the clock is
    clocks = [frame.crop(corner).tobytes() for frame in frames]
    assert all(a != b for a, b in itertools.pairwise(clocks))
    middle = (100, 60, 220, 160)  # the picture, away from the clock and the caption
    assert frames[0].crop(middle).tobytes() != frames[-1].crop(middle).tobytes()
