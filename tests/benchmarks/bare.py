"""The baseline: a bare Starlette endpoint answering a small JSON body."""

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def status(request):  # noqa: ANN001, ANN201
    return JSONResponse({"status": "IN_QUEUE", "request_id": "x", "queue_position": 0})


app = Starlette(routes=[Route("/{path:path}", status)])
