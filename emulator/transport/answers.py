"""One request's run through the app, and its answer as the caller reads it.

The app's messages become a sequence of items: ("start", status, headers), then body
chunks, then `END`; an error comes in place of what did not. Callers on an event loop
read them from `Chunks`; a sync caller through a `SyncAnswer`, however its thread waits.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from starlette.types import ASGIApp, Message

END = object()

#: seconds an app may go on after its caller left (closed its answer, or gave up waiting
#: for it) before it is cancelled
SETTLE = 1.0


def ended() -> RuntimeError:
    return RuntimeError("provider-emulator: the emulation ended before the app answered")


def closed() -> RuntimeError:
    """What a request sent after the emulation ended is told."""
    return RuntimeError("provider-emulator: this emulation has ended")


class AnswerTimeout(TimeoutError):
    """The app did not answer, or send its next chunk, within the client's read timeout."""

    def __init__(self) -> None:
        super().__init__("the emulator did not answer in time")


async def run_app(
    app: ASGIApp,
    scope: dict[str, Any],
    body: bytes,
    emit: Callable[[Any], None],
    disconnected: asyncio.Event,
) -> None:
    """Run one request through ``app``, emitting ("start", status, headers), body chunks,
    then `END`; an exception is emitted in place of what did not come."""
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
                emit(END)

    try:
        await app(scope, receive, send)
    except Exception as error:  # handed to the caller, who raises it as its client would
        emit(error)
    except BaseException:  # cancelled, as when the emulation ends: say so, then go
        emit(ended())
        raise


async def settle(task: asyncio.Task[None], disconnected: asyncio.Event) -> None:
    """The caller has left ``task``'s request: the app hears it disconnect, as a server's
    app hears its client go, and answers (so its request is recorded as a server records
    it); it is cancelled if it goes on for `SETTLE` seconds."""
    disconnected.set()
    await asyncio.wait([task], timeout=SETTLE)
    if not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=SETTLE)


#: settlements under way for callers cancelled before their answers (kept: a task the loop
#: holds only weakly could be collected before it ends)
_settling: set[asyncio.Task[None]] = set()


def settle_later(task: asyncio.Task[None], disconnected: asyncio.Event) -> None:
    """`settle`, for a caller that cannot wait for it (it is being cancelled)."""
    settling = asyncio.ensure_future(settle(task, disconnected))
    _settling.add(settling)
    settling.add_done_callback(_settling.discard)


class Chunks:
    """What the app sent, in order, for a reader on the same event loop: a deque and a
    future to wake the reader (an ``asyncio.Queue`` cost more, on every request)."""

    def __init__(self) -> None:
        self._items: deque[Any] = deque()
        self._waiter: asyncio.Future[None] | None = None

    def put(self, item: Any) -> None:
        self._items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def ready(self) -> bool:
        return bool(self._items)

    def take(self) -> Any:
        return self._items.popleft()

    def waiter(self, loop: asyncio.AbstractEventLoop) -> asyncio.Future[None]:
        """A future of ``loop`` that the next item sets."""
        self._waiter = loop.create_future()
        return self._waiter

    def forget(self) -> None:
        self._waiter = None

    async def get(self, timeout: float | None) -> Any:
        """The next item; `AnswerTimeout` if none comes within ``timeout`` seconds."""
        if not self._items:
            waiter = self.waiter(asyncio.get_running_loop())
            try:
                async with asyncio.timeout(timeout):
                    await waiter
            except TimeoutError:
                raise AnswerTimeout() from None
            finally:
                self.forget()
        return self._items.popleft()


class SyncAnswer:
    """An app's answer to a sync caller: its status and headers, then its body as the
    app sends it. Iterating raises `AnswerTimeout` when a chunk is late, and the app's
    error (`ConnectionDropped`, say) where the body breaks off."""

    def __init__(
        self,
        start: tuple[Any, int, list[tuple[bytes, bytes]]],
        next_item: Callable[[], Any],
        close: Callable[[], None] | None = None,
    ) -> None:
        """``close``: what tells the app its caller is done (none for an app that has
        answered in full)."""
        _, self.status, self.headers = start
        self._next_item, self._close = next_item, close
        #: what a chunk's wait running out raises instead of `AnswerTimeout`, if set: the
        #: harness's stop when its time limit, not the caller's timeout, ended the wait
        self.timed_out: Callable[[], BaseException] | None = None

    def __iter__(self) -> Iterator[bytes]:
        # one try around the loop, not a call per chunk: every sync request reads here
        try:
            while (chunk := self._next_item()) is not END:
                if isinstance(chunk, BaseException):
                    raise chunk
                yield chunk
        except AnswerTimeout:
            if self.timed_out is None:
                raise
            raise self.timed_out() from None

    def close(self) -> None:
        """The caller is done: an app still sending hears it disconnect. The answer then
        lets go of the app's run: httpx's response is a reference cycle, and what it still
        held would wait for the collector instead of going now (a third of a sync
        client's cyclic garbage, in-process: issue 17)."""
        close, self._close, self._next_item = self._close, None, _end
        if close is not None:
            close()


def _end() -> object:
    return END
