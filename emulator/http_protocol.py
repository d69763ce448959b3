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
`HEAD_TIMEOUT` seconds is answered 408, and a connection that sent nothing is closed. The
rest of a body answered before it was read (a 413 on its length) is a body, read and
dropped as uvicorn does: never the head of a next request. Nor is it waited for without
end: as nginx lingers, the connection is closed once that rest stops coming for the
keep-alive's seconds, or still comes `LINGER_SECONDS` after the first of it was read.

uvicorn writes an answer's head and its body apart: two system calls and two TCP segments
for every answer, where one does (`HeadWithBody`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from emulator.access_log import AccessLog, access_log_for

#: the most bytes a request's line and headers may take (h11's default bound)
MAX_HEAD_BYTES = 64 * 1024
#: the seconds a request's line and headers may take to arrive, from a connection's start
#: or a request's first byte (a client sends its head in one write; nginx waits 60 s)
HEAD_TIMEOUT = 10.0
#: the longest the rest of a body answered early is read and dropped (nginx's
#: ``lingering_time``), so that a client trickling a body it said was huge holds no socket
LINGER_SECONDS = 30.0
#: the largest write held for the next (`HeadWithBody`): an answer's head is a few hundred
#: bytes
HELD_BYTES = 4096
_TOO_LARGE = (431, b"Request Header Fields Too Large", b"Request header fields too large")
_TOO_SLOW = (408, b"Request Timeout", b"Request headers not received in time")


class HeadWithBody:
    """The transport a response cycle writes to: a small write (an answer's head) is held
    until the next write, and the two are written together; or, if none follows at once
    (a stream's head, a ``100 Continue``), at the loop's next turn."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._transport.writelines((held, data))  # one system call (uvloop: writev)
        elif len(data) <= HELD_BYTES:
            self._held = data
            self._loop.call_soon(self.flush)
        else:
            self._transport.write(data)

    def flush(self) -> None:
        held = self._held
        if held is not None:
            self._held = None
            if not self._transport.is_closing():  # lost meanwhile: nobody to send it to
                self._transport.write(held)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()


class _HeadTooLarge(Exception):
    """Raised from a parser callback: httptools stops parsing, uvicorn answers (`_refuse`)."""


class BoundedHeadProtocol(HttpToolsProtocol):
    """`HttpToolsProtocol`, answering 431 to a request head over `MAX_HEAD_BYTES` and 408 to
    one not over within `HEAD_TIMEOUT`.

    Every request pays for the bounds, so they take few calls of their own: no parser
    callback per header (a head's size is added up only when its reads could exceed the
    bound), and one timer per connection that looks at the head under way, rather than
    one per request (the two cost a served request a tenth of its instructions). The same
    timer closes a connection left idle for uvicorn's keep-alive seconds after an answer,
    where uvicorn made and cancelled a timer of its own for every request (3 % of a served
    status poll's instructions).
    """

    _head_began: float | None = None  # the loop's time a head began; None between heads
    _head_bytes = 0  # received since a head began, before the read being parsed
    _reading = 0  # the size of the read being parsed
    _unparsed = 0  # received since the parser last handed over a part of the message
    _too_large = False  # the parser was stopped by `_HeadTooLarge`
    _in_message = False  # from a message's first byte to its end, as the parser reads it
    _answered_early = False  # a message just read to its end had been answered already
    _lingering_since: float | None = None  # the loop's time a body answered early was first read
    _head_timer: asyncio.TimerHandle | None = None  # the connection's one timer
    _idle_since: float | None = None  # the loop's time an answer left it idle; None: not
    _writes: HeadWithBody

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.access_log:  # lines made and written without `logging` (access_log.py)
            self.access_logger = access_log_for(self.loop)  # type: ignore[assignment]

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._writes = HeadWithBody(transport, self.loop)
        self._head_began = self.loop.time()
        self._look_in(min(HEAD_TIMEOUT, self.timeout_keep_alive))

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        if isinstance(self.access_logger, AccessLog):  # as a server stops, say
            self.access_logger.flush()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        HttpToolsProtocol.on_message_begin(self)
        self._in_message = True
        self._head_bytes = self._unparsed = 0
        if self._head_began is None:  # a request pipelined behind one being answered
            self._head_began = self.loop.time()

    def on_headers_complete(self) -> None:
        self._head_began, self._unparsed = None, 0
        if self._head_bytes + self._reading > MAX_HEAD_BYTES and self._head_size() > MAX_HEAD_BYTES:
            self._too_large = True
            raise _HeadTooLarge
        HttpToolsProtocol.on_headers_complete(self)
        cycle = self.cycle  # this request's (or, upgraded to a WebSocket, the last one's)
        if cycle is not None:
            cycle.transport = self._writes  # type: ignore[assignment]

    def on_response_complete(self) -> None:
        self._writes.flush()  # a HEAD answer's head: no body write follows it
        if self.pipeline:  # uvicorn starts answering the next request
            HttpToolsProtocol.on_response_complete(self)
            return
        # uvicorn's own, but for its keep-alive timer (the connection's looks: `_look`)
        self.server_state.total_requests += 1
        if not self.transport.is_closing():
            self.flow.resume_reading()
            self._idle_since = self.loop.time()

    def on_body(self, body: bytes) -> None:
        self._unparsed = 0
        HttpToolsProtocol.on_body(self, body)

    def on_message_complete(self) -> None:
        self._in_message = False
        self._lingering_since = None
        HttpToolsProtocol.on_message_complete(self)
        cycle = self.cycle  # a WebSocket's upgrade makes none: the last request's, or None
        if cycle is not None and cycle.response_complete and not self.parser.should_upgrade():
            self._answered_early = True  # answered before its body was read (a 413, a 404)

    def _wait_for_next_request(self) -> None:
        """After a body answered early, uvicorn's keep-alive timer, stopped as the rest of
        the body arrived, waits for a next request again: unless one began in the same read
        (it is answered, or its head is timed, already)."""
        self._answered_early = False
        cycle = self.cycle
        if self._in_message or not cycle.response_complete or self.transport.is_closing():
            return
        self._restart_keep_alive()

    def _restart_keep_alive(self) -> None:
        """The keep-alive's time, stopped by a read, started again from now."""
        self._idle_since = self.loop.time()

    def data_received(self, data: bytes) -> None:
        self._idle_since = None  # as uvicorn stops its keep-alive timer at every read
        self._reading = size = len(data)
        self._unparsed += size
        idle = not self._in_message and (self.cycle is None or self.cycle.response_complete)
        if self._head_began is None and idle:
            # bytes on an idle connection begin a head, though the parser may skip them
            # without one (CRLFs): uvicorn's keep-alive timer stopped at their arrival. (Not
            # the rest of a body answered early: it is read and dropped as uvicorn does.)
            self._head_began, self._head_bytes = self.loop.time(), 0
        HttpToolsProtocol.data_received(self, data)
        if self._answered_early:
            self._wait_for_next_request()
        elif self._in_message and self._head_began is None and self._cycle_answered():
            self._linger()  # (a head under way has the last request's cycle, and is timed)
        if self._head_began is not None:  # a head the parser has not finished
            self._head_bytes += size
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse_if_http(*_TOO_LARGE)
        # Nor does a chunked body's size line or trailer reach a callback before it ends:
        # bytes that bring no part of a message are bounded as a head is.
        elif self._unparsed > MAX_HEAD_BYTES:
            self._refuse_if_http(*_TOO_LARGE)

    def _cycle_answered(self) -> bool:
        cycle = self.cycle  # None before a first request's cycle (an upgrade makes none)
        return (
            cycle is not None and cycle.response_complete and self.transport.get_protocol() is self
        )

    def _linger(self) -> None:
        """The rest of a body answered early arrived in part: uvicorn's keep-alive timer,
        stopped by its arrival, closes the connection if no more comes; and it is closed at
        once if it still comes `LINGER_SECONDS` after its first part."""
        now = self.loop.time()
        if self._lingering_since is None:
            self._lingering_since = now
        elif now - self._lingering_since > LINGER_SECONDS:
            self.transport.close()
            return
        self._restart_keep_alive()

    def send_400_response(self, msg: str) -> None:
        if self._too_large:
            self._refuse(*_TOO_LARGE)
        else:
            super().send_400_response(msg)

    def _head_size(self) -> int:
        """The bytes of the request line's target and the headers (with ": " and CRLF)."""
        return len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)

    def _look_in(self, seconds: float) -> None:
        self._head_timer = self.loop.call_later(seconds, self._look)

    def _look(self) -> None:
        """The connection's timer: at the head under way, and at how long it is idle."""
        self._head_timer = None
        if self.transport.is_closing() or self.transport.get_protocol() is not self:
            return  # closed, or upgraded to a WebSocket
        now = self.loop.time()
        idle = self._idle_since
        if idle is not None and now - idle >= self.timeout_keep_alive:
            self.timeout_keep_alive_handler()  # uvicorn's: closed
            return
        began = self._head_began
        if began is None or now - began < HEAD_TIMEOUT:
            wait = HEAD_TIMEOUT if began is None else began + HEAD_TIMEOUT - now
        elif self.cycle is not None and not self.cycle.response_complete:
            # a next request sent while this one is answered: its time starts again, so
            # that a long answer (a sync run's wait) is not cut off by a 408
            self._head_began, wait = now, HEAD_TIMEOUT
        elif self._head_bytes:
            self._refuse(*_TOO_SLOW)
            return
        else:  # nothing sent: as an idle kept-alive connection is, closed without a word
            self.transport.close()
            return
        # idle: looked at again as its time is up; busy: within that time, should it go idle
        keep_alive = self.timeout_keep_alive
        self._look_in(min(wait, keep_alive if idle is None else idle + keep_alive - now))

    def _refuse_if_http(self, status: int, reason: bytes, text: bytes) -> None:
        if not self.transport.is_closing() and self.transport.get_protocol() is self:
            self._refuse(status, reason, text)  # not closed, nor upgraded to a WebSocket

    def _refuse(self, status: int, reason: bytes, text: bytes) -> None:
        self.transport.write(
            b"HTTP/1.1 %d %s\r\n"
            % (status, reason)
            + b"content-type: text/plain; charset=utf-8\r\n"
            b"content-length: " + str(len(text)).encode() + b"\r\n"
            b"connection: close\r\n\r\n" + text
        )
        self.transport.close()
