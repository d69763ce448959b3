"""The CDN surface: generated media and uploaded files served over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from emulator.core.engine import Engine
from emulator.core.files import media_id_of, parse_upload_path
from emulator.http.middleware import drop_after
from emulator.media.links import Linker

T = TypeVar("T")


async def run_linked(call: Callable[[Linker], T], linker: Linker) -> T:
    """``call(linker)`` in a worker thread: making an output may render or decode media
    (inlined outputs, input pictures, formats whose size is known only once rendered), and
    that never happens on the event loop. An output is made once per job, so the hop is
    paid once too."""
    return await run_in_threadpool(call, linker)


_CACHED = {"Cache-Control": "public, max-age=86400"}


def cdn_path(request: Request) -> str:
    """The path below a CDN surface (``/files/…``), from a ``{path:path}`` route."""
    return "/" + request.path_params["path"].rstrip("/")


async def download(engine: Engine, provider: str, path: str) -> Response | None:
    """The generated medium or uploaded file at ``path`` (below ``provider``'s CDN
    surface), or None. A media fault rule may make it missing, slow, or cut short."""
    store, storage = engine.media, engine.storage
    fault = engine.faults.pick("media", provider=provider, endpoint=path, path=path)
    if fault is not None and fault.effect == "media_missing":
        return None
    if fault is not None and fault.effect == "media_slow":
        await asyncio.sleep(fault.seconds or 2.0)
    media_id = media_id_of(path)
    if media_id is not None:
        spec = store.lookup(media_id)
        if spec is None:
            return None
        data = await run_in_threadpool(store.content, spec)  # renders, maybe for seconds
        content_type = spec.content_type
    else:
        upload = parse_upload_path(path)
        stored = storage.get(upload.file_id) if upload and not upload.multipart_id else None
        if upload is None or stored is None or stored.name != upload.name:
            return None
        data, content_type = storage.read(stored), stored.content_type
    if fault is not None and fault.effect == "media_truncated":
        return _Truncated(data)
    return Response(data, 200, _CACHED, content_type)


class _Truncated(Response):
    """Declares the whole file, sends half of it, and drops the connection."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data, 200)
        self.data = data

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await drop_after(send, 200, self.data, len(self.data) // 2)
