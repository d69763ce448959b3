"""Adding each provider request to the request record as it passes: its headers, its body
up to the record's limit, its status, and the endpoint its handler noted.

A request is watched as it passes (`watch`), or, when its route reads its body with
`read_body` and tells the gateway its status (`HandlerApp.respond`), recorded from what
the route read (`start` and `finish`): watching costs a submit about a tenth of the app's
time in-process (issue 17)."""

from __future__ import annotations

import time

from starlette.types import Message, Receive, Scope, Send

from emulator.core.record import RawEntry, RequestRecord
from emulator.http.asgi import BODY, ENDPOINT


class Recorder:
    """Watches HTTP requests for a `RequestRecord`."""

    def __init__(self, record: RequestRecord, *, skip: tuple[str, ...]) -> None:
        """Paths starting with one of ``skip`` are not recorded: the control plane is not
        client traffic, and a proxied request is recorded once, as the one it forwards."""
        self.record = record
        self.skip = skip

    def _entry(self, scope: Scope) -> RawEntry:
        entry = self.record.entry(
            scope["method"], scope["path"], scope["query_string"], scope["headers"]
        )
        entry.started = time.time()
        return entry

    def note(self, scope: Scope, status: int, endpoint: str) -> None:
        """Record the HTTP request in ``scope``, answered at once with ``status`` without
        reading its body (a `QuickAnswer`)."""
        if not scope["path"].startswith(self.skip):
            entry = self._entry(scope)
            entry.status, entry.answered, entry.endpoint = status, entry.started, endpoint
            self.record.add(entry)

    def start(self, scope: Scope) -> RawEntry | None:
        """An entry for the HTTP request in ``scope``, to `finish` once it is answered;
        None for a request not recorded."""
        return None if scope["path"].startswith(self.skip) else self._entry(scope)

    def finish(self, entry: RawEntry, scope: Scope, status: int) -> None:
        """Add ``entry``, answered now with ``status``, with the body `read_body` read
        (none if it was not called) and the endpoint its handler noted."""
        body = scope.get(BODY, b"")
        entry.status, entry.answered, entry.endpoint = status, time.time(), scope.get(ENDPOINT)
        entry.body, entry.body_size = body[: self.record.body_bytes], len(body)
        self.record.add(entry)

    def replayed(
        self, scope: Scope, body: bytes, status: int, endpoint: str | None, replay: str
    ) -> None:
        """Record the HTTP request in ``scope``, its body ``body``, answered ``status`` by a
        replay rather than the app (``replay``: how, `RecordedRequest.replay`)."""
        entry = self.start(scope)
        if entry is not None:
            entry.replay = replay
            self.finish(entry, {**scope, BODY: body, ENDPOINT: endpoint}, status)

    def watch(self, scope: Scope, receive: Receive, send: Send) -> tuple[Receive, Send]:
        """``receive`` and ``send`` for the HTTP request in ``scope``, recording it."""
        if scope["path"].startswith(self.skip):
            return receive, send
        entry = self._entry(scope)
        limit = self.record.body_bytes
        record = self.record

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                entry.body_size += len(chunk)
                if len(entry.body) < limit:
                    entry.body += chunk[: limit - len(entry.body)]
            return message

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry.status, entry.answered = message["status"], time.time()
                entry.endpoint = scope.get(ENDPOINT)
                record.add(entry)
            await send(message)

        return recording_receive, recording_send
