"""What a job's input names as media: its picture, its clip, and that each can be read."""

from __future__ import annotations

import base64
import hashlib
import io

import pytest
from PIL import Image

from emulator.contracts.input_media import InputMedia, names_media
from emulator.contracts.loading import DEFAULT_CONTRACTS_DIR, load_contracts
from emulator.contracts.plans import plan_of
from emulator.core.files import Storage
from emulator.media import MediaSpec, MediaStore
from emulator.media.sources import Clip, InputUndecodable, InputUnreachable, SourceResolver

BITDANCE = load_contracts([DEFAULT_CONTRACTS_DIR]).get("fal", "fal-ai/bitdance")


@pytest.mark.parametrize(
    ("name", "media"),
    [
        ("image_url", True),
        ("image_urls", True),
        ("video_url", True),
        ("audio_urls", True),
        ("media_url", True),  # ffmpeg-api's, a video or audio
        ("images", True),  # WaveSpeed's
        ("image", True),
        ("prompt", False),
        ("webhook_url", False),
        ("image_size", False),
    ],
)
def test_which_fields_name_media(name: str, media: bool) -> None:
    assert names_media(name) is media


def test_a_lists_first_picture_and_a_generated_clips_own_length_and_size() -> None:
    media = MediaStore()
    storage = Storage()
    sources = SourceResolver(storage, media, synthetic_fallback=False)
    picture = media.register(MediaSpec("image", 40, 30, "png", "m", "p", 1))
    video = media.register(MediaSpec("video", 640, 360, "mp4", "m", "p", 1, duration=4.0, fps=24))
    inputs = {
        "image_urls": [f"https://v3.fal.media/files/emulator/{picture}.png", "ignored"],
        "video_url": f"https://v3.fal.media/files/emulator/{video}.mp4",
    }
    found = InputMedia(plan_of(BITDANCE), inputs, sources)
    assert found.picture().size == (40, 30)
    assert found.clip() == Clip(4.0, 640, 360, 24) and media.renders == 1  # the picture, decoded
    with pytest.raises(InputUnreachable) as unreadable:
        found.check_readable()  # the list's second picture
    assert (unreadable.value.field, unreadable.value.url) == ("image_urls", "ignored")


def test_a_picture_field_must_name_a_picture_whether_or_not_the_output_shows_it() -> None:
    """A user testing that their code surfaces a bad input gets the same answer with a size
    field as without: each picture field is checked, by its header (nothing decoded or
    kept, and a generated one by its kind, nothing rendered)."""
    media = MediaStore()
    sources = SourceResolver(Storage(), media, synthetic_fallback=False)
    picture = media.register(MediaSpec("image", 40, 30, "png", "m", "p", 1))
    video = media.register(MediaSpec("video", 640, 360, "mp4", "m", "p", 1, duration=4.0, fps=24))
    cdn = "https://v3.fal.media/files/emulator/"
    text = "data:text/plain;base64," + base64.b64encode(b"not a picture").decode()
    for bad in ("data:image/png;base64,AAAA", text, f"{cdn}{video}.mp4"):
        for field, value in (("image_url", bad), ("images", [f"{cdn}{picture}.png", bad])):
            with pytest.raises(InputUndecodable) as refused:
                InputMedia(plan_of(BITDANCE), {field: value}, sources).check_readable()
            assert refused.value.field == field
    with pytest.raises(InputUnreachable) as unreachable:  # read nothing: no picture to try
        InputMedia(
            plan_of(BITDANCE), {"image": "https://example.com/x.png"}, sources
        ).check_readable()
    assert type(unreachable.value) is InputUnreachable
    out = io.BytesIO()
    Image.new("RGB", (3, 2)).save(out, "PNG")
    png = "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()
    others = [  # pictures the providers take that Pillow may not open
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>',
        b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
        b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf",
        b"\xff\x0a\xfa\x7f",  # a JPEG XL codestream
    ]
    uris = [png, *("data:image/x;base64," + base64.b64encode(b).decode() for b in others)]
    good = InputMedia(plan_of(BITDANCE), {"image_urls": [f"{cdn}{picture}.png", *uris]}, sources)
    good.check_readable()
    kept = "src" + hashlib.sha256(out.getvalue()).hexdigest()[:24]  # as `picture` keeps one
    assert media.renders == 0 and sources.storage.get(kept) is None


@pytest.mark.parametrize(
    ("field", "picture"),
    [
        ("input_image_url", True),  # hunyuan3d's
        ("end_image_url", True),
        ("mask_url", True),
        ("reference_images", True),
        ("video_url", False),  # read, not decoded here: its clip is
        ("images_data_url", False),  # a trainer's archive
    ],
)
def test_any_image_or_mask_field_must_name_a_picture(field: str, picture: bool) -> None:
    # text under hunyuan3d's input_image_url made a mesh: only seven names were checked
    sources = SourceResolver(Storage(), MediaStore(), synthetic_fallback=False)
    text = "data:text/plain;base64," + base64.b64encode(b"hello").decode()
    media = InputMedia(plan_of(BITDANCE), {field: [text] if field.endswith("s") else text}, sources)
    if picture:
        with pytest.raises(InputUndecodable):
            media.check_readable()
    else:
        media.check_readable()


def test_naked_base64_is_media_where_wavespeed_takes_it_and_not_on_fal() -> None:
    """WaveSpeed reads a media input given as naked base64 (huggingface.js sends its
    pictures so); fal's clients and docs give URLs or data URIs, and its is unknown."""
    out = io.BytesIO()
    Image.new("RGB", (5, 4)).save(out, "JPEG")
    naked = base64.b64encode(out.getvalue()).decode()
    sources = SourceResolver(Storage(), MediaStore(), synthetic_fallback=False)
    wavespeed = load_contracts([DEFAULT_CONTRACTS_DIR]).get(
        "wavespeed", "kwaivgi/kling-v2.1-i2v-standard"
    )
    for inputs in ({"image": naked}, {"images": [naked]}):
        found = InputMedia(plan_of(wavespeed), inputs, sources)
        found.check_readable()
        assert found.picture().size == (5, 4)
    text = base64.b64encode(b"no picture here").decode()
    with pytest.raises(InputUndecodable) as refused:
        InputMedia(plan_of(wavespeed), {"image": text}, sources).check_readable()
    assert refused.value.url == text  # the input as given, not the data URI read
    with pytest.raises(InputUnreachable):
        InputMedia(plan_of(BITDANCE), {"image_url": naked}, sources).check_readable()
