"""fal's client tokens and realtime sessions, frame by frame, against the app in-process."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import io
import json
import os
import socket
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import msgpack
import pytest
from PIL import Image
from starlette.testclient import TestClient, WebSocketDenialResponse
from starlette.websockets import WebSocketDisconnect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from emulator import EmulatorConfig, Engine, ManualClock, create_app
from emulator.core.faults import Fault
from emulator.providers.fal import realtime
from emulator.providers.fal.frames import Input
from emulator.server import BackgroundServer
from tests.scaling.serving import Serving

LCM = "fal-ai/fast-lcm-diffusion"
SESSION = f"/fal/run/{LCM}/realtime"


def token(client: TestClient, apps: list[str], seconds: int = 120) -> str:
    response = client.post(
        "/fal/rest/tokens/", json={"allowed_apps": apps, "token_expiration": seconds}
    )
    assert response.status_code == 200, response.text
    return response.json()


def unpadded_json(part: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def refused(client: TestClient, url: str) -> WebSocketDenialResponse:
    """The HTTP answer that refuses a handshake (a test failure, not a hang, if accepted)."""
    session = client.websocket_connect(url)
    try:
        session.__enter__()
    except WebSocketDenialResponse as denial:
        return denial
    session.__exit__(None, None, None)
    pytest.fail(f"the handshake was accepted: {url}")


def test_a_token_is_a_jwt_scoped_to_the_apps_asked_for(
    client: TestClient, clock: ManualClock
) -> None:
    issued = token(client, ["fast-lcm-diffusion"], 30)
    header, claims, signature = issued.split(".")
    decoded = unpadded_json(claims)
    assert unpadded_json(header) == {"alg": "HS256", "typ": "JWT"}
    assert decoded["allowed_apps"] == ["fast-lcm-diffusion"]
    assert decoded["exp"] - decoded["iat"] == 30
    assert "k1" not in claims  # the key never travels in a token
    assert signature


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"allowed_apps": []},
        {"allowed_apps": "x"},
        {"allowed_apps": ["x"], "token_expiration": 0},
        {"allowed_apps": ["x"], "token_expiration": 10**9},
        [1],
    ],
)
def test_a_bad_token_request_gets_a_422_naming_the_field(client: TestClient, body: object) -> None:
    response = client.post("/fal/rest/tokens/", json=body)
    assert response.status_code == 422
    assert "detail" in response.json()


def test_a_token_needs_a_key(engine: Engine) -> None:
    with TestClient(create_app(engine=engine)) as anonymous:
        assert anonymous.post("/fal/rest/tokens/", json={"allowed_apps": ["x"]}).status_code == 401


def test_one_result_per_input_in_msgpack(client: TestClient) -> None:
    with client.websocket_connect(SESSION) as ws:
        for prompt in ("one", "two"):
            ws.send_bytes(msgpack.packb({"prompt": prompt, "image_size": "square"}))
            result = msgpack.unpackb(ws.receive_bytes())
            assert result["prompt"] == prompt
            image = result["images"][0]
            assert image["url"].startswith("data:image/jpeg;base64,")  # sync_mode's default
            assert (image["width"], image["height"]) == (512, 512)


def test_json_frames_are_answered_in_json(client: TestClient) -> None:
    with client.websocket_connect(SESSION) as ws:
        ws.send_text(json.dumps({"prompt": "json", "image_size": "square", "sync_mode": False}))
        result = json.loads(ws.receive_text())
        assert result["images"][0]["url"].startswith("http")


def test_a_token_opens_only_its_apps_until_it_expires(
    client: TestClient, clock: ManualClock
) -> None:
    good = token(client, ["fast-lcm-diffusion"], 60)
    with client.websocket_connect(f"{SESSION}?fal_jwt_token={good}") as ws:
        ws.send_bytes(msgpack.packb({"prompt": "with a token", "image_size": "square"}))
        assert msgpack.unpackb(ws.receive_bytes())["prompt"] == "with a token"
    other = token(client, ["bitdance"])
    for bad, status in ((other, 403), ("not.a.jwt", 401), (good[:-2] + "xx", 401)):
        assert refused(client, f"{SESSION}?fal_jwt_token={bad}").status_code == status
    clock.advance(61)
    expired = refused(client, f"{SESSION}?fal_jwt_token={good}")
    assert expired.status_code == 401
    assert "expired" in expired.json()["detail"]


def test_knowing_the_seed_forges_no_token(client: TestClient, engine: Engine) -> None:
    # What anyone who knows the seed can derive (`--seed 1` is in the docs' CI example).
    seeded = engine.secret("fal-client-token")
    header = {"alg": "HS256", "typ": "JWT"}
    claims = {"sub": "jwt:x", "allowed_apps": ["fast-lcm-diffusion"], "exp": 2**40, "iat": 0}
    signing_input = ".".join(
        base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
        for part in (header, claims)
    )
    signature = hmac.new(seeded, signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
    assert refused(client, f"{SESSION}?fal_jwt_token={forged}").status_code == 401
    good = token(client, ["fast-lcm-diffusion"])
    with client.websocket_connect(f"{SESSION}?fal_jwt_token={good}") as ws:
        ws.send_bytes(msgpack.packb({"prompt": "issued", "image_size": "square"}))
        assert msgpack.unpackb(ws.receive_bytes())["prompt"] == "issued"


def test_a_session_is_one_of_the_requests_its_key_may_hold_open(engine: Engine) -> None:
    engine.config = replace(engine.config, max_held_per_key=1)
    with TestClient(create_app(engine=engine), headers={"Authorization": "Key k1"}) as client:
        with client.websocket_connect(SESSION):
            denied = refused(client, SESSION)
            assert denied.status_code == 429 and "holds 1 requests open" in denied.json()["detail"]
        with client.websocket_connect(SESSION) as ws:  # the first one's slot is back
            ws.send_bytes(msgpack.packb({"prompt": "again", "image_size": "square"}))
            assert msgpack.unpackb(ws.receive_bytes())["prompt"] == "again"
    assert engine.holds.of("k1") == 0


def test_the_inputs_waiting_are_bounded_in_bytes_the_oldest_dropped(engine: Engine) -> None:
    # Sixty frames just under the body limit waited in one session: 1.2 GB (an audit).
    engine.config = replace(engine.config, max_body_bytes=1000)
    endpoint = engine.contracts.get("fal", LCM)
    session = realtime._Session(engine, None, endpoint, "k1", 60)  # type: ignore[arg-type]
    for index in range(5):
        session._buffer(Input({"prompt": str(index)}, as_text=False), 900)
    assert [item.payload["prompt"] for item, _ in session.pending] == ["3", "4"]
    assert session.buffered == 1800  # within two bodies at the limit
    session._buffer(Input({"prompt": "big"}, as_text=False), 5000)  # the newest stays
    assert [item.payload["prompt"] for item, _ in session.pending] == ["big"]


class _TextFrames:
    """A session's WebSocket whose client sends ``frames`` as text, then leaves."""

    def __init__(self, frames: list[str]) -> None:
        self.frames = frames

    async def receive(self) -> dict[str, Any]:
        if self.frames:
            return {"type": "websocket.receive", "text": self.frames.pop(0)}
        return {"type": "websocket.disconnect", "code": 1000}


