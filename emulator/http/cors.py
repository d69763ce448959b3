"""Cross-origin requests to the provider surfaces, as a browser makes them: a web app on its
own dev server (``http://localhost:5173``) calling fal through ``@fal-ai/client``, straight
or through ``/fal/proxy``, or WaveSpeed with ``fetch``.

fal's hosts answer browsers (the JS client's ``connectionMode: "client"`` streams from the
browser itself), so the provider surfaces answer preflights and let the origins allowed
(``cors_origins``: any by default) read their answers, headers included. Credentials
travel in the ``Authorization`` header, never in cookies, so no answer allows credentials.
The control plane and the dashboard are not cross-origin: they get none of this.
"""

from __future__ import annotations

from starlette.types import Message, Scope, Send

from emulator.http.asgi import header

#: seconds a browser may keep a preflight's answer
PREFLIGHT_MAX_AGE = 600


class Cors:
    """Which origins may call the provider surfaces, and the headers that say so."""

    def __init__(self, origins: str, *, surfaces: tuple[str, ...]) -> None:
        """``origins``: ``*`` for any, else a comma-separated list (``""``: none);
        ``surfaces``: the path prefixes it applies to."""
        self.any = origins.strip() == "*"
        self.origins = frozenset(o.strip().rstrip("/") for o in origins.split(",") if o.strip())
        self.surfaces = surfaces

    def origin(self, scope: Scope) -> str | None:
        """The request's origin if it is a cross-origin call this allows, else None."""
        if not scope["path"].startswith(self.surfaces):
            return None
        origin = header(scope, b"origin")
        if origin and (self.any or origin in self.origins):
            return origin
        return None

    async def preflight(self, scope: Scope, send: Send, origin: str) -> bool:
        """Answer ``scope`` if it is a preflight (True), else leave it (False)."""
        method = header(scope, b"access-control-request-method")
        if scope["method"] != "OPTIONS" or not method:
            return False
        allowed = [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-methods", method.encode("latin-1")),
            (b"access-control-max-age", str(PREFLIGHT_MAX_AGE).encode()),
            (b"vary", b"Origin"),
        ]
        asked = header(scope, b"access-control-request-headers")
        if asked:
            allowed.append((b"access-control-allow-headers", asked.encode("latin-1")))
        await send({"type": "http.response.start", "status": 204, "headers": allowed})
        await send({"type": "http.response.body", "body": b""})
        return True

    def sending(self, send: Send, origin: str) -> Send:
        """``send``, with the answer marked readable by ``origin``."""
        marks = [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-expose-headers", b"*"),
        ]

        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                # An answer the proxy forwards was marked once already: mark it once.
                kept = [
                    (name, value)
                    for name, value in message.get("headers", ())
                    if not name.lower().startswith(b"access-control-")
                ]
                varies = any(n.lower() == b"vary" and b"origin" in v.lower() for n, v in kept)
                marked_headers = [*kept, *marks, *(() if varies else [(b"vary", b"Origin")])]
                message = {**message, "headers": marked_headers}
            await send(message)

        return marked
