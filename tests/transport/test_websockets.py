"""The `websockets` library's connect, intercepted for the length of an emulation, at the
version installed: fal_client accepts 12.0 on, and .ci/lowest runs these with 12.0."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import json
import socket
import sys
import warnings
from collections.abc import Callable
from typing import Any

import msgpack
import pytest
import websockets
import websockets.client
import websockets.exceptions
import websockets.sync.client
from websockets.sync.client import connect as sync_connect_by_name

with contextlib.suppress(ImportError):  # 13.0 on: loaded as an emulation loads it
    import websockets.asyncio.client  # noqa: F401

from emulator import emulate
from emulator.server import BackgroundServer
from emulator.transport import UnmatchedRequest
from emulator.transport.websockets import NotIntercepted

SESSION = "/fal-ai/fast-lcm-diffusion/realtime"
INPUT = msgpack.packb({"prompt": "over the pair", "image_size": "square"})
KEY = {"Authorization": "Key k"}
MIB = 2**20
#: websockets' client modules, those the installed version has and loaded: the asyncio one
#: is 13.0's, the legacy one is websockets.connect's through 13.x (websockets.client holds
#: its connect too, and from 14.0 a deprecated alias of it, not its own)
CLIENTS = (
    "websockets.sync.client",
    "websockets.asyncio.client",
    "websockets.legacy.client",
    "websockets.client",
)


def with_key(connect: Callable[..., Any]) -> dict:
    """The key header, as ``connect`` takes extra handshake headers: the legacy client's
    (websockets.connect through 13.x) calls them ``extra_headers``."""
    legacy = "extra_headers" in inspect.signature(connect).parameters
    return {"extra_headers" if legacy else "additional_headers": KEY}


def test_every_connect_is_restored_when_the_emulation_ends() -> None:
    def patched() -> list:
        names = [(websockets, "connect")]
        for module in (sys.modules[name] for name in CLIENTS if name in sys.modules):
            names += [(module, name) for name in ("connect", "parse_uri") if name in vars(module)]
        return [getattr(module, name) for module, name in names]

    originals = patched()
    with emulate():
        assert all(now is not before for now, before in zip(patched(), originals, strict=True))
    assert patched() == originals


@pytest.mark.parametrize("host", ["fal.run", "falrun.com"])
def test_a_provider_host_is_served_in_process_sync_and_async(host: str) -> None:
    headers = with_key(websockets.connect)  # fal_client's async connect, whichever it is
    with emulate():
        with websockets.sync.client.connect(f"wss://{host}{SESSION}", additional_headers=KEY) as ws:
            ws.send(INPUT)
            assert msgpack.unpackb(ws.recv(timeout=10))["prompt"] == "over the pair"

        async def over_asyncio() -> dict:
            async with websockets.connect(f"wss://{host}{SESSION}", **headers) as ws:
                await ws.send(INPUT)
                return msgpack.unpackb(await asyncio.wait_for(ws.recv(), 10))

        assert asyncio.run(over_asyncio())["prompt"] == "over the pair"


def test_each_client_modules_connect_is_served_in_process() -> None:
    modules = [sys.modules[name] for name in CLIENTS[1:] if name in sys.modules]
    connects = {module.__name__: module.connect for module in modules if "connect" in vars(module)}
    keys = {name: with_key(connect) for name, connect in connects.items()}

    async def over(name: str) -> dict:
        async with sys.modules[name].connect(f"wss://fal.run{SESSION}", **keys[name]) as ws:
            await ws.send(INPUT)
            return msgpack.unpackb(await asyncio.wait_for(ws.recv(), 10))

    with emulate():
        for name in connects:
            assert asyncio.run(over(name))["prompt"] == "over the pair", name


def test_the_clients_socket_takes_tcp_options_as_a_network_one_does() -> None:
    """websockets through 16.0 turns Nagle's algorithm off on the socket itself."""
    with (
        emulate(),
        websockets.sync.client.connect(f"wss://fal.run{SESSION}", additional_headers=KEY) as ws,
    ):
        ws.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, True)
        ws.send(INPUT)
        assert msgpack.unpackb(ws.recv(timeout=10))["prompt"] == "over the pair"


def test_a_connect_that_refuses_its_arguments_leaves_no_socket_open() -> None:
    with emulate(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        with pytest.raises(TypeError):
            websockets.sync.client.connect(f"wss://fal.run{SESSION}", "not a keyword")
        gc.collect()  # an unclosed socket says so when it is collected
    # sockets only: other tests' garbage, collected too, may warn of things of its own
    unclosed = [warning.message for warning in caught if isinstance(warning.source, socket.socket)]
    assert unclosed == []


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
    async_connect_by_name = websockets.connect  # the asyncio client's; the legacy one's to 13.x
    module = async_connect_by_name.__module__
    with emulate():
        with pytest.raises(NotIntercepted, match="import websockets.sync.client"):
            sync_connect_by_name(f"wss://fal.run{SESSION}", additional_headers=KEY)

        async def over_asyncio() -> None:
            headers = with_key(async_connect_by_name)
            async with async_connect_by_name(f"wss://fal.run{SESSION}", **headers):
                pytest.fail("connected")

        with pytest.raises(NotIntercepted, match=f"import {module}"):
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
