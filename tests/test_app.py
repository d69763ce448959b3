"""The app's own answers: errors of paths no route takes, in a provider's format."""

from starlette.testclient import TestClient

from emulator import create_app


def test_a_wavespeed_path_without_its_surface_names_the_base_url_to_use() -> None:
    """The SDK's base URL set to the bare server, as a newcomer does: WaveSpeed's own
    envelope, saying where its API is."""
    client = TestClient(create_app(), headers={"Authorization": "Bearer k"})
    response = client.post("/api/v3/wavespeed-ai/z-image/turbo", json={"prompt": "x"})
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == 404 and "/wavespeed" in body["message"]
    assert client.get("/no/such/page").json() == {"detail": "Not Found"}