def test_a_text_frame_counts_in_the_buffer_by_its_bytes(engine: Engine) -> None:
    # Counted by its characters, a frame of four-byte characters weighed a quarter of its
    # bytes: the buffer held four times its bound.
    endpoint = engine.contracts.get("fal", LCM)
    text = json.dumps({"prompt": "\U0001f642" * 1000}, ensure_ascii=False)
    frames = _TextFrames([text, text])
    session = realtime._Session(engine, frames, endpoint, "k1", 60)  # type: ignore[arg-type]
    with pytest.raises(WebSocketDisconnect):
        asyncio.run(session._read(2**20, 64))
    assert session.buffered == 2 * len(text.encode()) == 2 * (len(text) + 3 * 1000)


def test_each_input_is_a_call_in_the_request_record(client: TestClient, engine: Engine) -> None:
    # A realtime session left no trace: a test could not assert what its code sent.
    with client.websocket_connect(SESSION) as ws:
        ws.send_bytes(msgpack.packb({"prompt": "first", "image_size": "square"}))
        ws.receive_bytes()
        ws.send_text(json.dumps({"prompt": 5}))  # refused: the session ends
        closing(ws)
    calls = engine.record.calls(LCM)
    assert [(c.method, c.status) for c in calls] == [("WEBSOCKET", 200), ("WEBSOCKET", 422)]
    assert [call.json["prompt"] for call in calls] == ["first", 5]
    assert calls[0].path == SESSION and calls[0].key == "k1"
    assert "k1" not in calls[0].headers["authorization"]  # masked, as every request's


