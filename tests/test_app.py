"""The app's own answers: errors of paths no route takes, and of errors no route answers,
in a provider's format."""

from typing import Any, NoReturn

import pytest
from starlette.testclient import TestClient, WebSocketDenialResponse

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


@pytest.mark.parametrize(
    ("path", "headers", "expected"),
    [
        ("/fal/queue/fal-ai/flux/dev", {"Host": "queue.fal.run"}, {"detail": "Not Found"}),
        ("/fal/no/such/socket", {}, {"detail": "Not Found"}),
        ("/nope", {}, {"detail": "Not Found"}),
    ],
)
def test_a_websocket_to_a_path_no_route_takes_is_refused_with_a_404_in_its_format(
    path: str, headers: dict[str, str], expected: dict[str, object]
) -> None:
    """Starlette closed such a handshake before accepting it, which a server sends as a
    bare 403 with no body (as if the path were there and forbidden), not a 404 saying why."""
    with TestClient(create_app()) as client:
        # the denial is raised at connect; a handshake accepted would be a test failure
        with pytest.raises(WebSocketDenialResponse) as refused:
            with client.websocket_connect(path, headers=headers):
                pytest.fail(f"the handshake to {path} was accepted")
    assert (refused.value.status_code, refused.value.json()) == (404, expected)


def test_a_websocket_to_a_wavespeed_path_without_its_surface_names_the_base_url() -> None:
    with TestClient(create_app()) as client:
        with pytest.raises(WebSocketDenialResponse) as refused:
            with client.websocket_connect("/api/v3/predictions/x/result"):
                pytest.fail("the handshake was accepted")
    body = refused.value.json()
    assert refused.value.status_code == 404
    assert body["code"] == 404 and "/wavespeed" in body["message"]


def _broken(*_: object) -> NoReturn:
    raise RuntimeError("a bug")


@pytest.mark.parametrize(
    ("broken", "call", "expected"),
    [
        (
            "emulator.providers.wavespeed.uploads.WaveSpeedUploads.binary",
            (
                "POST",
                "/wavespeed/api/v3/media/upload/binary",
                {"headers": {"Authorization": "Bearer k"}, "files": {"file": b"x"}},
            ),
            {"code": 500, "message": "Internal Server Error", "data": None},
        ),
        (
            "emulator.http.control.ControlApi.jobs",
            ("GET", "/_emulator/jobs", {}),
            {"detail": "Internal Server Error"},
        ),
    ],
)
def test_an_error_no_route_answers_is_a_500_in_its_surfaces_format(
    monkeypatch: pytest.MonkeyPatch,
    broken: str,
    call: tuple[str, str, dict[str, Any]],
    expected: dict[str, object],
) -> None:
    """A bug's last-resort 500 reads as the caller's provider writes errors: the WaveSpeed
    SDK shows WaveSpeed's envelope, not fal's ``{"detail", "error_type"}``. (fal's own:
    tests/http/test_gateway.py.)"""
    monkeypatch.setattr(broken, _broken)
    method, path, sent = call
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        response = client.request(method, path, **sent)
    assert (response.status_code, response.json()) == (500, expected)
