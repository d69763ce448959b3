"""The gateway hands requests under a provider surface's prefix straight to their route:
exactly the route Starlette's router would have chosen, or the router decides."""

from __future__ import annotations

import asyncio

import pytest
from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from emulator import EmulatorConfig, Engine, Progression, create_app
from emulator.core.faults import FaultBook
from emulator.core.record import RequestRecord
from emulator.http.exchange import ExchangeFaults
from emulator.http.gateway import Gateway, shortcuts
from emulator.http.hosts import ProviderHosts
from emulator.http.prefixed import PrefixedRoutes
from emulator.http.recorder import Recorder
from emulator.http.responses import HandlerApp, QuickAnswer
from emulator.providers.fal.routes import FalApi


async def _named(request: Request) -> Response:
    return JSONResponse({"path": request.path_params.get("path")})


def _catch_all(prefix: str) -> Route:
    return Route(prefix + "{path:path}", HandlerApp(_named, lambda _: None))


def test_the_apps_provider_surfaces_are_shortcuts() -> None:
    found = shortcuts(create_app().routes)
    assert set(found) == {"/fal/queue/", "/fal/run/", "/fal/cdn/", "/fal/rest/", "/wavespeed/"}
    assert isinstance(found["/wavespeed/"], PrefixedRoutes)


def test_a_route_an_earlier_one_could_shadow_is_left_to_the_router() -> None:
    routes = [
        Route("/a/{x}/y", _named),  # matches some paths under /a/
        _catch_all("/a/"),
        Mount("/b", routes=[]),
        _catch_all("/b/c/"),
        Route("/d/e", _named),  # a literal path outside /d/f/ shadows nothing
        _catch_all("/d/f/"),
    ]
    assert set(shortcuts(routes)) == {"/d/f/"}


def test_only_routes_that_answer_their_own_errors_are_taken() -> None:
    plain = Route("/p/{path:path}", _named)  # Starlette's exception layer would answer for it
    group = PrefixedRoutes("/q/", [Route("/q/x", _named)])
    assert set(shortcuts([plain, group, _catch_all("/r/")])) == {"/r/"}


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        ("GET", "/fal/queue/fal-ai/flux/dev/requests/nope/status", 404, "not found"),
        ("TRACE", "/fal/queue/fal-ai/flux/dev", 405, "Method Not Allowed"),  # the router's 405
        ("GET", "/fal/queue/a%0Ab/requests/x/status", 404, "Not Found"),  # no newline in {path}
        ("GET", "/wavespeed/api/v3/predictions/nope/result", 404, "not found"),
        ("GET", "/wavespeed/nowhere", 404, "Not Found"),  # no route of the group
    ],
)
def test_answers_are_the_routers(method: str, path: str, status: int, body: str) -> None:
    headers = (
        {"Authorization": "Key k"} if path.startswith("/fal") else {"Authorization": "Bearer k"}
    )
    with TestClient(create_app()) as client:
        answer = client.request(method, path, headers=headers)
    assert answer.status_code == status
    assert body.lower() in answer.text.lower()


def _gateway(shortcuts: dict[str, Route], routes: list[Route]) -> Gateway:
    """A gateway with ``shortcuts`` in front of a bare app of ``routes``."""
    return Gateway(
        Starlette(routes=routes),
        hosts=ProviderHosts(canonical={}, surfaces={}),
        recorder=Recorder(RequestRecord(), skip=()),
        exchange=ExchangeFaults(
            FaultBook(),
            locate=lambda _: None,
            name_endpoint=lambda *_: None,
            exchange_error=None,
            max_body_bytes=0,
            max_json_depth=0,
        ),
        shortcuts=shortcuts,
    )


def test_a_catch_all_without_methods_takes_every_method() -> None:
    route = _catch_all("/r/")
    with TestClient(_gateway({"/r/": route}, [route])) as client:
        assert client.request("PATCH", "/r/a/b").json() == {"path": "a/b"}


def test_shortcuts_of_every_prefix_length_take_their_requests() -> None:
    shortcuts = {"/r/": _catch_all("/r/"), "/long/": _catch_all("/long/")}
    with TestClient(_gateway(shortcuts, [])) as client:  # no router's route: only a shortcut
        assert client.get("/r/a").json() == {"path": "a"}
        assert client.get("/long/b/c").json() == {"path": "b/c"}
        assert client.get("/longer/d").status_code == 404


def test_shortcut_prefixes_that_start_one_another_are_refused() -> None:
    with pytest.raises(ValueError, match="start others"):
        _gateway({"/r/": _catch_all("/r/"), "/r/s/": _catch_all("/r/s/")}, [])


def test_an_app_under_a_root_path_is_routed_by_the_router() -> None:
    with TestClient(create_app(), root_path="/emu") as client:
        submitted = client.post(
            "/fal/queue/fal-ai/flux/dev", json={"prompt": "x"}, headers={"Authorization": "Key k"}
        )
    assert submitted.status_code == 200
    assert submitted.json()["status_url"].startswith("http://testserver/emu/fal/queue/")


