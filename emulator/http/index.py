"""``GET /``: what this server is, in JSON for tools and a short page for browsers."""

from __future__ import annotations

import html
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from emulator._version import __version__
from emulator.core.engine import Engine

#: where the documentation lives (no public address is assumed)
DOCS = "docs/ in the provider-emulator sources (mkdocs serve), and provider-emulator --help"
#: surface → what it stands for, as docs/index.md's table says (tests/http/test_index.py)
SURFACES = {
    "/fal/queue/": "https://queue.fal.run/",
    "/fal/run/": "https://fal.run/",
    "/fal/rest/": "https://rest.fal.ai/",
    "/fal/cdn/": "https://v3.fal.media/",
    "/fal/web/": "https://fal.ai/ (the endpoints' OpenAPI documents)",
    "/fal/api/": "https://api.fal.ai/ (the model search)",
    "/fal/proxy": "fal's proxy protocol (@fal-ai/client proxyUrl)",
    "/wavespeed/": "https://api.wavespeed.ai/",
    "/wavespeed/cdn/": "WaveSpeed's output host",
}
CONTROL = ("health", "endpoints", "jobs", "requests", "webhooks", "faults", "progression", "clock")


def describe(engine: Engine) -> dict[str, Any]:
    return {
        "name": "provider-emulator",
        "version": __version__,
        "endpoints": engine.contracts.counts(),
        "surfaces": SURFACES,
        "control": {name: f"/_emulator/{name}" for name in CONTROL},
        "docs": DOCS,
    }


def _page(about: dict[str, Any]) -> str:
    def rows(mapping: dict[str, Any]) -> str:
        return "".join(
            f"<tr><td><code>{html.escape(k)}</code></td><td>{html.escape(str(v))}</td></tr>"
            for k, v in mapping.items()
        )

    return (
        "<!doctype html><html lang=en><meta charset=utf-8><title>provider-emulator</title>"
        f"<h1>provider-emulator {html.escape(about['version'])}</h1>"
        f"<p>Endpoints: {html.escape(_counted(about['endpoints']))}</p>"
        f"<h2>Surfaces</h2><table>{rows(about['surfaces'])}</table>"
        f"<h2>Control plane</h2><table>{rows(about['control'])}</table>"
        f"<p>Documentation: {html.escape(DOCS)}</p></html>"
    )


def _counted(endpoints: dict[str, int]) -> str:
    """Each provider's endpoint count, as words: ``fal 1,546 · wavespeed 12``."""
    return " · ".join(f"{provider} {count:,}" for provider, count in endpoints.items())


async def index(request: Request) -> Response:
    about = describe(request.app.state.engine)
    if "text/html" in request.headers.get("accept", ""):
        return HTMLResponse(_page(about))
    return JSONResponse(about)
