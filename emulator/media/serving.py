"""Media over HTTP: the URL a result names, and the response that serves it."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from emulator.faults import FaultBook
from emulator.injection import drop_after
from emulator.media.spec import MediaSpec
from emulator.media.store import MediaStore
from emulator.storage import Storage
from emulator.uploads import parse_upload_path

__all__ = [
    "MEDIA_PREFIX",
    "Linker",
    "data_uri_linker",
    "media_response",
    "run_linked",
    "url_linker",
]

T = TypeVar("T")

#: Where generated media lives below a provider's CDN surface.
MEDIA_PREFIX = "/files/emulator/"

#: Turns a spec into the value a result carries for it (URL, data URI…) and its size.
Linker = Callable[[MediaSpec], tuple[str, int]]


async def run_linked(call: Callable[[Linker], T], linker: Linker, *, in_thread: bool) -> T:
    """``call(linker)``, in a worker thread when it renders or decodes media (inlined
    outputs, input pictures); URLs to fixed-size formats need neither, so they stay here."""
    if in_thread:
        return await run_in_threadpool(call, linker)
    return call(linker)


def url_linker(store: MediaStore, cdn_base: str) -> Linker:
    """Media as URLs on the CDN surface at ``cdn_base``."""

    def link(spec: MediaSpec) -> tuple[str, int]:
        # A fixed-size format is rendered only when downloaded; any other, now, to size it.
        size = spec.byte_size if spec.byte_size is not None else len(store.content(spec))
        return f"{cdn_base}{MEDIA_PREFIX}{store.register(spec)}.{spec.extension}", size

    return link


def data_uri_linker(store: MediaStore, *, bare: bool = False) -> Linker:
    """Media inline: ``data:`` URIs, or (``bare``) naked base64 as WaveSpeed sends it."""

    def link(spec: MediaSpec) -> tuple[str, int]:
        data = store.content(spec)
        encoded = base64.b64encode(data).decode()
        return (encoded if bare else f"data:{spec.content_type};base64,{encoded}"), len(data)

    return link


_CACHED = {"Cache-Control": "public, max-age=86400"}


async def media_response(
    store: MediaStore, storage: Storage, path: str, faults: FaultBook, provider: str
) -> Response | None:
    """The generated medium or uploaded file at ``path`` (below ``provider``'s CDN
    surface), or None. A media fault rule may make it missing, slow, or cut short."""
    fault = faults.pick("media", provider=provider, endpoint=path, path=path)
    if fault is not None and fault.effect == "media_missing":
        return None
    if fault is not None and fault.effect == "media_slow":
        await asyncio.sleep(fault.seconds or 2.0)
    if path.startswith(MEDIA_PREFIX):
        spec = store.lookup(path[len(MEDIA_PREFIX) :].split(".", 1)[0])
        if spec is None:
            return None
        data = await run_in_threadpool(store.content, spec)  # renders, maybe for seconds
        content_type = spec.content_type
    else:
        upload = parse_upload_path(path)
        stored = storage.get(upload.file_id) if upload and not upload.multipart_id else None
        if stored is None or stored.name != upload.name:
            return None
        data, content_type = storage.read(stored), stored.content_type
    if fault is not None and fault.effect == "media_truncated":
        return _Truncated(data)
    return Response(data, 200, _CACHED, content_type)


class _Truncated(Response):
    """Declares the whole file, sends half of it, and drops the connection."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data, 200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await drop_after(send, 200, self.body, len(self.body) // 2)
