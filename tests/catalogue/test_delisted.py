"""Endpoints the tested @fal-ai/client 1.10.1 types but fal's newer types no longer list
(fal-ai/whisper, fal-ai/veo3…): served from the older types, flagged delisted, and run
through the real Python client as a newcomer would."""

from __future__ import annotations

import fal_client
import httpx
from starlette.testclient import TestClient

from emulator import create_app, emulate
from emulator.media.cache import MediaStore
from emulator.media.spec import MediaSpec

from .files import opened

OLDER = "@fal-ai/client 1.10.1"
DELISTED = ("fal-ai/whisper", "fal-ai/veo3", "fal-ai/imagen4/preview", "fal-ai/ltx-2/text-to-video")


def test_the_older_client_types_endpoints_are_listed_and_served_flagged_delisted() -> None:
    with TestClient(create_app()) as client:
        listing = {row["id"]: row for row in client.get("/_emulator/endpoints").json()}
        document = client.get("/_emulator/contracts/fal/fal-ai/whisper").json()
        models = client.get(
            "https://api.fal.ai/v1/models",
            params={"endpoint_id": ["fal-ai/veo3", "fal-ai/flux/dev"]},
        ).json()["models"]
        dashboard = client.get("/_emulator/ui/endpoints", params={"q": "fal-ai/whisper"}).text
    for endpoint_id in DELISTED:
        row = listing[endpoint_id]
        assert row["delisted"] and row["tier"] == "catalogue" and OLDER in row["source"]
    assert not listing["fal-ai/flux/dev"]["delisted"]
    catalogue = [row for row in listing.values() if row["tier"] == "catalogue"]
    assert sum(row["delisted"] for row in catalogue) == 155
    flag = document["info"]["x-emulator-delisted"]
    assert flag["date"] == "2026-08-02" and "fal-endpoint-types" in flag["source"]
    statuses = {model["endpoint_id"]: model["metadata"]["status"] for model in models}
    assert statuses == {"fal-ai/veo3": "deprecated", "fal-ai/flux/dev": "active"}
    assert "(delisted)" in dashboard


def test_a_newcomer_transcribes_with_whisper_and_makes_a_veo3_video() -> None:
    speech = MediaStore().content(MediaSpec("audio", 0, 0, "wav", "in", "", 1, duration=3))
    with emulate(seed=5):
        audio_url = fal_client.upload(speech, "audio/wav")
        transcript = fal_client.subscribe(
            "fal-ai/whisper", arguments={"audio_url": audio_url, "chunk_level": "word"}
        )
        video = fal_client.subscribe(
            "fal-ai/veo3",
            arguments={"prompt": "a fox in the snow", "aspect_ratio": "9:16", "duration": "4s"},
        )["video"]
        clip = opened(httpx.get(video["url"]).content, "mp4")
    assert transcript["text"] and transcript["chunks"]
    assert transcript["chunks"][-1]["timestamp"][1] == 3.0  # the words span the audio
    assert video["content_type"] == "video/mp4"
    assert clip["size"] == (720, 1280) and clip["seconds"] == 4.0
    assert "sample_rate" in clip  # veo3 makes sound unless asked not to (generate_audio)
