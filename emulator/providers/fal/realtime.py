"""fal's realtime sessions: ``wss://fal.run/{app}/realtime`` (here ``/fal/run/{app}/realtime``).

A session follows fal's realtime app template (``fal.realtime``, unary mode), read from the
fal SDK: every input frame becomes one result frame, in order; inputs that arrive while one
is being made wait in a buffer of ``max_buffering`` places (the query parameter both
clients send, 1 to 60), and when it is full the oldest waiting input is dropped, so a
client that sends faster than results come sees the newest inputs answered. The buffer is
bounded in bytes too (`BUFFERED_BODIES` bodies at the body limit: sixty frames just under
it were 1.2 GB a session), and a session is one of the requests its key may hold open
(``--max-held-per-key``; one more is refused at the handshake with a 429). A session with
no input for ``realtime_idle_timeout`` seconds ends as the template ends it: an
``x-fal-error`` ``TIMEOUT`` message, then a normal close.

Which endpoints have a realtime session, and at which path, is contract data: the
``x-emulator-realtime`` object in a document's ``info`` (``{"path": "/realtime"}``).

Admission happens at the handshake: an unknown app answers 404, a missing or bad
credential 401, a token for other apps 403, each in fal's ``{"detail"}`` body (fal's gateway
codes here are guesses). Inside a session, an input the model rejects or fails on gets
fal's ``x-fal-error`` message and the session closes normally, as fal's template does; a
frame that is not an input (not msgpack or JSON, not a map) closes with 1003 and one over
the body limit with 1009, each after an ``x-fal-error`` saying why.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import deque
from collections.abc import Mapping
from typing import Any

from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket, WebSocketDisconnect

from emulator.contracts.documents import Endpoint
from emulator.core.engine import Engine
from emulator.core.excerpts import json_excerpt
from emulator.core.holds import TooManyHeld
from emulator.core.jobs import Failure
from emulator.core.outcomes import JobFailed
from emulator.http.asgi import header, refusable
from emulator.http.cdn import run_linked
from emulator.http.hosts import public_base
from emulator.media.links import Linker, data_uri_linker, url_linker
from emulator.providers.fal.errors import FalError, failure_error
from emulator.providers.fal.frames import (
    INTERNAL_ERROR,
    NORMAL_CLOSURE,
    BadFrame,
    Input,
    decode_input,
    encode_output,
    error_message,
)
from emulator.providers.fal.hosts import ALIASES, SURFACES
from emulator.providers.fal.tokens import Tokens

logger = logging.getLogger("emulator")

#: the most inputs a session buffers: the clients' own bound on ``max_buffering``
MAX_BUFFERING = 60
#: the bytes a session buffers at most, in bodies at the body limit (the newest input is
#: always kept: the oldest go first, as when the buffer is full)
BUFFERED_BODIES = 2
#: the method the request record gives a realtime input
WEBSOCKET = "WEBSOCKET"
_FAL_HOSTS = {*SURFACES.values(), *ALIASES}


class _Stalled(Exception):
    """The client read nothing for the idle timeout: a send waited on its full buffer."""


def realtime_path(endpoint: Endpoint) -> str | None:
    """The path below the endpoint id where its realtime session is, or None."""
    marker = endpoint.document.get("info", {}).get("x-emulator-realtime")
    return str(marker.get("path", "")) if isinstance(marker, Mapping) else None


def _buffering(websocket: WebSocket) -> int:
    given = websocket.query_params.get("max_buffering")
    if given is None:
        return MAX_BUFFERING
    # isdecimal, not isdigit ("²" is a digit int() refuses), and short enough for int()
    if not given.isdecimal() or len(given) > 9 or not 1 <= int(given) <= MAX_BUFFERING:
        raise FalError.detail(422, f"max_buffering must be between 1 and {MAX_BUFFERING}")
    return int(given)


def _failure_reason(failure: Failure) -> str:
    violations = failure.details if isinstance(failure.details, list) else []
    lines = [".".join(map(str, v.loc)) + ": " + v.msg for v in violations if hasattr(v, "msg")]
    message = failure.message or str(failure_error(failure).body["detail"])  # a bare error_type
    return "\n".join([message, *lines])


class RealtimeSessions:
    """The WebSocket handler of every realtime endpoint."""

    def __init__(self, engine: Engine, tokens: Tokens) -> None:
        self.engine = engine
        self.tokens = tokens

    def endpoint_at(self, path: str) -> Endpoint | None:
        path = path.strip("/")
        for endpoint in self.engine.contracts.of("fal"):
            suffix = realtime_path(endpoint)
            if suffix is not None and path == (endpoint.id + suffix).rstrip("/"):
                return endpoint
        return None

    def _admit(self, websocket: WebSocket) -> tuple[Endpoint, str, int]:
        """The endpoint, the owner and the buffer size of a handshake; `FalError` if refused."""
        path = websocket.path_params["path"]
        endpoint = self.endpoint_at(path)
        if endpoint is None:
            raise FalError.detail(404, f"No realtime endpoint at '{path.strip('/')}'")
        return endpoint, self.tokens.owner(websocket, endpoint.id), _buffering(websocket)

    async def session(self, websocket: WebSocket) -> None:
        try:
            endpoint, owner, buffering = self._admit(websocket)
        except FalError as refused:
            await _refuse(websocket, refused)
            return
        try:
            self.engine.holds.take(owner, self.engine.config.max_held_per_key)
        except TooManyHeld as refused:
            await _refuse(websocket, FalError(429, {"detail": str(refused)}, {"Retry-After": "1"}))
            return
        try:
            await websocket.accept()
            await _Session(self.engine, websocket, endpoint, owner, buffering).run()
        finally:
            self.engine.holds.give_back(owner)


async def _refuse(websocket: WebSocket, refused: FalError) -> None:
    """Refuse a handshake with fal's HTTP answer, where the server can send one."""
    if refusable(websocket.scope):
        await websocket.send_denial_response(refused.response())
    else:  # a server without the extension can only refuse with 403
        await websocket.close(code=1008, reason=str(refused.body.get("detail", "")))


