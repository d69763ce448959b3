"""The one choke point every request of the client under test passes (the emulation's
dispatcher, wrapped): the harness's limits on a call, enforced there. A client that polls
forever or outlives its call is stopped with `ClientRanAway`, a BaseException that
``except Exception`` does not swallow; a scenario that loses a submit's answer loses it
here.
"""

from __future__ import annotations

import asyncio
import math
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from unittest import mock

import httpx

from emulator.harness.fence import refuse_if_fenced
from emulator.harness.pool_threads import Work, busy, pool_task
from emulator.harness.ran_away import ClientRanAway
from emulator.harness.sdk_calls import HEADER, SdkCalls
from emulator.harness.surfaces import Surface
from emulator.http.asgi import header
from emulator.http.exchange import ConnectionDropped
from emulator.transport import AppDispatcher
from emulator.transport.answers import AnswerTimeout, SyncAnswer

#: how a call stopped for taking too long is described (before the limit, in seconds)
STILL_CALLING = "still calling after"
SDK_HEADER = HEADER.encode()


@dataclass(frozen=True)
class Limits:
    """What one call of the client may take before the harness stops it."""

    call_timeout: float = 5.0  # seconds
    max_requests: int = 100
    #: Before each next call, for a client that may have left a poller behind, the
    #: harness stops its polls until none has come for this many seconds
    #: (`straggler_grace` at most): a poller every second is still heard
    #: (`RequestGuard.settle`).
    straggler_quiet: float = 1.5
    straggler_grace: float = 10.0

    def __post_init__(self) -> None:
        require_number("call_timeout", self.call_timeout)
        require_number("straggler_quiet", self.straggler_quiet, zero=True)
        require_number("straggler_grace", self.straggler_grace, zero=True)
        if self.max_requests < 1:
            raise ValueError(f"max_requests must be at least 1, not {self.max_requests!r}")


def require_number(name: str, value: float, *, zero: bool = False) -> None:
    """`ValueError` unless ``value`` is a finite number more than 0 (or 0, with ``zero``):
    a limit of 0 or less would stop every call, one of infinity none."""
    if not (math.isfinite(value) and (value > 0 or (zero and value == 0))):
        least = "at least 0" if zero else "more than 0"
        raise ValueError(f"{name} must be a finite number {least}, not {value!r}")


#: the limits a session has unless it is given others
DEFAULT_LIMITS = Limits()
#: the time limit of the harness's call running in this thread, while it runs
_CALL_TIME_LIMIT: ContextVar[float | None] = ContextVar("call_time_limit", default=None)


@contextmanager
def call_timed(limit: float) -> Iterator[None]:
    """While entered, `call_time_limit` is ``limit`` in this thread."""
    token = _CALL_TIME_LIMIT.set(limit)
    try:
        yield
    finally:
        _CALL_TIME_LIMIT.reset(token)


def call_time_limit() -> float:
    """The time limit of the harness's call running in this thread (a recheck's longer
    one included); the default limit outside a call."""
    return _CALL_TIME_LIMIT.get() or DEFAULT_LIMITS.call_timeout


