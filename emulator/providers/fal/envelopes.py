"""fal's response bodies for the queue: submit, status, and the URLs they carry."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from emulator.core.engine import Engine
from emulator.core.jobs import Job
from emulator.core.lifecycle import Phase
from emulator.core.timeline import Look
from emulator.http.responses import json_fragment
from emulator.media.links import Linker, data_uri_linker
from emulator.providers.fal.errors import status_error_fields
from emulator.providers.fal.paths import app_path

STATUS_NAMES = {Phase.QUEUED: "IN_QUEUE", Phase.RUNNING: "IN_PROGRESS", Phase.DONE: "COMPLETED"}


def wants_inline(job: Job) -> bool:
    """Whether ``job``'s input asked for its media inline (``sync_mode: true``)."""
    return isinstance(job.payload, dict) and job.payload.get("sync_mode") is True


def outputs_linker(job: Job, urls: Linker) -> Linker:
    """How ``job``'s media reach its client: as data URIs if it asked so, else as ``urls``
    links them (the CDN's URLs). Its result route's and webhook's choice, and the
    dashboard's."""
    return data_uri_linker(urls.store) if wants_inline(job) else urls


def _requests(queue_base: str, endpoint_id: str) -> str:
    """Where an endpoint's requests are under ``queue_base``: owner/alias-based, as the real
    queue's URLs are."""
    return f"{queue_base}/{app_path(endpoint_id)}/requests/"


def request_urls(queue_base: str, job: Job) -> dict[str, str]:
    """The URLs of a request, owner/alias-based as the real queue returns them."""
    base = _requests(queue_base, job.endpoint.id) + job.id
    return {"response_url": base, "status_url": f"{base}/status", "cancel_url": f"{base}/cancel"}


def submit_answer(queue_base: str, job: Job, look: Look) -> bytes:
    """The encoded answer to a submit: what `encode_json` makes of its status, id, URLs
    (`request_urls`) and queue position, put together from the start of its URLs, encoded
    once per base and app, and its id, a UUID's text that needs no escaping (issue 17:
    encoding the whole body cost a tenth of a submit)."""
    task = job.id.encode()
    start = _requests_under(queue_base, job.endpoint.id) + task
    return b"".join(
        (
            b'{"status":"IN_QUEUE","request_id":"',
            task,
            b'","response_url":"',
            start,
            b'","status_url":"',
            start,
            b'/status","cancel_url":"',
            start,
            b'/cancel","queue_position":',
            str(look.queue_position).encode(),
            b"}",
        )
    )


@functools.lru_cache(maxsize=256)
def _requests_under(queue_base: str, endpoint_id: str) -> bytes:
    """The encoded start of the URLs of ``endpoint_id``'s requests under ``queue_base``, as
    `encode_json` writes it (unquoted): a request id, a UUID's text, follows it."""
    return json_fragment(_requests(queue_base, endpoint_id))


def _log_entry(message: str, timestamp: float) -> dict[str, str]:
    when = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return {"message": message, "level": "INFO", "source": "USER", "timestamp": when}


def status_body(
    engine: Engine, job: Job, look: Look, urls: dict[str, str], *, with_logs: bool
) -> dict[str, Any]:
    body: dict[str, Any] = {"status": STATUS_NAMES[look.phase], "request_id": job.id, **urls}
    if look.phase is Phase.QUEUED:
        body["queue_position"] = look.queue_position
        return body
    # The Python client indexes "logs" on every non-queued status: the key must exist.
    body["logs"] = (
        [_log_entry(line.message, line.timestamp) for line in engine.logs(job, look)]
        if with_logs
        else None
    )
    if look.phase is Phase.DONE:
        body["metrics"] = {"inference_time": round(engine.inference_time(job, look), 3)}
        body.update(status_error_fields(look.failure))
    return body


def billable_units(output: dict[str, Any]) -> int:
    """What a result bills, for its ``x-fal-billable-units`` header: one unit per media file
    it holds, at least one. (A guess: fal prices per image, per second of video or per call
    by endpoint, and publishes no table the emulator could read.)"""
    files = 0
    for value in output.values():
        items = value if isinstance(value, list) else [value]
        files += sum(1 for item in items if isinstance(item, dict) and "url" in item)
    return max(1, files)


def result_body(engine: Engine, job: Job, link: Linker, base: str) -> dict[str, Any]:
    """What a finished job's result answers (raises `JobFailed`): its output, its media
    linked by ``link`` unless it asked for them inline (what the dashboard shows as its
    output). ``base`` (its surface's) goes unused: the registry's signature is every
    provider's, and WaveSpeed's result names its own URL under it."""
    return engine.outcome(job, outputs_linker(job, link))
