"""A shared store lost mid-run: 503s in the asking provider's format, a health check that
says so, and recovery when the store returns. A real redis-server, stopped and restarted."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket, WebSocketDisconnect

from emulator import BackgroundServer, EmulatorConfig, Progression, create_app
from emulator.core.store import open_store
from tests import shared_stores
from tests.bounded import eventually
from tests.redis_server import RedisServer, refused_port

#: seconds a store that is back may take to be used again (the store's break after a failure)
RECOVERY = 10.0


Made = Callable[..., Starlette]

session_redis = shared_stores.session_redis


@pytest.fixture
def made() -> Iterator[Made]:
    """`create_app`, its engine closed after the test: its webhook sender would otherwise
    poll this test's Redis port for the rest of the run, and take the deliveries of a later
    test whose Redis is given the same port."""
    apps: list[Starlette] = []

    def make(config: EmulatorConfig | None = None) -> Starlette:
        apps.append(create_app(config))
        return apps[-1]

    yield make
    for app in apps:
        app.state.engine.close()


def recovered(check: Callable[[], object]) -> bool:
    """Whether ``check`` comes true within `RECOVERY` seconds of the store's return."""
    return eventually(check, RECOVERY, 0.1)


@pytest.mark.slow  # stops its Redis and waits for the store's 1 s break to pass: 1 s
def test_health_reports_the_store_and_is_503_while_it_is_down(
    redis: RedisServer, made: Made
) -> None:
    with TestClient(made(EmulatorConfig(state=redis.url))) as client:
        body = client.get("/_emulator/health").json()
        assert body["state"] == {"kind": "redis", "url": redis.url, "ok": True}
        assert body["status"] == "ok" and body["pid"] == os.getpid()
        redis.stop()
        down = client.get("/_emulator/health")
        assert (down.status_code, down.headers["retry-after"]) == (503, "1")
        assert down.json()["status"] == "unavailable" and down.json()["state"]["ok"] is False
        assert down.json()["state"]["error"].startswith(f"Redis at {redis.url}: ")
        redis.start()
        assert recovered(lambda: client.get("/_emulator/health").json()["state"]["ok"])


def test_health_never_shows_the_stores_credentials(made: Made) -> None:
    with refused_port() as port:
        url = f"redis://user:hunter2@127.0.0.1:{port}/0"
        with TestClient(made(EmulatorConfig(state=url))) as client:
            down = client.get("/_emulator/health")
    assert down.status_code == 503 and "hunter2" not in down.text
    assert down.json()["state"]["url"].startswith("redis://127.0.0.1:")


def test_health_shows_the_prefix_whether_the_store_answers_or_not(
    session_redis: str, made: Made
) -> None:
    # the prefix was shown only while Redis was down (the URL as configured, masked)
    up = f"{session_redis}?prefix=team%3Aci"
    with TestClient(made(EmulatorConfig(state=up))) as client:
        assert client.get("/_emulator/health").json()["state"]["url"] == up
    with refused_port() as port:
        down = f"redis://user:hunter2@127.0.0.1:{port}/0?prefix=team%3Aci"
        with TestClient(made(EmulatorConfig(state=down))) as client:
            state = client.get("/_emulator/health").json()["state"]
    assert state["url"] == f"redis://127.0.0.1:{port}/0?prefix=team%3Aci"
    assert state["error"].startswith(f"Redis at {state['url']}: ")


def test_health_of_the_in_memory_state(made: Made) -> None:
    with TestClient(made()) as client:
        assert client.get("/_emulator/health").json()["state"] == {"kind": "memory", "ok": True}


