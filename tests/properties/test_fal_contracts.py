"""The emulator against its own fal contracts, with inputs generated from them."""

from __future__ import annotations

import base64
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from starlette.testclient import TestClient

from emulator import EmulatorConfig, Engine, Progression, create_app
from emulator.strategies import invalid_inputs, valid_inputs

ENGINE = Engine(EmulatorConfig(seed=99, progression=Progression.parse("immediate")))
CLIENT = TestClient(create_app(engine=ENGINE), headers={"Authorization": "Key property"})
ENDPOINTS = ENGINE.contracts.of("fal")
IMAGE_ENDPOINTS = [e for e in ENDPOINTS if e.category == "text-to-image"]


def test_every_fal_contract_is_covered() -> None:
    assert len(ENDPOINTS) >= 4 and len(IMAGE_ENDPOINTS) >= 3


def _expected_count(inputs: dict) -> int:
    return inputs.get("num_images", 1)


def _download(url: str) -> bytes:
    if url.startswith("data:"):
        return base64.b64decode(url.split(",", 1)[1])
    return CLIENT.get(url).content


@pytest.mark.parametrize("endpoint", IMAGE_ENDPOINTS, ids=lambda e: e.id)
@given(data=st.data())
def test_valid_input_completes_with_media_of_the_declared_size(endpoint, data) -> None:
    inputs = data.draw(valid_inputs(endpoint, max_dimension=256))
    submitted = CLIENT.post(f"/fal/queue/{endpoint.id}", json=inputs).json()
    assert CLIENT.get(submitted["status_url"]).json()["status"] == "COMPLETED"
    response = CLIENT.get(submitted["response_url"])
    assert response.status_code == 200, response.text
    output = response.json()
    endpoint.output_validator.validate(output)
    assert len(output["images"]) == _expected_count(inputs)
    for described in output["images"]:
        content = _download(described["url"])
        image = Image.open(io.BytesIO(content))
        assert image.size == (described["width"], described["height"])
        assert len(content) == described["file_size"]
        assert Image.MIME[image.format] == described["content_type"]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.id)
@given(data=st.data())
def test_invalid_input_is_a_422_in_fals_shape(endpoint, data) -> None:
    inputs = data.draw(invalid_inputs(endpoint))
    response = CLIENT.post(f"/fal/run/{endpoint.id}", json=inputs)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail and all(
        item["loc"][0] == "body" and isinstance(item["msg"], str) and isinstance(item["type"], str)
        for item in detail
    )


@pytest.mark.parametrize("surface", ["queue", "run"])
@given(
    body=st.binary(max_size=300),
    content_type=st.sampled_from(["application/json", "", "text/plain"]),
)
def test_random_bytes_never_give_a_500(surface, body, content_type) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = CLIENT.post(f"/fal/{surface}/fal-ai/bitdance", content=body, headers=headers)
    assert 200 <= response.status_code < 500
    if response.status_code >= 400:
        assert "detail" in response.json()


@given(
    body=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=20,
    )
)
def test_random_json_never_gives_a_500(body) -> None:
    response = CLIENT.post("/fal/run/fal-ai/bytedance/seedream/v4/text-to-image", json=body)
    assert response.status_code in (200, 422)
