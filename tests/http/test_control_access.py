"""The control plane with an admin token: administrators see all, a key only its own."""

import pytest
from starlette.testclient import TestClient

from emulator import EmulatorConfig, Engine, Progression, cli, create_app

ADMIN = {"Authorization": "Bearer admin-secret"}
#: keys long enough that the listings show their last four characters (masked, as a key is)
ALICE, BOB = "alice-key-0001", "bob-key-0002"


@pytest.fixture
def client() -> TestClient:
    config = EmulatorConfig(
        admin_token="admin-secret", progression=Progression.parse("immediate"), seed=1
    )
    with TestClient(create_app(engine=Engine(config))) as client:
        for key in (ALICE, BOB):
            headers = {"Authorization": f"Key {key}"}
            client.post("/fal/queue/fal-ai/bitdance", json={"prompt": key}, headers=headers)
        yield client


def test_health_stays_open(client: TestClient) -> None:
    assert client.get("/_emulator/health").status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/_emulator/jobs"),
        ("GET", "/_emulator/requests"),
        ("GET", "/_emulator/faults"),
        ("POST", "/_emulator/reset"),
        ("POST", "/_emulator/faults"),
        ("GET", "/_emulator/clock"),
    ],
)
def test_without_a_credential_nothing_is_shown_or_done(
    client: TestClient, method: str, path: str
) -> None:
    answer = client.request(method, path, json={})
    assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"


def test_a_key_sees_only_its_own_and_changes_nothing(client: TestClient) -> None:
    alice = {"Authorization": f"Key {ALICE}"}
    jobs = client.get("/_emulator/jobs", headers=alice).json()
    assert [job["key"] for job in jobs] == ["****0001"]
    requests = client.get(f"/_emulator/requests?key={BOB}", headers=alice).json()
    assert {entry["key"] for entry in requests} == {"****0001"}
    for method, path in (("POST", "/_emulator/reset"), ("GET", "/_emulator/faults")):
        assert client.request(method, path, json={}, headers=alice).status_code == 403
    assert len(client.get("/_emulator/jobs", headers=ADMIN).json()) == 2


def test_a_key_sees_its_own_deleted_prediction_marked_and_no_one_elses(
    client: TestClient,
) -> None:
    """A prediction deleted from its history stays listed, marked (its result answers it:
    as deleted), for its own key and the administrator alone."""
    alice, bob = ({"Authorization": f"Bearer {key}"} for key in (ALICE, BOB))
    model = "/wavespeed/api/v3/wavespeed-ai/bitdance-14b/text-to-image"
    task = client.post(model, json={"prompt": "mine"}, headers=alice).json()["data"]["id"]
    delete = "/wavespeed/api/v3/predictions/delete"
    assert client.post(delete, json={"ids": [task]}, headers=bob).json()["data"]["deleted"] == 0
    assert client.post(delete, json={"ids": [task]}, headers=alice).json()["data"]["deleted"] == 1
    mine = client.get("/_emulator/jobs", headers=alice).json()
    assert [(job["id"], job["deleted"]) for job in mine if job["provider"] == "wavespeed"] == [
        (task, True)
    ]
    assert task not in client.get("/_emulator/jobs", headers=bob).text
    every = client.get("/_emulator/jobs", headers=ADMIN).json()
    assert sorted(job["deleted"] for job in every) == [False, False, True]
    # the dashboard, which shows every key's jobs, is the administrator's alone
    page = client.get(f"/_emulator/ui/jobs/{task}", headers=alice, follow_redirects=False)
    assert page.status_code == 303 and "/login" in page.headers["location"]


def test_a_keys_requests_outlive_another_keys_traffic() -> None:
    """(One buffer of 10,000 for all: a teammate's polls emptied a key's view: an audit.)"""
    config = EmulatorConfig(
        admin_token="admin-secret", max_recorded_requests=20, max_recorded_requests_per_key=10
    )
    alice, bob = ({"Authorization": f"Key {key}"} for key in (ALICE, BOB))
    with TestClient(create_app(engine=Engine(config))) as client:
        client.post("/fal/queue/fal-ai/bitdance", json={"prompt": "a cat"}, headers=alice)
        for _ in range(30):
            client.get("/fal/queue/fal-ai/bitdance/requests/nope/status", headers=bob)
        mine = client.get("/_emulator/requests", headers=alice).json()
        assert [entry["method"] for entry in mine] == ["POST"]
        assert len(client.get("/_emulator/requests", headers=bob).json()) == 10
        assert len(client.get("/_emulator/requests", headers=ADMIN).json()) == 11


def test_the_admin_token_does_everything(client: TestClient) -> None:
    rule = client.post("/_emulator/faults", json={"effect": "fail"}, headers=ADMIN)
    assert rule.status_code == 201
    assert client.post("/_emulator/reset", json={}, headers=ADMIN).status_code == 200
    assert client.get("/_emulator/jobs", headers=ADMIN).json() == []


def test_listings_page(client: TestClient) -> None:
    first = client.get("/_emulator/jobs?limit=1", headers=ADMIN).json()
    second = client.get("/_emulator/jobs?offset=1&limit=1", headers=ADMIN).json()
    assert len(first) == len(second) == 1 and first != second
    assert client.get("/_emulator/jobs?limit=-1", headers=ADMIN).status_code == 422


def serve_capture(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> object:
    served = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **_: served.update(app=app))
    assert cli.main(["serve", "--port", "0", *argv]) == 0  # serve binds its port
    return served["app"]


def test_serve_beyond_loopback_warns_and_makes_a_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    app = serve_capture(monkeypatch, ["--host", "0.0.0.0"])
    err = capsys.readouterr().err
    token = app.state.engine.config.admin_token  # type: ignore[attr-defined]
    assert "warning: listening on 0.0.0.0" in err and token and token in err


def test_serve_with_api_keys_makes_a_token_and_loopback_alone_does_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keyed = serve_capture(monkeypatch, ["--api-key", "k"])
    assert keyed.state.engine.config.admin_token  # type: ignore[attr-defined]
    open_app = serve_capture(monkeypatch, [])
    assert open_app.state.engine.config.admin_token is None  # type: ignore[attr-defined]
    given = serve_capture(monkeypatch, ["--host", "0.0.0.0", "--admin-token", "mine"])
    assert given.state.engine.config.admin_token == "mine"  # type: ignore[attr-defined]
