"""The discovery APIs: fal's per-endpoint OpenAPI documents, its model search, and the
emulator's own contract path, answered from the same data as the endpoints."""

from __future__ import annotations

import httpx
from starlette.testclient import TestClient

from emulator import create_app, emulate


def test_fal_openapi_document_of_a_catalogue_endpoint() -> None:
    with emulate():
        answer = httpx.get(
            "https://fal.ai/api/openapi/queue/openapi.json",
            params={"endpoint_id": "fal-ai/flux/dev"},
        )
        missing = httpx.get(
            "https://fal.ai/api/openapi/queue/openapi.json", params={"endpoint_id": "no/such"}
        )
    document = answer.json()
    assert answer.status_code == 200
    assert document["info"]["x-fal-metadata"]["endpointId"] == "fal-ai/flux/dev"
    schema = document["components"]["schemas"]["FluxDevInput"]
    assert "prompt" in schema["required"]
    assert schema["properties"]["image_size"]["default"] == "landscape_4_3"
    assert missing.status_code == 404


def test_model_search_pages_and_expands() -> None:
    with emulate():
        first = httpx.get("https://api.fal.ai/v1/models", params={"q": "flux", "limit": 3}).json()
        second = httpx.get(
            "https://api.fal.ai/v1/models",
            params={"q": "flux", "limit": 3, "cursor": first["next_cursor"]},
        ).json()
        one = httpx.get(
            "https://api.fal.ai/v1/models",
            params={"endpoint_id": "fal-ai/bitdance", "expand": "openapi-3.0"},
        ).json()
        bad = httpx.get("https://api.fal.ai/v1/models", params={"limit": "many"})
        huge = httpx.get("https://api.fal.ai/v1/models", params={"cursor": "9" * 5000})
    assert len(first["models"]) == 3 and first["has_more"]
    assert not {m["endpoint_id"] for m in first["models"]} & {
        m["endpoint_id"] for m in second["models"]
    }
    assert all("flux" in m["endpoint_id"] for m in first["models"] + second["models"])
    assert [m["endpoint_id"] for m in one["models"]] == ["fal-ai/bitdance"]
    assert one["models"][0]["openapi"]["info"]["x-fal-metadata"]["endpointId"] == "fal-ai/bitdance"
    assert bad.status_code == 400 and huge.status_code == 400


def test_emulator_lists_tiers_and_serves_each_contract() -> None:
    with TestClient(create_app()) as client:
        listing = client.get("/_emulator/endpoints").json()
        curated = client.get("/_emulator/contracts/fal/fal-ai/bitdance")
        imported = client.get("/_emulator/contracts/fal/fal-ai/kling-video/v2.1/pro/image-to-video")
        unknown = client.get("/_emulator/contracts/fal/no/such")
    tiers = {(row["id"], row["tier"]) for row in listing}
    assert ("fal-ai/bitdance", "curated") in tiers
    assert ("fal-ai/flux/dev", "catalogue") in tiers
    assert len(listing) >= 1390
    assert curated.json()["info"]["x-fal-metadata"]["endpointId"] == "fal-ai/bitdance"
    assert imported.status_code == 200 and unknown.status_code == 404


ROUTER_INPUT = {"prompt": "hi there", "model": "google/gemini-2.5-flash"}


def test_an_llm_streams_its_text_as_it_grows() -> None:
    import fal_client

    with emulate(seed=4):
        events = list(fal_client.stream("openrouter/router", arguments=ROUTER_INPUT))
    texts = [event["output"] for event in events]
    assert len(events) >= 3 and texts[-1].endswith(".")  # the last event is the whole text
    assert all(texts[-1].startswith(t) for t in texts)
    assert [len(t) for t in texts] == sorted(len(t) for t in texts) and texts[0] != texts[-1]


def test_health_counts_each_endpoint_the_listing_lists_once() -> None:
    with TestClient(create_app()) as client:
        listing = client.get("/_emulator/endpoints").json()
        health = client.get("/_emulator/health").json()
    listed = {(row["provider"], row["id"]) for row in listing}
    assert health["endpoints"] == len(listed) == len(listing) > 1_000