def test_a_quick_answer_joins_the_record_and_is_marked_for_a_browser(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    quick, answered = FalApi.quick_status, []

    def counted(self: FalApi, scope: dict, path: str) -> QuickAnswer | None:
        answered.append(quick(self, scope, path))
        return answered[-1]

    monkeypatch.setattr(FalApi, "quick_status", counted)
    engine = Engine(EmulatorConfig(progression=Progression.parse("polls:5,5")))
    browser = {"Authorization": "Key k", "Origin": "http://localhost:5173"}
    with TestClient(create_app(engine=engine)) as client:
        submitted = client.post("/fal/queue/fal-ai/bitdance", json={"prompt": "x"}, headers=browser)
        poll = client.get(submitted.json()["status_url"] + "?logs=0", headers=browser)
    assert poll.status_code == 202
    assert [answer is not None for answer in answered] == [True]  # the poll: a POST is not asked
    assert poll.headers["access-control-allow-origin"] == "http://localhost:5173"
    recorded = engine.record.filter(path="/status").last
    assert (recorded.status, recorded.endpoint, recorded.key) == (202, "fal-ai/bitdance", "k")
    assert recorded.query == "logs=0" and recorded.headers["origin"] == "http://localhost:5173"


def test_a_staged_exchange_rule_answers_a_status_poll_before_its_quick_answer() -> None:
    engine = Engine(EmulatorConfig(progression=Progression.parse("polls:5,5")))
    engine.faults.add({"effect": "http_error", "status": 503, "method": "GET"})
    key = {"Authorization": "Key k"}
    with TestClient(create_app(engine=engine)) as client:
        submitted = client.post("/fal/queue/fal-ai/flux/dev", json={"prompt": "x"}, headers=key)
        poll = client.get(submitted.json()["status_url"], headers=key)
    assert poll.status_code == 503


@pytest.mark.parametrize("length", [20, 2_000])  # a path's location kept, and one too long
def test_an_exchange_rule_finds_its_path_again_and_again(length: int) -> None:
    engine = Engine(EmulatorConfig())
    model = "fal-ai/" + "m" * length
    engine.faults.add({"effect": "http_error", "status": 418, "path": "fal-ai/m*/requests/r/*"})
    key = {"Authorization": "Key k"}
    with TestClient(create_app(engine=engine)) as client:
        for _ in range(3):
            named = client.get(f"/fal/queue/{model}/requests/r/status", headers=key)
            assert named.status_code == 418
            other = client.get(f"/fal/queue/{model}/requests/s/status", headers=key)
            assert other.status_code == 404  # the rule's pattern does not take it


def test_a_server_giving_headers_as_lists_is_answered() -> None:
    """The ASGI spec types a scope's headers as an iterable of two-item iterables: some
    servers and adapters (Mangum, for one) give lists, which the record must still take."""
    app = create_app(engine=Engine(EmulatorConfig(progression=Progression.parse("polls:5,5"))))
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/fal/queue/fal-ai/flux/dev/requests/x/status",
        "raw_path": b"/fal/queue/fal-ai/flux/dev/requests/x/status",
        "root_path": "",
        "query_string": b"",
        "headers": [[b"host", b"testserver"], [b"authorization", b"Key k"]],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000),
    }
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 404  # fal's "not found", not a 500
    assert app.state.engine.record.filter(path="/status").last.status == 404


def test_a_status_poll_through_an_apps_own_compression_middleware() -> None:
    """An app that mounts the emulator behind Starlette's own GZipMiddleware (which edits
    the answer's headers in place, as a list) gets its status polls compressed, as every
    other answer, not a 500."""
    engine = Engine(EmulatorConfig(progression=Progression.parse("polls:5,5")))
    app = GZipMiddleware(create_app(engine=engine), minimum_size=16)
    key = {"Authorization": "Key k", "Accept-Encoding": "gzip"}
    with TestClient(app) as client:
        submitted = client.post("/fal/queue/fal-ai/flux/dev", json={"prompt": "x"}, headers=key)
        assert submitted.headers["content-encoding"] == "gzip"
        poll = client.get(submitted.json()["status_url"], headers=key)
    assert (poll.status_code, poll.headers["content-encoding"]) == (202, "gzip")
    assert poll.json()["status"] == "IN_QUEUE"


def _fal_call(client: TestClient, call: str) -> Response:
    key = {"Authorization": "Key k"}
    submitted = client.post("/fal/queue/fal-ai/bitdance", json={"prompt": "x"}, headers=key)
    return (
        client.get(submitted.json()["status_url"], headers=key) if call == "status" else submitted
    )


@pytest.mark.parametrize("call", ["submit", "status"])
def test_an_error_no_route_answers_is_the_apps_500_recorded_and_raised(
    monkeypatch: pytest.MonkeyPatch, call: str
) -> None:
    """The gateway answers its routes in front of Starlette's error layer: an error they do
    not answer gets the app's 500 all the same, joins the record, and reaches the server."""

    def broken(*_: object) -> None:
        raise RuntimeError("a bug")

    async def broken_submit(*_: object) -> None:
        raise RuntimeError("a bug")

    if call == "status":
        monkeypatch.setattr(FalApi, "quick_status", broken)
    else:
        monkeypatch.setattr(FalApi, "submit", broken_submit)
    engine = Engine(EmulatorConfig(progression=Progression.parse("polls:5,5")))
    with TestClient(create_app(engine=engine), raise_server_exceptions=False) as client:
        answer = _fal_call(client, call)
    expected = {"detail": "Internal Server Error", "error_type": "internal_error"}
    assert (answer.status_code, answer.json()) == (500, expected)
    assert answer.headers["x-fal-error-type"] == "internal_error"
    recorded = list(engine.record)[-1]
    assert (recorded.method, recorded.status) == ("GET" if call == "status" else "POST", 500)
    with TestClient(create_app()) as client, pytest.raises(RuntimeError, match="a bug"):
        _fal_call(client, call)


def test_a_gateway_without_an_answer_for_errors_answers_starlettes_500() -> None:
    async def broken(request: Request) -> Response:
        raise RuntimeError("a bug")

    route = Route("/r/{path:path}", HandlerApp(broken, lambda _: None))
    with TestClient(_gateway({"/r/": route}, [route]), raise_server_exceptions=False) as client:
        answer = client.get("/r/a")
    assert (answer.status_code, answer.text) == (500, "Internal Server Error")
