"""The generic contract (``--unknown-endpoints generic``): one for any id a model can have,
none for an id no model can have."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from emulator import EmulatorConfig, Engine, create_app
from emulator.contracts.generic import generic_endpoint
from emulator.contracts.kinds import makes_sound
from emulator.contracts.limits import Limits
from emulator.contracts.served import served_contracts
from emulator.contracts.synthesis import synthesize
from emulator.contracts.validation import check_input
from emulator.media import MediaSpec

#: ids no model can have: malformed, or starting with a path of the provider's own API
NO_MODEL_IDS = [
    "",
    "wavespeed-ai//z-image/turbo",
    "a b/c",
    "a/b/",
    "/a/b",
    "fal-ai/x?y",
    "acme/{request_id}",
]
RESERVED = {
    "wavespeed": ["balance/x", "webhook/x", "model/price/x", "upload/x", "predictions/abc/result"],
    "fal": ["fal-ai/x/requests/abc/status"],
}


@pytest.mark.parametrize("provider", ["fal", "wavespeed"])
def test_an_id_no_model_can_have_has_no_generic_contract(provider: str) -> None:
    for endpoint_id in NO_MODEL_IDS + RESERVED[provider]:
        assert generic_endpoint(provider, endpoint_id) is None, endpoint_id


@given(provider=st.sampled_from(["fal", "wavespeed"]), endpoint_id=st.text(max_size=40))
def test_any_id_a_client_sends_has_a_generic_contract_or_none(
    provider: str, endpoint_id: str
) -> None:
    endpoint = generic_endpoint(provider, endpoint_id)
    assert endpoint is None or endpoint.id == endpoint_id


@pytest.mark.parametrize(
    ("model", "category", "media_type"),
    [
        ("kwaivgi/kling-v2.1-t2v-master", "text-to-video", "video/mp4"),
        ("bytedance/seedance-v1-pro-t2v-1080p", "text-to-video", "video/mp4"),
        ("bytedance/seedance-v1-lite-i2v-720p", "image-to-video", "video/mp4"),
        ("kwaivgi/kling-v2.1-i2v-pro", "image-to-video", "video/mp4"),
        ("wavespeed-ai/wan-2.1-v2v-720p", "video-to-video", "video/mp4"),
        ("pixverse/pixverse-v4.5-t2v", "text-to-video", "video/mp4"),
        ("pixverse/pixverse-v4.5-i2v", "image-to-video", "video/mp4"),
        ("google/veo3", "text-to-video", "video/mp4"),
        ("google/veo3-fast", "text-to-video", "video/mp4"),
        ("minimax/hailuo-02/standard", "text-to-video", "video/mp4"),
        ("wavespeed-ai/wan-2.2/animate", "text-to-video", "video/mp4"),
        # mmaudio puts sound to a video: the video, with sound, as its curated contract makes
        ("wavespeed-ai/mmaudio-v2", "video-to-video", "video/mp4"),
        ("kwaivgi/kling-image/v2", "text-to-image", "image/jpeg"),  # kling's pictures
        ("wavespeed-ai/qwen-image/text-to-image", "text-to-image", "image/jpeg"),
        ("acme/unheard-of", "text-to-image", "image/jpeg"),
    ],
)
def test_a_wavespeed_models_name_says_what_it_makes(
    model: str, category: str, media_type: str
) -> None:
    endpoint = generic_endpoint("wavespeed", model)
    assert endpoint is not None and endpoint.category == category
    outputs = endpoint.output_schema["properties"]["data"]["properties"]["outputs"]
    assert outputs["items"]["contentMediaType"] == media_type
    assert makes_sound(model) is (model == "wavespeed-ai/mmaudio-v2")


def test_a_catalogue_endpoint_keeps_its_category_with_the_generic_fallback() -> None:
    """A model's name says what the generic contract makes only where nothing else does:
    kling's endpoints that make no video keep the category fal's types give them."""
    contracts = served_contracts(EmulatorConfig(unknown_endpoints="generic"))
    for endpoint_id, category in [
        ("fal-ai/kling-video/create-voice", "llm"),
        ("fal-ai/kling-image/o1", "image-to-image"),
        ("fal-ai/pixverse/sound-effects", "text-to-audio"),
    ]:
        endpoint = contracts.get("fal", endpoint_id)
        assert endpoint is not None and endpoint.tier == "catalogue"
        assert endpoint.category == category


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/fal/queue/fal-ai//x"),
        ("POST", "/fal/queue/a%20b/c"),
        ("GET", "/fal/queue/fal-ai//x"),
        ("POST", "/fal/fal-ai//x"),
        ("GET", "/wavespeed/api/v3/predictions/00000000000000000000000000000000/result/"),
        ("GET", "/wavespeed/api/v3/predictions/00000000000000000000000000000000/status"),
        ("POST", "/wavespeed/api/v3/wavespeed-ai//z-image/turbo"),
        ("POST", "/wavespeed/api/v3/balance/x"),
        ("POST", "/wavespeed/api/v3/webhook/x"),
        ("POST", "/wavespeed/api/v3/model/price/x"),
        ("POST", "/wavespeed/api/v3/upload/x"),
        ("POST", "/wavespeed/api/v3/a%20b/c"),
    ],
)
def test_an_id_no_model_can_have_is_its_providers_404_with_the_generic_fallback_too(
    engine: Engine, method: str, path: str
) -> None:
    # each was a 500 with a traceback (two audits)
    generic = Engine(replace(engine.config, unknown_endpoints="generic"), clock=engine.clock)
    fal = path.startswith("/fal/")
    key = "Key k1" if fal else "Bearer k1"
    with TestClient(create_app(engine=generic), headers={"Authorization": key}) as client:
        response = client.request(method, path, json={})
    assert response.status_code == 404, response.text
    assert "detail" in response.json() if fal else response.json()["code"] == 404


def _made(provider: str, endpoint_id: str, payload: dict) -> MediaSpec:
    """The first medium the generic contract of ``endpoint_id`` makes of ``payload``."""
    endpoint = generic_endpoint(provider, endpoint_id)
    inputs, violations = check_input(endpoint, payload)
    assert endpoint is not None and not violations
    made: list[MediaSpec] = []

    def link(spec: MediaSpec) -> tuple[str, int]:
        made.append(spec)
        return f"https://cdn.test/{spec.index}.{spec.extension}", 1

    synthesize(endpoint, inputs, 1, link, limits=Limits())
    return made[0]


@pytest.mark.parametrize(
    ("provider", "endpoint_id"),
    [("fal", "acme/clip/text-to-video"), ("wavespeed", "acme/clip-t2v")],
)
def test_either_providers_generic_video_is_shaped_as_its_input_asks(
    provider: str, endpoint_id: str
) -> None:
    # fal's was 5 s, 1280x720, 24 fps whatever was asked (WaveSpeed's read all but fps)
    asked = {"prompt": "x", "duration": 8, "aspect_ratio": "9:16", "resolution": "480p", "fps": 12}
    video = _made(provider, endpoint_id, asked)
    assert (video.width, video.height, video.duration, video.fps) == (480, 854, 8.0, 12)


@pytest.mark.parametrize(
    ("provider", "endpoint_id"), [("fal", "acme/voice/tts"), ("wavespeed", "acme/voice-tts")]
)
def test_a_generic_speech_lasts_as_its_text_takes_to_say(provider: str, endpoint_id: str) -> None:
    # a TTS model's text (minimax's, elevenlabs') was undeclared, so unread: 5 s whatever it said
    speech = _made(provider, endpoint_id, {"text": "one two three four five six seven"})
    assert (speech.kind, speech.duration) == ("audio", 7 / 2.5)


def test_a_fal_generic_image_comes_in_the_format_asked() -> None:
    assert _made("fal", "acme/pic", {"prompt": "x", "output_format": "jpeg"}).format == "jpeg"


@pytest.mark.parametrize(("provider", "suffix"), [("wavespeed", "-t2v-480p"), ("fal", "/480p")])
def test_a_resolution_the_id_names_is_the_videos_unless_another_is_asked(
    provider: str, suffix: str
) -> None:
    # WaveSpeed's ...-t2v-480p made 1280x720
    endpoint_id = f"acme/clip{suffix}" if provider == "wavespeed" else f"acme/t2v{suffix}"
    video = _made(provider, endpoint_id, {"prompt": "x"})
    assert (video.width, video.height) == (854, 480)
    video = _made(provider, endpoint_id, {"prompt": "x", "resolution": "720p"})
    assert (video.width, video.height) == (1280, 720)
