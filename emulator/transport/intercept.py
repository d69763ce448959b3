"""Intercepting the clients' HTTP: httpx through respx, and requests through an adapter
(WebSockets: websockets.py).

Every request to a provider host goes to the emulator's app in-process. Anything else
fails loudly (the default, so a test never reaches a real API by accident) or, with
``unmatched="pass"``, goes out as usual.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any, Literal
from unittest import mock
from urllib.parse import urlsplit

import httpx
from respx.mocks import HTTPCoreMocker, HTTPXMocker
from respx.models import AllMockedAssertionError, PassThrough
from respx.transports import TryTransport

from emulator.http.exchange import ConnectionDropped
from emulator.providers.registry import HOST_SURFACES
from emulator.transport.answers import AnswerTimeout, SyncAnswer
from emulator.transport.asgi import AppDispatcher, http_scope
from emulator.transport.websockets import WebSocketInterception

Unmatched = Literal["fail", "pass"]


class UnmatchedRequest(ConnectionError):
    """A request to a host the emulator does not stand for, while unmatched requests fail."""

    def __init__(self, method: str, url: str) -> None:
        super().__init__(
            f"provider-emulator: {method} {url} is not a provider host, and unmatched requests "
            "fail (pass unmatched='pass' to let them through)"
        )


class _UnmatchedByUs(UnmatchedRequest, AllMockedAssertionError):
    """`UnmatchedRequest` as respx's httpx mocker reads a router's "not mine": it then asks
    the routers registered after this one (a test's own respx mocks), and raises this only
    if none of them answers. Named as the public class in tracebacks and reprs: a user
    catches, and reads of, `emulator.UnmatchedRequest`."""


_UnmatchedByUs.__name__ = _UnmatchedByUs.__qualname__ = UnmatchedRequest.__name__
_UnmatchedByUs.__module__ = "emulator"


def _is_provider_host(host: str | None) -> bool:
    return (host or "").lower() in HOST_SURFACES


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
        if _is_provider_host(request.url.host):
            return self.dispatcher.handle_sync(request)
        raise self._unmatched(request)

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        if _is_provider_host(request.url.host):
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
        ours = _is_provider_host(request.url.host)
        return (self.routed if ours else self.own).handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        ours = _is_provider_host(request.url.host)
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

    def __init__(self, dispatcher: AppDispatcher, *, unmatched: Unmatched = "fail") -> None:
        if unmatched not in ("fail", "pass"):
            raise ValueError("unmatched must be 'fail' or 'pass'")
        self.dispatcher = dispatcher
        self.unmatched = unmatched
        self._router = _Router(dispatcher, unmatched)
        self._requests_patch: Any = None
        refuse = UnmatchedRequest if unmatched == "fail" else None
        self._websockets = WebSocketInterception(dispatcher, refuse=refuse)

    def start(self) -> None:
        _claim(self)
        self._router.start()
        self._requests_patch = _patch_requests(self)
        self._requests_patch.start()
        self._websockets.start()

    def stop(self) -> None:
        _check_stopped_in_order(self)
        self._websockets.stop()
        if self._requests_patch is not None:
            self._requests_patch.stop()
            self._requests_patch = None
        self._router.stop()
        with _active_lock:
            _active.pop(self, None)


# -- requests ------------------------------------------------------------------------------


def _patch_requests(interception: Interception) -> Any:
    try:
        import requests
        import requests.adapters
    except ImportError:  # requests is optional: only the wavespeed SDK uses it
        return mock.patch.dict({})

    original = requests.Session.get_adapter

    class EmulatorAdapter(requests.adapters.BaseAdapter):
        def send(  # type: ignore[override] # the rest of requests' options do not apply
            self,
            request: requests.PreparedRequest,
            stream: bool = False,
            timeout: Any = None,
            **kwargs: Any,
        ) -> requests.Response:
            return _send_via_app(interception.dispatcher, request, timeout)

        def close(self) -> None:
            pass

    adapter = EmulatorAdapter()

    def get_adapter(session: requests.Session, url: str) -> requests.adapters.BaseAdapter:
        host = urlsplit(url).hostname
        if _is_provider_host(host):
            return adapter
        mounted = original(session, url)
        if interception.unmatched == "fail" and _reaches_network(mounted):
            raise UnmatchedRequest("request to", url)
        return mounted  # unmatched="pass", or an adapter of the test's own (a mock)

    return mock.patch.object(requests.Session, "get_adapter", get_adapter)


def _reaches_network(adapter: Any) -> bool:
    """Whether a requests adapter sends over the network: requests' own ``HTTPAdapter``,
    its ``send`` requests' (a test's mock adapter, or ``responses``' patch of ``send``,
    answers itself)."""
    import requests.adapters

    send = getattr(type(adapter), "send", None)
    return getattr(send, "__module__", None) == requests.adapters.__name__


class _RawBody:
    """The ``raw`` of a requests.Response: the app's answer as it arrives, its errors as
    urllib3 raises them from a real connection (which requests then words as it does)."""

    def __init__(self, answer: SyncAnswer, url: str, timeout: float | None) -> None:
        self._chunks: Iterator[bytes] = iter(answer)
        self._answer, self._url, self._timeout = answer, url, timeout
        self._buffer = b""

    def read(self, amount: int | None = None, **_: Any) -> bytes:
        while amount is None or len(self._buffer) < amount:
            chunk = self._next()
            if chunk is None:
                break
            self._buffer += chunk
        if amount is None:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:amount], self._buffer[amount:]
        return data

    def _next(self) -> bytes | None:
        try:
            return next(self._chunks, None)
        except AnswerTimeout:
            from urllib3.exceptions import ReadTimeoutError

            message = f"Read timed out. (read timeout={self._timeout})"
            raise ReadTimeoutError(None, self._url, message) from None  # type: ignore[arg-type]
        except ConnectionDropped as error:
            from urllib3.exceptions import ProtocolError

            raise ProtocolError(f"Connection broken: {error}", error) from None

    def stream(self, amount: int = 2**16, decode_content: bool = True) -> Iterator[bytes]:
        while data := self.read(amount):
            yield data

    def close(self) -> None:
        self._answer.close()

    def release_conn(self) -> None:
        self.close()


def _read_timeout(timeout: Any) -> float | None:
    """The read timeout in requests' ``timeout``: one number for both, (connect, read), or
    urllib3's ``Timeout``, read as requests and urllib3 read them."""
    from urllib3.util import Timeout

    if isinstance(timeout, tuple):
        if len(timeout) != 2:  # requests' own refusal
            raise ValueError(
                f"Invalid timeout {timeout}. Pass a (connect, read) timeout tuple, "
                "or a single float to set both timeouts to the same value."
            )
        return timeout[1]
    if isinstance(timeout, Timeout):
        started = timeout.clone()  # a total is counted from the connection, as urllib3 does
        started.start_connect()
        read = started.read_timeout
        return read if isinstance(read, int | float) else None
    return timeout


