"""Record and replay: ASGI middleware in front of the emulator's app.

`RecordingProxy` forwards every provider call to the real API (or an ``--upstream``),
answers the client with the real answer (its URLs pointing back at this proxy), and
stores the exchange, scrubbed (``recordings.py``). `Replayer` answers from recordings: a
submit whose endpoint and input match a recording becomes a real emulator job, so status
polls move through the queue as usual, and its result is the recorded one (the next of
its input's, in the order recorded: ``cassette.py``), or the emulator's where none was
recorded (the client waited for the webhook), or, where the recorded submit was
refused, that refusal as recorded; the recorded media are served
back; anything else is emulated, or answered 404 with ``fallback="404"``.
Provider specifics (which paths submit, where the id is) come in as `Grammar` values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emulator.http.asgi import header
from emulator.http.cassette import QUEUED, SYNC, Cassette, input_key
from emulator.http.cdn import SERVED_HEADERS
from emulator.http.grammar import Grammar
from emulator.http.recorder import Recorder
from emulator.http.recordings import (
    DEFAULT_MEDIA_CAP,
    Recording,
    RecordingStore,
    body_fields,
    request_headers,
    response_headers,
)
from emulator.http.upstream import Upstreams

MAX_BODY = 20 * 2**20


class _Located:
    def __init__(self, scope: Scope, host_surfaces: Mapping[str, str], surfaces: list[str]) -> None:
        self.host_routed = False
        self.surface: str | None = None
        self.path = scope["path"]
        host = header(scope, b"host").rsplit(":", 1)[0].lower()
        if host in host_surfaces:
            self.host_routed, self.surface = True, host_surfaces[host]
            return
        for surface in surfaces:
            if self.path.startswith(f"/{surface}/"):
                self.surface, self.path = surface, self.path[len(surface) + 1 :]
                return

    def client_base(self, scope: Scope, surface: str, canonical: Mapping[str, str]) -> str:
        if self.host_routed:
            return f"{scope['scheme']}://{canonical[surface]}"
        host = header(scope, b"host") or "{}:{}".format(*scope["server"])
        return f"{scope['scheme']}://{host}{scope.get('root_path', '')}/{surface}"


def _rewrite(text: str, pairs: list[tuple[str, str]]) -> str:
    for old, new in pairs:
        text = text.replace(old, new)
    return text


async def _read(receive: Receive) -> bytes:
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise ValueError("request body too large to record")
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


async def _answer(send: Send, status: int, headers: Mapping[str, str], body: bytes) -> None:
    raw = [(k.encode(), v.encode()) for k, v in headers.items() if k != "content-length"]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class _Surfaces:
    def __init__(self, upstreams: Upstreams, host_surfaces: Mapping[str, str]) -> None:
        self.upstreams = upstreams
        self.host_surfaces = host_surfaces
        self.ordered = sorted(upstreams.canonical, key=len, reverse=True)

    def locate(self, scope: Scope) -> _Located:
        return _Located(scope, self.host_surfaces, self.ordered)

    def to_real(self) -> list[tuple[str, str]]:
        """Overridden bases → the real hosts' form (what is stored)."""
        return [(self.upstreams.base(s), f"https://{self.upstreams.canonical[s]}")
                for s in self.ordered]  # fmt: skip

    def to_client(self, scope: Scope, located: _Located) -> list[tuple[str, str]]:
        """The real hosts' form → the bases this client reached us at."""
        canonical = self.upstreams.canonical
        return [(f"https://{canonical[s]}", located.client_base(scope, s, canonical))
                for s in self.ordered]  # fmt: skip


async def _network(
    method: str, url: str, body: bytes, headers: list, timeout: float
) -> httpx.Response:
    """The request sent by a transport of its own, not through an httpx client: in-process
    interception (respx) reroutes clients' requests, and the proxy's must reach the
    network, not loop back into the emulator."""
    transport = httpx.AsyncHTTPTransport()
    request = httpx.Request(method, url, content=body, headers=headers)
    request.extensions["timeout"] = httpx.Timeout(timeout).as_dict()
    try:
        answer = await transport.handle_async_request(request)
        await answer.aread()
        return answer
    finally:
        await transport.aclose()


