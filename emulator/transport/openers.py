"""Intercepting urllib (``urlopen``, ``urlretrieve``, any opener built with its handlers):
a provider host's request is answered by the app in-process, and http.client reads the
answer as it reads one from a real connection, so the caller gets urllib's own response
object and errors.

Only provider hosts: a request to any other host goes out as before, whether unmatched
requests fail or pass, since the emulator's own webhook deliveries go through urllib.
"""

from __future__ import annotations

import http.client
import io
import urllib.request
from http import HTTPStatus
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

from emulator.http.exchange import ConnectionDropped
from emulator.transport.answers import AnswerTimeout, SyncAnswer
from emulator.transport.asgi import AppDispatcher, client_scope, content_of
from emulator.transport.unmatched import is_provider_host

__all__ = ["patch_urllib"]


def patch_urllib(dispatcher: AppDispatcher) -> Any:
    """A patch of urllib's HTTP and HTTPS handlers that has the app answer every provider
    host."""
    handler = urllib.request.AbstractHTTPHandler
    original = handler.do_open

    def do_open(self: Any, http_class: Any, request: urllib.request.Request, **kwargs: Any) -> Any:
        if not is_provider_host(urlsplit(request.full_url).hostname):
            return original(self, http_class, request, **kwargs)
        return _open_via_app(dispatcher, request)

    return mock.patch.object(handler, "do_open", do_open)


def _headers(request: urllib.request.Request) -> list[tuple[str, str]]:
    """The headers urllib's ``do_open`` sends, and those http.client adds."""
    headers = dict(request.unredirected_hdrs)
    headers.update({k: v for k, v in request.headers.items() if k not in headers})
    headers["Connection"] = "close"
    titled = {name.title(): value for name, value in headers.items()}
    titled.setdefault("Accept-Encoding", "identity")
    return list(titled.items())


def _open_via_app(dispatcher: AppDispatcher, request: urllib.request.Request) -> Any:
    content = content_of(request.data)
    scope = client_scope(request.get_method(), request.full_url, _headers(request), content)
    timeout = request.timeout if isinstance(request.timeout, int | float) else None
    try:
        answer = dispatcher.answer_sync(scope, content, timeout)
    except AnswerTimeout:  # as a socket's read of the status line raises it, unwrapped
        raise TimeoutError("The read operation timed out") from None
    except ConnectionDropped:
        raise http.client.RemoteDisconnected(
            "Remote end closed connection without response"
        ) from None
    response = http.client.HTTPResponse(
        _Connection(answer),  # type: ignore[arg-type] # what HTTPResponse reads of a socket
        method=request.get_method(),
        url=request.full_url,
    )
    response.begin()
    # as urllib's own do_open leaves its response
    response.url = request.full_url
    response.msg = response.reason  # type: ignore[assignment] # do_open's, read as the reason
    return response


class _Connection:
    """What `http.client.HTTPResponse` reads an answer from: the app's, as bytes on the
    wire (no length where the app sent none: then its end is the connection's)."""

    def __init__(self, answer: SyncAnswer) -> None:
        self._answer = answer

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(_Wire(self._answer))


class _Wire(io.RawIOBase):
    """The answer's bytes: its head, then its body, framed in chunks where the app gave no
    length (as uvicorn frames it), so that an answer broken off reads as one."""

    def __init__(self, answer: SyncAnswer) -> None:
        self._answer = answer
        self._chunks = iter(answer)
        names = {name.lower() for name, _ in answer.headers}
        self._framed = b"content-length" not in names and answer.status not in (204, 304)
        self._pending = _head(answer, framed=self._framed)
        self._ended = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending and not self._ended:
            self._pending = self._next()
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def _next(self) -> bytes:
        try:
            chunk = next(self._chunks, None)
        except AnswerTimeout:
            raise TimeoutError("The read operation timed out") from None
        except ConnectionDropped:  # the connection closes: what was sent is all there is
            self._ended = True
            return b""
        if chunk is None:
            self._ended = True
            return b"0\r\n\r\n" if self._framed else b""
        return b"%x\r\n%s\r\n" % (len(chunk), chunk) if self._framed else chunk

    def close(self) -> None:
        if not self.closed:
            self._answer.close()
        super().close()


def _head(answer: SyncAnswer, *, framed: bool) -> bytes:
    status = answer.status
    reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
    lines = [f"HTTP/1.1 {status} {reason}".encode("latin-1")]
    lines += [name + b": " + value for name, value in answer.headers]
    if framed:
        lines.append(b"transfer-encoding: chunked")
    return b"\r\n".join(lines) + b"\r\n\r\n"
