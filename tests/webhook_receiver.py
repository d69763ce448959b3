"""A loopback webhook receiver (http.server in a thread) that records what arrives."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Callable, Iterator
from email.message import Message
from typing import Any

import pytest


class Receiver:
    """Answers each POST with the next status of ``statuses`` (then 200); ``hold`` keeps
    the first request waiting until released (at most 5 s)."""

    def __init__(self, statuses: tuple[int, ...] = (), hold: bool = False) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.requests: list[tuple[bytes, Message]] = []  # raw body, headers (any case)
        self.statuses = list(statuses)
        self.held, self.release, self.answered = threading.Event(), threading.Event(), 0
        self.hold = hold
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                with lock:
                    first = not receiver.bodies
                    receiver.bodies.append(json.loads(raw))
                    receiver.requests.append((raw, self.headers))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                if first and receiver.hold:
                    receiver.held.set()
                    receiver.release.wait(5)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with lock:
                    receiver.answered += 1

            def log_message(self, *args: object) -> None:
                pass

        lock = threading.Lock()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,))

    def jobs_received(self) -> list[str]:
        return sorted(body["job"] for body in self.bodies)


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    """Makes receivers (``Receiver``'s arguments), each shut down after the test."""
    made: list[Receiver] = []

    def make(*args: object, **kwargs: object) -> Receiver:
        made.append(Receiver(*args, **kwargs))  # type: ignore[arg-type]
        made[-1].thread.start()
        return made[-1]

    yield make
    for each in made:
        each.release.set()
        each.server.shutdown()
        each.server.server_close()
