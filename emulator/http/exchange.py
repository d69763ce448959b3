"""Exchange faults: a staged rule answers a request instead of its route.

A staged ``http_error`` is answered in the provider's own format (each provider's
``errors.exchange_error``). A ``reset`` starts an answer and drops the connection, which
every client sees as a broken transfer. ``delay`` and ``hang`` hold the request first; a
client that leaves meanwhile is answered (and recorded) 499, as a held sync run is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from http import HTTPStatus
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emulator.core.faults import Fault, FaultBook
from emulator.core.keys import split_authorization
from emulator.http.asgi import header, held_before_reading, note_endpoint, read_ahead
from emulator.http.bodies import (
    BODY_SECONDS,
    PayloadError,
    declares_json,
    decode_json,
    too_slow,
)


class ConnectionDropped(Exception):
    """Raised after an answer started, so that the connection ends mid-answer."""


#: the provider and the path fault rules match, of a request path (None: not a provider's)
Locate = Callable[[str], tuple[str, str] | None]
#: the endpoint a provider's request for a path, made with a key, is for (None: none)
NameEndpoint = Callable[[str, str, str], str | None]
#: an ``http_error`` rule's answer (status, raw headers, body) for a provider
ExchangeError = Callable[[Fault, str], tuple[int, list[tuple[bytes, bytes]], bytes]]


def status_line(fault: Fault) -> tuple[int, str, list[tuple[bytes, bytes]]]:
    """An ``http_error`` rule's status, its reason phrase, and its Retry-After header."""
    status = fault.status or 500
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    headers = []
    if fault.retry_after is not None:
        headers.append((b"retry-after", f"{fault.retry_after:g}".encode()))
    return status, phrase, headers


async def drop_after(
    send: Send, status: int, body: bytes, sent: int, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    """Start an answer of ``len(body)`` bytes (with ``headers``), send ``sent`` of them,
    and drop."""
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    if sent:
        await send({"type": "http.response.body", "body": body[:sent], "more_body": True})
    raise ConnectionDropped("the connection dropped mid-answer (a staged fault)")


#: the answer to a request held by a ``delay`` or ``hang`` when the server shuts down
SHUTTING_DOWN = Fault("http_error", status=503, retry_after=1)
#: the answer to one whose client left while it was held (no one reads it; the record
#: keeps it): nginx's "client closed request", fal's status for a client gone
CLIENT_GONE = Fault("http_error", status=499, message="Client Closed Request")


class ExchangeFaults:
    """The exchange faults of a `FaultBook`, between an HTTP request and its route."""

    def __init__(
        self,
        faults: FaultBook,
        *,
        locate: Locate,
        name_endpoint: NameEndpoint,
        exchange_error: ExchangeError,
        max_body_bytes: int,
        max_json_depth: int,
    ) -> None:
        """``name_endpoint``: the endpoint of a request a rule answers, for the record;
        ``max_body_bytes``: the most of a held request's body kept while it is held, and of
        one read for a rule's ``inputs`` (as JSON nested at most ``max_json_depth``)."""
        self.faults = faults
        self.locate = locate
        self.name_endpoint = name_endpoint
        self.exchange_error = exchange_error
        self.max_body_bytes = max_body_bytes
        self.max_json_depth = max_json_depth

    def quiet(self, path: str) -> bool:
        """Whether no rule could answer a request for ``path`` now, in memory (a shared
        book's rules are read per request)."""
        return self.faults.store is None and self._answerable(path) is None

    def _answerable(self, path: str) -> tuple[str, str] | None:
        """The provider and rule path of a request for ``path`` if a rule might answer it."""
        if not self.faults.has("exchange"):
            return None
        where = self.locate(path)
        if where is None or not self.faults.could_fire("exchange", where[1]):
            return None
        return where

    async def run(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        """``app`` answers the HTTP request in ``scope``, unless a rule answers first."""
        if self.faults.store is None:
            await self._exchange(app, scope, receive, send)
        elif self.locate(scope["path"]) is None:
            # The control plane and health never ask the shared rules: health must answer
            # (503) from its own check while the store is down.
            await app(scope, receive, send)
        else:
            with self.faults.request_scope():  # shared rules: checked once per request
                await self._exchange(app, scope, receive, send)

    async def _exchange(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        where = self._answerable(scope["path"])
        if where is None:
            await app(scope, receive, send)
            return
        provider, rest = where
        key = split_authorization(header(scope, b"authorization"))[1]
        payload = None
        if (
            scope["method"] not in ("GET", "HEAD")  # no body, no input
            and declares_json(scope)  # (an upload's bytes: not read)
            and self.faults.wants_inputs("exchange", provider, rest)
        ):
            payload, receive = await self._inputs(receive)
        fault = self.faults.pick(
            "exchange",
            provider=provider,
            endpoint=rest,
            method=scope["method"],
            path=rest,
            key=key,
            payload=payload,
        )
        if fault is None:
            await app(scope, receive, send)
            return
        answer = fault
        if fault.effect in ("delay", "hang"):
            held = await self._hold(fault, receive)
            if not isinstance(held, Fault):
                await app(scope, held, send)
                return
            answer = held
        # Answered without its route: the record (`.calls()`, its endpoint filter) still
        # counts it as a call of the endpoint its route would have named.
        endpoint = self.name_endpoint(provider, scope["path"], key)
        if endpoint is not None:
            note_endpoint(scope, endpoint)
        if answer.effect == "reset":
            await drop_after(send, 200, b"{}", 0)
        else:
            await self._error(answer, provider, send)

    async def _inputs(self, receive: Receive) -> tuple[Any, Receive]:
        """The request's JSON body, for a rule's ``inputs`` to match (None: no JSON within
        the limits, which no such rule matches), and the ``receive`` its route reads it with.
        Read ahead only while such a rule is in force, and only a body said to be JSON; its
        route then reads it as ever (a body not whole within `BODY_SECONDS` matches no such
        rule, and its route refuses it with the 408 of a body too slow, without waiting
        for it as long again)."""
        raw, receive = await read_ahead(receive, self.max_body_bytes, BODY_SECONDS, too_slow)
        if raw is None:
            return None, receive
        try:
            return decode_json(raw, max_depth=self.max_json_depth), receive
        except PayloadError:
            return None, receive

    async def _hold(self, fault: Fault, receive: Receive) -> Receive | Fault:
        """Hold a request for a ``delay`` or ``hang`` rule: the ``receive`` its route then
        reads it with, or the answer instead (its client left, or the server is going)."""
        # A hang is a delay meant to outlast the client's patience; both are bounded.
        seconds = fault.seconds or (60.0 if fault.effect == "hang" else 1.0)
        try:
            stayed = await held_before_reading(receive, seconds, self.max_body_bytes)
        except asyncio.CancelledError:
            # The server's graceful shutdown cancels what is still held once it has
            # waited long enough; uvicorn would answer a bare text/plain 500. A server
            # going away answers its provider's 503 instead (as does an emulation
            # ending, in-process).
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            return SHUTTING_DOWN
        return CLIENT_GONE if stayed is None else stayed

    async def _error(self, fault: Fault, provider: str, send: Send) -> None:
        """Answer an ``http_error`` rule in ``provider``'s format."""
        status, headers, body = self.exchange_error(fault, provider)
        headers.append((b"content-length", str(len(body)).encode()))
        start: Message = {"type": "http.response.start", "status": status, "headers": headers}
        await send(start)
        await send({"type": "http.response.body", "body": body})
