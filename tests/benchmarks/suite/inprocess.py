"""In-process: a full ``subscribe`` cycle of the real fal client through ``emulate()``, beside
the same client on a minimal stateful fal queue app: the async client on
``httpx.ASGITransport``, the sync one on ``httpx.WSGITransport``; and the WaveSpeed SDK's
``run`` beside a minimal stateful WaveSpeed app behind a requests adapter (the SDK speaks
requests, which has no ASGI transport)."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import time
from collections.abc import Callable, Iterable
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

__all__ = ["subscribe_cycle", "subscribe_cycle_sync", "wavespeed_run_cycle"]

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


WAVESPEED = "https://api.wavespeed.ai/api/v3"
WAVESPEED_MODEL = "wavespeed-ai/bitdance-14b/text-to-image"


def minimal_wavespeed_wsgi() -> Callable[..., Iterable[bytes]]:
    """The least a stateful WaveSpeed API can be: submit keeps the input, the result says
    completed with an image."""
    jobs: dict[str, object] = {}
    ids = itertools.count()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] == "POST":
            task = f"t{next(ids)}"
            size = int(environ.get("CONTENT_LENGTH") or 0)
            jobs[task] = json.loads(environ["wsgi.input"].read(size))
            status, outputs = "created", []
        else:
            task = environ["PATH_INFO"].split("/")[-2]
            jobs[task]  # noqa: B018  (a KeyError: unknown task)
            status, outputs = "completed", ["https://x.invalid/a.png"]
        urls = {"get": f"{WAVESPEED}/predictions/{task}/result"}
        data = {"id": task, "status": status, "outputs": outputs, "urls": urls}
        body = json.dumps({"code": 200, "message": "success", "data": data}).encode()
        start_response("200 OK", [("content-type", "application/json")])
        return [body]

    return app


def _wsgi_adapter(app: Callable[..., Iterable[bytes]]) -> Any:
    """A requests transport adapter that answers from the WSGI ``app`` in the caller's
    thread."""
    import requests
    import requests.adapters
    from requests.structures import CaseInsensitiveDict

    class Adapter(requests.adapters.BaseAdapter):
        def send(self, request: Any, **_: Any) -> requests.Response:  # type: ignore[override]
            body = request.body or b""
            environ = {
                "REQUEST_METHOD": request.method,
                "PATH_INFO": urlsplit(request.url).path,
                "CONTENT_LENGTH": str(len(body)),
                "wsgi.input": io.BytesIO(body),
            }
            started: list[Any] = []
            content = b"".join(app(environ, lambda status, headers: started.extend(headers)))
            response = requests.Response()
            response.status_code = 200
            response.headers = CaseInsensitiveDict(started)
            response.raw = io.BytesIO(content)
            response.url, response.request = request.url, request
            return response

        def close(self) -> None:
            pass

    return Adapter()


def _run_cycles(client, jobs: int) -> float:  # noqa: ANN001
    client.run(WAVESPEED_MODEL, {"prompt": "warm-up"}, poll_interval=0.01)
    start = time.perf_counter()
    for i in range(jobs):
        client.run(WAVESPEED_MODEL, {"prompt": f"job {i}"}, poll_interval=0.01)
    return (time.perf_counter() - start) / jobs * 1000


def wavespeed_run_cycle(jobs: int) -> dict[str, float]:
    import requests
    import wavespeed

    from emulator import emulate

    with emulate(seed=1):
        emulated = _run_cycles(wavespeed.Client(api_key="bench"), jobs)
    adapter = _wsgi_adapter(minimal_wavespeed_wsgi())
    with mock.patch.object(requests.Session, "get_adapter", lambda *_, **__: adapter):
        minimal = _run_cycles(wavespeed.Client(api_key="bench"), jobs)
    return {"wavespeed run in-process": emulated, "wavespeed run minimal app": minimal}
