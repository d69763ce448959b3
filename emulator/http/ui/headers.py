"""The headers every dashboard answer carries: a strict Content-Security-Policy (no inline
script or style, nothing from another origin), no sniffing, no framing, no referrer; its
errors (a path it does not have, a method a page does not take) included."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "media-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)


class SecurityHeaders:
    """ASGI middleware adding `SECURITY_HEADERS` to every answer of ``app``, its
    `HTTPException`s answered here (a router or static files mounted raise them, for the
    app's error handler, which would answer without these headers)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def send_secured(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message = {**message, "headers": [*message.get("headers", ()), *SECURITY_HEADERS]}
            await send(message)

        try:
            await self.app(scope, receive, send_secured)
        except HTTPException as error:
            if started:
                raise
            answer = PlainTextResponse(error.detail, error.status_code, error.headers)
            await answer(scope, receive, send_secured)
