"""httpx requests answered by an ASGI app in-process, streaming, from async or sync code.

httpx's own ``ASGITransport`` is async-only and buffers whole bodies. Here an async caller
runs the app as a task on its own loop; a sync caller hands the request to a private
event-loop thread and blocks only until the response starts. Either way the body arrives
chunk by chunk as the app sends it, so an SSE stream streams.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, TypeVar
from urllib.parse import unquote

import httpx
from starlette.types import ASGIApp, Message

from emulator.http.exchange import ConnectionDropped

_END = object()
T = TypeVar("T")


def _ended() -> RuntimeError:
    return RuntimeError("provider-emulator: the emulation ended before the app answered")


def _read_timeout(request: httpx.Request) -> float | None:
    """The client's read timeout: how long it waits for the answer and between chunks."""
    return (request.extensions.get("timeout") or {}).get("read")


def _scope(request: httpx.Request) -> dict[str, Any]:
    url = request.url
    raw_path = url.raw_path.split(b"?", 1)[0]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": url.scheme,
        "path": unquote(raw_path.decode("ascii")),
        "raw_path": raw_path,
        "query_string": url.query,
        "root_path": "",
        "headers": [(name.lower(), value) for name, value in request.headers.raw],
        "client": ("127.0.0.1", 0),
        "server": (url.host, url.port or (443 if url.scheme == "https" else 80)),
    }


async def _run_app(
    app: ASGIApp,
    scope: dict[str, Any],
    body: bytes,
    emit: Callable[[Any], None],
    disconnected: asyncio.Event,
) -> None:
    """Run one request through ``app``, emitting ("start", status, headers), body chunks,
    then _END; an exception is emitted in place of what did not come."""
    sent_body = False

    async def receive() -> Message:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}
        await disconnected.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            emit(("start", message["status"], message.get("headers", [])))
        elif message["type"] == "http.response.body":
            if message.get("body"):
                emit(message["body"])
            if not message.get("more_body", False):
                emit(_END)

    try:
        await app(scope, receive, send)
    except ConnectionDropped as error:  # as a client sees a connection that drops
        emit(httpx.RemoteProtocolError(str(error)))
    except Exception as error:  # handed to the caller, who raises it
        emit(error)
    except BaseException:  # cancelled, as when the emulation ends: say so, then go
        emit(_ended())
        raise


def _response(
    request: httpx.Request, start: Any, stream: httpx.SyncByteStream | httpx.AsyncByteStream
) -> httpx.Response:
    if isinstance(start, BaseException):
        raise start
    _, status, headers = start
    return httpx.Response(status, headers=headers, stream=stream, request=request)


class _Chunks:
    """What the app sent, in order, for a reader on the same event loop: a deque and a
    future to wake the reader (an ``asyncio.Queue`` cost more, on every request)."""

    def __init__(self) -> None:
        self._items: deque[Any] = deque()
        self._waiter: asyncio.Future[None] | None = None

    def put(self, item: Any) -> None:
        self._items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def get(self, request: httpx.Request) -> Any:
        """The next item, within the client's read timeout."""
        if not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                async with asyncio.timeout(_read_timeout(request)):
                    await self._waiter
            except TimeoutError:
                message = "the emulator did not answer in time"
                raise httpx.ReadTimeout(message, request=request) from None
            finally:
                self._waiter = None
        return self._items.popleft()


def _next_sync(chunks: queue.SimpleQueue[Any], request: httpx.Request) -> Any:
    try:
        return chunks.get(timeout=_read_timeout(request))
    except queue.Empty:
        raise httpx.ReadTimeout("the emulator did not answer in time", request=request) from None


class _AsyncStream(httpx.AsyncByteStream):
    def __init__(
        self,
        chunks: _Chunks,
        task: asyncio.Task[None],
        disconnected: asyncio.Event,
        request: httpx.Request,
    ) -> None:
        self._chunks, self._task, self._disconnected = chunks, task, disconnected
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while (chunk := await self._chunks.get(self._request)) is not _END:
            if isinstance(chunk, BaseException):
                raise chunk
            yield chunk

    async def aclose(self) -> None:
        self._disconnected.set()
        if not self._task.done():
            await asyncio.wait([self._task], timeout=1)
            self._task.cancel()


class _SyncStream(httpx.SyncByteStream):
    def __init__(
        self, chunks: queue.SimpleQueue[Any], on_close: Callable[[], None], request: httpx.Request
    ) -> None:
        self._chunks, self._on_close, self._request = chunks, on_close, request

    def __iter__(self) -> Iterator[bytes]:
        while (chunk := _next_sync(self._chunks, self._request)) is not _END:
            if isinstance(chunk, BaseException):
                raise chunk
            yield chunk

    def close(self) -> None:
        self._on_close()


class AppDispatcher:
    """Sends httpx requests to an ASGI app, from sync or async code."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._tasks: set[asyncio.Future[None]] = set()

    async def handle_async(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        chunks = _Chunks()
        disconnected = asyncio.Event()
        task = asyncio.create_task(
            _run_app(self.app, _scope(request), body, chunks.put, disconnected)
        )
        try:
            await asyncio.sleep(0)  # the app first: most answer at once, then no wait is timed
            start = await chunks.get(request)
        except (asyncio.CancelledError, httpx.ReadTimeout):
            task.cancel()  # the caller gave up: so does the app (a sync-mode wait, say)
            raise
        return _response(request, start, _AsyncStream(chunks, task, disconnected, request))

    def handle_sync(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        loop = self._ensure_loop()
        chunks: queue.SimpleQueue[Any] = queue.SimpleQueue()
        disconnected = asyncio.Event()  # bound to the loop when the app first waits on it

        def run() -> None:
            task = loop.create_task(
                _run_app(self.app, _scope(request), body, chunks.put, disconnected)
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            # A task cancelled before it ran emits nothing: the caller must still hear.
            task.add_done_callback(lambda _: chunks.put(_ended()))

        # Not waited for: the caller's one wait is for the answer (each hand-over between
        # threads is a visible cost on a sync client's request).
        loop.call_soon_threadsafe(run)

        def disconnect() -> None:
            if not loop.is_closed():
                loop.call_soon_threadsafe(disconnected.set)

        try:
            start = _next_sync(chunks, request)
        except httpx.ReadTimeout:
            disconnect()  # the caller gave up: the app hears it disconnect
            raise
        return _response(request, start, _SyncStream(chunks, disconnect, request))

    def run_soon(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run ``coroutine`` on the private event-loop thread (a served WebSocket, say)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._ensure_loop())

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._closed:
                raise RuntimeError("provider-emulator: this emulation has ended")
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
        if loop is not None and thread is not None:
            asyncio.run_coroutine_threadsafe(_cancel_pending(), loop).result(timeout)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
            loop.close()


async def _cancel_pending() -> None:
    """End what is still running (an abandoned stream, say) before the loop goes."""
    current = asyncio.current_task()
    pending = [task for task in asyncio.all_tasks() if task is not current]
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
