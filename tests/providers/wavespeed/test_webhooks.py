"""WaveSpeed deliveries rebuilt from their shared record: the finished prediction with its
input, HMAC-signed, made once by whichever sender claims them."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable

from emulator import Engine
from emulator.core.webhooks import WebhookSender
from emulator.providers.wavespeed.envelopes import task_id
from emulator.providers.wavespeed.webhooks import RETRY_SCHEDULE, WaveSpeedWebhooks
from tests import shared_stores, webhook_receiver
from tests.providers import shared_deliveries
from tests.webhook_receiver import Receiver

stores = shared_stores.stores  # the fixture: every test on memory, SQLite and Redis
session_redis = shared_stores.session_redis
receiver = webhook_receiver.receiver
engine_and_senders = shared_deliveries.engine_and_senders
API = "http://127.0.0.1:1/wavespeed"


def test_a_wavespeed_delivery_is_rebuilt_where_it_is_claimed(
    engine_and_senders: tuple[Engine, WebhookSender, WebhookSender],
    receiver: Callable[..., Receiver],
) -> None:
    engine, first, second = engine_and_senders
    target = receiver()
    endpoint = engine.contracts.get("wavespeed", "bytedance/seedream-v4")
    job = engine.submit(endpoint, {"prompt": "a fox"}, "key-2")
    result = f"{API}/api/v3/predictions/{task_id(job)}/result"
    first.watch(
        "wavespeed",
        task_id(job),
        target.url,
        is_done=lambda: False,
        build=lambda: (b"", {}),
        schedule=RETRY_SCHEDULE,
        owner=job.owner,
        job_ref=job.id,
        bases={"result": result, "cdn": API + "/cdn"},
    )
    engine.poll(job), engine.poll(job)
    assert second.wait(10)
    ((raw, headers),) = target.requests
    secret = WaveSpeedWebhooks(engine).secret(job.owner).removeprefix("whsec_").encode()
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + raw
    expected = hmac.new(secret, signed, hashlib.sha256).hexdigest()
    assert headers["webhook-signature"] == f"v3,{expected}"
    prediction = json.loads(raw)
    assert (prediction["id"], prediction["status"]) == (task_id(job), "completed")
    assert prediction["input"] == {"prompt": "a fox"}
    assert prediction["urls"]["get"] == result
    assert prediction["outputs"][0].startswith(API + "/cdn/")
    (listed,) = second.deliveries
    assert (listed.job_id, listed.state) == (task_id(job), "delivered")
