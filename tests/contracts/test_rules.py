"""The size rules contracts state in ``x-emulator-size``, enforced as the providers do."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from emulator import EmulatorConfig, Engine, Progression, create_app
from emulator.contracts.rules import explicit_size, rule_from_text, size_problem

ENGINE = Engine(EmulatorConfig(seed=5, progression=Progression.parse("immediate")))
FAL = TestClient(create_app(engine=ENGINE), headers={"Authorization": "Key rules"})
WAVESPEED = TestClient(create_app(engine=ENGINE), headers={"Authorization": "Bearer rules"})
SEEDREAM = "fal-ai/bytedance/seedream/v4/text-to-image"
DREAMINA = "fal-ai/bytedance/dreamina/v3.1/text-to-image"


def _fal(endpoint: str, size: object) -> TestClient:
    return FAL.post(f"/fal/run/{endpoint}", json={"prompt": "p", "image_size": size})


@pytest.mark.parametrize("size", [{"width": 512, "height": 512}, {"width": 100, "height": 100},
                                  {"width": 4096, "height": 4097}])  # fmt: skip
def test_seedream_v4_rejects_sizes_outside_its_total_pixel_range(size: dict) -> None:
    response = _fal(SEEDREAM, size)
    assert response.status_code == 422
    (detail,) = response.json()["detail"]
    assert detail["loc"] == ["body", "image_size"]
    assert detail["msg"] == "Total pixels must be between 960x960 and 4096x4096."


@pytest.mark.parametrize("size", [{"width": 960, "height": 960}, {"width": 2048, "height": 512},
                                  "square", "auto_2K"])  # fmt: skip
def test_seedream_v4_accepts_sizes_inside_it_and_its_presets(size: object) -> None:
    response = _fal(SEEDREAM, size)
    assert response.status_code == 200, response.text
    image = response.json()["images"][0]
    if isinstance(size, dict):
        assert (image["width"], image["height"]) == (size["width"], size["height"])


@pytest.mark.parametrize(("size", "status"), [({"width": 511, "height": 1024}, 422),
                                              ({"width": 2048, "height": 2049}, 422),
                                              ({"width": 512, "height": 2048}, 200)])  # fmt: skip
def test_dreamina_v31_keeps_each_side_within_512_and_2048(size: dict, status: int) -> None:
    assert _fal(DREAMINA, size).status_code == status


@pytest.mark.parametrize(("size", "status"), [("512*512", 400), ("1024*5000", 400),
                                              ("1024*1024", 200), ("big", 400)])  # fmt: skip
def test_wavespeed_seedream_v4_keeps_each_side_within_1024_and_4096(size: str, status: int) -> None:
    body = {"prompt": "p", "size": size, "enable_sync_mode": True}
    response = WAVESPEED.post("/wavespeed/api/v3/bytedance/seedream-v4", json=body)
    assert response.status_code == status, response.text


def test_a_missing_side_counts_as_the_providers_default() -> None:
    assert explicit_size({"width": 2000}) == (2000, 512)
    assert explicit_size({"width": "x"}) is None and explicit_size("square_hd") is None
    assert size_problem({"pixels": [921600, 16777216]}, {"width": 1500}) is not None


def test_the_providers_phrasings_become_rules() -> None:
    assert rule_from_text("Width and height must be between 512 and 2048.")["sides"] == [512, 2048]
    assert rule_from_text("pixels (width*height), 1024 ~ 4096 per dimension.")["sides"] == [
        1024,
        4096,
    ]
    assert rule_from_text("The size of the generated image.") is None


def test_the_endpoint_listing_flags_the_delisted_endpoint() -> None:
    listing = {e["id"]: e["delisted"] for e in FAL.get("/_emulator/endpoints").json()}
    assert listing[DREAMINA] is True and listing[SEEDREAM] is False


def _presets(schema: dict) -> list[str]:
    branches = schema.get("anyOf", [schema])
    return [p for b in branches for p in b.get("enum", []) if isinstance(p, str)]


def test_every_preset_an_endpoint_offers_keeps_its_own_size_rule() -> None:
    """A preset must not make what the endpoint refuses when asked for explicitly: Seedream
    v4's ``square`` gave 512x512 beside its 960x960 minimum (a newcomer's review)."""
    ruled = 0
    for endpoint in ENGINE.contracts:
        field = endpoint.resolve(endpoint.input_schema).get("properties", {}).get("image_size")
        rule = (field or {}).get("x-emulator-size")
        if rule is None:
            continue
        ruled += 1
        for preset in _presets(endpoint.resolve(field)):
            answer = _fal(endpoint.id, preset) if endpoint.provider == "fal" else None
            if answer is None:
                continue
            image = answer.json()["images"][0]
            size = {"width": image["width"], "height": image["height"]}
            assert size_problem(rule, size) is None, (endpoint.id, preset, size)
    assert ruled >= 2
