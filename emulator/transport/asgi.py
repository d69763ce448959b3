"""Requests answered by an ASGI app in-process, streaming, from async or sync code.

httpx's own ``ASGITransport`` is async-only and buffers whole bodies. Here an async caller
runs the app as a task on its own loop; a sync caller runs it on a loop of its thread's
that it drives while it waits (loops.py), or, from a thread that runs a loop already,
hands it to a private event-loop thread. Either way the body arrives chunk by chunk as
the app sends it, so an SSE stream streams.

A sync answer (`SyncAnswer`) is client-neutral: httpx's requests (`AppDispatcher.
handle_sync`) and requests' (intercept.py) each see it through their own client's types,
its errors as that client raises them over a real connection.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
from collections.abc import AsyncIterator, Coroutine, Iterable, Iterator
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import httpx
from starlette.types import ASGIApp

from emulator.http.exchange import ConnectionDropped
from emulator.transport.answers import (
    END,
    SETTLE,
    AnswerTimeout,
    Chunks,
    SyncAnswer,
    closed,
    ended,
    run_app,
    settle,
    settle_later,
)
from emulator.transport.loops import CallerLoops

T = TypeVar("T")


def _read_timeout(request: httpx.Request) -> float | None:
    """The client's read timeout: how long it waits for the answer and between chunks."""
    return (request.extensions.get("timeout") or {}).get("read")


def http_scope(
    method: str,
    scheme: str,
    server: tuple[str, int | None],
    target: bytes,
    headers: list[tuple[bytes, bytes]],
) -> dict[str, Any]:
    """The ASGI scope of a request for ``target`` (path and query) with lower-case
    ``headers``."""
    raw_path, _, query = target.partition(b"?")
    host, port = server
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": scheme,
        "path": unquote(raw_path.decode("ascii")),
        "raw_path": raw_path,
        "query_string": query,
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 0),
        "server": (host, port or (443 if scheme == "https" else 80)),
    }


