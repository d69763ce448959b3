"""A loopback port for one call of a command client (command.py): the harness's emulation
answers there, through the same guard as a Python client's requests.

The command sends a provider's request to ``{relay}/{surface}/…``, as the Node hook maps
a real host (``https://queue.fal.run/x`` → ``{relay}/fal/queue/x``). The relay sends it on
to the real host through httpx, in this process, where the harness's in-process
interception answers it: through the emulation's dispatcher and so its `RequestGuard`
(guard.py), exactly as a Python client's request. The guard's limits, lost answers and
staged faults apply unchanged; a request the guard stops is noted (`Relay.stopped`) and its
connection dropped, and the answers name the real hosts, as the providers' own do.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socket import socket
from types import TracebackType
from typing import Any

import httpx

from emulator.config import EmulatorConfig
from emulator.harness.ran_away import ClientRanAway
from emulator.providers.registry import CANONICAL_HOSTS

__all__ = ["Relay"]

#: headers of one connection, not of the request or answer they carry
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}
#: surface prefixes, longest first (``/wavespeed/cdn`` before ``/wavespeed``)
_PREFIXES = sorted(("/" + surface for surface in CANONICAL_HOSTS), key=len, reverse=True)
#: the largest request body relayed: the emulation's own limit, which answers a 413 past it
MAX_BODY_BYTES: int = EmulatorConfig.max_body_bytes
#: a Content-Length (decimal) and a chunk size (hex): digits only, no sign
_DIGITS = {10: re.compile(rb"[0-9]+"), 16: re.compile(rb"[0-9A-Fa-f]+")}
#: the longest line of a chunked body (a chunk's size, a trailer) and the most trailers,
#: as http.server bounds a request's head
_MAX_LINE, _MAX_TRAILERS = 65536, 100
#: how long closing the relay waits for its connections' threads to end
_JOIN_SECONDS = 1.0


def real_url(target: str) -> str | None:
    """The real host's URL of a request target on the relay (``/fal/queue/x?y`` →
    ``https://queue.fal.run/x?y``); None for a path under no surface."""
    for prefix in _PREFIXES:
        rest = target[len(prefix) :]
        if target.startswith(prefix) and rest[:1] in ("", "/", "?"):
            host = CANONICAL_HOSTS[prefix[1:]]
            return f"https://{host}{rest if rest.startswith('/') else '/' + rest}"
    return None


class _Unreadable(Exception):
    """A request body the relay cannot read: its status, and why (the detail)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _size(text: bytes, base: int, what: str, so_far: int = 0) -> int:
    """A body's (or chunk's) length, refused when it is unreadable or takes the body past
    `MAX_BODY_BYTES`: a length of -1 would read until the command hangs up."""
    if not _DIGITS[base].fullmatch(text.strip()):
        raise _Unreadable(400, f"unreadable {what}: {text.strip().decode('latin-1')!r}")
    size = int(text, base)
    if so_far + size > MAX_BODY_BYTES:
        raise _Unreadable(413, f"a request body over {MAX_BODY_BYTES} bytes")
    return size


class NotInTheHarness(RuntimeError):
    """A command client called where no emulation answers the providers' hosts."""


def _outside_the_harness(request: httpx.Request) -> httpx.Response:
    # Reached only when no emulation intercepts the providers' hosts: never the network.
    raise NotInTheHarness(
        f"{request.method} {request.url} was not answered: a command client's requests are "
        "answered by the harness's emulation, so call it inside check() or conformance"
    )