class _Session:
    def __init__(
        self, engine: Engine, websocket: WebSocket, endpoint: Endpoint, owner: str, size: int
    ) -> None:
        self.engine, self.websocket, self.endpoint, self.owner = engine, websocket, endpoint, owner
        self.pending: deque[tuple[Input, int]] = deque()  # each with its frame's size
        self.size = size
        self.buffered = 0  # the bytes of the frames in ``pending``
        self.budget = BUFFERED_BODIES * engine.config.max_body_bytes
        self.arrived = asyncio.Event()
        self.reading = True

    async def run(self) -> None:
        config = self.engine.config
        reader = asyncio.ensure_future(self._read(config.max_body_bytes, config.max_json_depth))
        worker = asyncio.ensure_future(self._work())
        try:
            await asyncio.wait({reader, worker}, return_when=asyncio.FIRST_COMPLETED)
            if reader.done() and reader.exception() is None:  # idle: answer what waits, end
                await asyncio.wait({worker})
                if worker.exception() is None:
                    await self._end("TIMEOUT", "no inputs, reconnect when needed!", NORMAL_CLOSURE)
                else:
                    await self._end_for(worker.exception())
            elif reader.done():
                worker.cancel()
                await self._end_for(reader.exception())
            else:
                reader.cancel()
                await self._end_for(worker.exception())
        finally:
            for task in (reader, worker):
                task.cancel()
            await asyncio.gather(reader, worker, return_exceptions=True)

    async def _end_for(self, error: BaseException | None) -> None:
        if isinstance(error, BadFrame):
            await self._end("INTERNAL_ERROR", error.reason, error.close_code)
        elif isinstance(error, JobFailed):
            failure = error.failure
            await self._end("INTERNAL_ERROR", _failure_reason(failure), NORMAL_CLOSURE)
        elif error is not None and not isinstance(error, (WebSocketDisconnect, _Stalled)):
            # A safety net, never a feature, as the HTTP surfaces' 500 handler is.
            logger.error("realtime session failed", exc_info=error)
            await self._end("INTERNAL_ERROR", "Internal error", INTERNAL_ERROR)

    async def _end(self, error: str, reason: str, code: int) -> None:
        try:
            await self._send(error_message(error, reason))
            await self._send({"type": "websocket.close", "code": code, "reason": reason[:120]})
        except (WebSocketDisconnect, RuntimeError, OSError, _Stalled):
            pass  # the client went first, or reads nothing

    async def _send(self, message: dict[str, Any]) -> None:
        """Send ``message``; `_Stalled` if the client reads nothing for the idle timeout.
        A client that sent inputs and never read their results held its session, and its
        key's place (``--max-held-per-key``), for good: uvicorn's send waits for the full
        buffer to drain, and its keepalive's close waits on that buffer too."""
        try:
            await asyncio.wait_for(
                self.websocket.send(message), self.engine.config.realtime_idle_timeout
            )
        except TimeoutError:
            raise _Stalled from None

    async def _read(self, max_bytes: int, max_depth: int) -> None:
        """Buffer each input until the client goes (raises) or stays idle (returns)."""
        idle = self.engine.config.realtime_idle_timeout
        try:
            while True:
                try:
                    message = await asyncio.wait_for(self.websocket.receive(), idle)
                except TimeoutError:
                    return
                if message["type"] == "websocket.disconnect":
                    raise WebSocketDisconnect(message.get("code", 1000))
                item = decode_input(message, max_bytes=max_bytes, max_depth=max_depth)
                self._buffer(item, item.size)
                self.arrived.set()
        finally:
            self.reading = False
            self.arrived.set()

    def _buffer(self, item: Input, size: int) -> None:
        """Keep ``item`` to be answered; the oldest waiting go while the buffer holds more
        inputs, or more bytes, than it may."""
        self.pending.append((item, size))
        self.buffered += size
        while len(self.pending) > 1 and (
            len(self.pending) > self.size or self.buffered > self.budget
        ):
            self.buffered -= self.pending.popleft()[1]

    async def _work(self) -> None:
        """Answer buffered inputs in order; returns once reading ended and none wait."""
        while self.pending or self.reading:
            if not self.pending:
                self.arrived.clear()
                await self.arrived.wait()
                continue
            item, size = self.pending.popleft()
            self.buffered -= size
            started = time.time()
            try:
                output = await self._output(item)
            except JobFailed as failed:
                self._record(item, started, failure_error(failed.failure).status)
                raise
            self._record(item, started, 200)
            await self._send(encode_output(output, item.as_text))

    def _record(self, item: Input, started: float, status: int) -> None:
        """The input in the request record, a call of its endpoint (``calls()``): the
        handshake's path and headers, method `WEBSOCKET`, the input as JSON (bytes as
        base64), and the status its HTTP request would have had."""
        scope, record = self.websocket.scope, self.engine.record
        entry = record.entry(WEBSOCKET, scope["path"], scope["query_string"], scope["headers"])
        entry.body, entry.body_size = json_excerpt(item.payload, record.body_bytes)
        entry.started, entry.answered = started, time.time()
        entry.status, entry.endpoint = status, self.endpoint.id
        record.add(entry)

    async def _output(self, item: Input) -> dict[str, Any]:
        job = self.engine.submit(self.endpoint, item.payload, self.owner, queued=False)
        cut_short = self.engine.cut_short(job)
        if cut_short is not None:
            raise JobFailed(cut_short)
        linker = self._linker(item.payload, raw_bytes=not item.as_text)
        return await run_linked(functools.partial(self.engine.outcome, job), linker)

    def _linker(self, payload: dict[str, Any], *, raw_bytes: bool) -> Linker:
        """Media inline as data URIs when ``sync_mode`` (by the input, else the contract's
        default) asks for it, as realtime apps answer; else as CDN URLs. Media carried as
        bytes (``RawImage.content``) are bytes in msgpack frames, base64 in JSON ones."""
        schema = self.endpoint.resolve(self.endpoint.input_schema)
        default = schema.get("properties", {}).get("sync_mode", {}).get("default", False)
        if payload.get("sync_mode", default) is True:
            return data_uri_linker(self.engine.media, raw_bytes=raw_bytes)
        scope = self.websocket.scope
        # fal's hosts are https-only: a ws:// to one is the in-process interception's pair.
        secure = scope.get("scheme") == "wss" or header(scope, b"host") in _FAL_HOSTS
        scheme = "https" if secure else "http"
        as_http = HTTPConnection({**scope, "scheme": scheme})  # URLs of the HTTP CDN
        base = public_base(as_http, "fal/cdn", self.engine.config.public_url)  # type: ignore[arg-type]
        return url_linker(self.engine.media, base, raw_bytes=raw_bytes)
