"""The emulator's own control plane, under ``/_emulator``."""

from __future__ import annotations

import re
from dataclasses import asdict, replace

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from emulator._version import __version__
from emulator.core.clock import ManualClock
from emulator.core.engine import Engine
from emulator.core.faults import Fault, FaultError
from emulator.core.lifecycle import Progression
from emulator.http.bodies import PayloadError, read_json

__all__ = ["ControlApi"]


class ControlApi:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/_emulator/health", self.health, methods=["GET"]),
            Route("/_emulator/endpoints", self.endpoints, methods=["GET"]),
            Route("/_emulator/contracts/{provider}/{endpoint_id:path}", self.contract),
            Route("/_emulator/reset", self.reset, methods=["POST"]),
            Route("/_emulator/requests", self.requests, methods=["GET"]),
            Route("/_emulator/webhooks", self.webhooks, methods=["GET"]),
            Route("/_emulator/faults", self.faults, methods=["GET", "POST", "DELETE"]),
            Route("/_emulator/faults/{fault_id}", self.fault, methods=["DELETE"]),
            Route("/_emulator/jobs", self.jobs, methods=["GET"]),
            Route("/_emulator/progression", self.progression, methods=["GET", "POST"]),
            Route("/_emulator/clock", self.clock, methods=["GET", "POST"]),
        ]

    async def health(self, request: Request) -> Response:
        return JSONResponse(
            {
                "status": "ok",
                "version": __version__,
                "endpoints": len(self.engine.contracts),
                "jobs": len(self.engine.jobs),
            }
        )

    async def endpoints(self, request: Request) -> Response:
        """Every endpoint served, with its tier (curated, catalogue) and source."""
        return JSONResponse(list(self.engine.contracts.listing()))

    async def contract(self, request: Request) -> Response:
        """The OpenAPI document of one endpoint, whichever tier it comes from."""
        params = request.path_params
        endpoint = self.engine.contracts.get(params["provider"], params["endpoint_id"])
        if endpoint is None:
            return JSONResponse({"detail": "no such endpoint"}, 404)
        return JSONResponse(endpoint.document)

    async def reset(self, request: Request) -> Response:
        """Forget all jobs and media; ``{"seed": N}`` also reseeds."""
        try:
            body = await read_json(request, max_bytes=4096, max_depth=4)
        except PayloadError as error:
            return JSONResponse({"detail": error.message}, error.status)
        # Without a seed the configured one (serve --seed) stays in force.
        seed = body.get("seed", self.engine.config.seed) if isinstance(body, dict) else None
        if seed is not None and type(seed) is not int:
            return JSONResponse({"detail": "seed must be an integer"}, 422)
        self.engine.reset(seed)
        return JSONResponse({"status": "reset", "seed": seed})

    async def requests(self, request: Request) -> Response:
        """The request record, oldest first; query parameters filter it (provider, method,
        path, key, status)."""
        criteria = {
            k: request.query_params[k]
            for k in ("provider", "method", "path", "key")
            if k in request.query_params
        }
        status = request.query_params.get("status")
        if status is not None and not re.fullmatch(r"[0-9]{3}", status):
            return JSONResponse({"detail": "status must be an HTTP status code"}, 422)
        entries = self.engine.record.filter(**criteria, status=int(status) if status else None)
        return JSONResponse([{**asdict(entry), "provider": entry.provider} for entry in entries])

    async def webhooks(self, request: Request) -> Response:
        """Every webhook delivery: target, state, attempts, and what was sent."""
        return JSONResponse(
            [
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
                for d in list(self.engine.webhooks.deliveries)
            ]
        )

    async def _body(self, request: Request) -> dict:
        try:
            body = await read_json(request, max_bytes=64 * 1024, max_depth=8)
        except PayloadError as error:
            raise _Refused(error.status, error.message) from None
        if not isinstance(body, dict):
            raise _Refused(422, "expected a JSON object")
        return body

    async def faults(self, request: Request) -> Response:
        """GET: the rules in force; POST: add one (see emulator.core.faults); DELETE: all."""
        book = self.engine.faults
        if request.method == "DELETE":
            book.clear(book.seed)
            return JSONResponse([])
        if request.method == "POST":
            try:
                rule = book.add(Fault.from_dict(await self._body(request)))
            except (FaultError, _Refused) as error:
                return JSONResponse({"detail": str(error)}, getattr(error, "status", 422))
            return JSONResponse(rule.as_dict(), 201)
        return JSONResponse([rule.as_dict() for rule in book.rules])

    async def fault(self, request: Request) -> Response:
        if not self.engine.faults.remove(request.path_params["fault_id"]):
            return JSONResponse({"detail": "no such fault"}, 404)
        return Response(status_code=204)

    async def jobs(self, request: Request) -> Response:
        return JSONResponse(
            [
                {
                    "id": job.id,
                    "provider": job.endpoint.provider,
                    "endpoint": job.endpoint.id,
                    "key": job.owner,
                    "phase": self.engine.look(job).phase.value,
                    "polls": job.polls,
                    "fault": job.fault.id if job.fault else None,
                    "webhook": job.webhook,
                }
                for job in self.engine.jobs
            ]
        )

    async def progression(self, request: Request) -> Response:
        """GET: how jobs move; POST {"progression": "polls:1,1"}: change it from now on."""
        if request.method == "POST":
            try:
                parsed = Progression.parse(str((await self._body(request)).get("progression")))
            except (ValueError, _Refused) as error:
                return JSONResponse({"detail": str(error)}, getattr(error, "status", 422))
            self.engine.config = replace(self.engine.config, progression=parsed)
        return JSONResponse(asdict(self.engine.config.progression))

    async def clock(self, request: Request) -> Response:
        """GET: the clock; POST {"advance": seconds}: move a manual clock on."""
        clock = self.engine.clock
        if request.method == "POST":
            if not isinstance(clock, ManualClock):
                return JSONResponse({"detail": "the clock is wall time: serve --manual-clock"}, 409)
            try:
                seconds = (await self._body(request)).get("advance")
                clock.advance(float(seconds))
            except (TypeError, ValueError, _Refused) as error:
                return JSONResponse({"detail": f"advance needs seconds >= 0 ({error})"}, 422)
        return JSONResponse({"manual": isinstance(clock, ManualClock), "now": clock.now()})


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
