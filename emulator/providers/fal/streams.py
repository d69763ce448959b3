"""fal's server-sent events: the status stream (``…/requests/{id}/status/stream``), an
event each time the status changes, keep-alive comments between, until the request
completes; and a streaming run's (``fal.run/{id}/stream``), its output as it grows."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from emulator.contracts.streaming import partial_outputs
from emulator.core.engine import Engine
from emulator.core.jobs import Job
from emulator.core.store import StoreUnavailable
from emulator.http.asgi import disconnected
from emulator.providers.fal.envelopes import status_body

#: How often a stream looks at its job (less often while a wall-time job looks the same:
#: `Engine.polls`).
STREAM_TICK = 0.05
#: how long a status stream waits for a shared store that is away, and how often it looks
OUTAGE_PATIENCE, OUTAGE_TICK = 30.0, 1.0


async def status_events(
    engine: Engine, job: Job, urls: dict[str, str], with_logs: bool, keepalive: float
) -> AsyncIterator[str]:
    """The stream's events: the status whenever it changes, a comment every
    ``keepalive`` seconds it does not, until it is done. While a shared store is away the
    stream waits with comments, up to `OUTAGE_PATIENCE` seconds, and goes on once it is
    back: ended early, it read as done to @fal-ai/client, which then asked for a result
    still in progress (an audit)."""
    sent = _Sent()
    outage_began: float | None = None
    while True:
        try:
            async for look in engine.polls(job, STREAM_TICK):
                outage_began = None
                event = sent.event(status_body(engine, job, look, urls, with_logs=with_logs))
                if event is None and time.monotonic() - sent.at >= keepalive:
                    sent.at, event = time.monotonic(), ": keep-alive\n\n"
                if event is not None:
                    yield event
            return
        except StoreUnavailable:
            outage_began = outage_began or time.monotonic()
            if time.monotonic() - outage_began > OUTAGE_PATIENCE:
                raise  # ended by the outage layer, as before
        yield ": the state store is away, waiting\n\n"
        await asyncio.sleep(OUTAGE_TICK)


class _Sent:
    """What a status stream has sent: its last status, when, and how many log lines."""

    def __init__(self) -> None:
        self.previous: dict[str, Any] | None = None
        self.at = time.monotonic()
        self.logs = 0

    def event(self, body: dict[str, Any]) -> str | None:
        """The event for ``body``, or None if the status is as last sent."""
        if body == self.previous:
            return None
        self.previous, self.at = body, time.monotonic()
        # Each event carries the lines new since the last: @fal-ai/client appends every
        # event's logs to those it has ("to match previous polling behavior"), where a
        # poll answers them all.
        logs = body.get("logs")
        if logs:
            body = {**body, "logs": logs[self.logs :]}
            self.logs = len(logs)
        return f"data: {json.dumps(body)}\n\n"


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
    """A stream that ends when its client leaves, and gives its key's hold back however it
    ends (sent, cut short by its client, or never begun). Some versions of Starlette hear
    a client leave only at the stream's next send (0.46, the lowest supported), which a
    stream waiting out a run may not make for minutes: the stream listens for it itself."""

    def __init__(self, give_back: Callable[[], None], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._give_back = give_back

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        streaming = asyncio.ensure_future(super().__call__(scope, receive, send))
        gone = asyncio.ensure_future(disconnected(receive))
        try:
            await asyncio.wait({streaming, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            try:
                gone.cancel()
                streaming.cancel()  # done already, unless its client left
                with contextlib.suppress(asyncio.CancelledError):
                    await streaming  # its own error, if it ended with one
            finally:
                self._give_back()
