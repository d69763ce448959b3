"""Intercepting the clients' HTTP: httpx through respx, requests through an adapter
(adapters.py), urllib through its handlers (openers.py; WebSockets: websockets.py).

Every request to a provider host goes to the emulator's app in-process. Anything else
fails loudly (the default, so a test never reaches a real API by accident) or, with
``unmatched="pass"``, goes out as usual.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any
from unittest import mock

import httpx
from respx.mocks import HTTPCoreMocker, HTTPXMocker
from respx.models import AllMockedAssertionError, PassThrough
from respx.transports import TryTransport

from emulator.config import UvicornOptions
from emulator.transport.adapters import patch_requests
from emulator.transport.asgi import AppDispatcher
from emulator.transport.openers import patch_urllib
from emulator.transport.unmatched import Unmatched, UnmatchedRequest, is_provider_host
from emulator.transport.websockets import WebSocketInterception


class _UnmatchedByUs(UnmatchedRequest, AllMockedAssertionError):
    """`UnmatchedRequest` as respx's httpx mocker reads a router's "not mine": it then asks
    the routers registered after this one (a test's own respx mocks), and raises this only
    if none of them answers. Named as the public class in tracebacks and reprs: a user
    catches, and reads of, `emulator.UnmatchedRequest`."""


_UnmatchedByUs.__name__ = _UnmatchedByUs.__qualname__ = UnmatchedRequest.__name__
_UnmatchedByUs.__module__ = "emulator"


class _Router:
    """What respx's httpx mocker asks of a router: provider hosts answered by the app,
    other hosts left to a test's own respx mocks, else refused or passed through. Not a
    `respx.MockRouter`: its route matching, call log and snapshots took a third of an
    in-process request's interception cost and a quarter of an emulation's set-up (each of
    its call logs is a `unittest.mock` object), and its log grew with every request.
    Registered before routers started earlier, so that a nested emulation wins."""

    def __init__(self, dispatcher: AppDispatcher, unmatched: Unmatched) -> None:
        self.dispatcher = dispatcher
        self.unmatched = unmatched

    def start(self) -> None:
        _routers().insert(0, self)
        HTTPXMocker.start()
        _OwnTransports.start()

    def stop(self) -> None:
        if self in _routers():
            _routers().remove(self)
            _OwnTransports.stop()
            HTTPXMocker.stop()  # unpatches httpx once no router is left

    def handler(self, request: httpx.Request) -> httpx.Response:
        if is_provider_host(request.url.host):
            return self.dispatcher.handle_sync(request)
        raise self._unmatched(request)

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        if is_provider_host(request.url.host):
            return await self.dispatcher.handle_async(request)
        raise self._unmatched(request)

    def _unmatched(self, request: httpx.Request) -> Exception:
        if request.url.scheme not in ("http", "https"):  # what httpx's transport says
            return httpx.UnsupportedProtocol(
                "Request URL is missing an 'http://' or 'https://' protocol.", request=request
            )
        if self.unmatched == "pass" or HTTPCoreMocker.routers:
            # On to httpx's own transport: the network, or below it a test's own respx
            # mock (respx's default mocks httpcore), which answers or refuses it itself. No
            # respx route let it through, so it has no origin.
            why = f"{request.url} is not a provider host"
            return PassThrough(why, request=request, origin=None)  # type: ignore[arg-type]
        return _UnmatchedByUs(request.method, str(request.url))


def _routers() -> list[Any]:
    """respx's registered httpx routers (its own, and ours), in the order it asks them."""
    return HTTPXMocker.routers


class _OwnTransports:
    """A client given a transport that reaches no network (an app's ``ASGITransport`` or
    ``WSGITransport``, a test's ``MockTransport``, Starlette's ``TestClient``) keeps it for
    every host but the providers': nothing it sends leaves the process, so it is not the
    emulator's to refuse. Any other transport (the network's, or a wrapper of it, as
    fal_client's own) goes on behind the routers as before: a wrapper could reach the
    network itself. Over respx's patch of the clients' ``_transport_for_url``, while any
    router of ours is registered."""

    _patches: list[Any] = []

    @classmethod
    def start(cls) -> None:
        if cls._patches:
            return
        for client in (httpx.Client, httpx.AsyncClient):
            patch = mock.patch.object(
                client, "_transport_for_url", cls._keeping(client._transport_for_url)
            )
            patch.start()
            cls._patches.append(patch)

    @classmethod
    def stop(cls) -> None:
        if any(isinstance(router, _Router) for router in _routers()):
            return
        while cls._patches:
            cls._patches.pop().stop()

    @staticmethod
    def _keeping(routed: Any) -> Any:
        def transport_for_url(client: Any, url: httpx.URL) -> Any:
            transport = routed(client, url)
            own = transport.transports[-1] if isinstance(transport, TryTransport) else None
            if own is not None and _answers_itself(own):
                return _ProvidersFirst(transport, own)
            return transport

        return transport_for_url


def _answers_itself(transport: Any) -> bool:
    """Whether a transport answers without any network: an app's, or a mock's."""
    known = (httpx.ASGITransport, httpx.WSGITransport, httpx.MockTransport)
    return isinstance(transport, known) or type(transport).__module__ == "starlette.testclient"


class _ProvidersFirst(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Provider hosts to the emulator (``routed``); every other host to the client's own
    transport, which answers it without the network."""

    def __init__(self, routed: Any, own: Any) -> None:
        self.routed, self.own = routed, own

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        ours = is_provider_host(request.url.host)
        return (self.routed if ours else self.own).handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        ours = is_provider_host(request.url.host)
        return await (self.routed if ours else self.own).handle_async_request(request)


class ConcurrentEmulation(RuntimeError):
    """An emulation started while another thread's is active: interception is process-wide
    (the clients' transports are patched for every thread), so the one started last would
    answer both threads' calls, and the other would record none."""


#: the interceptions started and not stopped, in order, and the thread (and the asyncio
#: task, if any) that started each
_active: dict[Interception, tuple[threading.Thread, asyncio.Task[Any] | None]] = {}
_active_lock = threading.Lock()


def _current_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no event loop runs in this thread
        return None


def _claim(interception: Interception) -> None:
    """Note ``interception`` as active; `ConcurrentEmulation` while another living thread's
    is (nested emulations in one thread are fine: the inner one answers until it ends)."""
    here, task = threading.current_thread(), _current_task()
    with _active_lock:
        others = {t for t, _ in _active.values() if t is not here and t.is_alive()}
        if others:
            names = ", ".join(sorted(t.name for t in others))
            raise ConcurrentEmulation(
                f"provider-emulator: another thread's emulation is active ({names}): "
                "interception is process-wide, so one emulation would answer both threads' "
                "calls. Share one emulation between threads, or run tests in processes "
                "(pytest-xdist)"
            )
        if any(t is here and other not in (None, task) and not other.done()
               for t, other in _active.values()):  # fmt: skip
            raise ConcurrentEmulation(
                "provider-emulator: another asyncio task's emulation is active: the one "
                "started last would answer both tasks' calls. Share one emulation between "
                "the tasks (emulations in one task nest)"
            )
        _active[interception] = here, task


def _check_stopped_in_order(interception: Interception) -> None:
    """`RuntimeError` if an emulation started later in this thread is still active: the
    clients' patches are undone in the reverse order of their making."""
    with _active_lock:
        started = list(_active)
        later = started[started.index(interception) + 1 :] if interception in _active else []
        here = threading.current_thread()
        if any(_active[other][0] is here for other in later):
            raise RuntimeError(
                "provider-emulator: stop emulations in the reverse order of their starts: "
                "one started later in this thread is still active"
            )


class Interception:
    """While started, provider hosts are answered by ``dispatcher``'s app."""

    def __init__(
        self,
        dispatcher: AppDispatcher,
        *,
        unmatched: Unmatched = "fail",
        uvicorn_options: UvicornOptions,
    ) -> None:
        """``uvicorn_options``: `EmulatorConfig.uvicorn_options`, which the server behind
        the WebSockets runs with, as ``serve`` does."""
        if unmatched not in ("fail", "pass"):
            raise ValueError("unmatched must be 'fail' or 'pass'")
        self.dispatcher = dispatcher
        self.unmatched = unmatched
        self._router = _Router(dispatcher, unmatched)
        self._requests_patch: Any = None
        self._urllib_patch: Any = None
        refuse = UnmatchedRequest if unmatched == "fail" else None
        self._websockets = WebSocketInterception(
            dispatcher, refuse=refuse, uvicorn_options=uvicorn_options
        )

    def start(self) -> None:
        _claim(self)
        self._router.start()
        self._requests_patch = patch_requests(self.dispatcher, self.unmatched)
        self._requests_patch.start()
        self._urllib_patch = patch_urllib(self.dispatcher)
        self._urllib_patch.start()
        self._websockets.start()

    def stop(self) -> None:
        _check_stopped_in_order(self)
        self._websockets.stop()
        if self._urllib_patch is not None:
            self._urllib_patch.stop()
            self._urllib_patch = None
        if self._requests_patch is not None:
            self._requests_patch.stop()
            self._requests_patch = None
        self._router.stop()
        with _active_lock:
            _active.pop(self, None)
