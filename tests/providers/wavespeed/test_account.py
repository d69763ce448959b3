"""WaveSpeed's account and catalogue APIs (what its CLI and MCP server call): balance and
usage from the emulated spend, history from the jobs, each key on its own."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio.to_thread
import httpx
import pytest
import redis
import wavespeed
from starlette.testclient import TestClient

from emulator import EmulatorConfig, Engine, ManualClock, Progression, create_app, emulate
from emulator.contracts.prices import published_price
from emulator.contracts.served import served_contracts
from emulator.core.shared_jobs import NEWEST_CHUNK
from emulator.providers.wavespeed.account import DEFAULT_PRICES, STARTING_BALANCE
from emulator.providers.wavespeed.envelopes import task_id
from tests.bounded import eventually

API = "https://api.wavespeed.ai/api/v3"
MODEL = "bytedance/seedream-v4"
BITDANCE = "wavespeed-ai/bitdance-14b/text-to-image"
IMMEDIATE = Progression.parse("immediate")


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with emulate(progression="immediate"):
        with httpx.Client(headers={"Authorization": "Bearer key-1"}, base_url=API) as client:
            yield client


def run(client: httpx.Client, model: str = MODEL) -> str:
    task = client.post(f"/{model}", json={"prompt": "a lighthouse"}).json()["data"]["id"]
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
    assert [i["id"] for i in listed["items"]] == [second]
    later = client.post("/predictions", json={"page": 2, "page_size": 1}).json()["data"]
    assert later == {"page": 2, "total": 2, "items": [later["items"][0]]}
    assert later["items"][0]["id"] == first
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
    for unnamed in ({}, {"model_id": 5}, {"model_id": ""}):  # not a missing model: a bad request
        refused = client.post("/model/price", json=unnamed)
        assert refused.status_code == 400 and "model_id" in refused.json()["message"]
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
    assert answer.status_code == 405 and answer.headers["allow"] == "GET, HEAD"
    for path in ("/balance", "/webhook/secret"):  # a GET's HEAD, as Starlette answers it
        assert client.head(path).status_code == 200
    assert client.get("/predictions/delete").status_code == 405


def test_a_run_costs_the_price_its_contract_publishes(client: httpx.Client) -> None:
    endpoint = served_contracts(EmulatorConfig()).get("wavespeed", BITDANCE)
    price = published_price(endpoint) if endpoint else None  # $0.01 per image
    assert price is not None and price.per == "image"
    models = {m["model_id"]: m for m in client.get("/models").json()["data"]}
    assert models[BITDANCE]["base_price"] == price.usd
    asked = {"model_id": BITDANCE, "inputs": {"prompt": "a lighthouse"}}
    quote = client.post("/model/price", json=asked).json()["data"]["price"]
    assert quote == price.usd  # one image a run
    task = run(client, BITDANCE)
    assert client.get("/balance").json()["data"]["balance"] == pytest.approx(
        STARTING_BALANCE - quote
    )
    bills = client.post("/billings/search", json={"prediction_uuids": [task]}).json()["data"]
    assert [b["price"] for b in bills["items"]] == [quote]
    usage = client.post("/user/usage_stats", json={}).json()["data"]
    assert usage["summary"]["total_cost"] == pytest.approx(quote)
    ignored = {**asked, "inputs": {"prompt": "x", "num_images": 4}}  # not its field: 1 image
    assert client.post("/model/price", json=ignored).json()["data"]["price"] == quote
    refused = client.post("/model/price", json={"model_id": BITDANCE, "inputs": [1]})
    assert refused.status_code == 400


def test_a_deleted_prediction_answers_deleted_without_outputs(client: httpx.Client) -> None:
    task = run(client)
    assert client.post("/predictions/delete", json={"ids": [task]}).json()["data"] == {"deleted": 1}
    for path in (f"/predictions/{task}/result", f"/predictions/{task}"):
        answer = client.get(path)
        data = answer.json()["data"]
        assert answer.status_code == 200 and data["id"] == task
        assert data["status"] == "deleted" and data["outputs"] == []
        assert "deleted" in data["error"]
    assert client.post("/predictions/delete", json={"ids": ["nonsense"]}).json()["data"] == {
        "deleted": 0
    }


def test_the_python_sdk_stops_polling_a_deleted_prediction() -> None:
    """wavespeed 2.0.5 takes the status "deleted" as a failure: it stops polling at once."""
    failures: list[Exception] = []

    def run_with_the_sdk() -> None:
        sdk = wavespeed.Client(api_key="key-1", base_url=API.removesuffix("/api/v3"))
        try:
            sdk.run(BITDANCE, {"prompt": "slow"}, poll_interval=0.01, timeout=15)
        except Exception as failure:  # noqa: BLE001 - what the SDK raised is the result
            failures.append(failure)

    with emulate(progression="polls:100000,1"):  # it would wait in the queue for ever
        with httpx.Client(headers={"Authorization": "Bearer key-1"}, base_url=API) as client:
            polling = threading.Thread(target=run_with_the_sdk)
            polling.start()
            listed: list[dict[str, Any]] = []
            assert eventually(
                lambda: (
                    listed.extend(client.post("/predictions", json={}).json()["data"]["items"])
                    or listed
                ),
                10,
            )
            client.post("/predictions/delete", json={"ids": [listed[0]["id"]]})
            polling.join(20)
    assert not polling.is_alive()
    assert len(failures) == 1 and "Prediction deleted" in str(failures[0])


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/balance", None),
        ("POST", "/predictions", {}),
        ("POST", "/predictions/delete", {"ids": ["0" * 32]}),
        ("POST", "/billings/search", {}),
        ("POST", "/user/usage_stats", {}),
    ],
)
def test_the_account_reads_a_keys_jobs_in_a_worker_thread(
    method: str, path: str, body: Any
) -> None:
    """With every worker thread taken, the request waits for one while others are
    answered: it reads the key's jobs off the event loop, which it never holds up."""
    engine = Engine(EmulatorConfig(progression=IMMEDIATE))
    app = create_app(engine=engine)
    headers = {"Authorization": "Bearer key-1"}

    async def main() -> None:
        threads = anyio.to_thread.current_default_thread_limiter()
        threads.total_tokens, taker = 1, object()
        await threads.acquire_on_behalf_of(taker)
        transport = httpx.ASGITransport(app)
        base = "http://emulator/wavespeed/api/v3"
        async with httpx.AsyncClient(transport=transport, base_url=base, headers=headers) as c:
            waiting = asyncio.create_task(c.request(method, path, json=body))
            for _ in range(10_000):  # bounded: a few steps of the loop suffice
                if waiting.done() or threads.statistics().tasks_waiting:
                    break
                await asyncio.sleep(0)
            assert not waiting.done() and threads.statistics().tasks_waiting == 1
            assert (await c.get("/models")).status_code == 200  # answered meanwhile
            threads.release_on_behalf_of(taker)
            assert (await asyncio.wait_for(waiting, 10)).status_code == 200

    try:
        asyncio.run(main())
    finally:
        engine.close()