def test_an_unknown_app_is_refused_at_the_handshake_with_a_404(client: TestClient) -> None:
    unknown = refused(client, "/fal/run/fal-ai/bitdance/realtime")
    assert unknown.status_code == 404
    assert "No realtime endpoint" in unknown.json()["detail"]


@pytest.mark.parametrize(
    "given",
    [
        "61",
        "x",
        "%C2%B2",  # "²": a digit to str.isdigit, not to int() (it was a 500)
        "9" * 5000,  # past int()'s 4,300 digits (it was a 500)
    ],
)
def test_max_buffering_out_of_range_is_refused(client: TestClient, given: str) -> None:
    answer = refused(client, f"{SESSION}?max_buffering={given}")
    assert answer.status_code == 422
    assert answer.json() == {"detail": "max_buffering must be between 1 and 60"}


def closing(ws: object) -> tuple[dict, int]:
    """The error message a session sends before it closes, and its close code."""
    error = json.loads(ws.receive_text())  # type: ignore[attr-defined]
    with pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_bytes()  # type: ignore[attr-defined]
    return error, closed.value.code


@pytest.mark.parametrize(
    "frame, code",
    [
        (b"\xc1not msgpack", 1003),  # 0xc1 is never used in msgpack
        (msgpack.packb([1, 2]), 1003),  # msgpack, but not a map
        ("{not json", 1003),
        # one byte a value: 2 MiB of {} made a dict each (3 GB and 26 s at 20 MiB)
        (b"\x82\xa6prompt\xa1a\xa1x\xdd\x00\x20\x00\x00" + b"\x80" * 2**21, 1003),
        # containers each within the bound, too many values together
        (b"\x82\xa6prompt\xa1a\xa1x\x93" + (b"\xdd\x00\x01\x86\xa0" + b"\x80" * 100_000) * 3, 1003),
        # msgpack reads them, no input holds them (they were a bug's 1011)
        (msgpack.packb({b"prompt": "bytes for a key"}), 1003),
        (msgpack.packb({"prompt": "x", "loras": [{b"path": "nested"}]}), 1003),
        (msgpack.packb({"prompt": "x", "at": msgpack.Timestamp(1, 0)}), 1003),
    ],
)
def test_a_bad_frame_closes_with_a_clear_code(client: TestClient, frame: object, code: int) -> None:
    with client.websocket_connect(SESSION) as ws:
        ws.send_bytes(frame) if isinstance(frame, bytes) else ws.send_text(frame)
        error, closed = closing(ws)
    assert error["type"] == "x-fal-error" and error["error"] == "INTERNAL_ERROR"
    assert not error["reason"].endswith(": ")  # it says why (msgpack's 0xc1 error is bare)
    assert closed == code


def test_an_oversized_frame_closes_with_1009(engine: Engine) -> None:
    engine.config = replace(engine.config, max_body_bytes=1024)
    with TestClient(create_app(engine=engine), headers={"Authorization": "Key k1"}) as client:
        with client.websocket_connect(SESSION) as ws:
            ws.send_bytes(msgpack.packb({"prompt": "x" * 2048}))
            error, closed = closing(ws)
    assert closed == 1009
    assert "exceeds 1024 bytes" in error["reason"]


def test_an_invalid_input_gets_fals_error_message_then_a_normal_close(client: TestClient) -> None:
    with client.websocket_connect(SESSION) as ws:
        ws.send_bytes(msgpack.packb({"prompt": 5}))
        error, closed = closing(ws)
    assert error["error"] == "INTERNAL_ERROR"
    assert "prompt" in error["reason"]
    assert closed == 1000


def test_an_idle_session_ends_with_fals_timeout_message() -> None:
    config = EmulatorConfig(seed=1, realtime_idle_timeout=0.2)
    with TestClient(create_app(config), headers={"Authorization": "Key k1"}) as client:
        with client.websocket_connect(SESSION) as ws:
            ws.send_bytes(msgpack.packb({"prompt": "then nothing", "image_size": "square"}))
            assert msgpack.unpackb(ws.receive_bytes())["prompt"] == "then nothing"
            error, closed = closing(ws)
    assert error == {
        "type": "x-fal-error",
        "error": "TIMEOUT",
        "reason": "no inputs, reconnect when needed!",
    }
    assert closed == 1000


