"""Media inputs of every kind are read like ``image_url``; an output with no size asked
(a mask, a depth map) is the size of the input picture."""

from __future__ import annotations

import base64
import io

import fal_client
import httpx
import pytest
from PIL import Image

from emulator import emulate


def _png(width: int, height: int) -> str:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "navy").save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


@pytest.mark.parametrize("endpoint_id", ["fal-ai/birefnet", "fal-ai/imageutils/depth"])
def test_a_mask_or_depth_map_is_the_size_of_its_input(endpoint_id: str) -> None:
    with emulate():
        output = fal_client.subscribe(endpoint_id, arguments={"image_url": _png(48, 32)})
        picture = Image.open(io.BytesIO(httpx.get(output["image"]["url"]).content))
    assert picture.size == (48, 32)


def test_an_unreadable_video_url_fails_as_fal_reports_it() -> None:
    with emulate():
        with pytest.raises(fal_client.client.FalClientHTTPError) as caught:
            fal_client.subscribe(
                "fal-ai/mmaudio-v2",
                arguments={"video_url": "https://example.com/missing.mp4", "prompt": "rain"},
            )
    assert caught.value.status_code == 422
    assert "video_url" in str(caught.value)
