"""The fence around the client's work left running after a check: it reaches no network.

While the harness runs, the client's requests reach the emulator, and the guard stops
those made after their call returned. Once it has gone, a poller of the client's still
asleep (fal_client's backs off up to 30 s between tries) would wake to the real host, with
the user's real key (or to a later check's emulation, as that check's own). So the
client's work that sent requests under the harness and still runs as it goes (`Work`: a
thread, or a pool's task) is fenced off: every request, connection and name lookup it
makes is refused with `ClientRanAway`, a BaseException that no SDK's retry loop swallows,
so the work ends at its next try. The fence is a patch of the emulations' in-process
answers, of httpx's and requests' transports and, beneath every library, of the sockets'
``connect`` and of ``getaddrinfo``; it is up while any fenced work runs, taken down once
the last has ended, and lets every other thread's requests pass meanwhile.

Its next try may be half a minute away (or an hour, at the user's polling interval), and
Python's exit joins fal_client's pool, so a script that ran a check waited that long to
end. So while a check runs (`fenceable_sleeps`) and while the fence is up,
``time.sleep`` sleeps in slices and looks in between whether its thread's work is fenced:
fenced work asleep, or falling asleep after, is refused its sleep as well.
"""

from __future__ import annotations

import functools
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from emulator.harness.pool_threads import Work
from emulator.harness.ran_away import ClientRanAway
from emulator.transport import AppDispatcher

__all__ = ["fence_off", "fenced", "refuse_if_fenced", "fenceable_sleeps"]

#: how often the fence looks whether its work has ended (to come down), and a sleep
#: whether it is fenced work's (to end)
WATCH_SECONDS = 0.05


class _Fence:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.work: tuple[Work, ...] = ()  # replaced whole: the patches read it unlocked
        self.take_down: list[Callable[[], None]] = []
        #: the checks running, and the fence if up: ``time.sleep`` is `_sleep` while any
        self.sleep_holds = 0
        self.unpatch_sleep: Callable[[], None] = lambda: None


_FENCE = _Fence()


def fence_off(work: Iterable[Work]) -> None:
    """Refuse ``work`` (what of it still runs) every connection and name lookup while it
    runs."""
    frames = sys._current_frames()
    running = tuple(piece for piece in work if piece.running(frames))
    if not running:
        return
    with _FENCE.lock:
        first = not _FENCE.work
        _FENCE.work += running
        if first:
            _put_up()
            _hold_sleeps(1)
            threading.Thread(target=_watch, name="harness-fence", daemon=True).start()


def fenced() -> bool:
    """Whether work of a client's is fenced off (and so still runs)."""
    return bool(_FENCE.work)


def _watch() -> None:
    """Drop the work that has ended; take the fence down once none runs."""
    while True:
        time.sleep(WATCH_SECONDS)
        with _FENCE.lock:
            frames = sys._current_frames()
            _FENCE.work = tuple(piece for piece in _FENCE.work if piece.running(frames))
            if not _FENCE.work:
                while _FENCE.take_down:
                    _FENCE.take_down.pop()()
                _hold_sleeps(-1)
                return


def refuse_if_fenced(what: str) -> None:
    """`ClientRanAway` if fenced work runs in this thread (``what``: what it asked for)."""
    work = _FENCE.work
    if not work or not any(piece.thread is threading.current_thread() for piece in work):
        return
    if any(piece.is_current(sys._getframe()) for piece in work):
        raise ClientRanAway(
            f"{what} by work a client left running after its check: refused, as its "
            "harness has gone and the provider's real host lies beyond"
        )


@contextmanager
def fenceable_sleeps() -> Iterator[None]:
    """While entered (a check runs), ``time.sleep`` is one that fenced work ends in."""
    with _FENCE.lock:
        _hold_sleeps(1)
    try:
        yield
    finally:
        with _FENCE.lock:
            _hold_sleeps(-1)


