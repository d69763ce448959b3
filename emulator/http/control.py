"""The emulator's own control plane, under ``/_emulator``.

Open on a loopback-only emulator. With an admin token (``--admin-token``; ``serve``
makes one when it listens beyond loopback or accepts only some keys), every call but
``health`` needs ``Authorization: Bearer <admin token>``, except that an accepted API key
may read its own jobs, requests and webhook deliveries (and nothing of another key's).
Never for another site's page, whatever it presents (same_origin.py).
"""

from __future__ import annotations

import base64
import hmac
import math
import os
import re
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import asdict
from itertools import islice
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from emulator._version import __version__
from emulator.core.clock import ManualClock
from emulator.core.engine import Engine
from emulator.core.faults import Fault, FaultError
from emulator.core.keys import split_authorization
from emulator.core.lifecycle import Progression
from emulator.core.record import RecordedRequest, mask_key
from emulator.core.registry import LAYOUTS, client_job_id
from emulator.core.store import StoreUnavailable
from emulator.http.bodies import PayloadError, read_json
from emulator.http.control_openapi import document
from emulator.http.outage import RETRY_AFTER
from emulator.http.responses import encode_json
from emulator.http.same_origin import denial

#: what a caller may see: every key's state (None: an administrator), or one key's
Viewer = str | None
Handler = Callable[[Request, Viewer], Awaitable[Response]]
#: the most entries one page of a listing holds, and the furthest a page may start
MAX_PAGE = 10_000
MAX_OFFSET = 10**9


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class ControlApi:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def routes(self) -> list[BaseRoute]:
        admin, keyed = True, False
        return [
            Route("/_emulator/health", self.health, methods=["GET"]),
            Route("/_emulator/openapi.json", self.openapi, methods=["GET"]),
            self._route("/_emulator/endpoints", self.endpoints, ["GET"], keyed),
            self._route(
                "/_emulator/contracts/{provider}/{endpoint_id:path}", self.contract, ["GET"], keyed
            ),
            self._route("/_emulator/reset", self.reset, ["POST"], admin),
            self._route("/_emulator/requests", self.requests, ["GET"], keyed),
            self._route("/_emulator/webhooks", self.webhooks, ["GET"], keyed),
            self._route("/_emulator/faults", self.faults, ["GET", "POST", "DELETE"], admin),
            self._route("/_emulator/faults/{fault_id}", self.fault, ["DELETE"], admin),
            # an empty id names no rule (Starlette would redirect it to /faults, whose
            # DELETE removes them all)
            self._route("/_emulator/faults/", self.fault, ["DELETE"], admin),
            self._route("/_emulator/jobs", self.jobs, ["GET"], keyed),
            self._route("/_emulator/progression", self.progression, ["GET", "POST"], admin),
            self._route("/_emulator/clock", self.clock, ["GET", "POST"], admin),
        ]

    def _route(self, path: str, handler: Handler, methods: list[str], admin: bool) -> Route:
        async def guarded(request: Request) -> Response:
            denied = denial(request.scope, self.engine.config)
            if denied is not None:
                return denied
            try:
                return await handler(request, self._viewer(request, admin_only=admin))
            except _Refused as refused:
                headers = {"WWW-Authenticate": "Bearer"} if refused.status == 401 else None
                # a refusal may quote what it refuses: a lone surrogate is shown escaped
                detail = str(refused).encode("utf-8", "backslashreplace").decode()
                return JSONResponse({"detail": detail}, refused.status, headers)

        return Route(path, guarded, methods=methods)

    def _viewer(self, request: Request, *, admin_only: bool) -> Viewer:
        """Who is asking: an administrator (None), or the API key whose state they may see."""
        config = self.engine.config
        if config.admin_token is None:
            return None
        _, credential = split_authorization(request.headers.get("authorization", ""))
        if credential and hmac.compare_digest(credential.encode(), config.admin_token.encode()):
            return None
        if not credential:
            raise _Refused(401, "the control plane needs 'Authorization: Bearer <admin token>'")
        if admin_only or (config.api_keys is not None and credential not in config.api_keys):
            raise _Refused(403, "this needs the admin token")
        return credential

    async def health(self, request: Request) -> Response:
        """Liveness and readiness: 503 while the shared store cannot be reached. ``pid``
        tells the workers of ``serve --workers N`` apart."""
        if self.engine.config.state_url == "memory":
            state: dict[str, Any] = {"kind": "memory", "ok": True}
        else:
            state = await run_in_threadpool(self._shared_state)
        if not state["ok"]:
            body = {"status": "unavailable", "state": state, "pid": os.getpid()}
            return JSONResponse(body, 503, RETRY_AFTER)
        return JSONResponse(
            {
                "status": "ok",
                "version": __version__,
                "endpoints": sum(self.engine.contracts.counts().values()),
                "jobs": len(self.engine.jobs),
                "state": state,
                "pid": os.getpid(),
            }
        )

    def _shared_state(self) -> dict[str, Any]:
        """Where the shared state lives and whether it answers (a round trip: run it off
        the event loop)."""
        url = self.engine.config.state_url
        kind = "sqlite" if url.startswith("sqlite:") else "redis"
        store = self.engine.store
        assert store is not None
        try:
            store.ping()
        except StoreUnavailable as error:
            return {"kind": kind, "url": store.url, "ok": False, "error": str(error)}
        return {"kind": kind, "url": store.url, "ok": True}

    async def _listing(self, read: Callable[[], list[dict[str, Any]]]) -> Response:
        """``read()``'s listing, read and encoded in a worker thread: a long one (a page of
        the request record, tens of MB) never holds up the other requests, though its
        state be in this process's memory (an audit's key stalled another's polls 3.6 s)."""
        body = await run_in_threadpool(lambda: encode_json(read()))
        return Response(body, media_type="application/json")

    async def openapi(self, request: Request) -> Response:
        """This control plane's own OpenAPI document."""
        return JSONResponse(document())

    async def endpoints(self, request: Request, viewer: Viewer) -> Response:
        """Every endpoint served, with its tier (curated, catalogue) and source."""
        return JSONResponse(list(self.engine.contracts.listing()))

    async def contract(self, request: Request, viewer: Viewer) -> Response:
        """The OpenAPI document of one endpoint, whichever tier it comes from."""
        params = request.path_params
        endpoint = self.engine.contracts.get(params["provider"], params["endpoint_id"])
        if endpoint is None:
            raise _Refused(404, "no such endpoint")
        return JSONResponse(endpoint.document)

    async def reset(self, request: Request, viewer: Viewer) -> Response:
        """Forget all jobs and media; ``{"seed": N}`` also reseeds."""
        body = await _body(request, "seed")
        # Without a seed the configured one (serve --seed) stays in force.
        seed = body.get("seed", self.engine.config.seed)
        if seed is not None and type(seed) is not int:
            raise _Refused(422, "seed must be an integer")
        if self.engine.store is None:
            self.engine.reset(seed)
        else:  # a shared store's flush scans every key: off the event loop (300,000 keys
            # of a Redis held every other request of the process 1.4 s)
            await run_in_threadpool(self.engine.reset, seed)
        return JSONResponse({"status": "reset", "seed": seed})

    async def requests(self, request: Request, viewer: Viewer) -> Response:
        """The request record, oldest first; query parameters filter it (provider, method,
        path, key, endpoint, status) and page it (offset, limit)."""
        criteria = {
            k: request.query_params[k]
            for k in ("provider", "method", "path", "key", "endpoint")
            if k in request.query_params
        }
        if viewer is not None:
            criteria["key"] = viewer
        status = request.query_params.get("status")
        if status is not None and not re.fullmatch(r"[0-9]{3}", status):
            raise _Refused(422, "status must be an HTTP status code")
        provider = criteria.get("provider")
        if provider is not None and provider not in LAYOUTS:  # the record's filter refuses it
            raise _Refused(422, f"provider must be one of {', '.join(sorted(LAYOUTS))}")

        def listed() -> list[dict[str, Any]]:
            chosen = self.engine.record.filter(**criteria, status=int(status) if status else None)
            return [_recorded(entry) for entry in _page(request, chosen)]

        return await self._listing(listed)

    async def webhooks(self, request: Request, viewer: Viewer) -> Response:
        """Every webhook delivery: target, state, attempts, and what was sent."""

        def listed() -> list[dict[str, Any]]:
            every = list(self.engine.webhooks.deliveries)
            deliveries = [d for d in every if viewer in (None, d.owner)]
            return [
                {
                    "provider": d.provider,
                    "job_id": d.job_id,
                    "url": d.url,
                    "state": d.state,
                    "reason": d.reason,
                    "headers": d.headers,
                    "body": d.body.decode("utf-8", "replace"),
                    "attempts": [asdict(a) for a in d.attempts],
                }
                for d in _page(request, deliveries)
            ]

        return await self._listing(listed)

    async def faults(self, request: Request, viewer: Viewer) -> Response:
        """GET: the rules in force; POST: add one (see emulator.core.faults); DELETE: all."""
        book = self.engine.faults
        if request.method == "DELETE":
            book.clear(book.seed)
            return JSONResponse([])
        if request.method == "POST":
            try:
                rule = book.add(Fault.from_dict(await _body(request)))
            except FaultError as error:
                raise _Refused(422, str(error)) from None
            return JSONResponse(rule.as_dict(), 201)
        return JSONResponse([rule.as_dict() for rule in book.rules])

    async def fault(self, request: Request, viewer: Viewer) -> Response:
        if not self.engine.faults.remove(request.path_params.get("fault_id", "")):
            raise _Refused(404, "no such fault")
        return Response(status_code=204)

    async def jobs(self, request: Request, viewer: Viewer) -> Response:
        """The jobs kept, oldest first (offset, limit), each under the id its provider's
        clients know it by; an API key sees only its own. A job deleted from its key's
        history stays listed, marked ``deleted``: its result still answers it (as deleted)."""
        offset, limit = _bounds(request)

        def listed() -> list[dict[str, Any]]:
            return [
                {
                    "id": client_job_id(job.endpoint.provider, job.id),
                    "provider": job.endpoint.provider,
                    "endpoint": job.endpoint.id,
                    "key": _shown_key(job.owner),
                    "phase": self.engine.look(job).phase.value,
                    "polls": job.polls,
                    "fault": job.fault.id if job.fault else None,
                    "webhook": job.webhook,
                    "deleted": job.deleted,
                }
                for job in self.engine.jobs.page(offset, limit, viewer)
            ]

        return await self._listing(listed)

    async def progression(self, request: Request, viewer: Viewer) -> Response:
        """GET: how jobs move; POST {"progression": "polls:1,1"}: change it from now on."""
        if request.method == "POST":
            text = (await _body(request, "progression")).get("progression")
            if not isinstance(text, str):
                raise _Refused(422, f"progression must be text, as 'polls:1,1', not {text!r}")
            try:
                parsed = Progression.parse(text)
            except ValueError as error:
                raise _Refused(422, str(error)) from None
            self.engine.progression = parsed
        return JSONResponse(asdict(self.engine.progression))

    async def clock(self, request: Request, viewer: Viewer) -> Response:
        """GET: the clock; POST {"advance": seconds}: move a manual clock on."""
        clock = self.engine.clock
        if request.method == "POST":
            if not isinstance(clock, ManualClock):
                raise _Refused(409, "the clock is wall time: serve --manual-clock")
            try:
                clock.advance(_seconds((await _body(request, "advance")).get("advance")))
            except ValueError as error:
                raise _Refused(422, f"advance needs seconds ({error})") from None
        return JSONResponse({"manual": isinstance(clock, ManualClock), "now": clock.now()})