class Relay:
    """One call's loopback server; ``url`` is what the command gets as
    ``PROVIDER_EMULATOR_URL``."""

    def __init__(self, timeout: float) -> None:
        """``timeout``: how long one request may wait for its answer."""
        #: why the guard stopped one of the command's requests, if it did
        self.stopped: ClientRanAway | None = None
        #: why a request could not be relayed at all (no emulation), if one could not
        self.failure: Exception | None = None
        self._on_stop: Callable[[], None] = lambda: None
        self._client = httpx.Client(
            transport=httpx.MockTransport(_outside_the_harness),
            timeout=timeout,
            trust_env=False,
        )
        self._server = _Server(self)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.01,), name="harness-relay", daemon=True
        )

    def when_stopped(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` as soon as the guard stops a request (to end the command)."""
        self._on_stop = callback

    def __enter__(self) -> Relay:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        # The command has ended: its connections are closed, so their threads end now (the
        # guard waits for a request's thread before the next call; see RequestGuard.settle).
        deadline = time.monotonic() + _JOIN_SECONDS
        for thread in self._server.handlers:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._client.close()

    def stop(self, stopped: ClientRanAway) -> None:
        """The guard stopped a request: the call is over (the first stop is its reason)."""
        if self.stopped is None:
            self.stopped = stopped
            self._on_stop()

    def send(
        self, method: str, url: str, headers: list[tuple[str, str]], body: bytes
    ) -> httpx.Response:
        """The answer of the harness's emulation, streaming (an ``httpx.Response``)."""
        request = self._client.build_request(method, url, headers=headers, content=body)
        return self._client.send(request, stream=True)


class _Server(ThreadingHTTPServer):
    def __init__(self, relay: Relay) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.relay = relay
        #: one thread per connection, joined when the relay closes
        self.handlers: list[threading.Thread] = []

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name="harness-relay-connection",
            daemon=True,
        )
        self.handlers.append(thread)
        thread.start()

    def handle_error(self, request: socket | tuple[bytes, socket], client_address: Any) -> None:
        """A command that hangs up is no error of the harness's; any other error is the
        call's (`Relay.failure`), not a traceback on stderr."""
        error = sys.exc_info()[1]
        if isinstance(error, Exception) and not isinstance(error, OSError):
            self.relay.failure = self.relay.failure or error


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the clients expect
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        """Quiet: the harness reports what the command did."""

    def _relay(self) -> None:
        relay = self.server.relay
        url = real_url(self.path)
        if url is None or self.headers.get("Upgrade"):
            what = "WebSockets" if url else f"{self.path}: no provider surface"
            self._refuse(404 if url is None else 501, f"the harness relays no {what}")
            return
        headers = [(k, v) for k, v in self.headers.items() if not _skipped(k)]
        try:
            body = self._body()
        except _Unreadable as error:
            self.close_connection = True  # what is left of the body is never read
            self._refuse(error.status, str(error))
            return
        try:
            answer = relay.send(self.command, url, headers, body)
        except ClientRanAway as stopped:
            relay.stop(stopped)
            self.close_connection = True  # the command hears its connection drop
            return
        except httpx.TransportError:  # a lost answer, staged by the harness
            self.close_connection = True
            return
        except NotInTheHarness as error:
            relay.failure = relay.failure or error
            self._refuse(502, str(error))
            return
        try:
            self._pass_on(answer)
        finally:
            answer.close()

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _relay

    def _body(self) -> bytes:
        if "chunked" not in self.headers.get("Transfer-Encoding", "").lower():
            length = (self.headers.get("Content-Length") or "0").encode("latin-1")
            return self.rfile.read(_size(length, 10, "Content-Length"))
        chunks: list[bytes] = []
        read = 0
        while size := _size(self._line().split(b";")[0], 16, "chunk size", read):
            chunks.append(self.rfile.read(size))
            read += size
            self._line()
        for _ in range(_MAX_TRAILERS + 1):  # trailers, until the blank line
            if not self._line().strip():
                return b"".join(chunks)
        raise _Unreadable(400, f"more than {_MAX_TRAILERS} trailers")

    def _line(self) -> bytes:
        """One line of a chunked body, refused past `_MAX_LINE` (a line that never ends
        would be read for as long as the command sends it)."""
        line = self.rfile.readline(_MAX_LINE + 1)
        if len(line) > _MAX_LINE:
            raise _Unreadable(400, f"a chunked body's line over {_MAX_LINE} bytes")
        return line

    def _pass_on(self, answer: httpx.Response) -> None:
        self.send_response_only(answer.status_code, answer.reason_phrase)
        for name, value in answer.headers.raw:
            if not _skipped(name.decode("latin-1"), keep_length=True):
                self.send_header(name.decode("latin-1"), value.decode("latin-1"))
        bodyless = self.command == "HEAD" or answer.status_code in (204, 304)
        chunked = not bodyless and "content-length" not in answer.headers
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if bodyless:
            return
        try:
            for chunk in filter(None, answer.iter_raw()):  # (an empty chunk would end it)
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
        except (httpx.TransportError, OSError):  # dropped mid-body (staged), or hung up
            self.close_connection = True
            return
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    def _refuse(self, status: int, message: str) -> None:
        body = json.dumps({"detail": f"provider-emulator: {message}"}).encode()
        self.send_response_only(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _skipped(name: str, *, keep_length: bool = False) -> bool:
    """Whether a header stays behind: the connection's own, and the request's host and
    length (httpx writes them for the real host)."""
    name = name.lower()
    return name in _HOP_BY_HOP or (not keep_length and name in ("host", "content-length"))
