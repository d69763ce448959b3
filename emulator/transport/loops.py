"""Sync requests answered in the caller's own thread, on an event loop it drives itself.

Handing a request to another thread's event loop and the answer back costs two thread
switches: 50–60 µs here, more than the emulator's whole work on a status poll. So each
thread that calls in has an event loop of its own, which it runs only while it waits for
an answer or its next chunk. Nothing in the emulator needs a loop to run between
requests: jobs move with the clock, webhooks have a thread of their own, and async callers
already run the app on their own loops. A thread that already runs a loop (a sync client
called from async code) cannot run a second one; it hands over (`CallerLoops.answer` is
None), as does a thread whose loop another thread drives at that moment (reading an answer
opened here): a request never waits behind another's wait, as over its own connection.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
import weakref
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from starlette.types import ASGIApp

from emulator.transport.answers import (
    SETTLE,
    AnswerTimeout,
    Chunks,
    SyncAnswer,
    closed,
    ended,
    run_app,
    settle,
)

T = TypeVar("T")

#: seconds between glances at an answer's items while another thread drives its loop
GLANCE = 0.005


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(AnswerTimeout())


class _CallerLoop:
    """One thread's event loop, run by whoever waits on it (its thread, mostly: an answer
    may be read in another), one at a time."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.lock = threading.Lock()
        self.apps: set[asyncio.Task[None]] = set()  # the requests the app is at work on

    def start(self, app: ASGIApp, scope: dict[str, Any], body: bytes) -> _Running | None:
        """The app at work on a request; None while another thread drives the loop (it
        reads an answer opened here): the caller then hands over, as over a connection of
        its own, rather than wait behind that thread's wait."""
        if not self.lock.acquire(blocking=False):
            return None
        try:
            if self.loop.is_closed():
                raise ended()
            return _Running(self, app, scope, body)
        finally:
            self.lock.release()

    def next_item(self, chunks: Chunks, timeout: float | None) -> Any:
        """The next item the app sent, running the loop until it comes; `AnswerTimeout`
        after ``timeout`` seconds."""
        if asyncio._get_running_loop() is not None and not chunks.ready():
            return _aside(self.next_item, chunks, timeout)
        if not self.lock.acquire(blocking=False):
            started = time.monotonic()
            while not self.lock.acquire(timeout=GLANCE):
                # Another thread drives the loop, and so runs this answer's app too: take
                # what it sends from here, in this caller's own time, not after its wait.
                if chunks.ready():
                    return chunks.take()
                if timeout is not None and time.monotonic() - started >= timeout:
                    raise AnswerTimeout()
            if timeout is not None:
                timeout = max(0.0, timeout - (time.monotonic() - started))
        try:
            if chunks.ready():
                return chunks.take()
            if self.loop.is_closed():
                raise ended()
            if self._turn(chunks):
                return chunks.take()
            waiter = chunks.waiter(self.loop)
            timer = None if timeout is None else self.loop.call_later(timeout, _expire, waiter)
            try:
                self.loop.run_until_complete(waiter)
            finally:
                chunks.forget()
                if timer is not None:
                    timer.cancel()
            return chunks.take()
        finally:
            self.lock.release()

    def _turn(self, chunks: Chunks) -> bool:
        """Whether one turn of the loop brings an item. Most apps answer in their first
        step, and a turn arms no waiter and no timer (a loop stopped before it runs runs
        once: asyncio's documented `stop`): a third less of the transport's cost of a
        request, 12.5 → 8.3 µs to a trivial app (issue 17)."""
        self.loop.stop()
        self.loop.run_forever()
        return chunks.ready()

    def run(self, step: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run ``step()`` to its end on the loop or, while another thread drives it, have
        that thread run it (nothing if the loop is closed)."""
        if asyncio._get_running_loop() is not None:
            return _aside(self.run, step)
        if not self.lock.acquire(blocking=False):
            try:
                self.loop.call_soon_threadsafe(self._run_soon, step)
            except RuntimeError:  # closed
                pass
            return
        try:
            if not self.loop.is_closed():
                self.loop.run_until_complete(step())
        finally:
            self.lock.release()

    def _run_soon(self, step: Callable[[], Coroutine[Any, Any, None]]) -> None:
        task = self.loop.create_task(step())
        self.apps.add(task)  # held, and ended with the loop
        task.add_done_callback(self.apps.discard)

    def close(self, timeout: float) -> None:
        """End the tasks still running, then the loop. A thread waiting on it now hears
        that the emulation ended."""
        try:
            self.loop.call_soon_threadsafe(self._cancel_apps)
        except RuntimeError:  # closed already
            return
        if self.lock.acquire(timeout=timeout):
            try:
                _shut_anywhere(self.loop, timeout)
            finally:
                self.lock.release()

    def _cancel_apps(self) -> None:
        for task in list(self.apps):
            task.cancel()


class _Running:
    """The app at work on one request, on a caller's loop."""

    def __init__(
        self, caller: _CallerLoop, app: ASGIApp, scope: dict[str, Any], body: bytes
    ) -> None:
        self.caller, self.chunks, self.disconnected = caller, Chunks(), asyncio.Event()
        self.task = caller.loop.create_task(
            run_app(app, scope, body, self.chunks.put, self.disconnected)
        )
        caller.apps.add(self.task)
        # Not a method of this object: the loop must not keep its caller alive (through the
        # task an app still runs), or a caller nothing can read from is never collected, and
        # its loop never closed.
        apps, chunks = caller.apps, self.chunks

        def done(task: asyncio.Task[None]) -> None:
            apps.discard(task)
            if task.cancelled():  # perhaps before it ran, when it emits nothing: say so
                chunks.put(ended())

        self.task.add_done_callback(done)

    def settle(self) -> None:
        """The caller is done, or gave up waiting: the app hears it disconnect, and is
        cancelled if it goes on for `SETTLE` seconds (`answers.settle`)."""
        if not self.task.done():
            self.caller.run(lambda: settle(self.task, self.disconnected))


def _aside(call: Callable[..., T], *args: Any) -> T:
    """``call(*args)`` in a thread of its own, for a caller whose thread runs a loop
    already (an answer opened in sync code, read inside a coroutine): a second loop cannot
    run here."""
    with concurrent.futures.ThreadPoolExecutor(1, "provider-emulator-aside") as helper:
        return helper.submit(call, *args).result()


def _shut(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what still runs on ``loop`` (not running), let it unwind, and close it."""
    if loop.is_closed():
        return
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.wait(pending, timeout=SETTLE))
    loop.close()


def _shut_anywhere(loop: asyncio.AbstractEventLoop, timeout: float) -> None:
    """`_shut` ``loop`` here or, where this thread runs a loop already (a coroutine that
    ends an emulation; the collector, which runs wherever it is triggered), in a thread of
    its own, waited for up to ``timeout`` seconds: a second loop cannot run here."""
    if asyncio._get_running_loop() is None or not asyncio.all_tasks(loop):
        _shut(loop)  # nothing to unwind: closing it needs no run
        return
    aside = threading.Thread(target=_shut, args=(loop,), name="provider-emulator-shut")
    aside.start()
    aside.join(timeout)


def _discard(loop: asyncio.AbstractEventLoop) -> None:
    """Close the loop of a caller nothing refers to any more (from wherever its last
    reference went)."""
    if not loop.is_running():
        _shut_anywhere(loop, 0)


class CallerLoops:
    """An event loop for each thread that sends a sync request, which the thread runs
    while it waits for the answer."""

    def __init__(self) -> None:
        self._here = threading.local()
        self._all: weakref.WeakSet[_CallerLoop] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._closed = False

    def answer(
        self, app: ASGIApp, scope: dict[str, Any], body: bytes, timeout: float | None
    ) -> SyncAnswer | None:
        """``app``'s answer to the request of ``scope``, run in this thread; None if this
        thread runs an event loop already, or another thread runs this thread's."""
        if self._closed:
            raise closed()
        if asyncio._get_running_loop() is not None:
            return None
        caller = self._caller()
        running = caller.start(app, scope, body)
        if running is None:
            return None
        try:
            start = caller.next_item(running.chunks, timeout)
        except AnswerTimeout:
            running.settle()  # the caller gave up: the app hears it go, as on a server
            raise
        done = running.task.done()
        if done:  # let go now, not at the loop's next turn (perhaps never, on this thread)
            caller.apps.discard(running.task)
        if isinstance(start, BaseException):
            raise start
        if done:  # the app has answered in full (most do at once): all here
            return SyncAnswer(start, running.chunks.take)
        return SyncAnswer(start, lambda: caller.next_item(running.chunks, timeout), running.settle)

    def _caller(self) -> _CallerLoop:
        caller: _CallerLoop | None = getattr(self._here, "caller", None)
        if caller is None:
            with self._lock:
                if self._closed:
                    raise closed()
                caller = self._here.caller = _CallerLoop()
                self._all.add(caller)
            weakref.finalize(caller, _discard, caller.loop)
        return caller

    def close(self, timeout: float = 5.0) -> None:
        """End every caller's loop (a caller still waiting hears the emulation ended)."""
        with self._lock:
            self._closed = True
            callers = list(self._all)
        for caller in callers:
            caller.close(timeout)