def test_a_history_window_reads_the_jobs_in_it_not_all(redis_url: str) -> None:
    """WaveSpeed's desktop client asks for the last day (``created_after``): the jobs
    before it are not read, however many the key has."""
    config = EmulatorConfig(state=redis_url, progression=IMMEDIATE)
    engine = Engine(config, clock=ManualClock(wall_start=time.time()))
    try:
        endpoint = engine.contracts.get("wavespeed", BITDANCE)
        assert endpoint is not None
        for _ in range(3 * NEWEST_CHUNK):
            engine.submit(endpoint, {"prompt": "old"}, "key-1")
        engine.clock.advance(2 * 86400)
        jobs = [engine.submit(endpoint, {"prompt": "x"}, "key-1") for _ in range(20)]
        yesterday = datetime.fromtimestamp(engine.clock.wall() - 86400, UTC).isoformat()
        counted = redis.Redis.from_url(redis_url)

        def jobs_read() -> int:
            return int(counted.info("commandstats").get("cmdstat_hgetall", {}).get("calls", 0))

        before = jobs_read()
        with TestClient(create_app(engine=engine)) as client:
            answer = client.post(
                "/wavespeed/api/v3/predictions",
                json={"page": 1, "page_size": 20, "created_after": yesterday},
                headers={"Authorization": "Bearer key-1"},
            )
        newest = [task_id(job) for job in reversed(jobs)]
        assert [item["id"] for item in answer.json()["data"]["items"]] == newest
        assert answer.json()["data"]["total"] == 20
        assert jobs_read() - before <= NEWEST_CHUNK  # the newest chunk, not all 788 jobs
        counted.close()
    finally:
        engine.close()


