"""Webhooks from both providers to a receiver on loopback, verified independently."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import fal_client
import httpx
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulator import EmulatorConfig, Progression

from .conftest import Target

QUICK = EmulatorConfig(progression=Progression.parse("wall:0.02,0.02,0"), webhook_time_scale=0.001)
BITDANCE_WS = "wavespeed-ai/bitdance-14b/text-to-image"


class Receiver:
    """A webhook receiver on a loopback port that fails its first ``failures`` calls."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.calls: list[tuple[dict[str, str], bytes, int]] = []
        app = Starlette(routes=[Route("/hook", self._hook, methods=["POST"])])
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}/hook"
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    async def _hook(self, request: Request) -> Response:
        status = 500 if len(self.calls) < self.failures else 200
        self.calls.append((dict(request.headers), await request.body(), status))
        return Response(status_code=status)

    def __enter__(self) -> Receiver:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self._socket.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver(failures=2) as started:
        yield started


def fal_public_key(target: Target) -> Ed25519PublicKey:
    # The emulator publishes its key set where fal does; fetch it as a receiver would.
    jwks_url = target.wavespeed_url.replace("/wavespeed", "/fal/rest").replace(
        "https://api.wavespeed.ai", "https://rest.alpha.fal.ai"
    )
    (key,) = httpx.get(jwks_url + "/.well-known/jwks.json").json()["keys"]
    assert (key["kty"], key["crv"]) == ("OKP", "Ed25519")
    # exactly as fal's webhooks docs decode it (no padding added)
    return Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(key["x"]))


def test_fal_webhook_is_signed_retried_and_delivered_once(start: Any, receiver: Receiver) -> None:
    target = start(QUICK)
    handle = fal_client.SyncClient(key="hooks").submit(
        "fal-ai/bitdance", arguments={"prompt": "a hook"}, webhook_url=receiver.url
    )
    assert target.engine.webhooks.wait(10)
    assert [status for _, _, status in receiver.calls] == [500, 500, 200]
    (delivery,) = target.engine.webhooks.deliveries
    assert delivery.delivered and [a.status for a in delivery.attempts] == [500, 500, 200]

    headers, body, _ = receiver.calls[-1]
    message = "\n".join(
        [
            headers["x-fal-webhook-request-id"],
            headers["x-fal-webhook-user-id"],
            headers["x-fal-webhook-timestamp"],
            hashlib.sha256(body).hexdigest(),
        ]
    ).encode()
    fal_public_key(target).verify(bytes.fromhex(headers["x-fal-webhook-signature"]), message)
    assert abs(int(headers["x-fal-webhook-timestamp"]) - time.time()) < 300

    payload = json.loads(body)
    assert body == json.dumps(payload, sort_keys=True).encode()  # Python-style, keys sorted
    assert (payload["request_id"], payload["status"], payload["error"]) == (
        handle.request_id,
        "OK",
        None,
    )
    assert httpx.get(payload["payload"]["images"][0]["url"]).status_code == 200


def test_fal_webhook_reports_errors(start: Any, receiver: Receiver) -> None:
    target = start(QUICK)
    fal_client.SyncClient(key="hooks").submit(
        "fal-ai/bitdance", arguments={}, webhook_url=receiver.url
    )
    assert target.engine.webhooks.wait(10)
    payload = json.loads(receiver.calls[-1][1])
    assert (payload["status"], payload["error"]) == ("ERROR", "Invalid status code: 422")
    assert payload["payload"]["detail"][0]["loc"] == ["body", "prompt"]


def test_wavespeed_webhook_hmac_and_retries(start: Any) -> None:
    target = start(QUICK)
    headers = {"Authorization": "Bearer ws-hooks"}
    secret = httpx.get(target.wavespeed_url + "/api/v3/webhook/secret", headers=headers).json()[
        "data"
    ]["secret"]
    assert secret.startswith("whsec_")
    with Receiver(failures=1) as receiver:
        submitted = httpx.post(
            f"{target.wavespeed_url}/api/v3/{BITDANCE_WS}",
            params={"webhook": receiver.url},
            json={"prompt": "hooked"},
            headers=headers,
        ).json()["data"]
        assert target.engine.webhooks.wait(10)
    assert [status for _, _, status in receiver.calls] == [500, 200]
    sent, body, _ = receiver.calls[-1]
    signed = f"{sent['webhook-id']}.{sent['webhook-timestamp']}.".encode() + body
    expected = hmac.new(secret.removeprefix("whsec_").encode(), signed, hashlib.sha256).hexdigest()
    assert sent["webhook-signature"] == f"v3,{expected}"
    data = json.loads(body)
    assert (data["id"], data["status"], data["input"]) == (
        submitted["id"],
        "completed",
        {"prompt": "hooked"},
    )
    assert "code" not in data or data["code"] == 200  # the bare prediction, not the envelope


def test_retries_end_and_the_delivery_is_recorded_failed(start: Any) -> None:
    target = start(replace(QUICK, webhook_time_scale=0.0001))  # fal's two hours in 0.8 s
    with Receiver(failures=100) as receiver:
        fal_client.SyncClient(key="k").submit(
            "fal-ai/bitdance", arguments={"prompt": "x"}, webhook_url=receiver.url
        )
        httpx.post(
            f"{target.wavespeed_url}/api/v3/{BITDANCE_WS}?webhook={receiver.url}",
            json={"prompt": "x"},
            headers={"Authorization": "Bearer k"},
        )
        assert target.engine.webhooks.wait(20)
    attempts = {d.provider: (d.state, len(d.attempts)) for d in target.engine.webhooks.deliveries}
    assert attempts == {"fal": ("failed", 10), "wavespeed": ("failed", 4)}


def test_only_loopback_targets_by_default(start: Any) -> None:
    target = start(QUICK)
    fal_client.SyncClient(key="k").submit(
        "fal-ai/bitdance", arguments={"prompt": "x"}, webhook_url="https://hooks.example.com/in"
    )
    (delivery,) = target.engine.webhooks.deliveries
    assert (delivery.state, delivery.attempts) == ("refused", [])


@pytest.mark.parametrize(
    ("effect", "calls", "state", "attempts"),
    [("webhook_twice", 2, "delivered", 2), ("webhook_fail", 0, "failed", 4)],
)
def test_staged_webhook_faults(
    start: Any, effect: str, calls: int, state: str, attempts: int
) -> None:
    target = start(QUICK)
    target.engine.faults.add({"effect": effect, "provider": "wavespeed"})
    with Receiver() as receiver:
        httpx.post(
            f"{target.wavespeed_url}/api/v3/{BITDANCE_WS}?webhook={receiver.url}",
            json={"prompt": "x"},
            headers={"Authorization": "Bearer k"},
        )
        assert target.engine.webhooks.wait(10)
    assert len(receiver.calls) == calls
    (delivery,) = target.engine.webhooks.deliveries
    assert (delivery.state, len(delivery.attempts)) == (state, attempts)


def test_a_late_webhook(start: Any) -> None:
    target = start(QUICK)
    target.engine.faults.add({"effect": "webhook_late", "seconds": 0.5})
    with Receiver() as receiver:
        started = time.monotonic()
        fal_client.SyncClient(key="k").submit(
            "fal-ai/bitdance", arguments={"prompt": "x"}, webhook_url=receiver.url
        )
        assert target.engine.webhooks.wait(10)
        assert time.monotonic() - started >= 0.5
    assert len(receiver.calls) == 1
