"""The servers' HTTP protocol: a request head is bounded, the rest as uvicorn serves it."""

import socket

import httpx

from emulator.http_protocol import MAX_HEAD_BYTES
from emulator.server import BackgroundServer


def test_an_endless_header_line_is_a_431_and_other_clients_are_answered() -> None:
    """httptools grew the line without limit, copying it on each read: a client sending
    one stalled every other client and held memory as it sent."""
    with BackgroundServer() as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as endless:
            endless.sendall(b"GET /_emulator/health HTTP/1.1\r\nHost: a\r\nX-A: ")
            sent = 0
            try:
                while sent < 64 * MAX_HEAD_BYTES:  # far past the bound: refused on the way
                    endless.sendall(b"a" * 4096)
                    sent += 4096
            except OSError:  # the server closed the connection
                pass
            answer = endless.recv(64)
        assert answer.startswith(b"HTTP/1.1 431 ")
        assert httpx.get(f"{server.url}/_emulator/health", timeout=5).status_code == 200
        long_but_legal = {"prompt": "x" * (4 * MAX_HEAD_BYTES)}  # a large body is no head
        submitted = httpx.post(
            f"{server.url}/fal/queue/fal-ai/bitdance",
            json=long_but_legal,
            headers={"Authorization": "Key k", "X-Long": "y" * (MAX_HEAD_BYTES // 2)},
            timeout=10,
        )
        assert submitted.status_code == 200