def _hold_sleeps(change: int) -> None:
    """One hold more or less on ``time.sleep`` being `_sleep` (with the fence's lock held)."""
    held, _FENCE.sleep_holds = _FENCE.sleep_holds, _FENCE.sleep_holds + change
    if not held:
        _FENCE.unpatch_sleep = _patch(time, "sleep", lambda sleep: functools.partial(_sleep, sleep))
    elif not _FENCE.sleep_holds:
        _FENCE.unpatch_sleep()


def _sleep(sleep: Callable[[float], None], seconds: float) -> None:
    """``sleep`` (``time.sleep``, or what stood in for it) for ``seconds``, in slices of
    `WATCH_SECONDS`: `ClientRanAway` in fenced work, when it starts or once fenced."""
    if not seconds > 0:  # time.sleep(0) yields the processor; a negative one is its error
        return sleep(seconds)
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        refuse_if_fenced("a sleep")
        sleep(min(left, WATCH_SECONDS))
    return None


def _put_up() -> None:
    """Every way out: an emulation's in-process answers (a later check's, or the one a
    test lent the harness), httpx's and requests' own transports (where a request still
    shows its URL, a proxy's or not), and beneath them the sockets (for urllib, WebSockets
    and any other library)."""
    patches = [
        (AppDispatcher, "answer_sync", _refusing(_scope)),
        (AppDispatcher, "handle_async", _refusing(_request, wait=True)),
        (httpx.HTTPTransport, "handle_request", _refusing(_request)),
        (httpx.AsyncHTTPTransport, "handle_async_request", _refusing(_request, wait=True)),
        (socket.socket, "connect", _refusing(_connection)),
        (socket.socket, "connect_ex", _refusing(_connection)),
        (socket, "getaddrinfo", _refusing(_lookup)),
    ]
    try:
        import requests.adapters
    except ImportError:  # requests is optional: only the wavespeed SDK uses it
        pass
    else:
        patches.append((requests.adapters.HTTPAdapter, "send", _refusing(_request)))
    _FENCE.take_down = [_patch(*patch) for patch in patches]


# What each way out is asked for, in words (from the arguments it is given).


def _connection(sock: socket.socket, address: object) -> str:
    return f"a connection to {address}"


def _lookup(host: object, *_: object, **__: object) -> str:
    return f"a lookup of {host}"


def _request(transport: object, request: Any, *_: object, **__: object) -> str:
    return f"{request.method} {request.url}"


def _scope(dispatcher: object, scope: dict[str, Any], *_: object) -> str:
    return f"{scope['method']} {scope['path']}"


def _refusing(describe: Callable[..., str], *, wait: bool = False) -> Callable[[Any], Any]:
    """What wraps an original method or function with `refuse_if_fenced` (``describe``
    words what is refused from its arguments); ``wait``: a coroutine function."""

    def wrap(original: Any) -> Any:
        if wait:

            async def refusing_async(*args: Any, **kwargs: Any) -> Any:
                refuse_if_fenced(describe(*args, **kwargs))
                return await original(*args, **kwargs)

            return refusing_async

        def refusing(*args: Any, **kwargs: Any) -> Any:
            refuse_if_fenced(describe(*args, **kwargs))
            return original(*args, **kwargs)

        return refusing

    return wrap


def _patch(owner: Any, name: str, wrap: Callable[[Any], Any]) -> Callable[[], None]:
    """Set ``owner.name`` to ``wrap`` of it; what sets it back."""
    own = name in vars(owner)  # else inherited (socket.socket's methods are _socket's)
    original = getattr(owner, name)
    patched = wrap(original)
    setattr(owner, name, patched)

    def restore() -> None:
        # Patched over since (a test's own guard, say): left in place, it passes every
        # call on once no work is fenced.
        if getattr(owner, name) is not patched:
            return
        if own:
            setattr(owner, name, original)
        else:
            delattr(owner, name)

    return restore
