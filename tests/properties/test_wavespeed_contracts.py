"""The emulator against its own WaveSpeed contracts, with inputs generated from them."""

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

ENGINE = Engine(EmulatorConfig(seed=7, progression=Progression.parse("immediate")))
CLIENT = TestClient(create_app(engine=ENGINE), headers={"Authorization": "Bearer property"})
ENDPOINTS = ENGINE.contracts.of("wavespeed")
IMAGE_ENDPOINTS = [e for e in ENDPOINTS if e.category == "text-to-image"]


def test_every_wavespeed_contract_is_covered() -> None:
    assert len(ENDPOINTS) >= 3 and len(IMAGE_ENDPOINTS) >= 2


def _declared_size(inputs: dict, endpoint) -> tuple[int, int] | None:
    size = inputs.get(
        "size", endpoint.resolve(endpoint.input_schema)["properties"]["size"]["default"]
    )
    if "*" in size:
        width, height = size.split("*")
        return int(width), int(height)
    return None  # an aspect preset: checked for its ratio below


@pytest.mark.parametrize("endpoint", IMAGE_ENDPOINTS, ids=lambda e: e.id)
@given(data=st.data())
def test_valid_input_completes_with_media_of_the_declared_size(endpoint, data) -> None:
    inputs = data.draw(valid_inputs(endpoint))
    # Sync mode and webhooks have their own tests; here every task is submitted and polled.
    inputs.pop("enable_sync_mode", None)
    inputs.pop("webhook_url", None)
    # Optional input pictures (FLUX's image-to-image) are URLs the emulator must read:
    # generated strings are not, and that failure has its own tests.
    for name in ("image", "mask_image"):
        inputs.pop(name, None)
    submitted = CLIENT.post(f"/wavespeed/api/v3/{endpoint.id}", json=inputs)
    assert submitted.status_code == 200, submitted.text
    result = CLIENT.get(submitted.json()["data"]["urls"]["get"]).json()
    endpoint.output_validator.validate(result)
    assert result["data"]["status"] == "completed"
    outputs = result["data"]["outputs"]
    assert len(outputs) == inputs.get("num_images", 1)
    for output in outputs:
        content = (
            base64.b64decode(output)
            if inputs.get("enable_base64_output")
            else CLIENT.get(output).content
        )
        picture = Image.open(io.BytesIO(content))
        declared = _declared_size(inputs, endpoint)
        if declared:
            assert picture.size == declared
        else:
            ratio = [int(n) for n in inputs["size"].split(":")]
            assert abs(picture.size[0] / picture.size[1] - ratio[0] / ratio[1]) < 0.02


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.id)
@given(data=st.data())
def test_invalid_input_is_a_400_in_the_envelope(endpoint, data) -> None:
    response = CLIENT.post(
        f"/wavespeed/api/v3/{endpoint.id}", json=data.draw(invalid_inputs(endpoint))
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == 400 and body["message"].startswith("Invalid parameters: ")


@given(
    body=st.binary(max_size=300),
    content_type=st.sampled_from(["application/json", "", "text/plain"]),
)
def test_random_bytes_never_give_a_500(body, content_type) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = CLIENT.post(
        "/wavespeed/api/v3/wavespeed-ai/bitdance-14b/text-to-image", content=body, headers=headers
    )
    assert 200 <= response.status_code < 500
    assert "code" in response.json() or "error" in response.json()
