"""A shared store that cannot be reached answers 503, in the asking provider's format.

With ``--state redis://…`` every request may reach Redis; when Redis is down or slow
(every store call is bounded by socket timeouts), the store raises `StoreUnavailable`
wherever the request was. `StoreOutage` turns it into a 503 with ``Retry-After: 1``,
which the clients' retry logic understands (fal's is its ingress page, which fal_client
retries), instead of a 500; the next request tries the store again, so the emulator
recovers as soon as the store does. A fal status stream waits an outage out itself
(`providers/fal/streams.py`); any other stream under way can only end.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emulator.core.store import StoreUnavailable

logger = logging.getLogger("emulator")

#: the header of every 503 this middleware answers: how soon a client may try again
RETRY_AFTER = {"Retry-After": "1"}
#: seconds between two log lines about the same outage (one per request would flood)
LOG_INTERVAL = 5.0

#: the response for a request (its scope), a message and the headers to send
Answer = Callable[[Scope, str, dict[str, str]], Response]


class StoreOutage:
    """`StoreUnavailable` raised while an app answers becomes ``answer(scope, …)``'s 503."""

    def __init__(self, *, answer: Answer) -> None:
        self.answer = answer
        self._logged_at = -LOG_INTERVAL

    async def guard(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        """``app`` answers the HTTP or WebSocket request in ``scope``, or the outage does."""
        started = ended = False

        async def tracked(message: Message) -> None:
            nonlocal started, ended
            started = started or message["type"] in ("http.response.start", "websocket.accept")
            ended = message["type"] == "http.response.body" and not message.get("more_body")
            await send(message)

        try:
            await app(scope, receive, tracked)
        except StoreUnavailable as error:
            self._log(error)
            message = f"The emulator's state store is unavailable: {error}"
            if scope["type"] == "websocket":
                # 1013, "try again later": a refused handshake or an ended session alike.
                await send({"type": "websocket.close", "code": 1013, "reason": "state unavailable"})
            elif not started:
                await self.answer(scope, message, dict(RETRY_AFTER))(scope, receive, send)
            elif not ended:  # a stream under way (an SSE status stream) can only end, cleanly
                await send({"type": "http.response.body", "body": b"", "more_body": False})

    def _log(self, error: StoreUnavailable) -> None:
        now = time.monotonic()
        if now - self._logged_at >= LOG_INTERVAL:
            self._logged_at = now
            logger.warning("state store unavailable, answering 503: %s", error)
