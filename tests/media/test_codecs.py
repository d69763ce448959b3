import io
import itertools

import av
import pytest

from emulator.media import MediaSpec
from emulator.media.video import render_video
from tests.media.test_video import decoded, facts

#: format, codec asked → the container FFmpeg reads and the codec it finds
CASES = [
    ("webm", "", "matroska,webm", "vp9"),
    ("mkv", "vp9", "matroska,webm", "vp9"),
    ("mp4", "h265", "mov,mp4,m4a,3gp,3g2,mj2", "hevc"),
    ("mov", "prores", "mov,mp4,m4a,3gp,3g2,mj2", "prores"),
    ("mkv", "mpeg4", "matroska,webm", "mpeg4"),
    ("gif", "", "gif", "gif"),
    ("mov", "", "mov,mp4,m4a,3gp,3g2,mj2", "h264"),
    ("mkv", "", "matroska,webm", "h264"),
]


@pytest.mark.parametrize(("media_format", "codec", "container", "decoder"), CASES)
def test_each_format_is_that_container_and_codec_at_the_exact_size_length_and_rate(
    media_format: str, codec: str, container: str, decoder: str
) -> None:
    spec = MediaSpec(
        "video", 160, 96, media_format, "acme/v", "waves", 3, duration=2, fps=6, codec=codec
    )
    data = render_video(spec, lambda _: None)
    assert len(data) == spec.byte_size  # padded as the result said, and still decodes:
    read, frames = decoded(data)
    assert read.format.name == container
    name, width, height, count, _, _ = facts(data)
    assert (name, width, height, count) == (decoder, 160, 96, 12)
    assert render_video(spec, lambda _: None) == data


@pytest.mark.parametrize(("media_format", "codec"), [("webm", ""), ("gif", ""), ("mp4", "h265")])
def test_the_clock_moves_every_frame_in_every_codec(media_format: str, codec: str) -> None:
    spec = MediaSpec(
        "video", 320, 240, media_format, "acme/v", "waves", 3, duration=1, fps=8, codec=codec
    )
    frames = [f.to_image() for f in decoded(render_video(spec, lambda _: None))[1]]
    clocks = [frame.crop((0, 0, 60, 20)).tobytes() for frame in frames]
    assert len(frames) == 8 and all(a != b for a, b in itertools.pairwise(clocks))


@pytest.mark.parametrize(("media_format", "sound"), [("webm", "opus"), ("mkv", "aac")])
def test_a_sound_track_in_the_codec_its_container_takes(media_format: str, sound: str) -> None:
    spec = MediaSpec(
        "video", 160, 96, media_format, "acme/v", "waves", 3, duration=2, fps=6,
        sample_rate=44100, with_audio=True,
    )  # fmt: skip
    data = render_video(spec, lambda _: None)
    container, _ = decoded(data)
    assert [s.codec_context.name for s in container.streams.audio] == [sound]
    assert len(data) == spec.byte_size


def test_a_cut_out_in_vp9_is_transparent_around_its_subject() -> None:
    spec = MediaSpec(
        "video", 160, 96, "webm", "acme/v", "waves", 3, duration=1, fps=8, matte="cutout"
    )
    data = render_video(spec, lambda _: None)
    assert len(data) == spec.byte_size
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        assert stream.metadata["alpha_mode"] == "1"  # how WebM says its VP9 has alpha
        decoder = av.CodecContext.create("libvpx-vp9", "r")  # FFmpeg's own ignores alpha
        frames = [frame for packet in container.demux(stream) for frame in decoder.decode(packet)]
    alpha = frames[4].planes[3]
    at = lambda x, y: bytes(alpha)[y * alpha.line_size + x]  # noqa: E731
    assert len(frames) == 8 and frames[4].format.name == "yuva420p"
    assert at(80, 40) > 200 and at(4, 60) < 50  # the subject opaque, around it clear


def test_a_mask_video_is_its_subject_white_on_black() -> None:
    spec = MediaSpec("video", 160, 96, "mp4", "acme/v", "waves", 3, duration=1, fps=8, matte="mask")
    picture = decoded(render_video(spec, lambda _: None))[1][-1].to_image().convert("L")
    assert picture.getpixel((80, 48)) > 200 and picture.getpixel((4, 90)) < 40
    levels = picture.crop((0, 32, 160, 96)).tobytes()  # below the clock
    assert sum(value < 30 or value > 225 for value in levels) > 0.9 * len(levels)  # no picture


def test_a_cut_out_in_prores_is_4444_with_its_alpha() -> None:
    spec = MediaSpec(
        "video", 160, 96, "mov", "acme/v", "waves", 3, duration=1, fps=8, codec="prores",
        matte="cutout",
    )  # fmt: skip
    data = render_video(spec, lambda _: None)
    assert len(data) == spec.byte_size
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.codec_context.profile) == ("prores", "4444")
        picture = next(container.decode(stream)).reformat(format="rgba").to_ndarray()
    assert picture[40, 80, 3] > 200 and picture[60, 4, 3] < 50  # the subject opaque, around clear


@pytest.mark.parametrize(("video_format", "codec"), [("mp4", ""), ("webm", ""), ("mov", "prores")])
def test_a_cut_out_over_a_backdrop_has_that_colour_around_its_subject(
    video_format: str, codec: str
) -> None:
    spec = MediaSpec(
        "video", 160, 96, video_format, "acme/v", "waves", 3, duration=1, fps=8, codec=codec,
        matte="cutout", backdrop="00ff00",
    )  # fmt: skip
    data = render_video(spec, lambda _: None)
    assert len(data) == spec.byte_size
    with av.open(io.BytesIO(data)) as container:
        frame = next(container.decode(video=0))
    assert not frame.format.name.startswith("yuva")  # no alpha plane
    red, green, blue = frame.to_ndarray(format="rgb24")[40, 2]
    assert green > 200 and red < 40 and blue < 40
