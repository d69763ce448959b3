"""What a job's input names as media: its picture, its clip, and that each can be read."""

from __future__ import annotations

import pytest

from emulator.contracts.documents import DEFAULT_CONTRACTS_DIR, load_contracts
from emulator.contracts.input_media import InputMedia, names_media
from emulator.contracts.plans import plan_of
from emulator.core.files import Storage
from emulator.media import MediaSpec, MediaStore
from emulator.media.sources import Clip, InputUnreachable, SourceResolver

BITDANCE = load_contracts([DEFAULT_CONTRACTS_DIR]).get("fal", "fal-ai/bitdance")


@pytest.mark.parametrize(
    ("name", "media"),
    [
        ("image_url", True),
        ("image_urls", True),
        ("video_url", True),
        ("audio_urls", True),
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