@pytest.mark.slow  # stops its Redis and waits for the store's 1 s break to pass: 1 s
def test_a_lost_store_is_a_503_in_each_providers_format(redis: RedisServer, made: Made) -> None:
    """Wherever a request reaches the store, its `StoreUnavailable` becomes a 503 in the
    format of the surface asked (here, a route of the test's own reads the real store)."""
    store = open_store(redis.url)

    async def reads_the_store(request: Request) -> Response:
        return Response(store.do("get", "greeting") or b"none")

    app = made(EmulatorConfig(state=redis.url))  # the outage layer is for shared state
    for surface in ("fal", "wavespeed", "_emulator"):
        app.router.routes.insert(0, Route(f"/{surface}/probe", reads_the_store))
    with TestClient(app) as client:
        assert client.get("/fal/probe").text == "none"
        redis.stop()
        fal = client.get("/fal/probe")
        wavespeed = client.get("/wavespeed/probe")
        control = client.get("/_emulator/probe")
        on_its_host = client.get("/probe", headers={"Host": "api.wavespeed.ai"})
        for answer in (fal, wavespeed, control, on_its_host):
            assert (answer.status_code, answer.headers["retry-after"]) == (503, "1")
        # The store's own words may differ from one request to the next (the first after
        # the stop finds its connection reset, later ones refused): the formats may not.
        assert set(control.json()) == {"detail"}
        assert "state store is unavailable" in control.json()["detail"]
        # fal's as its ingress answers: fal_client retries a 502-504 with no request id
        # whose body says nginx, and raised a JSON 503 at once (an audit)
        assert "nginx" in fal.text and "x-fal-request-id" not in fal.headers
        assert "state store is unavailable" in fal.text
        assert pytest.importorskip("fal_client.client")._should_retry_response(fal)
        for wavespeed_format in (wavespeed, on_its_host):
            assert wavespeed_format.json()["code"] == 503
            assert wavespeed_format.json()["data"] is None
            assert "state store is unavailable" in wavespeed_format.json()["message"]
        redis.start()
        assert recovered(lambda: client.get("/wavespeed/probe").text == "none")
    store.close()


@pytest.mark.slow  # stops its Redis and waits for the store's 1 s break to pass: 1 s
def test_a_dashboard_page_navigated_to_is_a_page_saying_the_store_is_away(
    redis: RedisServer, made: Made
) -> None:
    """A browser shows a page, not raw JSON; the page's own fetches (``*/*``) and the
    control plane's callers still read the JSON."""
    navigation = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    with TestClient(made(EmulatorConfig(state=redis.url))) as client:
        assert client.get("/_emulator/ui/jobs", headers=navigation).status_code == 200
        redis.stop()
        page = client.get("/_emulator/ui/jobs", headers=navigation)
        assert (page.status_code, page.headers["retry-after"]) == (503, "1")
        assert page.headers["content-type"].startswith("text/html")
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert "state store is unavailable</h1>" in page.text
        assert f"Redis at {redis.url}" in page.text and 'href="/_emulator/ui/jobs"' in page.text
        fetched = client.get("/_emulator/ui/jobs/rows", headers={"Accept": "*/*"})
        control = client.get("/_emulator/jobs", headers=navigation)
        for answer in (fetched, control):
            assert (answer.status_code, answer.headers["retry-after"]) == (503, "1")
            assert "state store is unavailable" in answer.json()["detail"]
        redis.start()
        assert recovered(
            lambda: client.get("/_emulator/ui/jobs", headers=navigation).status_code == 200
        )


def test_health_of_a_data_dir(tmp_path: Path, made: Made) -> None:
    with TestClient(made(EmulatorConfig(data_dir=tmp_path))) as client:
        state = client.get("/_emulator/health").json()["state"]
    assert state == {"kind": "sqlite", "url": f"sqlite://{tmp_path.resolve()}/state.db", "ok": True}