async def _body(request: Request, *fields: str) -> dict[str, Any]:
    """A control body: a JSON object (an empty body reads as ``{}``, white space is no
    JSON: the control plane's document says so), holding only ``fields`` if any are named:
    a misspelt one (``{"sed": 7}``) had been ignored, and a reset forgot everything
    unseeded."""
    try:
        body = await read_json(
            request.scope, request.receive, max_bytes=64 * 1024, max_depth=8, blank_is_empty=False
        )
    except PayloadError as error:
        raise _Refused(error.status, error.message) from None
    if not isinstance(body, dict):
        raise _Refused(422, "expected a JSON object")
    unknown = sorted(set(body) - set(fields)) if fields else []
    if unknown:
        raise _Refused(422, f"unknown fields: {', '.join(unknown)} (it takes {', '.join(fields)})")
    return body


def _page(request: Request, items: Iterable[Any]) -> Iterator[Any]:
    """One page of a listing: ``offset`` (default 0) and ``limit`` (default and most
    10,000) from the query."""
    offset, limit = _bounds(request)
    return islice(items, offset, offset + limit)


def _bounds(request: Request) -> tuple[int, int]:
    """A listing's ``offset`` and ``limit`` from the query."""
    bounds = []
    for name, default, most in (("offset", 0, MAX_OFFSET), ("limit", MAX_PAGE, MAX_PAGE)):
        text = request.query_params.get(name, str(default))
        if not text.isascii() or not text.isdigit() or len(text) > 12 or int(text) > most:
            raise _Refused(422, f"{name} must be a whole number from 0 to {most}")
        bounds.append(int(text))
    offset, limit = bounds
    return offset, limit


def _seconds(value: Any) -> float:
    """A number of seconds a clock can move by: finite and not negative."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"not a number of seconds: {value!r}")
    return float(value)


def _recorded(entry: RecordedRequest) -> dict[str, Any]:
    """A recorded request as JSON: its body as text, or base64 when it is not text."""
    shown = {**asdict(entry), "provider": entry.provider, "truncated": entry.truncated}
    shown["key"] = _shown_key(entry.key)
    try:
        shown["body"], shown["body_encoding"] = entry.body.decode(), "utf-8"
    except UnicodeDecodeError:
        shown["body"], shown["body_encoding"] = base64.b64encode(entry.body).decode(), "base64"
    return shown


def _shown_key(key: str) -> str:
    """An API key as the control plane shows it, masked as the headers it came in are (a
    key may be someone's real one, sent to a shared emulator); ``?key=`` takes it whole."""
    return mask_key(key) if key else ""
