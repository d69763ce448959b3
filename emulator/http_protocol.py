"""The HTTP/1.1 protocol the servers run: uvicorn's httptools protocol, its request head
bounded in size and in time.

httptools keeps a header line growing for as long as a client sends it, and uvicorn's own
bound (``h11_max_incomplete_event_size``) is h11's alone: one endless header line held
memory without limit and, copied again on every read, stalled every other client of the
server. A request whose line and headers are over `MAX_HEAD_BYTES` is answered 431 and its
connection closed, as is a chunked body's size line or trailer over that bound (httptools
grows those too, out of `on_header`'s sight). Nor does uvicorn time a head: a connection
that sent nothing, or its head a byte at a time, held its socket for ever (an audit's 1,100
such connections took every descriptor a process had). A head not over within
`HEAD_TIMEOUT` seconds is answered 408, and a connection that sent nothing is closed.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

#: the most bytes a request's line and headers may take (h11's default bound)
MAX_HEAD_BYTES = 64 * 1024
#: the seconds a request's line and headers may take to arrive, from a connection's start
#: or a request's first byte (a client sends its head in one write; nginx waits 60 s)
HEAD_TIMEOUT = 10.0
_TOO_LARGE = (431, b"Request Header Fields Too Large", b"Request header fields too large")
_TOO_SLOW = (408, b"Request Timeout", b"Request headers not received in time")


class _HeadTooLarge(Exception):
    """Raised from a parser callback: httptools stops parsing, uvicorn answers (`_refuse`)."""


class BoundedHeadProtocol(HttpToolsProtocol):
    """`HttpToolsProtocol`, answering 431 to a request head over `MAX_HEAD_BYTES` and 408 to
    one not over within `HEAD_TIMEOUT`."""

    _in_head = True  # between a message's first byte and the end of its headers
    _head_bytes = 0  # received since the message began, while its head is not over
    _parsed_bytes = 0  # of its line and headers, as the parser hands them over
    _in_body = False  # between the end of a message's headers and the end of the message
    _unparsed = 0  # received since the parser last handed over a part of the body
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._time_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._untime_head()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._head_bytes, self._parsed_bytes = True, 0, 0
        if self._head_timer is None:  # a next request on a kept-alive connection
            self._time_head()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head, self._in_body, self._unparsed = False, True, 0
        self._untime_head()
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._unparsed = 0
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._in_body = False
        super().on_message_complete()

    def data_received(self, data: bytes) -> None:
        self._unparsed += len(data)
        super().data_received(data)
        if self.transport.is_closing() or self.transport.get_protocol() is not self:
            return  # closed, or upgraded to a WebSocket: no longer HTTP's to bound
        if self._in_head:  # a head the parser has not finished grows with each read
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse(*_TOO_LARGE)
        # Nor does a chunked body's trailer line reach `on_header` before it ends: bytes
        # that bring no body are a chunk's size line or a trailer, bounded as a head is.
        elif self._in_body and self._unparsed > MAX_HEAD_BYTES:
            self._refuse(*_TOO_LARGE)

    def send_400_response(self, msg: str) -> None:
        if self._parsed_bytes > MAX_HEAD_BYTES:  # the parser stopped at `_HeadTooLarge`
            self._refuse(*_TOO_LARGE)
        else:
            super().send_400_response(msg)

    def _count(self, size: int) -> None:
        self._parsed_bytes += size
        if self._parsed_bytes > MAX_HEAD_BYTES:
            raise _HeadTooLarge

    def _time_head(self) -> None:
        self._head_timer = self.loop.call_later(HEAD_TIMEOUT, self._head_timed_out)

    def _untime_head(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # a next request sent while this one is answered: its time starts again, so
            # that a long answer (a sync run's wait) is not cut off by a 408
            self._time_head()
            return
        if self._head_bytes or self._parsed_bytes:
            self._refuse(*_TOO_SLOW)
        else:  # nothing sent: as an idle kept-alive connection is, closed without a word
            self.transport.close()

    def _refuse(self, status: int, reason: bytes, text: bytes) -> None:
        self._untime_head()
        self.transport.write(
            b"HTTP/1.1 %d %s\r\n"
            % (status, reason)
            + b"content-type: text/plain; charset=utf-8\r\n"
            b"content-length: " + str(len(text)).encode() + b"\r\n"
            b"connection: close\r\n\r\n" + text
        )
        self.transport.close()