def test_history_filters_by_creation_time_as_the_desktop_client_sends_it(
    client: httpx.Client,
) -> None:
    first = run(client)
    now = datetime.now(UTC)
    day = timedelta(days=1)
    window = {"created_after": (now - day).isoformat(), "created_before": (now + day).isoformat()}
    listed = client.post("/predictions", json=window).json()["data"]
    assert (listed["total"], [i["id"] for i in listed["items"]]) == (1, [first])
    future = {"created_after": (now + day).isoformat().replace("+00:00", "Z")}
    assert client.post("/predictions", json=future).json()["data"] == {
        "page": 1,
        "total": 0,
        "items": [],
    }
    for garbage in ("yesterday", 5):
        refused = client.post("/predictions", json={"created_after": garbage})
        assert refused.status_code == 400 and "ISO 8601" in refused.json()["message"]


def test_pricing_answers_the_unit_price_the_desktop_client_reads(client: httpx.Client) -> None:
    quote = client.post(
        "/model/pricing", json={"model_id": BITDANCE, "inputs": {"prompt": "x"}}
    ).json()["data"]
    assert quote["unit_price"] == quote["price"] == pytest.approx(0.01)


def test_a_history_item_lists_the_outputs_its_result_lists(client: httpx.Client) -> None:
    task = run(client)
    inline = client.post(
        f"/{MODEL}", json={"prompt": "inline", "enable_base64_output": True}
    ).json()["data"]["id"]
    items = {i["id"]: i for i in client.post("/predictions", json={}).json()["data"]["items"]}
    result = client.get(f"/predictions/{task}/result").json()["data"]
    assert items[task]["outputs"] == result["outputs"] and result["outputs"]
    assert items[inline]["outputs"] == []  # whole files stay in the result


def test_a_failed_or_cancelled_prediction_is_listed_so_and_costs_nothing() -> None:
    """A staged failure and an unreadable input fail at the result, after the run ended:
    history, balance, usage and billings must say what the result says."""
    with emulate(progression="immediate") as emulation:
        emulation.add_fault("fail", provider="wavespeed", inputs={"prompt": "doomed"})
        with httpx.Client(headers={"Authorization": "Bearer key-1"}, base_url=API) as client:
            staged = client.post(f"/{MODEL}", json={"prompt": "doomed"}).json()["data"]["id"]
            unreadable = {"prompt": "p", "images": ["https://example.com/x.png"]}
            broken = client.post(f"/{MODEL}/edit", json=unreadable).json()["data"]["id"]
            for task in (staged, broken):
                result = client.get(f"/predictions/{task}/result").json()["data"]
                assert result["status"] == "failed"
            listed = client.post("/predictions", json={}).json()["data"]["items"]
            assert {item["id"]: item["status"] for item in listed} == {
                staged: "failed",
                broken: "failed",
            }
            failed = client.post("/predictions", json={"status": "failed"}).json()["data"]
            assert failed["total"] == 2
            assert client.get("/balance").json()["data"]["balance"] == STARTING_BALANCE
            usage = client.post("/user/usage_stats", json={}).json()["data"]
            assert usage["summary"] == {"total_cost": 0, "total_requests": 0}
            bills = client.post("/billings/search", json={}).json()["data"]
            assert bills["total"] == 0
