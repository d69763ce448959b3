"""A dashboard in the browser at ``/_emulator/ui``: jobs, media, requests, faults, endpoints.

Server-rendered (Jinja2), a little plain JavaScript as a static file, no build step and no
fetch from anywhere else. It reads the engine; its forms act through the control plane.
Like the control plane, it refuses another site's pages (same_origin.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from emulator.http.same_origin import denial

if TYPE_CHECKING:
    from emulator.core.engine import Engine
    from emulator.core.jobs import Failure, Job
    from emulator.http.ui.routes import Dashboard
    from emulator.media.links import Linker

__all__ = ["Dashboard", "dashboard", "outage_page"]

#: provider name → the words its clients are told of a job's failure
Told = Mapping[str, Callable[["Failure"], str]]
#: provider name → what its result route answers for a finished job (engine, job, its
#: media's linker, the base URL of the provider's surface)
Results = Mapping[str, Callable[["Engine", "Job", "Linker", str], Any]]


def dashboard(engine: Engine, told: Told | None = None, results: Results | None = None) -> ASGIApp:
    """The dashboard as an ASGI app, to mount at ``/_emulator/ui``; ``told``: each
    provider's words to its clients for a job's failure, and ``results``: its result
    route's answer, which a job's page shows (else the output as the engine made it)."""
    return _BuiltOnFirstRequest(engine, told or {}, results or {})


def outage_page(scope: Scope, message: str, headers: dict[str, str]) -> Response | None:
    """The answer to a browser's navigation to a dashboard page while the state store is
    away: a page saying ``message``, as the 503 with ``headers``; None for any other request
    (the page's own fetches, the control plane's callers: they read the JSON)."""
    if "text/html" not in Headers(scope=scope).get("accept", ""):
        return None
    from emulator.http.ui.routes import outage_page as page

    return page(scope, message, headers)


class _BuiltOnFirstRequest:
    """The dashboard, its modules loaded and its routes built by its first request (a
    server that nobody browses never pays for them: ~5 ms of every start-up); another
    site's pages are refused before (same_origin.py)."""

    def __init__(self, engine: Engine, told: Told, results: Results) -> None:
        self.engine = engine
        self.told, self.results = told, results
        self._app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        denied = denial(scope, self.engine.config) if scope["type"] == "http" else None
        if denied is not None:
            await denied(scope, receive, send)
            return
        if self._app is None:
            from emulator.http.ui.routes import Dashboard

            self._app = Dashboard(self.engine, self.told, self.results).app()
        await self._app(scope, receive, send)


def __getattr__(name: str) -> Any:
    if name == "Dashboard":
        from emulator.http.ui.routes import Dashboard

        return Dashboard
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
