"""The HTTP/1.1 protocol the servers run: uvicorn's httptools protocol, its request head
bounded.

httptools keeps a header line growing for as long as a client sends it, and uvicorn's own
bound (``h11_max_incomplete_event_size``) is h11's alone: one endless header line held
memory without limit and, copied again on every read, stalled every other client of the
server. A request whose line and headers are not over within `MAX_HEAD_BYTES` is answered
431 and its connection closed.
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

#: the most bytes a request's line and headers may take (h11's default bound)
MAX_HEAD_BYTES = 64 * 1024
_REFUSAL = b"Request header fields too large"


class BoundedHeadProtocol(HttpToolsProtocol):
    """`HttpToolsProtocol`, answering 431 to a request head over `MAX_HEAD_BYTES`."""

    _in_head = True  # between a message's first byte and the end of its headers
    _head_bytes = 0

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._head_bytes = True, 0

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if not self._in_head or self.transport.is_closing():
            return
        self._head_bytes += len(data)
        if self._head_bytes > MAX_HEAD_BYTES:
            self.transport.write(
                b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
                b"content-type: text/plain; charset=utf-8\r\n"
                b"content-length: " + str(len(_REFUSAL)).encode() + b"\r\n"
                b"connection: close\r\n\r\n" + _REFUSAL
            )
            self.transport.close()
