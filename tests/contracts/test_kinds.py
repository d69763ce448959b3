"""Which kind of media an output field holds, by the conventions of fal's types."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from emulator.contracts.kinds import (
    category_from_id,
    category_kind,
    makes_sound,
    matte,
    media_kind,
)
from emulator.contracts.texts import generated_text

FILE = {"type": "object", "properties": {"url": {"type": "string"}}}
IMAGE = {"type": "object", "properties": {"url": {}, "width": {}, "height": {}}}
VIDEO = {"type": "object", "properties": {"url": {}, "width": {}, "height": {}, "fps": {}}}


#: the schemas a ``$ref`` of the cases points to
REFERRED = {
    "#/Mesh": {"const": "model/gltf-binary"},
    "#/Videos": {"enum": ["video/mp4", "video/webm"]},
}


def _resolve(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    return REFERRED.get(schema.get("$ref", ""), schema)


def _typed(content_type: dict) -> dict:
    """fal's ``File`` whose ``content_type`` has the schema ``content_type``."""
    return {"type": "object", "properties": {"url": {}, "content_type": content_type}}


@pytest.mark.parametrize(
    ("name", "schema", "hint", "kind"),
    [
        ("images", IMAGE, None, "image"),
        ("video", VIDEO, None, "video"),
        ("video", FILE, None, "video"),
        ("result", VIDEO, None, "video"),  # structure: fps makes it a video
        ("audio_file", FILE, None, "audio"),
        ("model_glb", FILE, None, "mesh"),
        ("model_obj", FILE, None, "mesh"),
        ("frames_zip", FILE, None, "archive"),
        ("diffusers_lora_file", FILE, None, "file"),
        ("mask_image", FILE, None, "image"),
        ("target", FILE, "audio", "audio"),  # an audio endpoint's unnamed output
        ("target", FILE, None, "file"),
        ("prompt", {"type": "string"}, None, None),
        ("video_url", {"type": "string"}, None, "video"),
        ("output", {"type": "string", "contentMediaType": "audio/mpeg"}, None, "audio"),
        # a content type the schema fixes beats the name, the structure and the hint
        ("result", _typed({"const": "model/gltf-binary"}), "image", "mesh"),
        ("image", _typed({"enum": ["video/mp4", "video/webm"]}), None, "video"),
        ("video", _typed({"const": "image/gif"}), None, "video"),  # a GIF may be a video
        ("audio", _typed({"const": "application/x-acme"}), None, "audio"),  # none it makes
        ("result", _typed({"$ref": "#/Mesh"}), "image", "mesh"),  # followed
        (
            "image",
            _typed({"allOf": [{"$ref": "#/Videos"}, {"enum": ["video/webm"]}]}),
            None,
            "video",
        ),
    ],
)
def test_media_kind(name: str, schema: dict, hint: str | None, kind: str | None) -> None:
    assert media_kind(name, schema, _resolve, hint) == kind


def test_categories() -> None:
    assert category_from_id("fal-ai/kling-video/v2.1/pro/image-to-video") == "image-to-video"
    assert category_from_id("fal-ai/flux/dev") is None
    assert category_kind("image-to-video") == "video" and category_kind("llm") is None
    assert category_kind("text-to-speech") == "audio" and category_kind("image-to-3d") == "mesh"


def test_generated_text_is_deterministic_from_prompt_and_seed() -> None:
    assert generated_text("a cat", 1) == generated_text("a cat", 1)
    assert generated_text("a cat", 1) != generated_text("a cat", 2)
    assert generated_text("a cat", 1) != generated_text("a dog", 1)


def test_a_songs_duration_is_not_held_to_the_video_limits() -> None:
    from emulator.contracts.catalogue import shipped_catalogue
    from emulator.contracts.limits import Limits, check_limits

    catalogue = shipped_catalogue()
    song = catalogue.endpoint("fal-ai/ace-step")
    clip = catalogue.endpoint("fal-ai/kling-video/v2.5-turbo/pro/text-to-video")
    assert check_limits(song, {"tags": "lofi", "duration": 120}, Limits()) == []
    assert check_limits(clip, {"prompt": "x", "duration": 120}, Limits())


@pytest.mark.parametrize(
    ("endpoint_id", "field", "expected"),
    [
        ("fal-ai/birefnet/v2", "image", "cutout"),
        ("fal-ai/birefnet/v2", "mask_image", "mask"),
        ("pixelcut/background-removal", "image", "cutout"),
        ("fal-ai/bria/background/remove", "image", "cutout"),
        ("wavespeed-ai/image-background-remover", "outputs", "cutout"),
        ("fal-ai/bria/background/replace", "image", ""),  # a new background, not none
        ("fal-ai/flux/dev", "images", ""),
    ],
)
def test_a_background_remover_cuts_out_its_subject(
    endpoint_id: str, field: str, expected: str
) -> None:
    assert matte(endpoint_id, field) == expected


def test_videos_of_sound_models_carry_sound() -> None:
    assert makes_sound("fal-ai/mmaudio-v2") and makes_sound("mirelo-ai/sfx-v1/video-to-video")
    assert makes_sound("fal-ai/hunyuan-video-foley")
    assert not makes_sound("fal-ai/kling-video/v2/master/image-to-video")


def test_a_catalogue_rebuilt_keeps_every_category_its_ids_name() -> None:
    """The catalogue's import takes an id's category from its words first: a rule added
    for WaveSpeed's names (``-i2v``) must not change one of fal's endpoints."""
    from emulator.contracts.catalogue import shipped_catalogue

    catalogue = shipped_catalogue()
    assert catalogue is not None
    changed = [
        endpoint_id
        for endpoint_id in catalogue.ids()
        if category_from_id(endpoint_id) not in (None, catalogue.category(endpoint_id))
    ]
    assert changed == []
