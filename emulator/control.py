"""The emulator's own control plane, under ``/_emulator``."""

from __future__ import annotations

import re
from dataclasses import asdict

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from emulator._version import __version__
from emulator.engine import Engine
from emulator.payloads import PayloadError, read_json

__all__ = ["ControlApi"]


class ControlApi:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/_emulator/health", self.health, methods=["GET"]),
            Route("/_emulator/endpoints", self.endpoints, methods=["GET"]),
            Route("/_emulator/reset", self.reset, methods=["POST"]),
            Route("/_emulator/requests", self.requests, methods=["GET"]),
            Route("/_emulator/webhooks", self.webhooks, methods=["GET"]),
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
        return JSONResponse(
            [
                {"provider": e.provider, "id": e.id, "category": e.category, "source": e.source}
                for e in self.engine.contracts
            ]
        )

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