def test_a_stream_under_way_ends_and_a_websocket_is_told_to_try_later(
    redis: RedisServer, made: Made
) -> None:
    store = open_store(redis.url)

    async def stream(request: Request) -> Response:
        async def lines() -> AsyncIterator[bytes]:
            yield b"data: first\n\n"
            yield store.do("get", "next") or b""

        return StreamingResponse(lines(), media_type="text/event-stream")

    async def session(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text((store.do("get", "greeting") or b"none").decode())

    app = made(EmulatorConfig(state=redis.url))  # the outage layer is for shared state
    # under the control plane's path: no fault rule is read before the stream starts
    app.router.routes.insert(0, Route("/_emulator/stream", stream))
    app.router.routes.insert(0, WebSocketRoute("/_emulator/session", session))
    redis.stop()
    with TestClient(app) as client:
        with client.stream("GET", "/_emulator/stream") as answer:
            assert answer.status_code == 200
            assert b"".join(answer.iter_bytes()) == b"data: first\n\n"
        with pytest.raises(WebSocketDisconnect) as ended:
            with client.websocket_connect("/_emulator/session") as websocket:
                websocket.receive_text()
    assert ended.value.code == 1013
    store.close()


@pytest.mark.slow  # a served stream through a 2.5 s outage: 3.5 s
def test_a_fal_status_stream_waits_out_an_outage_and_goes_on(redis: RedisServer) -> None:
    """A status stream ended cleanly when the store went away: @fal-ai/client's streaming
    mode took that for the end, asked for the result and got "still in progress" (an
    audit). The stream waits with comments now, and carries on to COMPLETED. (Served:
    Starlette's older test client reads a whole stream before it returns.)"""
    config = EmulatorConfig(state=redis.url, progression=Progression.parse("wall:1,1,0"))
    headers = {"Authorization": "Key k1"}
    with BackgroundServer(config) as server, httpx.Client(base_url=server.url) as client:
        queue = "/fal/queue/fal-ai/bitdance"
        submitted = client.post(queue, json={"prompt": "x"}, headers=headers).json()
        status = submitted["status_url"].removeprefix(server.url)
        events = []
        with client.stream("GET", status + "/stream", headers=headers, timeout=40) as stream:
            lines = stream.iter_lines()
            events.append(next(lines))  # IN_QUEUE or IN_PROGRESS: the stream is under way
            redis.stop()
            outage = threading.Timer(2.5, redis.start)  # past the job's 2 s
            outage.start()
            try:
                events += list(lines)  # bounded: the stream's patience, 30 s
            finally:
                outage.join(timeout=10)
    text = "\n".join(events)
    assert "state store is away" in text and '"status": "COMPLETED"' in text


@pytest.mark.slow  # starts its Redis late and waits for the store's 1 s break to pass: 1 s
def test_an_emulator_made_while_its_store_is_down_serves_once_it_is_up(
    tmp_path: Path, made: Made
) -> None:
    redis = RedisServer(tmp_path)  # not started yet
    headers = {"Authorization": "Key k1"}
    with TestClient(made(EmulatorConfig(state=redis.url)), headers=headers) as client:
        down = client.post("/fal/queue/fal-ai/bitdance", json={"prompt": "x"})
        assert down.status_code == 503 and "state store is unavailable" in down.text
        redis.start()
        try:
            assert recovered(lambda: client.get("/_emulator/health").status_code == 200)
            submitted = client.post("/fal/queue/fal-ai/bitdance", json={"prompt": "x"})
            assert submitted.status_code == 200
            status = client.get(submitted.json()["status_url"])
            assert status.status_code in (200, 202)
        finally:
            redis.stop()


@pytest.mark.slow  # waits out the store's 1 s timeout on a paused Redis
def test_a_stalled_store_costs_one_timeout_not_one_per_request(
    redis: RedisServer, made: Made
) -> None:
    headers = {"Authorization": "Key k1"}
    with TestClient(made(EmulatorConfig(state=redis.url)), headers=headers) as client:
        status_url = client.post("/fal/queue/fal-ai/bitdance", json={"prompt": "x"}).json()[
            "status_url"
        ]
        redis.pause()
        try:
            started = time.monotonic()
            answers = [client.get(status_url).status_code for _ in range(10)]
            took = time.monotonic() - started
        finally:
            redis.resume()
        assert answers == [503] * 10
        assert took < 5  # ten timeouts in turn would be 10 s or more


def test_an_error_reply_of_redis_is_a_503_not_a_500(redis: RedisServer, made: Made) -> None:
    headers = {"Authorization": "Key k1"}
    with TestClient(made(EmulatorConfig(state=redis.url)), headers=headers) as client:
        raw = open_store(redis.url)
        raw._client.config_set("maxmemory", 1)  # every write is now refused: OOM
        try:
            refused = client.post("/fal/queue/fal-ai/bitdance", json={"prompt": "x"})
        finally:
            raw._client.config_set("maxmemory", 0)
        assert refused.status_code == 503 and "maxmemory" in refused.text
