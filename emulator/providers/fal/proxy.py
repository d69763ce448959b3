"""fal's proxy protocol, for clients that cannot be pointed at another host.

``@fal-ai/client`` with ``proxyUrl: {url, when: "always"}`` sends every request to the
proxy with the real target in ``x-fal-target-url``. The emulator serves that protocol at
``/fal/proxy``: the target's host picks the fal surface, its path and query are kept, and
the request is answered by the app itself, streaming and all. The Host header stays the
emulator's, so every URL in the answer (an upload URL the client PUTs to directly, say)
points back at the emulator.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from starlette.types import Receive, Scope, Send

from emulator.http.asgi import header
from emulator.providers.fal.errors import FalError
from emulator.providers.fal.hosts import ALIASES, FORWARDING, SURFACES

PROXY_PATH = FORWARDING[0]
_FAL_HOSTS = {**{host: surface for surface, host in SURFACES.items()}, **ALIASES}
TARGET_HEADER = b"x-fal-target-url"


class FalProxy:
    """ASGI endpoint: forward a proxied request to the surface its target names."""

    def __init__(self, default_key: str | None = None) -> None:
        # A proxy holds the key in production; a request without one may borrow this.
        self.default_key = default_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            target = urlsplit(header(scope, TARGET_HEADER))
            hostname = target.hostname or ""
        except ValueError:  # e.g. an unclosed IPv6 bracket
            hostname = ""
        surface = _FAL_HOSTS.get(hostname.lower())
        if surface is None:
            # 400, as fal's proxy library answers a target it does not allow (libs/proxy
            # since fal-js #188, 2026-02; 412 before), with the reason spelled out.
            error = FalError.detail(
                400, "x-fal-target-url must name a fal host (fal.run, queue.fal.run, rest.fal.ai)"
            )
            await error.response()(scope, receive, send)
            return
        headers = [(k, v) for k, v in scope["headers"] if k != TARGET_HEADER]
        if self.default_key and not header(scope, b"authorization"):
            headers.append((b"authorization", f"Key {self.default_key}".encode()))
        path = f"/{surface}{unquote(target.path) or '/'}"
        forwarded = {
            **scope,
            "path": path,
            "raw_path": f"/{surface}{target.path or '/'}".encode(),
            "query_string": target.query.encode(),
            "headers": headers,
        }
        await scope["app"](forwarded, receive, send)
