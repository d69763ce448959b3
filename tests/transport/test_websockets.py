"""The `websockets` library's connect, intercepted for the length of an emulation."""

from __future__ import annotations

import asyncio

import msgpack
import pytest
import websockets
import websockets.asyncio.client
import websockets.exceptions
import websockets.sync.client

from emulator import emulate
from emulator.server import BackgroundServer
from emulator.transport import UnmatchedRequest

SESSION = "/fal-ai/fast-lcm-diffusion/realtime"
INPUT = msgpack.packb({"prompt": "over the pair", "image_size": "square"})
KEY = {"Authorization": "Key k"}


def test_every_connect_is_restored_when_the_emulation_ends() -> None:
    originals = (
        websockets.connect,
        websockets.sync.client.connect,
        websockets.asyncio.client.connect,
    )
    with emulate():
        assert websockets.sync.client.connect is not originals[1]
    assert (
        websockets.connect,
        websockets.sync.client.connect,
        websockets.asyncio.client.connect,
    ) == originals


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
