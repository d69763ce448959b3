"""The servers' HTTP protocol: a request head is bounded, the rest as uvicorn serves it."""

import asyncio
import contextlib
import socket
import time
from collections.abc import Iterable
from typing import Any

import httpx
import pytest
import uvicorn
from uvicorn.server import ServerState

from emulator import EmulatorConfig, create_app, http_protocol
from emulator.core.faults import Fault
from emulator.http_protocol import HELD_BYTES, MAX_HEAD_BYTES, BoundedHeadProtocol, HeadWithBody
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


def test_a_head_over_the_bound_in_one_write_is_a_431() -> None:
    # the bound was counted only while a read left the head unfinished: 70 KB sent at once
    # was answered 200
    with BackgroundServer() as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as big:
            header = b"X-Big: " + b"a" * (MAX_HEAD_BYTES + 4096) + b"\r\n"
            big.sendall(b"GET /_emulator/health HTTP/1.1\r\nHost: a\r\n" + header + b"\r\n")
            assert big.recv(64).startswith(b"HTTP/1.1 431 ")


def test_a_head_over_the_bound_ended_by_a_later_write_is_a_431() -> None:
    # each write is under the bound, and the head ends within the second
    with BackgroundServer() as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as big:
            half = b"a" * (MAX_HEAD_BYTES // 2 + 1024)
            big.sendall(b"GET /_emulator/health HTTP/1.1\r\nHost: a\r\nX-One: " + half)
            time.sleep(0.2)  # read apart
            big.sendall(b"\r\nX-Two: " + half + b"\r\n\r\n")
            assert big.recv(64).startswith(b"HTTP/1.1 431 ")


def _whole_answer(connection: socket.socket) -> bytes:
    """An answer read to the end of its body (its head and body may come apart)."""
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += connection.recv(4096)
    head, _, body = answer.partition(b"\r\n\r\n")
    length = int(next(line for line in head.lower().split(b"\r\n")
                      if line.startswith(b"content-length:")).split(b":")[1])  # fmt: skip
    while len(body) < length:
        body += connection.recv(4096)
    return head + b"\r\n\r\n" + body


def _dribble_a_head(connection: socket.socket) -> None:
    """A request line, then a header a byte every 0.1 s, until the server closes."""
    connection.sendall(b"GET /_emulator/health HTTP/1.1\r\n")
    with contextlib.suppress(OSError):  # closed as it sends
        for byte in b"Host: a-host-name-sent-one-byte-at-a-time":
            connection.sendall(bytes([byte]))
            time.sleep(0.1)


def test_a_silent_connection_is_closed_and_a_slow_head_is_a_408(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each held a socket for ever: enough of them took every descriptor a process had."""
    monkeypatch.setattr(http_protocol, "HEAD_TIMEOUT", 0.5)
    with BackgroundServer() as server:
        address = ("127.0.0.1", server.port)
        with socket.create_connection(address, timeout=10) as silent:
            started = time.monotonic()
            assert silent.recv(64) == b""  # closed, without a word
            assert time.monotonic() - started < 5
        with socket.create_connection(address, timeout=10) as slow:
            _dribble_a_head(slow)
            assert slow.recv(64).startswith(b"HTTP/1.1 408 ")


@pytest.mark.slow  # a 1.5 s answer and a 1 s pause, served: 2.7 s
def test_the_head_timeout_leaves_kept_alive_connections_and_long_answers_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(http_protocol, "HEAD_TIMEOUT", 0.5)
    with BackgroundServer() as server, httpx.Client(base_url=server.url, timeout=10) as client:
        server.engine.faults.add(Fault.from_dict({"effect": "delay", "seconds": 1.5, "times": 1}))
        submitted = client.post(
            "/fal/queue/fal-ai/bitdance", json={"prompt": "a"}, headers={"Authorization": "Key k"}
        )
        assert submitted.status_code == 200  # answered 1.5 s after its head
        time.sleep(1.0)  # idle between requests: uvicorn's keep-alive (5 s) decides
        assert client.get("/_emulator/health").status_code == 200
        assert client.get("/_emulator/health").status_code == 200


def test_an_endless_trailer_line_is_a_431_and_other_clients_are_answered() -> None:
    """httptools grows a chunked body's trailer line as it grows a header line, out of
    `on_header`'s sight: 150 MiB of one took the server to 248 MiB and other clients'
    answers from 1 ms to seconds (a review)."""
    with BackgroundServer() as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as endless:
            endless.sendall(
                b"POST /fal/queue/fal-ai/bitdance HTTP/1.1\r\nHost: a\r\n"
                b"Authorization: Key k\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\nX-Trailer: "
            )
            with contextlib.suppress(OSError):  # refused on the way
                for _ in range(64):  # far past the bound
                    endless.sendall(b"a" * 4096)
            assert endless.recv(64).startswith(b"HTTP/1.1 431 ")
        assert httpx.get(f"{server.url}/_emulator/health", timeout=5).status_code == 200


def test_a_next_head_dribbled_on_a_kept_alive_connection_is_a_408(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(http_protocol, "HEAD_TIMEOUT", 0.5)
    with BackgroundServer() as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as kept:
            kept.sendall(b"GET /_emulator/health HTTP/1.1\r\nHost: a\r\n\r\n")
            assert _whole_answer(kept).startswith(b"HTTP/1.1 200 ")
            _dribble_a_head(kept)
            assert kept.recv(64).startswith(b"HTTP/1.1 408 ")


def test_a_crlf_after_an_answer_does_not_hold_the_connection_for_ever(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """httptools skips it without beginning a message, and uvicorn's keep-alive timer
    stopped at its arrival: the connection stayed open, a descriptor for ever (a review)."""
    monkeypatch.setattr(http_protocol, "HEAD_TIMEOUT", 0.5)
    with BackgroundServer() as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as kept:
            kept.sendall(b"GET /_emulator/health HTTP/1.1\r\nHost: a\r\n\r\n")
            assert _whole_answer(kept).startswith(b"HTTP/1.1 200 ")
            kept.sendall(b"\r\n")
            assert kept.recv(64).startswith(b"HTTP/1.1 408 ")  # within 10 s, or it fails


@pytest.mark.slow  # a 1.5 s answer, served
def test_a_request_sent_while_the_last_is_answered_does_not_cut_its_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The next request's first byte started its head's time while a 1.5 s answer was
    made: the 408 ended the connection, and that answer was never sent (a review)."""
    monkeypatch.setattr(http_protocol, "HEAD_TIMEOUT", 0.5)
    with BackgroundServer() as server:
        server.engine.faults.add(Fault.from_dict({"effect": "delay", "seconds": 1.5, "times": 1}))
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as pipelined:
            pipelined.sendall(
                b"POST /fal/queue/fal-ai/bitdance HTTP/1.1\r\nHost: a\r\n"
                b"Authorization: Key k\r\nContent-Type: application/json\r\n"
                b'Content-Length: 15\r\n\r\n{"prompt": "a"}G'  # a next request's first byte
            )
            assert pipelined.recv(64).startswith(b"HTTP/1.1 200 ")


def test_the_body_left_after_an_early_answer_is_a_body_not_a_head() -> None:
    """A request answered before its body was read (a 413 on its Content-Length) had the
    rest of its body counted as the next request's head: past the bound, a second answer,
    a 431, and the connection reset mid-upload (an audit)."""
    with BackgroundServer(EmulatorConfig(max_body_bytes=1024)) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as early:
            body = b"x" * (4 * MAX_HEAD_BYTES)
            early.sendall(
                b"POST /fal/queue/fal-ai/bitdance HTTP/1.1\r\nHost: a\r\nAuthorization: Key k"
                b"\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
            )
            assert _whole_answer(early).startswith(b"HTTP/1.1 413 ")
            early.sendall(body + b"GET /_emulator/health HTTP/1.1\r\nHost: a\r\n\r\n")
            assert _whole_answer(early).startswith(b"HTTP/1.1 200 ")


@pytest.mark.slow  # uvicorn's keep-alive: 5 s
def test_a_connection_idle_after_a_body_answered_early_is_closed() -> None:
    """uvicorn's keep-alive timer stopped as the rest of the body arrived, and nothing
    started it again: the connection was held for ever."""
    with BackgroundServer(EmulatorConfig(max_body_bytes=1024)) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as early:
            body = b"x" * 4096
            early.sendall(
                b"POST /fal/queue/fal-ai/bitdance HTTP/1.1\r\nHost: a\r\nAuthorization: Key k"
                b"\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
            )
            assert _whole_answer(early).startswith(b"HTTP/1.1 413 ")
            early.sendall(body)
            assert early.recv(64) == b""  # closed within 10 s, or it fails


def _answered_early(connection: socket.socket, declared: int) -> None:
    """Sends a submit's head declaring a body of ``declared`` bytes, over the server's
    1 KiB limit, and reads its 413."""
    connection.sendall(
        b"POST /fal/queue/fal-ai/bitdance HTTP/1.1\r\nHost: a\r\nAuthorization: Key k"
        b"\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % declared
    )
    assert _whole_answer(connection).startswith(b"HTTP/1.1 413 ")


@pytest.mark.slow  # uvicorn's keep-alive: 5 s
def test_the_rest_of_a_body_answered_early_that_stops_coming_is_not_waited_for() -> None:
    """A byte of a body declared huge, then silence: its arrival stopped the keep-alive
    timer, and the connection was held for ever (an audit: 300 such held 300 descriptors)."""
    with BackgroundServer(EmulatorConfig(max_body_bytes=1024)) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as early:
            _answered_early(early, 999_999_999)
            early.sendall(b"x")
            assert early.recv(64) == b""  # closed within 10 s, or it fails


@pytest.mark.slow  # a body trickled for a second and a half
def test_the_rest_of_a_body_answered_early_is_read_for_a_bounded_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A byte every 0.3 s of a body declared huge kept the connection open for as long as
    they came (an audit: still open 150 s after a 408)."""
    monkeypatch.setattr(http_protocol, "LINGER_SECONDS", 1.0)
    with BackgroundServer(EmulatorConfig(max_body_bytes=1024)) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as early:
            _answered_early(early, 999_999_999)
            started = time.monotonic()
            with contextlib.suppress(ConnectionError):  # closed mid-trickle
                while time.monotonic() - started < 8:
                    early.sendall(b"x")
                    time.sleep(0.3)
            assert time.monotonic() - started < 8  # it stopped taking bytes


@pytest.mark.slow  # a head held past uvicorn's keep-alive: 6 s
def test_a_next_head_slower_than_the_keep_alive_on_a_kept_alive_connection_is_answered() -> None:
    """A head under way after an answered request was taken for the rest of a body answered
    early, and the keep-alive's 5 s cut it off without a word, where a head has 10 s (a
    review)."""
    with BackgroundServer() as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=15) as kept:
            kept.sendall(b"GET /_emulator/health HTTP/1.1\r\nHost: a\r\n\r\n")
            assert _whole_answer(kept).startswith(b"HTTP/1.1 200 ")
            kept.sendall(b"GET /_emulator/health HTTP/1.1\r\n")
            time.sleep(6)
            kept.sendall(b"Host: a\r\n\r\n")
            assert _whole_answer(kept).startswith(b"HTTP/1.1 200 ")


@pytest.mark.slow  # past uvicorn's keep-alive: 5 s
def test_a_websocket_opened_on_a_kept_alive_connection_outlives_the_keep_alive() -> None:
    """An upgrade makes no request cycle: the last request's, answered, was taken for one
    answered early, and the keep-alive timer it started closed the WebSocket (a review)."""
    with BackgroundServer() as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as kept:
            kept.sendall(b"GET /_emulator/health HTTP/1.1\r\nHost: a\r\n\r\n")
            assert _whole_answer(kept).startswith(b"HTTP/1.1 200 ")
            kept.sendall(
                b"GET /fal/run/fal-ai/fast-lcm-diffusion/realtime HTTP/1.1\r\nHost: a\r\n"
                b"Authorization: Key k\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
            )
            assert kept.recv(4096).startswith(b"HTTP/1.1 101 ")
            kept.settimeout(6.5)
            with pytest.raises(TimeoutError):  # nothing comes, and the socket stays open
                kept.recv(64)


@pytest.mark.slow  # past uvicorn's keep-alive: 5 s
def test_a_request_behind_a_body_answered_early_is_not_cut_by_the_keep_alive() -> None:
    """The keep-alive timer started as the body ended ran on while a next request, in the
    same read, was answered: a 6 s answer was cut off at 5 s (a review)."""
    with BackgroundServer(EmulatorConfig(max_body_bytes=1024)) as server:
        server.engine.faults.add(
            Fault.from_dict({"effect": "delay", "seconds": 6, "path": "*/status", "times": 1})
        )
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as early:
            submitted = httpx.post(
                f"{server.url}/fal/queue/fal-ai/bitdance", json={"prompt": "a"},
                headers={"Authorization": "Key k"}, timeout=5,
            ).json()  # fmt: skip
            status = submitted["status_url"].split(str(server.port), 1)[1].encode()
            body = b"x" * 4096
            early.sendall(
                b"POST /fal/queue/fal-ai/bitdance HTTP/1.1\r\nHost: a\r\nAuthorization: Key k"
                b"\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
            )
            assert _whole_answer(early).startswith(b"HTTP/1.1 413 ")
            early.sendall(
                body + b"GET %s HTTP/1.1\r\nHost: a\r\nAuthorization: Key k\r\n\r\n" % status
            )
            assert _whole_answer(early).startswith(b"HTTP/1.1 200 ")


class _Recorded(asyncio.Transport):
    """A connection's transport that keeps what is written to it, a list per system call."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[list[bytes]] = []
        self.closed = False

    def write(self, data: bytes) -> None:  # type: ignore[override]
        self.calls.append([bytes(data)])

    def writelines(self, list_of_data: Iterable[bytes]) -> None:  # type: ignore[override]
        self.calls.append([bytes(data) for data in list_of_data])

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: object = None) -> object:
        return default

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.protocol = protocol

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self.protocol

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


