"""The Python load client that stands in for wrk reads both body framings: a Content-Length
body (uvicorn) and chunks (aimock's Node server), pauses between a connection's requests as
the smoke run asks, and shares its connections out among loads run at once."""

from __future__ import annotations

import asyncio
import shutil

import pytest

from tests.benchmarks.suite.load import CONNECTIONS, Load, _python_load, run_together

ANSWERS = {
    "length": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
    "chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"2\r\n{}\r\n1;ext=1\r\n \r\n0\r\n\r\n",
}


async def _serve(
    answer: bytes, served: list[int], connected: list[int] | None = None
) -> asyncio.Server:
    async def one_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if connected is not None:
            connected.append(1)
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                served.append(1)
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(one_connection, "127.0.0.1", 0)


@pytest.mark.parametrize("framing", sorted(ANSWERS))
def test_the_stand_in_client_counts_every_answer(framing: str) -> None:
    async def run() -> tuple[float, int]:
        served: list[int] = []
        server = await _serve(ANSWERS[framing], served)
        async with server:
            port = server.sockets[0].getsockname()[1]
            result = await _python_load(Load(port, "/"), 0.2)
        return result.rate * 0.2, len(served)

    answered, served = asyncio.run(asyncio.wait_for(run(), 10))
    # Every connection may have one request in flight when time runs out.
    assert answered > 0 and served - 32 <= answered <= served


def test_a_slice_over_before_its_connections_open_still_measures_an_answer() -> None:
    """(On a loaded machine, opening the connections took the whole slice: no request was
    sent, and the figures of nothing were an IndexError.)"""

    async def run() -> float:
        server = await _serve(ANSWERS["length"], [])
        async with server:
            port = server.sockets[0].getsockname()[1]
            return (await _python_load(Load(port, "/"), 1e-9)).p50_ms

    assert asyncio.run(asyncio.wait_for(run(), 10)) > 0


def test_a_paused_load_sends_no_more_than_its_pauses_allow() -> None:
    async def run() -> int:
        served: list[int] = []
        server = await _serve(ANSWERS["length"], served)
        async with server:
            port = server.sockets[0].getsockname()[1]
            await _python_load(Load(port, "/"), 0.2, pause_ms=100)
        return len(served)

    # Each connection answered, paused 100 ms, answered...: three requests at most in 0.2 s
    # (unpaused, each sends hundreds).
    assert 0 < asyncio.run(asyncio.wait_for(run(), 10)) <= 3 * CONNECTIONS


def test_loads_run_at_once_share_the_connections_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _: None)  # the stand-in client, as in CI

    async def servers() -> tuple[list[int], ...]:
        counts: tuple[list[int], ...] = ([], [], [], [])
        first = await _serve(ANSWERS["length"], counts[0], counts[1])
        second = await _serve(ANSWERS["length"], counts[2], counts[3])
        ports = [server.sockets[0].getsockname()[1] for server in (first, second)]
        async with first, second:
            loads = [Load(port, "/") for port in ports]
            results = await asyncio.to_thread(run_together, loads, 0.2)
        assert [result.rate > 0 for result in results] == [True, True]
        return counts

    served, connected, served_too, connected_too = asyncio.run(asyncio.wait_for(servers(), 10))
    assert served and served_too
    assert len(connected) == len(connected_too) == CONNECTIONS // 2