def test_a_client_token_opens_a_client_mode_stream(client: TestClient) -> None:
    issued = token(client, ["bitdance"])
    with TestClient(client.app) as browser:  # no key: only the token
        url = f"/fal/run/fal-ai/bitdance/stream?fal_jwt_token={issued}"
        streamed = browser.post(url, json={"prompt": "client mode"})
        assert streamed.status_code == 200, streamed.text
        assert streamed.text.startswith("data: ")
        assert (
            browser.post(
                url.replace("bitdance/stream", "fast-lcm-diffusion"), json={"prompt": "x"}
            ).status_code
            == 403
        )


def test_with_max_buffering_one_only_the_newest_waiting_input_is_answered(
    client: TestClient,
) -> None:
    # 40 inputs arrive faster than 1024x1024 pictures are made: with one buffer place, each
    # new input replaces the one waiting. The answers stay in order, and the newest input
    # is always answered (nothing can replace it).
    with client.websocket_connect(f"{SESSION}?max_buffering=1") as ws:
        for n in range(40):
            ws.send_bytes(msgpack.packb({"prompt": str(n), "image_size": "square_hd"}))
        answered: list[int] = []
        while not answered or answered[-1] != 39:
            answered.append(int(msgpack.unpackb(ws.receive_bytes())["prompt"]))
    assert answered == sorted(set(answered))
    assert len(answered) < 40, answered


KLEIN = "/fal/run/fal-ai/flux-2/klein/realtime"  # its session is at the endpoint id itself


def a_picture() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "red").save(buffer, "JPEG")
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def test_raw_image_apps_send_bytes_in_msgpack_and_base64_in_json(client: TestClient) -> None:
    issued = token(client, ["flux-2"])  # the alias of fal-ai/flux-2/klein/realtime
    with client.websocket_connect(f"{KLEIN}?fal_jwt_token={issued}") as ws:
        ws.send_bytes(msgpack.packb({"image_url": a_picture(), "prompt": "gold"}))
        image = msgpack.unpackb(ws.receive_bytes())["images"][0]
        assert isinstance(image["content"], bytes)
        assert Image.open(io.BytesIO(image["content"])).size == (768, 768)  # its own "square"
        assert image["content_type"] == "image/jpeg"
        ws.send_text(json.dumps({"image_url": a_picture(), "image_size": "square_hd"}))
        image = json.loads(ws.receive_text())["images"][0]
        decoded = Image.open(io.BytesIO(base64.b64decode(image["content"])))
        assert (decoded.format, decoded.size) == ("JPEG", (1024, 1024))


def test_a_staged_failure_with_only_an_error_type_says_what_it_is(
    client: TestClient, engine: Engine
) -> None:
    engine.faults.add(Fault.from_dict({"effect": "fail", "error_type": "runner_disconnected"}))
    with client.websocket_connect(SESSION) as ws:
        ws.send_bytes(msgpack.packb({"prompt": "x"}))
        error, closed = closing(ws)
    assert (error["error"], closed) == ("INTERNAL_ERROR", 1000)
    assert error["reason"] == "Runner disconnected"  # it was empty


def test_a_frame_cut_short_by_a_timeout_ends_the_session_with_its_reason(
    client: TestClient, engine: Engine
) -> None:
    # it was answered with the output, as though the timeout could not come to it
    engine.faults.add(Fault.from_dict({"effect": "timeout"}))
    with client.websocket_connect(SESSION) as ws:
        ws.send_bytes(msgpack.packb({"prompt": "x"}))
        error, closed = closing(ws)
    assert (error["error"], closed) == ("INTERNAL_ERROR", 1000)
    assert "timed out" in error["reason"]