class _Connection:
    """`BoundedHeadProtocol` on a `_Recorded` transport, the emulator its app."""

    def __init__(self, timeout_keep_alive: float = 5) -> None:
        config = uvicorn.Config(
            create_app(),
            lifespan="off",
            http=BoundedHeadProtocol,
            access_log=False,  # as `serve` by default
            timeout_keep_alive=timeout_keep_alive,
        )
        config.load()
        self.protocol = BoundedHeadProtocol(config=config, server_state=ServerState(), app_state={})
        self.transport = _Recorded()
        self.transport.set_protocol(self.protocol)
        self.protocol.connection_made(self.transport)

    async def answer(self, request: bytes) -> None:
        self.protocol.data_received(request)
        for _ in range(1000):  # turns of the loop, bounded: an answer takes a few
            cycle = self.protocol.cycle
            if cycle is not None and cycle.response_complete:
                return
            await asyncio.sleep(0)
        raise AssertionError("not answered")


async def _served(request: bytes) -> list[list[bytes]]:
    """The writes of `BoundedHeadProtocol` answering ``request``."""
    connection = _Connection()
    await connection.answer(request)
    connection.protocol.connection_lost(None)
    return connection.transport.calls


HEALTH = b"GET /_emulator/health HTTP/1.1\r\nHost: a\r\n\r\n"