def _latin1(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("latin-1")


def client_scope(
    method: str, url: str, headers: Iterable[tuple[str | bytes, str | bytes]], content: bytes
) -> dict[str, Any]:
    """The scope of a sync client's request (requests', urllib's), with the headers
    http.client adds on the connection."""
    parts = urlsplit(url)
    raw = [(_latin1(name).lower(), _latin1(value)) for name, value in headers]
    names = {name for name, _ in raw}
    if b"host" not in names:  # as http.client writes it: no port where it is the default
        host, port = parts.hostname or "", parts.port
        default = port is None or port == (443 if parts.scheme == "https" else 80)
        raw.append((b"host", (host if default else f"{host}:{port}").encode("idna")))
    if content and b"content-length" not in names:
        raw.append((b"content-length", str(len(content)).encode()))
    target = ((parts.path or "/") + (f"?{parts.query}" if parts.query else "")).encode()
    return http_scope(method, parts.scheme, (parts.hostname or "", parts.port), target, raw)


def content_of(body: Any) -> bytes:
    """A sync client's request body as bytes: none, text, bytes, a file or an iterable."""
    body = body or b""
    if hasattr(body, "read"):  # a file
        body = body.read()
    if isinstance(body, str):
        return body.encode()
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    return b"".join(chunk if isinstance(chunk, bytes) else chunk.encode() for chunk in body)


def _scope(request: httpx.Request) -> dict[str, Any]:
    url = request.url
    headers = [(name.lower(), value) for name, value in request.headers.raw]
    return http_scope(request.method, url.scheme, (url.host, url.port), url.raw_path, headers)


def _httpx_error(error: BaseException, request: httpx.Request) -> BaseException:
    """``error`` as httpx raises it over a real connection."""
    if isinstance(error, AnswerTimeout):
        return httpx.ReadTimeout(str(error), request=request)
    if isinstance(error, ConnectionDropped):
        return httpx.RemoteProtocolError(str(error), request=request)
    return error


def _next_sync(chunks: queue.SimpleQueue[Any], timeout: float | None) -> Any:
    try:
        return chunks.get(timeout=timeout)
    except queue.Empty:
        raise AnswerTimeout() from None


class _AsyncStream(httpx.AsyncByteStream):
    def __init__(
        self,
        chunks: Chunks,
        task: asyncio.Task[None],
        disconnected: asyncio.Event,
        request: httpx.Request,
    ) -> None:
        self._run: tuple[Chunks, asyncio.Task[None], asyncio.Event] | None = (
            chunks,
            task,
            disconnected,
        )
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._run is None:
            return
        chunks, timeout = self._run[0], _read_timeout(self._request)
        while True:
            try:
                chunk = await chunks.get(timeout)
            except AnswerTimeout as error:
                raise _httpx_error(error, self._request) from None
            if chunk is END:
                return
            if isinstance(chunk, BaseException):
                raise _httpx_error(chunk, self._request)
            yield chunk

    async def aclose(self) -> None:
        # The stream lets go of the app's run: httpx's response is a reference cycle, and
        # what it still held would wait for the collector instead of going now (as
        # `SyncAnswer.close`).
        run, self._run = self._run, None
        if run is None:
            return
        _, task, disconnected = run
        disconnected.set()
        if not task.done():
            await settle(task, disconnected)


class _SyncStream(httpx.SyncByteStream):
    def __init__(self, answer: SyncAnswer, request: httpx.Request) -> None:
        self._answer, self._request = answer, request

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._answer
        except (AnswerTimeout, ConnectionDropped) as error:
            raise _httpx_error(error, self._request) from None

    def close(self) -> None:
        self._answer.close()


class AppDispatcher:
    """Sends httpx requests to an ASGI app, from sync or async code."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._tasks: set[asyncio.Future[None]] = set()
        self._callers = CallerLoops()

    async def handle_async(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        chunks = Chunks()
        disconnected = asyncio.Event()
        task = asyncio.create_task(
            run_app(self.app, _scope(request), body, chunks.put, disconnected)
        )
        try:
            await asyncio.sleep(0)  # the app first: most answer at once, then no wait is timed
            start = await chunks.get(_read_timeout(request))
        except asyncio.CancelledError:  # the caller was cancelled (``asyncio.wait_for``)
            settle_later(task, disconnected)  # the app hears it go, in its own time
            raise
        except AnswerTimeout as error:
            await settle(task, disconnected)  # the caller gave up: the app hears it go
            raise _httpx_error(error, request) from None
        if isinstance(start, BaseException):
            raise _httpx_error(start, request)
        _, status, headers = start
        stream = _AsyncStream(chunks, task, disconnected, request)
        return httpx.Response(status, headers=headers, stream=stream, request=request)

    def handle_sync(self, request: httpx.Request) -> httpx.Response:
        try:
            answer = self.answer_sync(_scope(request), request.read(), _read_timeout(request))
        except (AnswerTimeout, ConnectionDropped) as error:
            raise _httpx_error(error, request) from None
        return httpx.Response(
            answer.status,
            headers=answer.headers,
            stream=_SyncStream(answer, request),
            request=request,
        )

    def answer_sync(self, scope: dict[str, Any], body: bytes, timeout: float | None) -> SyncAnswer:
        """The app's answer to the request of ``scope``, from sync code; ``timeout``: how
        long to wait for its start and then for each chunk (None: as long as it takes)."""
        answer = self._callers.answer(self.app, scope, body, timeout)
        return answer if answer is not None else self._hand_over(scope, body, timeout)

    def _hand_over(self, scope: dict[str, Any], body: bytes, timeout: float | None) -> SyncAnswer:
        """The answer from the private event-loop thread, for a caller whose own thread
        runs a loop already."""
        loop = self._ensure_loop()
        chunks: queue.SimpleQueue[Any] = queue.SimpleQueue()
        disconnected = asyncio.Event()  # bound to the loop when the app first waits on it
        running: list[asyncio.Task[None]] = []

        def run() -> None:
            task = loop.create_task(run_app(self.app, scope, body, chunks.put, disconnected))
            running.append(task)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            # A task cancelled before it ran emits nothing: the caller must still hear.
            task.add_done_callback(lambda _: chunks.put(ended()))

        # Not waited for: the caller's one wait is for the answer (each hand-over between
        # threads is a visible cost on a sync client's request).
        loop.call_soon_threadsafe(run)

        def disconnect() -> None:
            if not loop.is_closed():
                loop.call_soon_threadsafe(disconnected.set)

        try:
            start = _next_sync(chunks, timeout)
        except AnswerTimeout:
            _settle_on(loop, running, disconnected)  # the caller gave up: the app hears it go
            raise
        if isinstance(start, BaseException):
            raise start
        return SyncAnswer(start, lambda: _next_sync(chunks, timeout), disconnect)

    def run_soon(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run ``coroutine`` on the private event-loop thread (a served WebSocket, say)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._ensure_loop())

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._closed:
                raise closed()
            if self._loop is None:
                loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=loop.run_forever, name="provider-emulator", daemon=True
                )
                self._thread.start()
                self._loop = loop
            return self._loop

    def close(self, timeout: float = 5.0) -> None:
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
            self._closed = True
        self._callers.close(timeout)
        if loop is not None and thread is not None:
            asyncio.run_coroutine_threadsafe(_cancel_pending(), loop).result(timeout)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
            loop.close()


def _settle_on(
    loop: asyncio.AbstractEventLoop, running: list[asyncio.Task[None]], disconnected: asyncio.Event
) -> None:
    """`settle` the app's run (in ``running``, once the loop has started it) on ``loop``,
    another thread's, waiting for it here as a caller on its own loop does."""

    async def settled() -> None:
        await settle(running[0], disconnected)

    try:
        waited = asyncio.run_coroutine_threadsafe(settled(), loop)
    except RuntimeError:  # the loop is closed: the app's run has ended with it
        return
    try:
        waited.result(2 * SETTLE + 1)
    except (concurrent.futures.TimeoutError, concurrent.futures.CancelledError):
        pass  # the loop ended, or is stuck: the caller's own timeout stands


async def _cancel_pending() -> None:
    """End what is still running (an abandoned stream, say) before the loop goes."""
    current = asyncio.current_task()
    pending = [task for task in asyncio.all_tasks() if task is not current]
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
