"""In-process: a full ``subscribe`` cycle of the real fal client through ``emulate()``, and
the WaveSpeed SDK's ``run``, each beside the same client on a minimal stateful app.

The issue's reference is a minimal app on ``httpx.ASGITransport``. The async client uses it
as it is. A sync client cannot (it is async-only), nor can the WaveSpeed SDK (it speaks
requests), so theirs is driven from sync code with the least glue: one event loop, run
until each answer is complete (`SyncASGI`; behind a requests adapter for the SDK): the
issue's reference, against which their goal is set. Printed beside it, without a goal, is
the floor of any sync path: the same app logic as a framework-free WSGI app answering in
the caller's thread, with no event loop (from the fifth round to the twenty-eighth the
goal was set against it; docs/performance.md, "Choices", says why it no longer is).

A case's sides take turns, a block of jobs each (`_alternating`): a few milliseconds per
job are easily moved by a machine that slows down between one side's run and the next."""

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

__all__ = [
    "SIDES",
    "SyncASGI",
    "subscribe_cycle",
    "subscribe_cycle_sync",
    "wavespeed_run_cycle",
]

Answer = tuple[int, list[tuple[str, str]], bytes]
#: one side of a case: runs that many jobs (after a warm-up) and answers ms per job
Side = Callable[[int], float]

ENDPOINT = "fal-ai/bitdance"
#: blocks of jobs each side runs in turn, per case
BLOCKS = 4
QUEUE = "https://queue.fal.run"


def _fal_submitted(request_id: str) -> dict[str, Any]:
    base = f"{QUEUE}/{ENDPOINT}/requests/{request_id}"
    return {
        "request_id": request_id,
        "status_url": f"{base}/status",
        "response_url": base,
        "cancel_url": f"{base}/cancel",
    }


def _fal_status(request_id: str) -> dict[str, Any]:
    return {"status": "COMPLETED", "request_id": request_id, "logs": None}


FAL_RESULT = {"images": [{"url": "https://x.invalid/a.png"}], "seed": 1}


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
        return JSONResponse(_fal_submitted(request_id))

    async def status(request: Request) -> JSONResponse:
        jobs[request.path_params["rid"]]  # noqa: B018  (a KeyError is a 500: unknown job)
        return JSONResponse(_fal_status(request.path_params["rid"]))

    async def result(request: Request) -> JSONResponse:
        jobs[request.path_params["rid"]]  # noqa: B018
        return JSONResponse(FAL_RESULT)

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
            body = _fal_submitted(request_id)
        elif path.endswith("/status"):
            request_id = path.split("/")[-2]
            jobs[request_id]  # noqa: B018
            body = _fal_status(request_id)
        else:
            jobs[path.split("/")[-1]]  # noqa: B018
            body = FAL_RESULT
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


