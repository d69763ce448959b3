"""WaveSpeed's account and catalogue APIs (what its CLI and MCP server call): balance and
usage from the emulated spend, history from the jobs, each key on its own."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from emulator import emulate
from emulator.providers.wavespeed.account import DEFAULT_PRICES, STARTING_BALANCE

API = "https://api.wavespeed.ai/api/v3"
MODEL = "bytedance/seedream-v4"


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with emulate(progression="immediate"):
        with httpx.Client(headers={"Authorization": "Bearer key-1"}, base_url=API) as client:
            yield client


def run(client: httpx.Client) -> str:
    task = client.post(f"/{MODEL}", json={"prompt": "a lighthouse"}).json()["data"]["id"]
    assert client.get(f"/predictions/{task}/result").json()["data"]["status"] == "completed"
    return task


def test_balance_and_usage_follow_the_spend(client: httpx.Client) -> None:
    assert client.get("/balance").json()["data"] == {"balance": STARTING_BALANCE}
    run(client)
    run(client)
    spent = 2 * DEFAULT_PRICES["image"]
    assert client.get("/balance").json()["data"]["balance"] == pytest.approx(
        STARTING_BALANCE - spent
    )
    usage = client.post("/user/usage_stats", json={}).json()["data"]
    assert usage["summary"]["total_cost"] == pytest.approx(spent)
    assert [day["count"] for day in usage["daily_usage"]] == [2]
    other = httpx.get(f"{API}/balance", headers={"Authorization": "Bearer key-2"})
    assert other.json()["data"]["balance"] == STARTING_BALANCE  # each key its own


def test_history_lists_and_deletes_a_keys_predictions(client: httpx.Client) -> None:
    first, second = run(client), run(client)
    listed = client.post("/predictions", json={"page": 1, "page_size": 1}).json()["data"]
    assert listed["total"] == 2 and [i["id"] for i in listed["items"]] == [second]
    with_inputs = client.post("/predictions", json={"include_inputs": True}).json()["data"]
    assert with_inputs["items"][0]["input"] == {"prompt": "a lighthouse"}
    assert client.post("/predictions/delete", json={"ids": [first]}).json()["data"] == {
        "deleted": 1
    }
    left = client.post("/predictions", json={}).json()["data"]["items"]
    assert [i["id"] for i in left] == [second]
    stranger = httpx.post(
        f"{API}/predictions", json={}, headers={"Authorization": "Bearer key-2"}
    ).json()
    assert stranger["data"]["items"] == []
    bad = client.post("/predictions", json={"page": 0})
    assert bad.status_code == 400 and bad.json()["code"] == 400


def test_models_price_and_billing(client: httpx.Client) -> None:
    models = {m["model_id"]: m for m in client.get("/models").json()["data"]}
    schema = models[MODEL]["api_schema"]["api_schemas"][0]["request_schema"]
    assert "prompt" in schema["required"] and "prompt" in schema["x-order-properties"]
    assert "$ref" not in str(schema)
    quote = client.post("/model/price", json={"model_id": MODEL, "inputs": {}}).json()["data"]
    assert quote["price"] == models[MODEL]["base_price"] and quote["currency"] == "USD"
    assert client.post("/model/price", json={"model_id": "no/such"}).status_code == 404
    task = run(client)
    bills = client.post("/billings/search", json={"prediction_uuids": [task]}).json()["data"]
    assert [b["prediction"]["uuid"] for b in bills["items"]] == [task]


def test_the_documented_form_upload_answers_a_url(client: httpx.Client) -> None:
    answer = client.post("/upload", files={"file": ("a.txt", b"hello", "text/plain")})
    data = answer.json()["data"]
    assert answer.status_code == 200 and data["url"] == data["download_url"]
    assert httpx.get(data["url"]).content == b"hello"


def test_a_wrong_method_is_a_405_naming_the_right_one(client: httpx.Client) -> None:
    answer = client.post("/balance")
    assert answer.status_code == 405 and answer.headers["allow"] == "GET"
    assert client.get("/predictions/delete").status_code == 405
