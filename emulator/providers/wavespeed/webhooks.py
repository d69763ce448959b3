"""WaveSpeed's webhooks: the bare prediction, HMAC-signed, and the per-key secret.

A delivery is the prediction object (with its ``input``), signed ``webhook-signature:
v3,<hex HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}">`` with the key's
``whsec_`` secret minus that prefix (docs: verify-webhooks). Retried three times with
exponential backoff, scaled by ``webhook_time_scale``.

With shared state, a delivery is rebuilt by whichever worker attempts it (`build_shared`,
registered under "wavespeed"), from the job and the URLs of the request that asked for it.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

from emulator.core.engine import Engine
from emulator.core.jobs import Job
from emulator.core.shared_webhooks import register_builder
from emulator.core.webhooks import encode_body
from emulator.media.links import data_uri_linker, url_linker
from emulator.providers.wavespeed.envelopes import finished_prediction, task_id

RETRY_SCHEDULE = (10.0, 20.0, 40.0)


class WaveSpeedWebhooks:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def secret(self, key: str) -> str:
        """The key's webhook secret: stable for a key under a seed (see `Engine.secret`)."""
        return "whsec_" + self.engine.secret(f"wavespeed-webhook:{key}").hex()[:40]

    def watch(
        self,
        job: Job,
        url: str,
        prediction: Callable[[], dict[str, Any]],
        bases: dict[str, str] | None = None,
    ) -> None:
        """Deliver ``prediction()`` (the finished prediction) to ``url`` when ``job`` is
        done (or, in another process sharing the store, as `build_shared` makes it from
        ``bases``)."""
        build = lambda: self.signed(job, {**prediction(), "input": job.payload})  # noqa: E731
        self.engine.watch_webhook(job, url, task_id(job), build, RETRY_SCHEDULE, bases)

    def signed(
        self, job: Job, data: dict[str, Any], *, at: float | None = None, compact: bool = False
    ) -> tuple[bytes, dict[str, str]]:
        """The delivery of ``data`` for ``job``: its body and signed headers, dated now (or
        ``at``, unix seconds); ``compact``: its JSON without spaces, in UTF-8."""
        body = encode_body(data, compact=compact)
        webhook_id, timestamp = task_id(job), str(int(time.time() if at is None else at))
        key = self.secret(job.owner).removeprefix("whsec_").encode()
        signed = f"{webhook_id}.{timestamp}.".encode() + body
        signature = hmac.new(key, signed, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": f"v3,{signature}",
        }
        return body, headers


def build_shared(engine: Engine, job: Job, bases: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """The signed delivery of ``job``: ``bases["result"]`` is its result URL, its media
    are URLs under ``bases["cdn"]`` (bare base64 when there is none, as the input asked)."""
    cdn = bases.get("cdn")
    link = url_linker(engine.media, cdn) if cdn else data_uri_linker(engine.media, bare=True)
    finished = finished_prediction(engine, job, bases["result"], link)
    return WaveSpeedWebhooks(engine).signed(job, {**finished, "input": job.payload})


register_builder("wavespeed", build_shared)
