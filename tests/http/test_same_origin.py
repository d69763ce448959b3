"""The control plane and the dashboard refuse another site's pages: cross-site requests,
and requests to a host name re-bound to this machine."""

import pytest
from starlette.testclient import TestClient

from emulator import EmulatorConfig, Engine, create_app
from emulator.http.same_origin import refusal

ADMIN = {"Authorization": "Bearer admin-secret"}


def _client(**settings: object) -> TestClient:
    app = create_app(engine=Engine(EmulatorConfig(seed=1, **settings)))
    return TestClient(app, headers={"Authorization": "Key k"})


def _jobs(client: TestClient, **headers: str) -> int:
    return len(client.get("/_emulator/jobs", headers={**ADMIN, **headers}).json())


def test_a_cross_site_page_cannot_reset_the_emulator() -> None:
    client = _client()
    assert client.post("/fal/queue/fal-ai/bitdance", json={"prompt": "kept"}).status_code == 200
    # What a page's fetch(url, {method: "POST", mode: "no-cors"}) sends: no body, its origin.
    refused = client.post("/_emulator/reset", headers={"Origin": "http://evil.example"})
    assert refused.status_code == 403
    assert "not a page of http://evil.example" in refused.json()["detail"]
    assert _jobs(client) == 1
    assert client.post("/_emulator/reset", headers={"Origin": "null"}).status_code == 403
    own = client.post("/_emulator/reset", headers={"Origin": "http://testserver"})
    assert own.status_code == 200 and _jobs(client) == 0


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1:8000", "localhost:8000", "localhost.:8000", "[::1]:8000", "app.localhost",
     "emulator:8000", "testserver", "192.168.1.20:8000"],
)  # fmt: skip
def test_this_machines_names_reach_the_open_control_plane(host: str) -> None:
    answer = _client().get("/_emulator/jobs", headers={"Host": host})
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("host", ["rebind.evil.example:8000", "evil.example", "localhost.evil"])
def test_a_re_bound_name_reaches_no_open_control_plane_nor_dashboard(host: str) -> None:
    client = _client()
    for path in ("/_emulator/jobs", "/_emulator/ui/jobs", "/_emulator/ui/static/dashboard.js"):
        answer = client.get(path, headers={"Host": host})
        assert answer.status_code == 403, path
        assert "--public-url" in answer.json()["detail"]
    # Its provider surfaces are not the control plane: any name reaches them.
    submitted = client.post(
        "/fal/queue/fal-ai/bitdance", json={"prompt": "a cat"}, headers={"Host": host}
    )
    assert submitted.status_code == 200


def test_the_public_url_is_one_of_its_names_and_origins() -> None:
    client = _client(public_url="https://emulator.example.com")
    named = client.get("/_emulator/jobs", headers={"Host": "emulator.example.com"})
    assert named.status_code == 200
    # Behind a proxy that passes its own Host on: the page is the public URL's.
    page = {"Host": "127.0.0.1:8000", "Origin": "https://emulator.example.com"}
    assert client.post("/_emulator/reset", headers=page).status_code == 200


def test_with_an_admin_token_any_name_may_ask_but_no_other_site() -> None:
    client = _client(admin_token="admin-secret")
    assert _jobs(client, Host="emulator.internal.example") == 0
    cross = client.get("/_emulator/jobs", headers={**ADMIN, "Origin": "http://evil.example"})
    assert cross.status_code == 403
    ui = client.get("/_emulator/ui/jobs", headers={**ADMIN, "Origin": "http://evil.example"})
    assert ui.status_code == 403


def test_the_dashboard_answers_its_own_pages() -> None:
    client = _client()
    same = {"Origin": "http://testserver", "Host": "testserver"}
    assert client.get("/_emulator/ui/jobs", headers=same).status_code == 200
    cross = client.get("/_emulator/ui/jobs", headers={"Origin": "http://localhost:3000"})
    assert cross.status_code == 403


@pytest.mark.parametrize("origin", ["http://[", "http://[::1", "::", "\x7f"])
def test_a_malformed_origin_is_refused_not_a_500(origin: str) -> None:
    client = TestClient(create_app(), raise_server_exceptions=False)
    for path in ("/_emulator/jobs", "/_emulator/ui/jobs"):
        answer = client.get(path, headers={"Origin": origin})
        assert answer.status_code == 403 and "not a page of" in answer.json()["detail"]


def test_a_request_without_origin_or_host_is_not_refused() -> None:
    scope = {"type": "http", "headers": []}
    assert refusal(scope, EmulatorConfig()) is None
