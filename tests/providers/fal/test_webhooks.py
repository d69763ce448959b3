"""fal deliveries rebuilt from their shared record: signed, media under the request's CDN
base (or inline for sync_mode), made once by whichever sender claims them."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from email.message import Message

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from emulator import Engine
from emulator.core.webhooks import WebhookSender
from emulator.providers.fal.webhooks import RETRY_SCHEDULE, FalWebhooks
from tests import shared_stores, webhook_receiver
from tests.providers import shared_deliveries
from tests.webhook_receiver import Receiver

stores = shared_stores.stores  # the fixture: every test on memory, SQLite and Redis
session_redis = shared_stores.session_redis
receiver = webhook_receiver.receiver
engine_and_senders = shared_deliveries.engine_and_senders
CDN = "http://127.0.0.1:1/fal/cdn"


def _verify(engine: Engine, raw: bytes, headers: Message) -> None:
    (key,) = FalWebhooks(engine).jwks["keys"]
    public = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(key["x"]))
    fields = ("Request-Id", "User-Id", "Timestamp")
    signed = [headers[f"X-Fal-Webhook-{field}"] for field in fields]
    message = "\n".join([*signed, hashlib.sha256(raw).hexdigest()]).encode()
    public.verify(bytes.fromhex(headers["X-Fal-Webhook-Signature"]), message)  # or raises


@pytest.mark.parametrize("inline", [False, True])
def test_a_fal_delivery_is_rebuilt_where_it_is_claimed(
    engine_and_senders: tuple[Engine, WebhookSender, WebhookSender],
    receiver: Callable[..., Receiver],
    inline: bool,
) -> None:
    engine, first, second = engine_and_senders
    target = receiver()
    endpoint = engine.contracts.get("fal", "fal-ai/bitdance")
    job = engine.submit(endpoint, {"prompt": "a fox", "sync_mode": inline}, "key-1")
    bases = {} if inline else {"cdn": CDN}
    first.watch(
        "fal",
        job.id,
        target.url,
        is_done=lambda: False,
        build=lambda: (b"", {}),
        schedule=RETRY_SCHEDULE,
        owner=job.owner,
        bases=bases,
    )
    assert first.wait(0.1) is False  # the job is not done: its delivery waits
    engine.poll(job), engine.poll(job)
    assert second.wait(10)
    ((raw, headers),) = target.requests
    _verify(engine, raw, headers)
    delivery = json.loads(raw)
    assert (delivery["request_id"], delivery["status"]) == (job.id, "OK")
    url = delivery["payload"]["images"][0]["url"]
    assert url.startswith("data:image/") if inline else url.startswith(CDN + "/files/emulator/")
    (listed,) = first.deliveries
    assert listed.state == "delivered" and listed.body == raw
