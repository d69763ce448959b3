import base64
import io

import pytest
from PIL import Image

from emulator.core.files import Storage
from emulator.media import MediaSpec, MediaStore
from emulator.media.sources import Clip, InputUnreachable, SourceResolver


def png(size: tuple[int, int] = (30, 20)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size).save(out, "PNG")
    return out.getvalue()


def resolver(synthetic: bool = False) -> SourceResolver:
    return SourceResolver(Storage(), MediaStore(), synthetic_fallback=synthetic)


def test_data_uris_uploads_and_generated_media_are_readable() -> None:
    sources = resolver()
    data_uri = "data:image/png;base64," + base64.b64encode(png()).decode()
    assert sources.picture("image_url", data_uri).size == (30, 20)
    stored = sources.storage.put(png((5, 6)), "image/png", "a.png")
    for host in ("https://v3.fal.media", "http://127.0.0.1:8000/fal/cdn"):
        assert sources.picture("image", f"{host}/files/uploads/{stored.id}/a.png").size == (5, 6)
    media_id = sources.media.register(MediaSpec("image", 40, 30, "png", "m", "p", 1))
    assert sources.picture("image", f"https://x/files/emulator/{media_id}.png").size == (40, 30)


def test_the_same_picture_is_kept_once() -> None:
    sources = resolver()
    data_uri = "data:image/png;base64," + base64.b64encode(png()).decode()
    first, second = sources.picture("a", data_uri), sources.picture("b", data_uri)
    assert first.id == second.id and sources.storage.get(first.id) is not None


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/cat.png",
        "data:image/png;base64,not-base64!!",
        "data:nocomma",
        "http://[",  # not a URL: urlsplit refuses it
        "http://[zz]/x.png",
        "https://v3.fal.media/files/uploads/000000000000000000000000/x.png",
        "data:text/plain;base64," + base64.b64encode(b"not a picture").decode(),
    ],
)
def test_what_cannot_be_read_fails_or_falls_back(url: str) -> None:
    with pytest.raises(InputUnreachable) as unreachable:
        resolver().picture("image_url", url)
    assert (unreachable.value.field, unreachable.value.url) == ("image_url", url)
    assert resolver(synthetic=True).picture("image_url", url).id == ""


def test_a_file_is_read_at_its_own_url_alone() -> None:
    """As from a real CDN: a mangled URL (another name, another extension) reads nothing."""
    sources = resolver()
    stored = sources.storage.put(png((5, 6)), "image/png", "a.png")
    media_id = sources.media.register(MediaSpec("image", 40, 30, "png", "m", "p", 1))
    mangled = [
        f"https://v3.fal.media/files/uploads/{stored.id}/b.png",
        f"https://v3.fal.media/files/uploads/{stored.id}/a.png/extra",
        f"https://v3.fal.media/files/uploads/{stored.id}/a.png/multipart/{stored.id}/1",
        f"https://x/files/emulator/{media_id}.jpg",
        f"https://x/files/emulator/{media_id}.png/extra",
    ]
    for url in mangled:
        assert not sources.readable(url) and sources.read(url) is None
        with pytest.raises(InputUnreachable):
            sources.picture("image_url", url)
    quoted = f"https://v3.fal.media/files/uploads/{stored.id}/%61.png"  # "a.png", quoted
    assert sources.readable(quoted) and sources.read(quoted) == png((5, 6))


def test_readable_finds_what_read_reads_without_reading_it() -> None:
    sources = resolver()
    stored = sources.storage.put(png((5, 6)), "image/png", "a.png")
    media_id = sources.media.register(MediaSpec("video", 1920, 1080, "mp4", "m", "p", 1))
    urls = [
        "data:image/png;base64," + base64.b64encode(png()).decode(),
        f"https://v3.fal.media/files/uploads/{stored.id}/a.png",
        f"https://x/files/emulator/{media_id}.mp4",  # a video, not rendered to be found
        "https://example.com/cat.png",
        "data:image/png;base64,not-base64!!",
        "http://[",
        "https://v3.fal.media/files/uploads/000000000000000000000000/x.png",
    ]
    assert [sources.readable(url) for url in urls] == [True] * 3 + [False] * 4
    assert sources.media.renders == 0


def test_an_uploaded_videos_length_size_frame_rate_and_sound_are_probed() -> None:
    from emulator.media.video import render_video

    sources = resolver()
    spec = MediaSpec("video", 96, 64, "mp4", "m", "p", 1, duration=2.0, fps=12)
    stored = sources.storage.put(render_video(spec, lambda _: None), "video/mp4", "v.mp4")
    clip = sources.clip(f"https://v3.fal.media/files/uploads/{stored.id}/v.mp4")
    assert clip == Clip(2.0, 96, 64, 12, sound=False)
    spec = MediaSpec("video", 96, 64, "mp4", "m", "p", 1, duration=2.0, fps=12, with_audio=True)
    stored = sources.storage.put(render_video(spec, lambda _: None), "video/mp4", "v.mp4")
    clip = sources.clip(f"https://v3.fal.media/files/uploads/{stored.id}/v.mp4")
    assert clip is not None and clip.sound  # its sound track, found


def test_an_error_about_an_input_repeats_no_more_than_a_bounded_prefix_of_it() -> None:
    """A data URI or naked base64 runs to megabytes: its error names its start alone."""
    long = "data:image/jpeg;base64," + "A" * 50_000
    error = InputUnreachable("image", long)
    assert len(str(error)) < 360 and long[:40] in str(error) and "50,023" in str(error)
    assert len(error.url) < 260 and error.url.startswith(long[:40])
    short = InputUnreachable("image", "https://example.com/cat.png")
    assert str(short) == "cannot read the media at 'https://example.com/cat.png' (field 'image')"
