"""The Starlette application: every provider surface and the control plane on one app."""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from emulator.config import EmulatorConfig
from emulator.control import ControlApi
from emulator.engine import Engine
from emulator.hosts import ProviderHosts
from emulator.injection import FaultInjection
from emulator.providers.fal import FalApi
from emulator.providers.wavespeed import WaveSpeedApi
from emulator.record import Recording

__all__ = ["create_app"]

logger = logging.getLogger("emulator")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"detail": exc.detail}, exc.status_code, exc.headers)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    # A safety net, never a feature: every input error has its own 4xx answer.
    logger.exception("unexpected error on %s %s", request.method, request.url.path)
    return JSONResponse({"detail": "Internal Server Error", "error_type": "internal_error"}, 500)


def create_app(config: EmulatorConfig | None = None, *, engine: Engine | None = None) -> Starlette:
    """The emulator as an ASGI app; pass ``engine`` to share or control its state."""
    engine = engine or Engine(config)
    # The fal queue comes first: its status polls are the hot path.
    routes = [
        *FalApi(engine).routes(),
        *WaveSpeedApi(engine).routes(),
        *ControlApi(engine).routes(),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(ProviderHosts),
            Middleware(Recording, record=engine.record),
            Middleware(FaultInjection, faults=engine.faults),
        ],
        exception_handlers={HTTPException: _http_error, Exception: _unexpected_error},
    )
    app.state.engine = engine
    return app