def test_answers_on_a_kept_alive_connection_make_no_timer_each() -> None:
    """uvicorn made and cancelled a keep-alive timer for every request (3 % of a served
    status poll's instructions); the connection's own timer looks at how long it is idle."""

    async def timers() -> int:
        connection = _Connection()
        loop, made = asyncio.get_running_loop(), []
        call_later = loop.call_later

        def counted(*arguments: Any, **options: Any) -> asyncio.TimerHandle:
            made.append(arguments[1])
            return call_later(*arguments, **options)

        loop.call_later = counted  # type: ignore[method-assign]
        try:
            for _ in range(3):
                await connection.answer(HEALTH)
        finally:
            del loop.call_later
            connection.protocol.connection_lost(None)
        return len(made)

    assert asyncio.run(timers()) == 0


def test_a_connection_idle_for_the_keep_alive_is_closed_and_not_before() -> None:
    async def closed_when() -> list[bool]:
        connection = _Connection(timeout_keep_alive=0.5)
        seen = []
        await connection.answer(HEALTH)
        await asyncio.sleep(0.3)
        await connection.answer(HEALTH)  # idle again from here
        await asyncio.sleep(0.3)  # 0.6 s after the first answer
        seen.append(connection.transport.closed)
        await asyncio.sleep(0.5)
        seen.append(connection.transport.closed)
        connection.protocol.connection_lost(None)
        return seen

    assert asyncio.run(closed_when()) == [False, True]


