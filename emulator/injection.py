"""Exchange and media faults, applied to requests on their way in.

Answers are in the provider's own form: fal's ingress errors are nginx pages without an
``x-fal-request-id`` (the Python client retries those), its other errors ``{"detail"}``;
WaveSpeed's are its envelope. A ``reset`` starts an answer and drops the connection, which
every client sees as a broken transfer.
"""

from __future__ import annotations

import asyncio
import json
from http import HTTPStatus

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emulator.faults import Fault, FaultBook
from emulator.scopes import header

__all__ = ["ConnectionDropped", "FaultInjection", "drop_after", "fault_response"]

_NGINX = (
    "<html>\r\n<head><title>{code} {phrase}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {phrase}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


class ConnectionDropped(Exception):
    """Raised after an answer started, so that the connection ends mid-answer."""


def _where(path: str) -> tuple[str, str] | None:
    """The provider and the path under its surface (``fal``, ``fal-ai/x/requests/...``)."""
    parts = path.split("/", 3)
    if len(parts) < 3 or parts[1] not in ("fal", "wavespeed"):
        return None
    if parts[1] == "wavespeed":
        rest = path[len("/wavespeed/") :]
        return "wavespeed", rest.removeprefix("api/v3/")
    return "fal", parts[3] if len(parts) > 3 else ""


def fault_response(fault: Fault, provider: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """The status, headers and body an ``http_error`` rule answers with."""
    status = fault.status or 500
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    headers = []
    if fault.retry_after is not None:
        headers.append((b"retry-after", f"{fault.retry_after:g}".encode()))
    if provider == "fal" and status in (502, 503, 504) and not fault.message:
        body = _NGINX.format(code=status, phrase=phrase).encode()
        return status, [(b"content-type", b"text/html"), *headers], body
    message = fault.message or phrase
    if provider == "fal":
        payload: dict = {"detail": message}
        if fault.error_type:
            payload["error_type"] = fault.error_type
            headers.append((b"x-fal-error-type", fault.error_type.encode()))
    else:
        payload = {"code": status, "message": message, "data": None}
    return status, [(b"content-type", b"application/json"), *headers], json.dumps(payload).encode()


async def drop_after(send: Send, status: int, body: bytes, sent: int) -> None:
    """Start an answer of ``len(body)`` bytes, send ``sent`` of them, and drop."""
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    if sent:
        await send({"type": "http.response.body", "body": body[:sent], "more_body": True})
    raise ConnectionDropped("the connection dropped mid-answer (a staged fault)")


class FaultInjection:
    """ASGI middleware: the exchange faults of a `FaultBook`."""

    def __init__(self, app: ASGIApp, faults: FaultBook) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        where = _where(scope["path"]) if scope["type"] == "http" and self.faults.rules else None
        fault = None
        if where is not None:
            provider, rest = where
            key = header(scope, b"authorization").partition(" ")[2].strip()
            fault = self.faults.pick(
                "exchange",
                provider=provider,
                endpoint=rest,
                method=scope["method"],
                path=rest,
                key=key,
            )
        if fault is None:
            await self.app(scope, receive, send)
            return
        if fault.effect in ("delay", "hang"):
            # A hang is a delay meant to outlast the client's patience; both are bounded.
            await asyncio.sleep(fault.seconds or (60.0 if fault.effect == "hang" else 1.0))
            await self.app(scope, receive, send)
        elif fault.effect == "reset":
            await drop_after(send, 200, b"{}", 0)
        else:
            status, headers, body = fault_response(fault, where[0])
            headers.append((b"content-length", str(len(body)).encode()))
            start: Message = {"type": "http.response.start", "status": status, "headers": headers}
            await send(start)
            await send({"type": "http.response.body", "body": body})
