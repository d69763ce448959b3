"""The baseline: a bare Starlette app answering a small JSON body; a POST also reads its
JSON body and keeps it, the least a submit can do. Under ``/fal-sized/`` it answers what
fal's queue answers instead (the same fields, about the same bytes, the request id header),
so that the cost of fal's answer itself can be told from the emulator's work."""

import itertools

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

_kept: dict[int, object] = {}
_ids = itertools.count()

_ID = "80e5fa37-ceba-4d9b-b7ae-7b5ce040ec83"
_URL = f"http://127.0.0.1:40000/fal/queue/fal-ai/bitdance/requests/{_ID}"
#: a fal queue answer (a submit's, or a status poll's while queued)
FAL_ANSWER = {
    "status": "IN_QUEUE",
    "request_id": _ID,
    "response_url": _URL,
    "status_url": _URL + "/status",
    "cancel_url": _URL + "/cancel",
    "queue_position": 0,
}


async def status(request: Request) -> JSONResponse:
    if request.method == "POST":
        request_id = next(_ids)
        _kept[request_id] = await request.json()
        return JSONResponse({"status": "IN_QUEUE", "request_id": str(request_id)})
    return JSONResponse({"status": "IN_QUEUE", "request_id": "x", "queue_position": 0})


async def fal_sized(request: Request) -> JSONResponse:
    if request.method == "POST":
        _kept[next(_ids)] = await request.json()
    return JSONResponse(FAL_ANSWER, headers={"x-fal-request-id": _ID})


app = Starlette(
    routes=[
        Route("/fal-sized/{path:path}", fal_sized, methods=["GET", "POST"]),
        Route("/{path:path}", status, methods=["GET", "POST"]),
    ]
)
