"""One delivery attempt's POST to a receiver, bounded as a whole.

A socket's timeout bounds each read, not the attempt: a receiver that trickles its answer a
byte every few seconds would hold a delivery worker for as long as it liked, and with it
the other keys' deliveries waiting for a worker. So a watchdog cuts the connection when
the attempt's time is up, whatever it is waiting on. http.client, not urllib: no redirect
is followed (a 3xx is the receiver's answer, recorded as it is) and no proxy is used, and
the core needs no HTTP package.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
from urllib.parse import urlsplit

__all__ = ["AttemptTimeout", "post"]


class AttemptTimeout(TimeoutError):
    """The receiver had not answered in full when the attempt's time was up."""


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST ``body`` to ``url``, the answer read whole within ``timeout`` seconds in all;
    its status. Raises `OSError` (refused, unreachable, `AttemptTimeout`), `ValueError`
    (no URL it can post to) or `http.client.HTTPException` (no HTTP answer)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.hostname, parts.port, timeout=timeout)
    cut = threading.Event()
    watchdog = threading.Timer(timeout, _cut, (connection, cut))
    watchdog.daemon = True
    watchdog.start()
    try:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("POST", target, body, headers)
        response = connection.getresponse()
        response.read()
        if cut.is_set():  # read to an end the cut made
            raise AttemptTimeout(f"the receiver took longer than {timeout:g} s")
        return response.status
    except (OSError, http.client.HTTPException) as error:
        if cut.is_set():
            raise AttemptTimeout(f"the receiver took longer than {timeout:g} s") from error
        raise
    finally:
        watchdog.cancel()
        connection.close()


def _cut(connection: http.client.HTTPConnection, cut: threading.Event) -> None:
    """End the connection's reads and writes now (a shutdown wakes a blocked read; closing
    the socket from another thread would not)."""
    cut.set()
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
