"""In-process: a full ``subscribe`` cycle of the real fal client through ``emulate()``, beside
the same client on a minimal stateful fal queue app: the async client on
``httpx.ASGITransport``, the sync one on ``httpx.WSGITransport``."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable, Iterable
from typing import Any
from unittest import mock

__all__ = ["subscribe_cycle", "subscribe_cycle_sync"]

ENDPOINT = "fal-ai/bitdance"
QUEUE = "https://queue.fal.run"


def minimal_fal_app():  # noqa: ANN201
    """The least a stateful fal queue can be: submit keeps the input, status says done,
    result answers an image."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    jobs: dict[str, object] = {}
    ids = itertools.count()

    async def submit(request: Request) -> JSONResponse:
        request_id = f"r{next(ids)}"
        jobs[request_id] = await request.json()
        base = f"{QUEUE}/{ENDPOINT}/requests/{request_id}"
        return JSONResponse(
            {
                "request_id": request_id,
                "status_url": f"{base}/status",
                "response_url": base,
                "cancel_url": f"{base}/cancel",
            }
        )

    async def status(request: Request) -> JSONResponse:
        jobs[request.path_params["rid"]]  # noqa: B018  (a KeyError is a 500: unknown job)
        return JSONResponse(
            {"status": "COMPLETED", "request_id": request.path_params["rid"], "logs": None}
        )

    async def result(request: Request) -> JSONResponse:
        jobs[request.path_params["rid"]]  # noqa: B018
        return JSONResponse({"images": [{"url": "https://x.invalid/a.png"}], "seed": 1})

    return Starlette(
        routes=[
            Route(f"/{ENDPOINT}/requests/{{rid}}/status", status),
            Route(f"/{ENDPOINT}/requests/{{rid}}", result),
            Route(f"/{ENDPOINT}", submit, methods=["POST"]),
        ]
    )


def minimal_fal_wsgi() -> Callable[..., Iterable[bytes]]:
    """The same least stateful queue as `minimal_fal_app`, as a WSGI app (a sync client's
    in-process transport)."""
    jobs: dict[str, object] = {}
    ids = itertools.count()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ["PATH_INFO"]
        if environ["REQUEST_METHOD"] == "POST":
            request_id = f"r{next(ids)}"
            size = int(environ.get("CONTENT_LENGTH") or 0)
            jobs[request_id] = json.loads(environ["wsgi.input"].read(size))
            base = f"{QUEUE}/{ENDPOINT}/requests/{request_id}"
            body: dict[str, Any] = {
                "request_id": request_id,
                "status_url": f"{base}/status",
                "response_url": base,
                "cancel_url": f"{base}/cancel",
            }
        elif path.endswith("/status"):
            request_id = path.split("/")[-2]
            jobs[request_id]  # noqa: B018
            body = {"status": "COMPLETED", "request_id": request_id, "logs": None}
        else:
            jobs[path.split("/")[-1]]  # noqa: B018
            body = {"images": [{"url": "https://x.invalid/a.png"}], "seed": 1}
        data = json.dumps(body).encode()
        headers = [("content-type", "application/json"), ("content-length", str(len(data)))]
        start_response("200 OK", headers)
        return [data]

    return app


async def _cycles(client, jobs: int) -> float:  # noqa: ANN001
    await client.subscribe(ENDPOINT, arguments={"prompt": "warm-up"})
    start = time.perf_counter()
    for i in range(jobs):
        await client.subscribe(ENDPOINT, arguments={"prompt": f"job {i}"})
    return (time.perf_counter() - start) / jobs * 1000


def subscribe_cycle(jobs: int) -> dict[str, float]:
    import fal_client
    import fal_client.client
    import httpx

    from emulator import emulate

    with emulate(seed=1):
        emulated = asyncio.run(_cycles(fal_client.AsyncClient(key="bench"), jobs))
    transport = httpx.ASGITransport(minimal_fal_app())
    with mock.patch.object(fal_client.client, "AsyncBackupDomainTransport", lambda **_: transport):
        minimal = asyncio.run(_cycles(fal_client.AsyncClient(key="bench"), jobs))
    return {"subscribe in-process": emulated, "subscribe minimal app": minimal}


def _sync_cycles(client, jobs: int) -> float:  # noqa: ANN001
    client.subscribe(ENDPOINT, arguments={"prompt": "warm-up"})
    start = time.perf_counter()
    for i in range(jobs):
        client.subscribe(ENDPOINT, arguments={"prompt": f"job {i}"})
    return (time.perf_counter() - start) / jobs * 1000


def subscribe_cycle_sync(jobs: int) -> dict[str, float]:
    import fal_client
    import fal_client.client
    import httpx

    from emulator import emulate

    with emulate(seed=1):
        emulated = _sync_cycles(fal_client.SyncClient(key="bench"), jobs)
    transport = httpx.WSGITransport(minimal_fal_wsgi())
    with mock.patch.object(fal_client.client, "BackupDomainTransport", lambda **_: transport):
        minimal = _sync_cycles(fal_client.SyncClient(key="bench"), jobs)
    return {"sync subscribe in-process": emulated, "sync subscribe minimal app": minimal}
