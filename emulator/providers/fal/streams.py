"""fal's server-sent events: the status stream (``…/requests/{id}/status/stream``), an
event each time the status changes, keep-alive comments between, until the request
completes; and a streaming run's (``fal.run/{id}/stream``), its output as it grows."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from emulator.contracts.streaming import partial_outputs
from emulator.core.engine import Engine
from emulator.core.jobs import Job
from emulator.providers.fal.envelopes import status_body

#: How often a stream looks at its job (less often while a wall-time job looks the same:
#: `Engine.polls`).
STREAM_TICK = 0.05


async def status_events(
    engine: Engine, job: Job, urls: dict[str, str], with_logs: bool, keepalive: float
) -> AsyncIterator[str]:
    """The stream's events: the status whenever it changes, a comment every
    ``keepalive`` seconds it does not, until it is done."""
    previous, last_sent, logs_sent = None, time.monotonic(), 0
    async for look in engine.polls(job, STREAM_TICK):
        body = status_body(engine, job, look, urls, with_logs=with_logs)
        if body != previous:
            previous, last_sent = body, time.monotonic()
            # Each event carries the lines new since the last: @fal-ai/client appends
            # every event's logs to those it has ("to match previous polling behavior"),
            # where a poll answers them all.
            logs = body.get("logs")
            if logs:
                body = {**body, "logs": logs[logs_sent:]}
                logs_sent = len(logs)
            yield f"data: {json.dumps(body)}\n\n"
        elif time.monotonic() - last_sent >= keepalive:
            last_sent = time.monotonic()
            yield ": keep-alive\n\n"


def run_stream(
    output: bytes, seconds: float, request_id: str, give_back: Callable[[], None]
) -> HeldStream:
    """A streaming run's answer: its ``output`` as it grows (text in several events, an app
    without text in one), over the model's ``seconds``, holding its key's slot."""
    events = partial_outputs(json.loads(output))
    headers = {"x-fal-request-id": request_id}
    return HeldStream(give_back, _spread(events, seconds), 200, headers, "text/event-stream")


async def _spread(events: list[dict[str, Any]], seconds: float) -> AsyncIterator[str]:
    """``events`` over ``seconds``, evenly: the first once a share of them has passed (the
    wait and the first tokens), the last, the whole output, at the end, so that a client
    sees them arrive one by one."""
    for event in events:
        await asyncio.sleep(seconds / len(events))
        yield f"data: {json.dumps(event)}\n\n"


class HeldStream(StreamingResponse):
    """A stream that gives its key's hold back however it ends (sent, cut short by its
    client, or never begun)."""

    def __init__(self, give_back: Callable[[], None], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._give_back = give_back

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._give_back()