class RecordingProxy:
    def __init__(
        self,
        app: ASGIApp,
        *,
        store: RecordingStore,
        upstreams: Upstreams,
        host_surfaces: Mapping[str, str],
        unreachable: Mapping[str, Callable[[str], Response]],
        media_cap: int = DEFAULT_MEDIA_CAP,
        timeout: float = 120.0,
    ) -> None:
        """``unreachable``: each provider's 502 (of a detail) when its upstream cannot be
        reached, in its own format, as the client parses the provider's errors."""
        self.app = app
        self.store = store
        self.unreachable = unreachable
        self.surfaces = _Surfaces(upstreams, host_surfaces)
        self.media_cap = media_cap
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        located = self.surfaces.locate(scope) if scope["type"] == "http" else None
        if located is None or located.surface is None:
            await self.app(scope, receive, send)
            return
        body = await _read(receive)
        surface = located.surface
        query = scope.get("query_string", b"").decode("latin-1")
        url = self.surfaces.upstreams.base(surface) + located.path + (f"?{query}" if query else "")
        headers = [
            (k, v) for k, v in scope["headers"]
            if k.lower() not in (b"host", b"content-length", b"accept-encoding", b"connection")
        ]  # fmt: skip
        try:
            answer = await _network(scope["method"], url, body, headers, self.timeout)
        except httpx.HTTPError as exc:
            unreachable = self.unreachable[surface.split("/")[0]]
            await unreachable(f"upstream {url} unreachable: {exc}")(scope, receive, send)
            return
        content_type = answer.headers.get("content-type", "")
        real = answer.content
        if "json" in content_type or content_type.startswith("text/"):
            real = _rewrite(real.decode("utf-8", "replace"), self.surfaces.to_real()).encode()
        self._store(scope, located, query, body, answer, real)
        client_body = real
        if "json" in content_type or content_type.startswith("text/"):
            pairs = self.surfaces.to_client(scope, located)
            client_body = _rewrite(real.decode("utf-8", "replace"), pairs).encode()
        kept = {k: v for k, v in answer.headers.items() if k.lower() in _PASSED_HEADERS}
        await _answer(send, answer.status_code, kept, client_body)

    def _store(self, scope: Scope, located: _Located, query: str, body: bytes,
               answer: httpx.Response, real: bytes) -> None:  # fmt: skip
        secrets = [
            v.decode("latin-1").split(" ")[-1]
            for k, v in scope["headers"]
            if k.lower() == b"authorization"
        ]
        request_fields = body_fields(body, header(scope, b"content-type"), self.media_cap)
        content_type = answer.headers.get("content-type", "")
        surface = located.surface or ""
        exchange = {
            "surface": surface,
            "method": scope["method"],
            "path": located.path,
            "query": query,
            "request": {"headers": request_headers(scope["headers"]), **request_fields},
            "response": {
                "status": answer.status_code,
                "headers": response_headers(answer.headers.raw),
                **body_fields(real, content_type, self.media_cap),
            },
        }
        self.store.write(surface.split("/")[0], exchange, secrets)


_PASSED_HEADERS = ("content-type", "x-fal-request-id", "x-fal-error-type", "x-fal-retryable",
                   "retry-after", "etag", "cache-control")  # fmt: skip


async def _call_app(
    app: ASGIApp, scope: Scope, body: bytes, client: Receive
) -> tuple[int, list, bytes]:
    """The app's whole answer to a request whose body was already read from ``client``."""
    sent = False
    started: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def receive() -> Message:
        nonlocal sent
        if sent:
            # what the client does next: a wait for a job (WaveSpeed's sync mode, a fal sync
            # run) goes on while the client stays, as a disconnect at once ended it
            return await client()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            started.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return started.get("status", 500), list(started.get("headers", [])), b"".join(chunks)


