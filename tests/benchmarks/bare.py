"""The baseline: a bare Starlette app answering a small JSON body; a POST also reads its
JSON body and keeps it, the least a submit can do."""

import itertools

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

_kept: dict[int, object] = {}
_ids = itertools.count()


async def status(request: Request) -> JSONResponse:
    if request.method == "POST":
        request_id = next(_ids)
        _kept[request_id] = await request.json()
        return JSONResponse({"status": "IN_QUEUE", "request_id": str(request_id)})
    return JSONResponse({"status": "IN_QUEUE", "request_id": "x", "queue_position": 0})


app = Starlette(routes=[Route("/{path:path}", status, methods=["GET", "POST"])])