def _alternating(sides: dict[str, Side], jobs: int) -> dict[str, float]:
    """Each side's milliseconds per job over ``jobs`` jobs, run in `BLOCKS` blocks that take
    turns (each side's block makes its own client and warms it up), so that a machine
    slowing down during the case slows every side alike."""
    totals = dict.fromkeys(sides, 0.0)
    for _ in range(BLOCKS):
        for name, run in sides.items():
            totals[name] += run(max(1, jobs // BLOCKS))
    return {name: total / BLOCKS for name, total in totals.items()}


def subscribe_sides() -> dict[str, Side]:
    """The async client's cycles through the emulator, and on the minimal app."""
    import fal_client
    import fal_client.client
    import httpx

    from emulator import emulate

    def emulated(count: int) -> float:
        with emulate(seed=1):
            return asyncio.run(_cycles(fal_client.AsyncClient(key="bench"), count))

    def minimal(count: int) -> float:
        transport = httpx.ASGITransport(minimal_fal_app())
        with mock.patch.object(
            fal_client.client, "AsyncBackupDomainTransport", lambda **_: transport
        ):
            return asyncio.run(_cycles(fal_client.AsyncClient(key="bench"), count))

    return {"subscribe in-process": emulated, "subscribe minimal app": minimal}


def subscribe_cycle(jobs: int) -> dict[str, float]:
    return _alternating(subscribe_sides(), jobs)


def _sync_cycles(client, jobs: int) -> float:  # noqa: ANN001
    client.subscribe(ENDPOINT, arguments={"prompt": "warm-up"})
    start = time.perf_counter()
    for i in range(jobs):
        client.subscribe(ENDPOINT, arguments={"prompt": f"job {i}"})
    return (time.perf_counter() - start) / jobs * 1000


class SyncASGI:
    """An ASGI app on ``httpx.ASGITransport``, answering sync code: one event loop of its
    own, run until each answer is complete."""

    def __init__(self, app: Any) -> None:
        import httpx

        self._transport, self._loop = httpx.ASGITransport(app), asyncio.new_event_loop()

    def answer(self, request: Any) -> Answer:
        """The app's whole answer to the ``httpx.Request``."""

        async def answered() -> Answer:
            response = await self._transport.handle_async_request(request)
            return response.status_code, response.headers.multi_items(), await response.aread()

        return self._loop.run_until_complete(answered())

    def close(self) -> None:
        self._loop.close()


def _httpx_transport(answer: Callable[[Any], Answer]) -> Any:
    import httpx

    class Transport(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            status, headers, content = answer(request)
            return httpx.Response(status, headers=headers, content=content)

    return Transport()


def subscribe_sync_sides() -> dict[str, Side]:
    """The sync client's cycles through the emulator, and on the minimal apps."""
    import fal_client
    import fal_client.client
    import httpx

    from emulator import emulate

    def on(transport: Any, count: int) -> float:
        with mock.patch.object(fal_client.client, "BackupDomainTransport", lambda **_: transport):
            return _sync_cycles(fal_client.SyncClient(key="bench"), count)

    def emulated(count: int) -> float:
        with emulate(seed=1):
            return _sync_cycles(fal_client.SyncClient(key="bench"), count)

    def minimal(count: int) -> float:
        bridge = SyncASGI(minimal_fal_app())
        try:
            return on(_httpx_transport(bridge.answer), count)
        finally:
            bridge.close()

    def wsgi(count: int) -> float:
        return on(httpx.WSGITransport(minimal_fal_wsgi()), count)

    return {
        "sync subscribe in-process": emulated,
        "sync subscribe minimal ASGI app": minimal,
        "sync subscribe minimal app": wsgi,
    }


def subscribe_cycle_sync(jobs: int) -> dict[str, float]:
    return _alternating(subscribe_sync_sides(), jobs)


WAVESPEED = "https://api.wavespeed.ai/api/v3"
WAVESPEED_MODEL = "wavespeed-ai/bitdance-14b/text-to-image"


def _wavespeed_envelope(task: str, finished: bool) -> dict[str, Any]:
    status, outputs = ("completed", ["https://x.invalid/a.png"]) if finished else ("created", [])
    urls = {"get": f"{WAVESPEED}/predictions/{task}/result"}
    data = {"id": task, "status": status, "outputs": outputs, "urls": urls}
    return {"code": 200, "message": "success", "data": data}


def minimal_wavespeed_app():  # noqa: ANN201
    """The least a stateful WaveSpeed API can be: submit keeps the input, the result says
    completed with an image."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    jobs: dict[str, object] = {}
    ids = itertools.count()

    async def submit(request: Request) -> JSONResponse:
        task = f"t{next(ids)}"
        jobs[task] = await request.json()
        return JSONResponse(_wavespeed_envelope(task, finished=False))

    async def result(request: Request) -> JSONResponse:
        jobs[request.path_params["task"]]  # noqa: B018  (a KeyError: unknown task)
        return JSONResponse(_wavespeed_envelope(request.path_params["task"], finished=True))

    return Starlette(
        routes=[
            Route("/api/v3/predictions/{task}/result", result),
            Route(f"/api/v3/{WAVESPEED_MODEL}", submit, methods=["POST"]),
        ]
    )


def minimal_wavespeed_wsgi() -> Callable[..., Iterable[bytes]]:
    """The same least stateful API as `minimal_wavespeed_app`, as a WSGI app."""
    jobs: dict[str, object] = {}
    ids = itertools.count()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] == "POST":
            task = f"t{next(ids)}"
            size = int(environ.get("CONTENT_LENGTH") or 0)
            jobs[task] = json.loads(environ["wsgi.input"].read(size))
            finished = False
        else:
            task = environ["PATH_INFO"].split("/")[-2]
            jobs[task]  # noqa: B018  (a KeyError: unknown task)
            finished = True
        start_response("200 OK", [("content-type", "application/json")])
        return [json.dumps(_wavespeed_envelope(task, finished)).encode()]

    return app


def _wsgi_answer(app: Callable[..., Iterable[bytes]]) -> Callable[[Any], Answer]:
    """The WSGI ``app``'s answer to a requests ``PreparedRequest``, in the caller's thread."""

    def answer(request: Any) -> Answer:
        body = request.body or b""
        environ = {
            "REQUEST_METHOD": request.method,
            "PATH_INFO": urlsplit(request.url).path,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
        }
        started: list[Any] = []
        content = b"".join(app(environ, lambda status, headers: started.extend(headers)))
        return 200, started, content

    return answer


def _asgi_answer(bridge: SyncASGI) -> Callable[[Any], Answer]:
    """The bridged ASGI app's answer to a requests ``PreparedRequest``."""
    import httpx

    def answer(request: Any) -> Answer:
        headers = dict(request.headers)
        return bridge.answer(
            httpx.Request(request.method, request.url, headers=headers, content=request.body or b"")
        )

    return answer


def _requests_adapter(answer: Callable[[Any], Answer]) -> Any:
    """A requests transport adapter that answers with ``answer``."""
    import requests
    import requests.adapters
    from requests.structures import CaseInsensitiveDict

    class Adapter(requests.adapters.BaseAdapter):
        def send(self, request: Any, **_: Any) -> requests.Response:  # type: ignore[override]
            status, headers, content = answer(request)
            response = requests.Response()
            response.status_code = status
            response.headers = CaseInsensitiveDict(headers)
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


def wavespeed_run_sides() -> dict[str, Side]:
    """The WaveSpeed SDK's cycles through the emulator, and on the minimal apps."""
    import requests
    import wavespeed

    from emulator import emulate

    def on(answer: Callable[[Any], Answer], count: int) -> float:
        adapter = _requests_adapter(answer)
        with mock.patch.object(requests.Session, "get_adapter", lambda *_, **__: adapter):
            return _run_cycles(wavespeed.Client(api_key="bench"), count)

    def emulated(count: int) -> float:
        with emulate(seed=1):
            return _run_cycles(wavespeed.Client(api_key="bench"), count)

    def minimal(count: int) -> float:
        bridge = SyncASGI(minimal_wavespeed_app())
        try:
            return on(_asgi_answer(bridge), count)
        finally:
            bridge.close()

    def wsgi(count: int) -> float:
        return on(_wsgi_answer(minimal_wavespeed_wsgi()), count)

    return {
        "wavespeed run in-process": emulated,
        "wavespeed run minimal ASGI app": minimal,
        "wavespeed run minimal app": wsgi,
    }


def wavespeed_run_cycle(jobs: int) -> dict[str, float]:
    return _alternating(wavespeed_run_sides(), jobs)


#: each case's sides, by the case's name
SIDES: dict[str, Callable[[], dict[str, Side]]] = {
    "subscribe": subscribe_sides,
    "sync subscribe": subscribe_sync_sides,
    "wavespeed run": wavespeed_run_sides,
}
