"""The Starlette application: every provider surface and the control plane on one app."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from emulator.config import EmulatorConfig
from emulator.core.engine import Engine
from emulator.core.faults import Fault
from emulator.http.asgi import refusable
from emulator.http.control import ControlApi
from emulator.http.cors import Cors
from emulator.http.exchange import ConnectionDropped, ExchangeFaults
from emulator.http.gateway import Gateway, Relay, shortcuts
from emulator.http.hosts import ProviderHosts
from emulator.http.index import index
from emulator.http.outage import StoreOutage
from emulator.http.recorder import Recorder
from emulator.http.ui import dashboard, outage_page
from emulator.providers.registry import (
    BY_NAME,
    CANONICAL_HOSTS,
    HOST_SURFACES,
    PROVIDERS,
    Provider,
)

logger = logging.getLogger("emulator")

#: where the dashboard is mounted
DASHBOARD = "/_emulator/ui"


def _provider_of(path: str) -> Provider | None:
    """The provider whose surface ``path`` is under, if any."""
    return BY_NAME.get(path.split("/", 2)[1] if "/" in path else "")


def _error_in_format(
    path: str, status: int, detail: str, headers: Mapping[str, str] | None
) -> Response:
    """An error in the format of the provider whose surface ``path`` is under (the
    control plane's and the rest: ``{"detail": ...}``)."""
    provider = _provider_of(path)
    if provider is not None:
        return provider.http_error(status, detail, headers)
    if status == 404:  # a provider's own path without its surface: a base URL one short
        for named in PROVIDERS:
            prefix = named.layout.path_prefix
            if prefix != "/" and path.startswith(prefix):
                hint = f"{detail}: {named.name}'s API is under /{named.name} here"
                return named.http_error(
                    404, f"{hint} (a base URL ending in /{named.name})", headers
                )
    return JSONResponse({"detail": detail}, status, headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's routing errors (no such path, a method a route does not take)."""
    assert isinstance(exc, HTTPException)
    return _error_in_format(request.scope["path"], exc.status_code, exc.detail, exc.headers)


def _refusing_unrouted_handshakes(default: ASGIApp) -> ASGIApp:
    """The router's answer to what no route takes (``default``, Starlette's), but for a
    WebSocket handshake the server lets be refused with an HTTP answer: the 404 an HTTP
    request there gets, in its provider's format. Starlette closes it, which the server
    sends as a bare 403 with no body, as if the path were there and forbidden."""

    async def not_found(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and refusable(scope):
            response = _error_in_format(scope["path"], 404, "Not Found", None)
            await WebSocket(scope, receive, send).send_denial_response(response)
        else:
            await default(scope, receive, send)

    return not_found


def _store_unavailable(scope: Scope, message: str, headers: dict[str, str]) -> Response:
    path = scope["path"]
    below = path.removeprefix(scope.get("emulator.root_path", ""))  # a Mount's is longer
    if (below + "/").startswith(DASHBOARD + "/"):
        page = outage_page(scope, message, headers)  # a browser's navigation: a page
        if page is not None:
            return page
    return _error_in_format(path, 503, message, headers)


#: the message of the last-resort 500 (the log has the traceback)
INTERNAL_ERROR = "Internal Server Error"


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, ConnectionDropped):  # a staged ``reset``: expected, and already sent
        return Response(status_code=500)
    # A safety net, never a feature: every input error has its own 4xx answer.
    path = request.scope["path"]
    logger.exception("unexpected error on %s %s", request.method, path)
    provider = _provider_of(path)  # its client reads errors in its own format
    if provider is not None:
        return provider.internal_error(INTERNAL_ERROR)
    return JSONResponse({"detail": INTERNAL_ERROR}, 500)


#: where the providers' own surfaces are (the rest is the emulator's: index, control plane)
PROVIDER_SURFACES = tuple(f"/{provider.name}/" for provider in PROVIDERS)
_UNRECORDED = ("/_emulator", *(path for p in PROVIDERS for path in p.forwarding))


#: how many request paths have their location kept, and the longest kept: with an exchange
#: rule in force every request asks, and a client polls one path again and again (working
#: it out cost a tenth of a status poll; issue 17); long made-up paths take no memory
LOCATED_PATHS, LOCATED_PATH_LENGTH = 4096, 512


def _locate(path: str) -> tuple[str, str] | None:
    """The provider of a request path, and the path below it that fault rules match."""
    if len(path) > LOCATED_PATH_LENGTH:
        return _location(path)
    return _kept_location(path)


def _location(path: str) -> tuple[str, str] | None:
    name, _, rest = path[1:].partition("/")
    provider = BY_NAME.get(name)
    return (name, provider.operation_path(rest)) if provider else None


_kept_location = functools.lru_cache(maxsize=LOCATED_PATHS)(_location)


def _exchange_error(fault: Fault, name: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    return BY_NAME[name].exchange_error(fault)


class _Emulator(Starlette):
    """Starlette, with the `Gateway` in front of its error layer: that layer wraps every
    answer to see whether it started, which the gateway's own answers need not pay."""

    def __init__(self, *, gateway: Callable[[ASGIApp], ASGIApp], **options: Any) -> None:
        super().__init__(**options)
        self._gateway = gateway

    def build_middleware_stack(self) -> ASGIApp:
        return self._gateway(super().build_middleware_stack())


def create_app(config: EmulatorConfig | None = None, *, engine: Engine | None = None) -> Starlette:
    """The emulator as an ASGI app; pass ``engine`` to share or control its state."""
    engine = engine or Engine(config)
    routes = [
        Route("/", index),
        *(route for provider in PROVIDERS for route in provider.routes(engine)),
        *ControlApi(engine).routes(),
        Mount(
            DASHBOARD,
            dashboard(
                engine,
                {p.name: p.failure_message for p in PROVIDERS},
                {p.name: p.result_body for p in PROVIDERS},
            ),
        ),
    ]
    recorder = Recorder(engine.record, skip=_UNRECORDED)
    exchange = ExchangeFaults(
        engine.faults,
        locate=_locate,
        name_endpoint=lambda provider, path, key: BY_NAME[provider].endpoint_named(
            engine, path, key
        ),
        exchange_error=_exchange_error,
        max_body_bytes=engine.config.max_body_bytes,
        max_json_depth=engine.config.max_json_depth,
    )
    taken = shortcuts(routes)
    app = _Emulator(
        routes=routes,
        middleware=[
            Middleware(
                Relay,
                recorder=recorder,
                exchange=exchange,
                # only a shared store can be lost: in memory, nothing to guard
                outage=StoreOutage(answer=_store_unavailable) if engine.store else None,
                shortcuts=taken,
            )
        ],
        exception_handlers={HTTPException: _http_error, Exception: _unexpected_error},
        gateway=functools.partial(
            Gateway,
            hosts=ProviderHosts(canonical=CANONICAL_HOSTS, surfaces=HOST_SURFACES),
            recorder=recorder,
            exchange=exchange,
            cors=Cors(engine.config.cors_origins, surfaces=PROVIDER_SURFACES),
            shortcuts=taken,
            unexpected=_unexpected_error,
        ),
    )
    app.router.default = _refusing_unrouted_handshakes(app.router.default)
    app.state.engine = engine
    app.state.recorder = recorder  # for a replay's own answers (`with_recordings`)
    return app
