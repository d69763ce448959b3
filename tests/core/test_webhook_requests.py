"""One attempt's POST: bounded as a whole, however slowly a receiver answers."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from emulator.core.webhook_requests import AttemptTimeout, post
from emulator.core.webhooks import WebhookSender
from tests import webhook_receiver
from tests.webhook_receiver import Receiver

receiver = webhook_receiver.receiver
#: how long a trickling receiver goes on, at most: far past every attempt's bound here
TRICKLE_SECONDS = 30.0


@pytest.fixture
def trickling() -> Iterator[Callable[..., str]]:
    """Makes loopback receivers that read a request, then send ``head`` a byte every
    ``pace`` seconds (0.1: each read well within a socket timeout, the answer never whole
    in time)."""
    stop = threading.Event()
    servers: list[socket.socket] = []
    threads: list[threading.Thread] = []

    def answer(connection: socket.socket, head: bytes, pace: float) -> None:
        with connection:
            connection.recv(65536)
            if not pace:
                connection.sendall(head)
                return
            for byte in head:
                if stop.wait(pace):
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:  # cut by the client: done
                    return

    def accept(server: socket.socket, head: bytes, pace: float) -> None:
        server.settimeout(0.1)  # to see the test end: closing does not wake an accept
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:  # closed at the end of the test
                return
            connection.settimeout(None)
            thread = threading.Thread(target=answer, args=(connection, head, pace), daemon=True)
            thread.start()
            threads.append(thread)

    def make(head: bytes, pace: float = 0.1) -> str:
        server = socket.create_server(("127.0.0.1", 0))
        servers.append(server)
        thread = threading.Thread(target=accept, args=(server, head, pace), daemon=True)
        thread.start()
        threads.append(thread)
        return f"http://127.0.0.1:{server.getsockname()[1]}/hook"

    yield make
    stop.set()
    for thread in threads:
        thread.join(timeout=5)
    for server in servers:
        server.close()


#: an answer's head long enough to trickle for `TRICKLE_SECONDS`
SLOW_HEAD = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * int(TRICKLE_SECONDS * 10) + b"\r\n\r\n"


def test_an_answer_trickling_past_the_bound_times_the_attempt_out(
    trickling: Callable[..., str],
) -> None:
    # Each byte comes long before the socket's timeout: only a bound on the whole
    # attempt ends it before the receiver is done, 30 s on.
    with pytest.raises(AttemptTimeout, match="longer than 0.5 s"):
        post(trickling(SLOW_HEAD), b"{}", {}, timeout=0.5)


def test_a_quick_answer_is_its_status_and_a_redirect_is_not_followed(
    trickling: Callable[..., str],
) -> None:
    redirect = b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n"
    assert post(trickling(redirect, pace=0), b"{}", {}, timeout=10) == 307


def test_an_url_it_cannot_post_to_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not an http"):
        post("ftp://127.0.0.1/x", b"{}", {}, timeout=1)


@pytest.mark.slow  # waits out the attempts' 1 s bound
def test_a_keys_receivers_trickling_do_not_hold_up_another_keys_delivery(
    trickling: Callable[..., str], receiver: Callable[..., Receiver]
) -> None:
    # Four keys, two trickling deliveries each, take all eight workers: the fifth key's
    # delivery gets one once the attempts under way reach their bound (1 s here), not
    # when the receivers are done (30 s on).
    sender = WebhookSender(timeout=1.0)
    slow, quick = trickling(SLOW_HEAD), receiver()
    try:
        for key in range(4):
            for job in range(2):
                sender.watch(
                    "fal", f"slow-{key}-{job}", slow, is_done=lambda: True,
                    build=lambda: (b"{}", {}), schedule=(), owner=f"key-{key}",
                )  # fmt: skip
        delivery = sender.watch(
            "fal", "quick", quick.url, is_done=lambda: True,
            build=lambda: (b'{"job": "quick"}', {}), schedule=(), owner="key-5",
        )  # fmt: skip
        # a generous wait for a loaded machine, well inside the trickle's 30 s
        deadline = time.monotonic() + TRICKLE_SECONDS / 2
        while not quick.bodies and time.monotonic() < deadline:
            time.sleep(0.05)
        assert quick.jobs_received() == ["quick"], delivery
    finally:
        sender.close()
