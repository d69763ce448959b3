"""Reading an ASGI scope directly, where building Starlette's objects costs too much, and
hearing a client leave."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from starlette.types import Message, Receive, Scope

from emulator.core.record import first_header


def header(scope: Scope, name: bytes) -> str:
    """The first value of header ``name`` (lower-case bytes), or ``""``."""
    return first_header(scope["headers"], name)


#: the scope key under which a handler notes which endpoint a request was for
ENDPOINT = "emulator.endpoint"
#: the scope key under which `bodies.read_body` keeps the body it read (what arrived, if it
#: refused it), for the request record
BODY = "emulator.body"


def note_endpoint(scope: Scope, endpoint_id: str) -> None:
    """Tell the request record which endpoint the request in ``scope`` is for."""
    scope[ENDPOINT] = endpoint_id


def refusable(scope: Scope) -> bool:
    """Whether the server lets the WebSocket handshake in ``scope`` be refused with an HTTP
    answer (ASGI's ``websocket.http.response`` extension); else only with a close, which
    it sends as a bare 403."""
    return "websocket.http.response" in scope.get("extensions", {})


async def disconnected(receive: Receive) -> None:
    """Returns once the client has gone (its body read, what comes next is its leaving),
    or its connection can say no more."""
    try:
        while (await receive())["type"] != "http.disconnect":
            pass
    except Exception:  # a server that raises rather than answers: gone all the same
        return


async def held_while_connected(receive: Receive, seconds: float) -> bool:
    """Wait ``seconds``, or less if the client leaves: whether it stayed to the end (if
    not, nothing it waited for need be made, and what it held is free at once)."""
    gone = asyncio.ensure_future(disconnected(receive))
    try:
        done, _ = await asyncio.wait({gone}, timeout=seconds)
    finally:
        gone.cancel()
    return not done


async def held_before_reading(
    receive: Receive, seconds: float, max_body_bytes: int
) -> Receive | None:
    """Hold a request whose body is still unread ``seconds``, hearing its client leave
    meanwhile: the ``receive`` its route then reads it with (what arrived meanwhile
    first), or None if the client left. Past ``max_body_bytes`` of body (more than its
    route reads) it stops listening, and so keeping what arrives."""
    arrived: deque[Message] = deque()
    size = 0

    async def keeping() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] != "http.disconnect":
            arrived.append(message)
            size += len(message.get("body", b""))
            if size > max_body_bytes:
                await asyncio.Future()  # deaf for the rest of the hold
        return message

    if not await held_while_connected(keeping, seconds):
        return None
    return _replaying(arrived, receive, None)


async def read_ahead(
    receive: Receive, limit: int, seconds: float, late: Callable[[], Exception]
) -> tuple[bytes | None, Receive]:
    """The whole body of a request, read before its route (None: more than ``limit``
    bytes, or not all there within ``seconds``, or its client gone), and the ``receive``
    its route then reads it with, from its start, as if nothing had read it. A body not
    whole in time has had its time: its route's next read past what arrived raises
    ``late()``, rather than waiting as long again."""
    arrived: deque[Message] = deque()
    size, whole, timed_out = 0, False, False
    try:
        async with asyncio.timeout(seconds):
            while not whole and size <= limit:
                message = await receive()
                arrived.append(message)
                if message["type"] != "http.request":  # http.disconnect
                    break
                size += len(message.get("body", b""))
                whole = not message.get("more_body", False)
    except TimeoutError:
        timed_out = True
    body = b"".join(m.get("body", b"") for m in arrived) if whole and size <= limit else None
    return body, _replaying(arrived, receive, late if timed_out else None)


def _replaying(
    arrived: deque[Message], receive: Receive, late: Callable[[], Exception] | None
) -> Receive:
    """``receive``, answering with what ``arrived`` first; then raising ``late()`` if
    given."""

    async def replayed() -> Message:
        if arrived:
            return arrived.popleft()
        if late is not None:
            raise late()
        return await receive()

    return replayed
