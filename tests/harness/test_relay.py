"""The loopback port a command client is given (emulator/harness/relay.py): each surface
path goes on to its real host, in this process, and comes back as the emulation answers."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator

import pytest

from emulator import emulate
from emulator.harness.relay import Relay, real_url

KEY = {"Authorization": "Key k", "Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("target", "url"),
    [
        ("/fal/queue/fal-ai/x?logs=1", "https://queue.fal.run/fal-ai/x?logs=1"),
        ("/fal/queue", "https://queue.fal.run/"),
        ("/wavespeed/cdn/files/a.jpg", "https://d2p7pge43lyniu.cloudfront.net/files/a.jpg"),
        ("/wavespeed/api/v3/balance", "https://api.wavespeed.ai/api/v3/balance"),
        ("/fal/queued/x", None),
        ("/_emulator/health", None),
    ],
)
def test_a_surface_path_names_its_real_host(target: str, url: str | None) -> None:
    assert real_url(target) == url


@pytest.fixture
def relay() -> Iterator[http.client.HTTPConnection]:
    with emulate(progression="immediate"), Relay(timeout=5) as relay:
        connection = http.client.HTTPConnection(relay.url.removeprefix("http://"), timeout=5)
        yield connection
        connection.close()


def test_a_chunked_request_and_a_streamed_answer_pass_whole(relay) -> None:
    body = iter([b'{"prompt": ', b'"streamed"}'])  # sent chunked: no length known
    relay.request("POST", "/fal/run/fal-ai/bitdance/stream", body, KEY, encode_chunked=True)
    answer = relay.getresponse()
    assert answer.status == 200 and answer.getheader("Transfer-Encoding") == "chunked"
    events = [line for line in answer.read().decode().splitlines() if line.startswith("data:")]
    assert json.loads(events[-1].removeprefix("data:"))["prompt"] == "streamed"
    # the same connection serves the next request (keep-alive), its answer naming real hosts
    relay.request("POST", "/fal/queue/fal-ai/bitdance", b'{"prompt": "x"}', KEY)
    queued = json.loads(relay.getresponse().read())
    assert queued["status_url"].startswith("https://queue.fal.run/fal-ai/bitdance/requests/")


@pytest.mark.parametrize(
    ("path", "headers", "status", "says"),
    [
        ("/_emulator/health", {}, 404, "the harness relays no /_emulator/health: no provider"),
        ("/fal/run/fal-ai/x", {"Upgrade": "websocket", "Connection": "Upgrade"}, 501,
         "the harness relays no WebSockets"),
    ],
)  # fmt: skip
def test_what_it_does_not_relay_is_refused_in_words(relay, path, headers, status, says) -> None:
    relay.request("GET", path, headers=headers)
    answer = relay.getresponse()
    assert answer.status == status
    assert says in json.loads(answer.read())["detail"]


@pytest.mark.parametrize(
    ("head", "body", "status", "says"),
    [
        ("Content-Length: -1", b"", 400, "unreadable Content-Length: '-1'"),  # read(-1) hung
        ("Content-Length: ten", b"", 400, "unreadable Content-Length: 'ten'"),
        ("Transfer-Encoding: chunked", b"zz\r\nab\r\n0\r\n\r\n", 400, "unreadable chunk size"),
        ("Content-Length: 17", b"", 413, "a request body over 16 bytes"),  # none was capped
        ("Transfer-Encoding: chunked", b"9\r\n123456789\r\n9\r\n123456789\r\n0\r\n\r\n", 413,
         "a request body over 16 bytes"),
        # a line that never ends, and trailers without end, were read for as long as sent
        ("Transfer-Encoding: chunked", b"0" * 70_000, 400, "a chunked body's line over 65536"),
        ("Transfer-Encoding: chunked", b"0\r\n" + b"X-T: 1\r\n" * 101 + b"\r\n", 400,
         "more than 100 trailers"),
    ],
)  # fmt: skip
def test_a_body_it_cannot_read_is_refused_not_blamed_on_the_client(
    monkeypatch, head: str, body: bytes, status: int, says: str
) -> None:
    monkeypatch.setattr("emulator.harness.relay.MAX_BODY_BYTES", 16)
    with emulate(progression="immediate"), Relay(timeout=5) as relay:
        host, port = relay.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as connection:
            request = f"POST /fal/queue/fal-ai/bitdance HTTP/1.1\r\nHost: x\r\n{head}\r\n\r\n"
            connection.sendall(request.encode() + body)
            answer = http.client.HTTPResponse(connection)
            answer.begin()
            assert answer.status == status
            assert says in json.loads(answer.read())["detail"]
    assert relay.failure is None