class RequestGuard:
    """Wraps the dispatcher every intercepted request goes through.

    A request about a job of an earlier call (its id retired, unknown to the emulator
    since the reset) comes from a client still running after its call returned: it is
    noted in ``late`` and stopped."""

    def __init__(
        self,
        dispatcher: AppDispatcher,
        surface: Surface,
        limits: Limits,
        is_current: Callable[[str], bool],
    ) -> None:
        self.surface, self.limits, self.is_current = surface, limits, is_current
        self.retired: set[str] = set()
        self.late: list[str] = []
        self._last_late = 0.0  # when a late request came last (time.monotonic)
        # every thread that has sent a request, and the pool's task it sent from, if any:
        # a client's own helper threads among them
        self._senders: weakref.WeakKeyDictionary[threading.Thread, object] = (
            weakref.WeakKeyDictionary()
        )
        # those that sent during the last call, and those stopped since it closed
        self._call_senders: weakref.WeakSet[threading.Thread] = weakref.WeakSet()
        self._stopped: weakref.WeakSet[threading.Thread] = weakref.WeakSet()
        self._dispatcher = dispatcher
        self._sync, self._async = dispatcher.answer_sync, dispatcher.handle_async
        self.sdk_calls = SdkCalls()
        self._lock = threading.Lock()
        self.open_call(lose_submit_answer=False)
        self.close_call()

    def open_call(
        self, *, lose_submit_answer: bool, calls: int = 1, time_limit: float | None = None
    ) -> None:
        """A call begins, with ``time_limit`` seconds (`Limits.call_timeout` by default)."""
        with self._lock:
            self.sdk_calls.forget()
            self._call_senders = weakref.WeakSet()
            self.closed, self.count, self.started = False, 0, time.monotonic()
            self.lose_submit_answer, self.lost, self.calls = lose_submit_answer, 0, calls
            self.time_limit = time_limit or self.limits.call_timeout

    def close_call(self) -> None:
        with self._lock:
            self.closed, self._closed_at = True, time.monotonic()
            self._stopped = weakref.WeakSet()

    def settle(self) -> None:
        """Before the next call: wait until each thread of the client's that sent during
        the last call has ended, been stopped or gone back to its pool, or until none asked
        for `straggler_quiet` seconds (`straggler_grace` at most). A poller left asleep
        would otherwise wake in the next call, and where that call's scenario is the same
        (the same seed gives its jobs the same ids) pass as that call's own, counted
        against its limits (fal_client's sync `subscribe` with a `client_timeout` leaves
        one)."""
        here = threading.current_thread()
        left = [thread for thread in self._call_senders if thread is not here]
        while True:
            frames = sys._current_frames()
            with self._lock:
                running = [t for t in left if t not in self._stopped and busy(t, frames)]
                quiet = self._quiet_at(self.limits.straggler_quiet)
                until = min(quiet, self._closed_at + self.limits.straggler_grace)
            if not running or time.monotonic() >= until:
                return
            time.sleep(0.01)

    def _quiet_at(self, quiet: float) -> float:
        """When ``quiet`` seconds will have passed with no late request since the call
        closed (with the lock held)."""
        return max(self._last_late, self._closed_at) + quiet

    def leftovers(self) -> list[Work]:
        """The client's work that sent requests and still runs (this thread's aside): a
        poller left behind, perhaps asleep."""
        here = threading.current_thread()
        with self._lock:
            sent = [Work(t, task) for t, task in self._senders.items() if t is not here]
        frames = sys._current_frames()
        return [work for work in sent if work.running(frames)]

    def installed(self) -> AbstractContextManager[object]:
        """In place on the dispatcher while entered; the dispatcher's own methods after."""
        # Every sync request (httpx's and requests') passes through `answer_sync`.
        both = ExitStack()
        both.enter_context(mock.patch.object(self._dispatcher, "answer_sync", self.answer_sync))
        both.enter_context(mock.patch.object(self._dispatcher, "handle_async", self.handle_async))
        return both

    def _sdk_call(self) -> str | None:
        """The SDK call the request being sent comes from (sdk_calls.py): from the frame of
        the client's code that called the method calling this, outwards."""
        with self._lock:
            return self.sdk_calls.current(sys._getframe(2))

    def _admit(self, method: str, host: str, path: str) -> bool:
        """Checks the limits; True when this request's answer is to be lost."""
        sender = threading.current_thread()
        with self._lock:
            self._senders[sender] = pool_task(sys._getframe())
            job_id = self.surface.job_in_path(path)
            leaked = job_id in self.retired and not self.is_current(job_id or "")
            if self.closed or leaked:
                self.late.append(f"{method} {path}")
                self._last_late = time.monotonic()
                self._stopped.add(sender)
                raise ClientRanAway(f"{method} {host}{path} after the call returned")
            self._call_senders.add(sender)
            self.count += 1
            if self.count > self.limits.max_requests * self.calls:
                raise ClientRanAway(f"more than {self.limits.max_requests} requests in one call")
            if time.monotonic() - self.started > self.time_limit:
                raise ClientRanAway(f"{STILL_CALLING} {self.time_limit:g} s")
            lose = self.lose_submit_answer and method == "POST" and not self.lost
            lose = lose and self.surface.is_submit(host, path)
            self.lost += lose
            return lose

    def _time_left(self) -> float:
        """Seconds left of the call's time limit: the most a request may wait for its
        answer (one the emulator holds, a starved sync run, say, is stopped there)."""
        return max(0.0, self.started + self.time_limit - time.monotonic())

    def _stopped_waiting(self) -> ClientRanAway:
        return ClientRanAway(f"{STILL_CALLING} {self.time_limit:g} s, waiting for an answer")

    def answer_sync(self, scope: dict[str, Any], body: bytes, timeout: float | None) -> SyncAnswer:
        host = header(scope, b"host").rsplit(":", 1)[0]
        # (an earlier check's leftover work, refused before it counts against this call)
        refuse_if_fenced(f"{scope['method']} {host}{scope['path']}")
        lose = self._admit(scope["method"], host, scope["path"])
        named = self._sdk_call()
        if named is not None:  # the request tells the record which SDK call sent it
            scope = {**scope, "headers": [*scope["headers"], (SDK_HEADER, named.encode())]}
        left = self._time_left()
        try:
            answer = self._sync(scope, body, left if timeout is None else min(timeout, left))
        except AnswerTimeout:
            if timeout is not None and timeout <= left:
                raise  # the client's own timeout
            raise self._stopped_waiting() from None
        if timeout is None or timeout > left:  # a chunk's wait may end for the limit too
            answer.timed_out = self._stopped_waiting
        if lose:
            for _ in answer:  # the app answers in full; the client hears the connection drop
                pass
            raise ConnectionDropped("the connection dropped (staged by the harness)")
        return answer

    async def handle_async(self, request: httpx.Request) -> httpx.Response:
        refuse_if_fenced(f"{request.method} {request.url}")
        lose = self._admit(request.method, request.url.host, request.url.path)
        named = self._sdk_call()
        if named is not None:
            request.headers[HEADER] = named
        try:  # (the client's own timeouts are its transport's, inside this wait)
            response = await asyncio.wait_for(self._async(request), self._time_left())
        except TimeoutError:
            if self._time_left() > 0:
                raise  # not this wait's
            raise self._stopped_waiting() from None
        if lose:
            await response.aread()
            raise httpx.RemoteProtocolError("the connection dropped (staged by the harness)")
        return response
