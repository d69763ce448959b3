"""The `websockets` library's connect, intercepted for the length of an emulation."""

from __future__ import annotations

import asyncio
import json

import msgpack
import pytest
import websockets
import websockets.asyncio.client
import websockets.exceptions
import websockets.sync.client
from websockets.asyncio.client import connect as async_connect_by_name
from websockets.sync.client import connect as sync_connect_by_name

from emulator import emulate
from emulator.server import BackgroundServer
from emulator.transport import UnmatchedRequest
from emulator.transport.websockets import NotIntercepted

SESSION = "/fal-ai/fast-lcm-diffusion/realtime"
INPUT = msgpack.packb({"prompt": "over the pair", "image_size": "square"})
KEY = {"Authorization": "Key k"}
MIB = 2**20


def test_every_connect_is_restored_when_the_emulation_ends() -> None:
    def patched() -> tuple:
        return (
            websockets.connect,
            websockets.sync.client.connect,
            websockets.asyncio.client.connect,
            websockets.sync.client.parse_uri,
            websockets.asyncio.client.parse_uri,
        )

    originals = patched()
    with emulate():
        assert all(now is not before for now, before in zip(patched(), originals, strict=True))
    assert patched() == originals


@pytest.mark.parametrize("host", ["fal.run", "falrun.com"])
def test_a_provider_host_is_served_in_process_sync_and_async(host: str) -> None:
    with emulate():
        with websockets.sync.client.connect(f"wss://{host}{SESSION}", additional_headers=KEY) as ws:
            ws.send(INPUT)
            assert msgpack.unpackb(ws.recv(timeout=10))["prompt"] == "over the pair"

        async def over_asyncio() -> dict:
            async with websockets.connect(f"wss://{host}{SESSION}", additional_headers=KEY) as ws:
                await ws.send(INPUT)
                return msgpack.unpackb(await asyncio.wait_for(ws.recv(), 10))

        assert asyncio.run(over_asyncio())["prompt"] == "over the pair"


def test_other_hosts_fail_loudly_or_pass_when_told(server: BackgroundServer) -> None:
    local = f"ws://127.0.0.1:{server.port}/fal/run{SESSION}"
    with emulate(), pytest.raises(UnmatchedRequest):
        websockets.sync.client.connect(local, additional_headers=KEY)
    with emulate(unmatched="pass"):
        with websockets.sync.client.connect(local, additional_headers=KEY) as ws:
            ws.send(INPUT)
            assert msgpack.unpackb(ws.recv(timeout=10))["prompt"] == "over the pair"


def test_a_session_left_open_is_closed_when_the_emulation_ends() -> None:
    emulation = emulate().start()
    with websockets.sync.client.connect(f"wss://fal.run{SESSION}", additional_headers=KEY) as ws:
        emulation.stop()
        with pytest.raises(websockets.exceptions.ConnectionClosed):
            ws.recv(timeout=10)


def test_a_refused_handshake_is_an_http_status() -> None:
    with emulate(), pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        websockets.sync.client.connect(f"wss://fal.run{SESSION}")  # no key, no token
    assert refused.value.response.status_code == 401
    assert b"Authorization" in refused.value.response.body


def test_a_nested_emulation_serves_the_sessions_opened_in_it() -> None:
    with emulate() as outer, emulate() as inner:
        with websockets.sync.client.connect(
            f"wss://fal.run{SESSION}", additional_headers=KEY
        ) as ws:
            ws.send(INPUT)
            assert msgpack.unpackb(ws.recv(timeout=10))["prompt"] == "over the pair"
        assert (len(inner.requests), len(outer.requests)) == (1, 0)


def test_a_connect_imported_by_name_before_the_emulation_fails_loudly_for_a_provider() -> None:
    """The name bound at import is the library's own connect, out of the emulation's
    reach: it must not reach the real fal.run (docs/realtime.md), sync or async."""
    with emulate():
        with pytest.raises(NotIntercepted, match="import websockets.sync.client"):
            sync_connect_by_name(f"wss://fal.run{SESSION}", additional_headers=KEY)

        async def over_asyncio() -> None:
            async with async_connect_by_name(f"wss://fal.run{SESSION}", additional_headers=KEY):
                pytest.fail("connected")

        with pytest.raises(NotIntercepted, match="import websockets.asyncio.client"):
            asyncio.run(over_asyncio())


def test_a_connect_imported_by_name_still_reaches_other_hosts(server: BackgroundServer) -> None:
    local = f"ws://127.0.0.1:{server.port}/fal/run{SESSION}"
    with emulate(), sync_connect_by_name(local, additional_headers=KEY) as ws:
        ws.send(INPUT)
        assert msgpack.unpackb(ws.recv(timeout=10))["prompt"] == "over the pair"


@pytest.mark.slow
def test_frames_are_read_up_to_twice_the_body_limit_as_serve_reads_them() -> None:
    """Over the 16 MiB websockets reads by default but within the 20 MiB body limit, a
    frame gets its result; over that, the app says why before it closes (docs/realtime.md)."""
    within = {"prompt": "within", "image_size": "square", "negative_prompt": "a" * 17 * MIB}
    with (
        emulate(),
        websockets.sync.client.connect(
            f"wss://fal.run{SESSION}", additional_headers=KEY, max_size=None
        ) as ws,
    ):
        ws.send(msgpack.packb(within))
        assert msgpack.unpackb(ws.recv(timeout=30))["prompt"] == "within"
        ws.send(msgpack.packb({"prompt": "x" * 25 * MIB}))
        error = json.loads(ws.recv(timeout=30))
        with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
            ws.recv(timeout=30)
    assert error["type"] == "x-fal-error" and "exceeds" in error["reason"]
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