def _json(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return None


#: a provider's error answer: (status, detail, headers) → its response
HttpError = Callable[[int, str, Mapping[str, str] | None], Response]


@dataclass(frozen=True)
class _Call:
    """A request to a surface with recordings, and where it came in."""

    scope: Scope
    receive: Receive
    send: Send
    located: _Located
    grammar: Grammar


class Replayer:
    def __init__(
        self,
        app: ASGIApp,
        *,
        recordings: list[Recording],
        grammars: Mapping[str, Grammar],
        upstreams: Upstreams,
        host_surfaces: Mapping[str, str],
        errors: Mapping[str, HttpError],
        fallback: str = "emulate",
        recorder: Recorder | None = None,
    ) -> None:
        """``errors``: each provider's error answer (status, detail, headers), for a 404
        ``fallback`` in its own format; ``recorder``: the app's, which the requests the
        replay answers itself (not the app) are added to the request record with."""
        if fallback not in ("emulate", "404"):
            raise ValueError("fallback must be 'emulate' or '404'")
        self.app = app
        self.grammars = grammars
        self.errors = errors
        self.cassette = Cassette(recordings, grammars)
        #: how many recordings it answers from
        self.loaded = len(recordings)
        self.surfaces = _Surfaces(upstreams, host_surfaces)
        self.fallback = fallback
        self.recorder = recorder
        #: emulator job id → the recorded result it answers with
        self.replayed: dict[str, Recording] = {}

    def rewind(self) -> None:
        """Replay from the first recordings again (the emulator was reset: its jobs, and
        the ids a seed gives them, start afresh)."""
        self.cassette.rewind()
        self.replayed.clear()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        located = self.surfaces.locate(scope) if scope["type"] == "http" else None
        grammar = self.grammars.get((located.surface or "").split("/")[0]) if located else None
        if located is None or grammar is None:
            await self.app(scope, receive, send)
            return
        call = _Call(scope, receive, send, located, grammar)
        route, method = f"{located.surface}{located.path}", scope["method"]
        recorded = self.cassette.static.get((located.surface or "", located.path))
        if method == "GET" and recorded is not None:
            await self._send_recorded(call, recorded)
            return
        if method == "GET" and (match := grammar.result.fullmatch(route)):
            if match["id"] in self.replayed:
                await self._result(call, match["id"])
                return
        if method == "POST":
            submit = grammar.submit.fullmatch(route)
            match = submit or (grammar.sync.fullmatch(route) if grammar.sync else None)
            if match is not None:
                await self._submit(call, match, queued=bool(submit))
                return
        await self.app(scope, receive, send)

    def _note(
        self, call: _Call, body: bytes, status: int, endpoint: str | None, replay: str
    ) -> None:
        """Add a request the replay answers itself to the request record, under the
        emulator's path for it, as the app records the others."""
        if self.recorder is not None:
            scope = {**call.scope, "path": f"/{call.located.surface}{call.located.path}"}
            self.recorder.replayed(scope, body, status, endpoint, replay)

    async def _send_recorded(
        self, call: _Call, recording: Recording, body: bytes = b"", endpoint: str | None = None
    ) -> None:
        """``recording``'s answer, as recorded, to a request of ``body`` for ``endpoint``."""
        self._note(call, body, recording.status, endpoint, "recorded")
        content = recording.response_body() or b""
        if "json" in recording.response:
            text = _rewrite(content.decode(), self.surfaces.to_client(call.scope, call.located))
            content = text.encode()
        kept = dict(recording.response.get("headers", {}))
        if recording.surface.endswith("/cdn"):  # as the CDN sends its files: never a page
            kept.update(SERVED_HEADERS)
        await _answer(call.send, recording.status, kept, content)

    async def _submit(self, call: _Call, match: re.Match[str], queued: bool) -> None:
        body = await _read(call.receive)
        key = input_key(match["endpoint"], _json(body))
        # a sync run's answer, or a queued submit's recorded refusal: sent as recorded
        recorded = self.cassette.play_refusal(key) if queued else self.cassette.play(SYNC, key)
        if recorded is not None:
            await self._send_recorded(call, recorded, body, match["endpoint"])
            return
        matched = queued and self.cassette.matches(QUEUED, key)
        if not matched and self.fallback == "404":
            method, endpoint = call.scope["method"], match["endpoint"]
            nearest = self.cassette.nearest(QUEUED if queued else SYNC, key)
            detail = f"no recording matches {method} {endpoint} with this input ({nearest})"
            refusal = self.errors[call.grammar.provider](404, detail, None)
            self._note(call, body, refusal.status_code, endpoint, "unmatched")
            await refusal(call.scope, call.receive, call.send)
            return
        answered = await _call_app(self.app, call.scope, body, call.receive)
        status, _, content = answered
        job = call.grammar.job_id(_json(content)) if matched and status < 300 else None
        # played once the emulator took the job: a submit it refused (a staged fault) and
        # the client sends again is the same recorded call
        played = self.cassette.play(QUEUED, key) if job else None
        # a submit whose result was never fetched (its client waited for the webhook, which
        # the provider posts around the recorder): its job's result is the emulator's own
        result = played if played and self.cassette.result_recorded(played) else None
        if job and result is not None:
            self.replayed[job] = result
        # WaveSpeed's sync mode answers its job's result at once: the recorded one
        await self._as_recorded(call, answered, result, call.grammar.settled)

    async def _result(self, call: _Call, job: str) -> None:
        answered = await _call_app(self.app, call.scope, await _read(call.receive), call.receive)
        await self._as_recorded(call, answered, self.replayed[job], call.grammar.final)

    async def _as_recorded(
        self,
        call: _Call,
        answered: tuple[int, list, bytes],
        recording: Recording | None,
        final: Callable[[Any], bool],
    ) -> None:
        """The emulator's ``answered`` about a replayed job, with the ``recording``'s
        result put in once it is ``final``."""
        status, headers, content = answered
        emulated = _json(content)
        if recording is None or status >= 300 or not final(emulated):
            await call.send({"type": "http.response.start", "status": status, "headers": headers})
            await call.send({"type": "http.response.body", "body": content})
            return
        merged = call.grammar.merge(emulated, recording.response.get("json"))
        text = _rewrite(json.dumps(merged), self.surfaces.to_client(call.scope, call.located))
        names = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in headers}
        kept = {k: v for k, v in names.items() if k in _PASSED_HEADERS}
        await _answer(call.send, recording.status, kept, text.encode())
