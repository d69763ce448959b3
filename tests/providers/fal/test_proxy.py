from dataclasses import replace

import pytest
from starlette.testclient import TestClient

from emulator import Engine, create_app


def proxied(client: TestClient, method: str, target: str, **kwargs) -> object:
    return client.request(
        method,
        "/fal/proxy",
        headers={"x-fal-target-url": target, **kwargs.pop("headers", {})},
        **kwargs,
    )


def test_forwards_to_the_surface_its_target_names(client: TestClient) -> None:
    submitted = proxied(
        client, "POST", "https://queue.fal.run/fal-ai/bitdance", json={"prompt": "x"}
    ).json()
    assert submitted["status_url"].startswith(
        "http://testserver/fal/queue/fal-ai/bitdance/requests/"
    )
    status = proxied(
        client,
        "GET",
        f"https://queue.fal.run/fal-ai/bitdance/requests/{submitted['request_id']}/status?logs=1",
    )
    assert status.status_code == 202 and status.json()["status"] == "IN_QUEUE"
    ticket = proxied(
        client, "POST", "https://rest.fal.ai/storage/upload/initiate", json={"file_name": "a.txt"}
    ).json()
    assert ticket["upload_url"].startswith(
        "http://testserver/fal/cdn/"
    )  # reachable without the proxy


@pytest.mark.parametrize(
    "target", ["", "https://example.com/x", "https://api.wavespeed.ai/api/v3/x", "not a url"]
)
def test_refuses_targets_that_are_not_fal(client: TestClient, target: str) -> None:
    response = proxied(client, "POST", target, json={})
    assert response.status_code == 400 and "fal host" in response.json()["detail"]


def test_a_request_without_a_key_borrows_the_proxys(engine: Engine) -> None:
    engine.config = replace(engine.config, proxy_key="proxy-key")
    with TestClient(create_app(engine=engine)) as client:
        response = proxied(client, "POST", "https://fal.run/fal-ai/bitdance", json={"prompt": "x"})
    assert response.status_code == 200
    assert [entry.key for entry in engine.record] == ["proxy-key"]


def test_without_a_proxy_key_a_keyless_request_is_refused(engine: Engine) -> None:
    with TestClient(create_app(engine=engine)) as client:
        assert (
            proxied(
                client, "POST", "https://fal.run/fal-ai/bitdance", json={"prompt": "x"}
            ).status_code
            == 401
        )
