"""fal_client's realtime and ws_connect, sync and async: in-process (no name resolved, no
connection made) and against a server on a loopback port."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import socket
import threading
from collections.abc import Iterator

import fal_client
import msgpack
import pytest
from PIL import Image

from emulator import Emulation, emulate
from emulator.clients import patch_fal_client
from emulator.server import BackgroundServer
from emulator.transport import UnmatchedRequest

LCM = "fal-ai/fast-lcm-diffusion"


@pytest.fixture
def nothing_leaves_the_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Counts every name lookup and every socket connect the test makes (there must be
    none). Threads older than the test are not its own: a client an earlier test abandoned
    in this worker may still be polling a server of its own."""
    attempts: list[object] = []
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect
    older = {thread for thread in threading.enumerate() if thread is not threading.current_thread()}

    def note(attempt: tuple[str, object]) -> None:
        if threading.current_thread() not in older:
            attempts.append(attempt)

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        note(("resolve", host))
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self: socket.socket, address: object) -> None:
        note(("connect", address))
        return real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    yield attempts
    assert attempts == []


def picture(result: dict) -> Image.Image:
    url = result["images"][0]["url"]
    assert url.startswith("data:image/jpeg;base64,")
    return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))


def exchange_sync(prompts: list[str]) -> list[dict]:
    with fal_client.realtime(LCM) as connection:
        results = []
        for prompt in prompts:
            connection.send({"prompt": prompt, "image_size": "square"})
            results.append(connection.recv())
        return results


async def exchange_async(prompts: list[str]) -> list[dict]:
    async with fal_client.AsyncClient().realtime(LCM, max_buffering=4) as connection:
        results = []
        for prompt in prompts:
            await connection.send({"prompt": prompt, "image_size": "square"})
            results.append(await connection.recv())
        return results


def check(results: list[dict], prompts: list[str]) -> None:
    assert [r["prompt"] for r in results] == prompts
    for result in results:
        assert picture(result).size == (512, 512)  # a real JPEG, decoded


def test_sync_realtime_in_process(
    nothing_leaves_the_process: list[object], provider_emulator: Emulation
) -> None:
    check(exchange_sync(["one", "two", "three"]), ["one", "two", "three"])
    # what the code sent, as a test asserts it of any other call
    calls = provider_emulator.calls(LCM)
    assert [(call.method, call.json["prompt"]) for call in calls] == [
        ("WEBSOCKET", "one"),
        ("WEBSOCKET", "two"),
        ("WEBSOCKET", "three"),
    ]


def test_async_realtime_in_process(
    nothing_leaves_the_process: list[object], provider_emulator: Emulation
) -> None:
    check(asyncio.run(exchange_async(["a", "b"])), ["a", "b"])


def test_ws_connect_sync_and_async_in_process(
    nothing_leaves_the_process: list[object], provider_emulator: Emulation
) -> None:
    with fal_client.ws_connect(LCM, path="/realtime") as ws:
        ws.send(msgpack.packb({"prompt": "raw", "image_size": "square"}))
        assert msgpack.unpackb(ws.recv())["prompt"] == "raw"

    async def raw_async() -> dict:
        client = fal_client.AsyncClient()
        async with client.ws_connect(LCM, path="/realtime", use_jwt=False) as ws:
            await ws.send('{"prompt": "json", "image_size": "square"}')  # JSON mode
            import json

            return json.loads(await ws.recv())

    assert asyncio.run(raw_async())["prompt"] == "json"


def test_a_model_error_reaches_the_client_as_a_realtime_error(provider_emulator: Emulation) -> None:
    with fal_client.realtime(LCM) as connection:
        connection.send({"prompt": ["not", "a", "string"]})
        with pytest.raises(fal_client.client.RealtimeError) as error:
            connection.recv()
    assert error.value.error == "INTERNAL_ERROR"
    assert "prompt" in error.value.reason


def test_an_unmatched_websocket_host_fails_loudly(provider_emulator: Emulation) -> None:
    import websockets.sync.client

    with pytest.raises(UnmatchedRequest, match="wss://example.com/socket"):
        websockets.sync.client.connect("wss://example.com/socket")


def test_an_app_without_a_realtime_session_is_refused() -> None:
    import websockets.exceptions

    with emulate(), pytest.raises(websockets.exceptions.InvalidStatus, match="404"):
        with fal_client.realtime("fal-ai/bitdance"):
            pass


def test_realtime_against_a_server(server: BackgroundServer) -> None:
    with patch_fal_client(server.url):
        check(exchange_sync(["served"]), ["served"])
        check(asyncio.run(exchange_async(["served async"])), ["served async"])


def test_a_raw_image_app_sends_jpeg_bytes(provider_emulator: Emulation) -> None:
    source = io.BytesIO()
    Image.new("RGB", (16, 16), "blue").save(source, "PNG")
    frame = "data:image/png;base64," + base64.b64encode(source.getvalue()).decode()
    # The session is at the endpoint id itself: no "/realtime" appended.
    with fal_client.realtime("fal-ai/flux-2/klein/realtime", path="") as connection:
        connection.send({"image_url": frame, "prompt": "sapphire"})
        image = connection.recv()["images"][0]
    decoded = Image.open(io.BytesIO(image["content"]))
    assert (decoded.format, decoded.size) == ("JPEG", (768, 768))


def test_a_large_input_is_recorded_as_far_as_the_record_keeps_it(
    provider_emulator: Emulation,
) -> None:
    # the record keeps the first 64 KiB of an input's JSON (its bytes as base64) and the
    # whole text's length, without writing the rest out
    picture_bytes = bytes(range(256)) * 1024  # 256 KiB sent as bytes (msgpack bin)
    sent = {"prompt": "large", "image_size": "square", "image": picture_bytes}
    with fal_client.realtime(LCM) as connection:
        connection.send(sent)
        assert picture(connection.recv()).size == (512, 512)
    whole = json.dumps({**sent, "image": base64.b64encode(picture_bytes).decode()}).encode()
    (call,) = provider_emulator.calls(LCM)
    assert call.truncated and call.body_size == len(whole)
    assert call.body == whole[: 64 * 1024]
