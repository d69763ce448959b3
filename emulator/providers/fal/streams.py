"""fal's SSE status stream (``…/requests/{id}/status/stream``): an event each time the
status changes, keep-alive comments between, until the request completes."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

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
