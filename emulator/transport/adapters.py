"""Intercepting requests (the WaveSpeed SDK's client): a session's adapter for a provider
host answers from the app in-process, its answer and its errors as urllib3 gives them over
a real connection."""

from __future__ import annotations

from collections.abc import Iterator
from http import HTTPStatus
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

from emulator.http.exchange import ConnectionDropped
from emulator.transport.answers import AnswerTimeout, SyncAnswer
from emulator.transport.asgi import AppDispatcher, client_scope, content_of
from emulator.transport.unmatched import Unmatched, UnmatchedRequest, is_provider_host

__all__ = ["patch_requests"]


def patch_requests(dispatcher: AppDispatcher, unmatched: Unmatched) -> Any:
    """A patch of requests' sessions that has the app answer every provider host (a no-op
    patch where requests is not installed)."""
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
            return _send_via_app(dispatcher, request, timeout)

        def close(self) -> None:
            pass

    adapter = EmulatorAdapter()

    def get_adapter(session: requests.Session, url: str) -> requests.adapters.BaseAdapter:
        host = urlsplit(url).hostname
        if is_provider_host(host):
            return adapter
        mounted = original(session, url)
        if unmatched == "fail" and _reaches_network(mounted):
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

    content = content_of(prepared.body)
    read_timeout = _read_timeout(timeout)
    scope = client_scope(prepared.method, prepared.url, prepared.headers.items(), content)
    try:
        answer = dispatcher.answer_sync(scope, content, read_timeout)
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