def test_an_unexpected_fault_ends_the_session_with_1011_not_a_hang(
    client: TestClient, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(engine, "outcome", broken)
    with client.websocket_connect(SESSION) as ws:
        ws.send_bytes(msgpack.packb({"prompt": "x"}))
        error, closed = closing(ws)
    assert (error["error"], closed) == ("INTERNAL_ERROR", 1011)
    assert "a bug" not in error["reason"]  # internals stay in the log


def test_fals_proxy_forwards_a_token_request(client: TestClient) -> None:
    # How @fal-ai/client gets its realtime token behind a proxy (fal.config({proxyUrl})).
    response = client.post(
        "/fal/proxy",
        json={"allowed_apps": ["fast-lcm-diffusion"], "token_expiration": 120},
        headers={"x-fal-target-url": "https://rest.fal.ai/tokens/"},
    )
    assert response.status_code == 200, response.text
    with client.websocket_connect(f"{SESSION}?fal_jwt_token={response.json()}") as ws:
        ws.send_bytes(msgpack.packb({"prompt": "proxied", "image_size": "square"}))
        assert msgpack.unpackb(ws.receive_bytes())["prompt"] == "proxied"


def _oversized_frame(url: str) -> tuple[dict, int | None]:
    """Send an 18 MiB frame to the session at ``url``: the error message that comes back,
    and the close code."""
    with connect(url, additional_headers={"Authorization": "Key k1"}, max_size=None) as ws:
        ws.send(msgpack.packb({"prompt": "x" * (18 * 2**20)}))
        error = json.loads(ws.recv(timeout=10))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    return error, closed.value.rcvd.code if closed.value.rcvd else None


def test_over_a_socket_an_oversized_frame_is_refused_by_the_app_with_its_reason() -> None:
    """uvicorn reads frames up to 16 MiB by default: a frame over that but within twice the
    body limit must reach the app, which says why it refuses it (docs/realtime.md)."""
    with BackgroundServer(EmulatorConfig(max_body_bytes=17 * 2**20)) as server:
        error, code = _oversized_frame(server.url.replace("http", "ws", 1) + SESSION)
    assert error["type"] == "x-fal-error" and "exceeds" in error["reason"]
    assert code == 1009


def _opens(url: str) -> bool:
    """Whether a session of key k1 opens now; False if refused for the key's places."""
    try:
        with connect(url, additional_headers={"Authorization": "Key k1"}, open_timeout=5):
            return True
    except InvalidStatus as refused:
        assert refused.response.status_code == 429
        return False


def _masked_frame(payload: bytes) -> bytes:
    """A binary WebSocket frame as a client writes it (RFC 6455 5.2: masked, 64-bit length)."""
    mask = os.urandom(4)
    head = bytes([0x82, 0x80 | 127]) + len(payload).to_bytes(8, "big")
    return head + mask + bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))


@pytest.mark.slow  # renders about ten large images and waits out a real idle timeout
def test_a_client_that_reads_no_result_gives_its_keys_place_back() -> None:
    """A client that sends inputs and never reads (a raw socket: a client library reads for
    it): once its buffers are full, the session ends within the idle timeout instead of
    holding its key's place for good."""
    config = EmulatorConfig(realtime_idle_timeout=0.2, max_held_per_key=1)
    with BackgroundServer(config) as server, socket.socket() as stalled:
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: kept
        stalled.connect(("127.0.0.1", server.port))
        key = base64.b64encode(os.urandom(16)).decode()
        stalled.sendall(
            f"GET {SESSION} HTTP/1.1\r\nHost: h\r\nAuthorization: Key k1\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        assert stalled.recv(12) == b"HTTP/1.1 101"
        frame = _masked_frame(msgpack.packb({"prompt": "never read", "image_size": "square_hd"}))
        stalled.sendall(frame * 40)  # 40 results of about 370 kB: more than the buffers hold
        url = server.url.replace("http", "ws", 1) + SESSION
        deadline = time.monotonic() + 20  # a bound on a hang, not a timing claim
        while not _opens(url):
            assert time.monotonic() < deadline, "the stalled session held its key's place"
            time.sleep(0.1)


@pytest.mark.slow
def test_serve_reads_frames_up_to_twice_the_body_limit(tmp_path: Path) -> None:
    serving = Serving(tmp_path, "--max-body-bytes", str(17 * 2**20))
    try:
        serving.wait_healthy()
        error, code = _oversized_frame(f"ws://127.0.0.1:{serving.port}{SESSION}")
    finally:
        serving.stop()
    assert error["type"] == "x-fal-error" and "exceeds" in error["reason"]
    assert code == 1009
