from pathlib import Path

import pytest
from starlette.testclient import TestClient


def test_health(client: TestClient) -> None:
    body = client.get("/_emulator/health").json()
    served = client.get("/_emulator/endpoints?limit=10000").json()
    assert body["status"] == "ok" and body["endpoints"] == len(served) > 1000  # the catalogue


def test_endpoints_lists_the_contracts(client: TestClient) -> None:
    ids = {e["id"] for e in client.get("/_emulator/endpoints").json()}
    assert "fal-ai/bitdance" in ids


def test_reset_forgets_requests_and_reseeds(client: TestClient) -> None:
    first = client.post("/fal/queue/fal-ai/bitdance", json={"prompt": "x"}).json()
    assert client.post("/_emulator/reset", json={"seed": 77}).json() == {
        "status": "reset",
        "seed": 77,
    }
    assert client.get(first["status_url"]).status_code == 404
    again = client.post("/fal/queue/fal-ai/bitdance", json={"prompt": "x"}).json()
    client.post("/_emulator/reset", json={"seed": 77})
    assert (
        client.post("/fal/queue/fal-ai/bitdance", json={"prompt": "x"}).json()["request_id"]
        == again["request_id"]
    )


def test_reset_refuses_a_bad_seed(client: TestClient) -> None:
    assert client.post("/_emulator/reset", json={"seed": "x"}).status_code == 422
    assert (
        client.post(
            "/_emulator/reset", content=b"{", headers={"Content-Type": "application/json"}
        ).status_code
        == 422
    )


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/_emulator/reset", {"sed": 7}),
        ("/_emulator/progression", {"progression": "immediate", "jitter": 0}),
        ("/_emulator/clock", {"advance": 1, "by": 2}),
    ],
)
def test_a_control_body_s_unknown_field_is_refused_before_it_acts(
    client: TestClient, path: str, body: dict
) -> None:
    # `{"sed": 7}` was ignored: the reset forgot every job, unseeded, and answered 200
    submitted = client.post("/fal/queue/fal-ai/bitdance", json={"prompt": "x"}).json()
    refused = client.post(path, json=body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"].startswith("unknown fields: ")
    (job,) = client.get("/_emulator/jobs").json()
    assert job["id"] == submitted["request_id"] and job["phase"] == "queued"


def test_the_request_record_is_served_and_filtered(client: TestClient) -> None:
    client.post("/fal/queue/fal-ai/bitdance", json={"prompt": "x"})
    client.post("/fal/run/fal-ai/bitdance", json={})
    entries = client.get("/_emulator/requests", params={"status": 422}).json()
    assert [(e["method"], e["path"], e["provider"], e["key"]) for e in entries] == [
        ("POST", "/fal/run/fal-ai/bitdance", "fal", "****")  # a key is shown masked
    ]
    assert len(client.get("/_emulator/requests", params={"key": "k1"}).json()) == 2
    assert len(client.get("/_emulator/requests").json()) == 2  # control requests are not recorded
    assert client.get("/_emulator/requests", params={"status": "x"}).status_code == 422
    # a provider that is none is refused as the record's filter refuses it (not a 500)
    refused = client.get("/_emulator/requests", params={"provider": "fal.ai"})
    assert (refused.status_code, refused.json()) == (
        422,
        {"detail": "provider must be one of fal, wavespeed"},
    )


def test_reset_without_a_seed_keeps_the_configured_one(client: TestClient) -> None:
    first = client.post("/fal/queue/fal-ai/bitdance", json={"prompt": "x"}).json()["request_id"]
    client.post("/_emulator/reset")
    assert (
        client.post("/fal/queue/fal-ai/bitdance", json={"prompt": "x"}).json()["request_id"]
        == first
    )


def test_odd_digits_in_a_filter_are_a_422(client: TestClient) -> None:
    assert client.get("/_emulator/requests", params={"status": "²"}).status_code == 422


def test_webhook_deliveries_are_listed(client: TestClient) -> None:
    client.post(
        "/fal/queue/fal-ai/bitdance",
        params={"fal_webhook": "https://example.com/x"},
        json={"prompt": "x"},
    )
    (delivery,) = client.get("/_emulator/webhooks").json()
    assert (delivery["provider"], delivery["state"], delivery["url"]) == (
        "fal",
        "refused",
        "https://example.com/x",
    )


def test_a_wavespeed_job_is_listed_under_the_id_its_clients_know(client: TestClient) -> None:
    """The listing said the dashed UUID, which neither the API nor the webhooks use."""
    submitted = client.post(
        "/wavespeed/api/v3/wavespeed-ai/bitdance-14b/text-to-image",
        json={"prompt": "x", "webhook_url": "https://example.com/x"},
        headers={"Authorization": "Bearer k1"},
    ).json()["data"]["id"]
    fal = client.post("/fal/queue/fal-ai/bitdance", json={"prompt": "x"}).json()["request_id"]
    (delivery,) = client.get("/_emulator/webhooks").json()
    listed = [job["id"] for job in client.get("/_emulator/jobs").json()]
    assert listed == [submitted, fal] and delivery["job_id"] == submitted
    assert len(submitted) == 32 and "-" in fal


def test_faults_over_http(client: TestClient) -> None:
    added = client.post(
        "/_emulator/faults", json={"effect": "http_error", "status": 503, "times": 1}
    )
    assert added.status_code == 201 and added.json()["id"] == "fault-1"
    assert client.post("/fal/run/fal-ai/bitdance", json={"prompt": "x"}).status_code == 503
    assert client.post("/fal/run/fal-ai/bitdance", json={"prompt": "x"}).status_code == 200
    assert client.get("/_emulator/faults").json()[0]["fired"] == 1
    assert client.post("/_emulator/faults", json={"effect": "explode"}).status_code == 422
    assert client.post("/_emulator/faults", json=[1]).status_code == 422
    assert client.delete("/_emulator/faults/fault-1").status_code == 204
    assert client.delete("/_emulator/faults/fault-1").status_code == 404
    client.post("/_emulator/faults", json={"effect": "reset"})
    # an empty id names no rule: it was redirected to /faults, which removes them all
    emptied = client.delete("/_emulator/faults/", follow_redirects=True)
    assert emptied.status_code == 404 and len(client.get("/_emulator/faults").json()) == 1
    assert client.delete("/_emulator/faults").json() == []


@pytest.mark.parametrize(
    "rule",
    [
        b'{"effect": "fail", "message": "\\ud800"}',
        b'{"effect": "fail", "inputs": {"prompt": "\\udc00"}}',
        b'{"\\ud800": 1, "effect": "fail"}',
    ],
    ids=["in-a-value", "in-an-input", "in-a-key"],
)
def test_a_rule_with_a_lone_surrogate_is_refused_and_not_kept(
    client: TestClient, rule: bytes
) -> None:
    """JSON's "\ud800" reads as a lone surrogate: it was a 500, and a rule kept that every
    listing of the rules then failed to answer."""
    refused = client.post(
        "/_emulator/faults", content=rule, headers={"Content-Type": "application/json"}
    )
    assert refused.status_code == 422 and "lone surrogate" in refused.json()["detail"]
    assert client.get("/_emulator/faults").json() == []


def test_a_refusal_quoting_a_lone_surrogate_shows_it_escaped(client: TestClient) -> None:
    refused = client.post(
        "/_emulator/progression",
        content=b'{"progression": "\\ud800"}',
        headers={"Content-Type": "application/json"},
    )
    assert refused.status_code == 422 and "'\\ud800'" in refused.json()["detail"]


def test_jobs_progression_and_clock_over_http(client: TestClient) -> None:
    submitted = client.post("/fal/queue/fal-ai/bitdance", json={"prompt": "x"}).json()
    (job,) = client.get("/_emulator/jobs").json()
    assert (job["id"], job["phase"], job["key"]) == (submitted["request_id"], "queued", "****")
    assert (
        client.post("/_emulator/progression", json={"progression": "wall:1,1,0"}).json()["mode"]
        == "wall"
    )
    assert client.post("/_emulator/progression", json={"progression": "soon"}).status_code == 422
    assert (
        client.post("/_emulator/clock", json={"advance": 5}).json()["now"] == 5
    )  # a ManualClock here
    assert client.get("/_emulator/jobs").json()[0]["phase"] == "done"
    assert client.post("/_emulator/clock", json={"advance": "x"}).status_code == 422
    too_far = client.post("/_emulator/clock", json={"advance": 1e20}).json()["detail"]
    assert ">= 0" not in too_far and "0 to 1e+09 seconds, not 1e+20" in too_far


def test_the_root_describes_the_server() -> None:
    from starlette.testclient import TestClient

    from emulator import __version__, create_app

    with TestClient(create_app()) as client:
        about = client.get("/").json()
        page = client.get("/", headers={"Accept": "text/html"})
    assert about["version"] == __version__ and about["endpoints"]["fal"] > 1000
    assert about["control"]["health"] == "/_emulator/health"
    assert page.headers["content-type"].startswith("text/html") and "/fal/queue/" in page.text


def test_a_control_body_of_white_space_is_no_json(client: TestClient) -> None:
    """An empty body is no options; one of white space is invalid JSON, as the control
    plane's document has it (schemathesis found " " reset the emulator)."""
    json_type = {"Content-Type": "application/json"}
    assert client.post("/_emulator/reset", content=b"", headers=json_type).status_code == 200
    assert client.post("/_emulator/reset", content=b" \n", headers=json_type).status_code == 422


def test_keys_are_shown_masked_and_filtered_whole(client: TestClient) -> None:
    """A key may be someone's real one, sent to a shared emulator: the listings show its
    last four characters, as they show the headers it came in."""
    key = {"Authorization": "Key someones-real-key-1234"}
    client.post("/fal/queue/fal-ai/bitdance", json={"prompt": "x"}, headers=key)
    [entry] = client.get("/_emulator/requests", params={"key": "someones-real-key-1234"}).json()
    assert entry["key"] == "****1234" and entry["headers"]["authorization"] == "Key ****1234"
    [job] = client.get("/_emulator/jobs").json()
    assert job["key"] == "****1234"
    assert "someones-real" not in client.get("/_emulator/jobs").text


@pytest.mark.parametrize(
    ("listing", "reading"),
    [("requests", "filter"), ("jobs", "page")],
)
def test_a_listing_holds_no_other_request_in_memory_either(
    listing: str, reading: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In memory a listing was read and encoded on the event loop: a key asking for its
    own request record (66 MB a page) held another key's polls up to 3.6 s (an audit).
    Held here, a health check meanwhile is answered."""
    import httpx

    from emulator import EmulatorConfig, Engine, create_app
    from tests.held_calls import answered_while_held

    engine = Engine(EmulatorConfig())

    async def listed(http: httpx.AsyncClient) -> httpx.Response:
        return await http.get(f"/_emulator/{listing}")

    owner = engine.record if listing == "requests" else engine.jobs
    held = answered_while_held(create_app(engine=engine), monkeypatch, owner, reading, listed, 10)
    assert held == (200, 200, True)


def test_a_reset_of_a_shared_store_holds_no_other_request(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A shared store's flush scans every key it holds: run on the event loop, a reset of a
    Redis of 300,000 keys kept every other request of the process waiting 1.4 s (an
    operator's review). Held here, a health check meanwhile is answered."""
    import httpx

    from emulator import EmulatorConfig, Engine, create_app
    from tests.held_calls import answered_while_held

    engine = Engine(EmulatorConfig(state=f"sqlite://{tmp_path / 'state.db'}"))

    async def reset(http: httpx.AsyncClient) -> httpx.Response:
        return await http.post("/_emulator/reset", json={"seed": 3})

    assert engine.store is not None
    try:
        held = answered_while_held(
            create_app(engine=engine), monkeypatch, engine.store, "flush", reset, 10
        )
        assert held == (200, 200, True)
        assert engine.seed == 3
    finally:
        engine.close()