def _latin1(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("latin-1")


def _requests_scope(prepared: Any, content: bytes) -> dict[str, Any]:
    """The scope of a requests ``PreparedRequest``, with the headers a connection adds."""
    url = urlsplit(prepared.url)
    headers = [(_latin1(name).lower(), _latin1(value)) for name, value in prepared.headers.items()]
    names = {name for name, _ in headers}
    if b"host" not in names:  # as http.client writes it: no port where it is the default
        host, port = url.hostname or "", url.port
        default = port is None or port == (443 if url.scheme == "https" else 80)
        headers.append((b"host", (host if default else f"{host}:{port}").encode("idna")))
    if content and b"content-length" not in names:
        headers.append((b"content-length", str(len(content)).encode()))
    target = ((url.path or "/") + (f"?{url.query}" if url.query else "")).encode()
    server = (url.hostname or "", url.port)
    return http_scope(prepared.method, url.scheme, server, target, headers)


_PHRASES = HTTPStatus._value2member_map_


def _joined(raw: list[tuple[bytes, bytes]]) -> Any:
    """Response headers as requests has them from urllib3: a header sent twice is one,
    its values joined by commas."""
    from requests.structures import CaseInsensitiveDict

    headers: CaseInsensitiveDict[str] = CaseInsensitiveDict()
    for name, value in raw:
        key, text = name.decode("latin-1"), value.decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return headers


def _send_via_app(dispatcher: AppDispatcher, prepared: Any, timeout: Any) -> Any:
    import requests

    body = prepared.body or b""
    if hasattr(body, "read"):  # a file
        body = body.read()
    content = body.encode() if isinstance(body, str) else body
    if not isinstance(content, bytes):  # a generator
        content = b"".join(
            chunk if isinstance(chunk, bytes) else chunk.encode() for chunk in content
        )
    read_timeout = _read_timeout(timeout)
    try:
        answer = dispatcher.answer_sync(_requests_scope(prepared, content), content, read_timeout)
    except AnswerTimeout:
        message = f"Read timed out. (read timeout={read_timeout})"
        raise requests.exceptions.ReadTimeout(message, request=prepared) from None
    except ConnectionDropped as error:
        raise requests.exceptions.ConnectionError(str(error), request=prepared) from None
    response = requests.Response()
    response.status_code = answer.status
    response.headers = _joined(answer.headers)
    response.raw = _RawBody(answer, prepared.url, read_timeout)
    response.reason = HTTPStatus(answer.status).phrase if answer.status in _PHRASES else ""
    response.url = prepared.url
    response.request = prepared
    response.encoding = requests.utils.get_encoding_from_headers(response.headers)
    return response