def test_an_answer_is_written_in_one_system_call() -> None:
    """uvicorn wrote an answer's head and its body apart: two system calls and two TCP
    segments an answer, where one does."""
    calls = asyncio.run(_served(HEALTH))
    assert len(calls) == 1 and calls[0][0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert b'"status":"ok"' in calls[0][-1]


def test_an_answer_to_a_head_request_is_written_as_it_completes() -> None:
    calls = asyncio.run(_served(b"HEAD /_emulator/health HTTP/1.1\r\nHost: a\r\n\r\n"))
    assert len(calls) == 1 and b"".join(calls[0]).endswith(b"\r\n\r\n")


def test_a_write_no_other_follows_goes_at_the_loops_next_turn_and_before_a_close() -> None:
    async def writes() -> tuple[list[list[bytes]], ...]:
        transport = _Recorded()
        writer = HeadWithBody(transport, asyncio.get_running_loop())
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        held = list(transport.calls)
        await asyncio.sleep(0)
        turned = list(transport.calls)
        writer.write(b"head")
        writer.close()
        return held, turned, transport.calls

    held, turned, closed = asyncio.run(writes())
    assert held == [] and turned == [[b"HTTP/1.1 100 Continue\r\n\r\n"]]
    assert closed[-1] == [b"head"]


def test_a_large_write_is_not_held() -> None:
    async def writes() -> list[list[bytes]]:
        transport = _Recorded()
        HeadWithBody(transport, asyncio.get_running_loop()).write(b"x" * (HELD_BYTES + 1))
        return transport.calls

    assert asyncio.run(writes()) == [[b"x" * (HELD_BYTES + 1)]]
