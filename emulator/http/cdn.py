"""The CDN surface: generated media and uploaded files served over HTTP, as a CDN serves
them: byte ranges (206, 416), HEAD, validators (ETag, Last-Modified) and conditional
requests (304), and a Content-Disposition naming the file."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from email.utils import formatdate, parsedate_to_datetime
from typing import NamedTuple, TypeVar
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from emulator.core.engine import Engine
from emulator.core.file_urls import MEDIA_PREFIX, media_id_of, media_name, parse_upload_path
from emulator.core.stored_files import etag
from emulator.http.exchange import drop_after
from emulator.media.links import Linker, WouldBlock, without_blocking

T = TypeVar("T")


async def run_linked(call: Callable[[Linker], T], linker: Linker, *, made: bool = False) -> T:
    """``call(linker)``, never rendering or decoding media on the event loop (inlined
    outputs, input pictures, formats whose size is known only once rendered). An output is
    made once per job and kept; once ``made`` (`Engine.outcome_made`), ``call`` only reads
    it, here. Otherwise it is first tried here with blocking work forbidden: most outputs
    (URLs to media of a known size) need none, and skip the worker thread's hop (which cost
    a third of an in-process job's cycle); one that would block is made in a worker thread."""
    if made:
        return call(linker)
    try:
        with without_blocking():
            return call(linker)
    except WouldBlock:
        return await run_in_threadpool(call, linker)


#: Every file served: cached as a CDN caches, and inert. The providers' CDNs are origins of
#: their own; here uploads share the emulator's origin with its dashboard, so an uploaded
#: HTML or SVG file must not run as a page of that origin (a sandbox makes it an opaque
#: origin, without the dashboard's cookie or storage) nor be sniffed into one. A replayed
#: file is sent with them too.
SERVED_HEADERS = {
    "Cache-Control": "public, max-age=86400",
    "Content-Security-Policy": "sandbox",
    "X-Content-Type-Options": "nosniff",
}


def cdn_path(request: Request) -> str:
    """The path below a CDN surface (``/files/…``), from a ``{path:path}`` route."""
    return "/" + request.path_params["path"].rstrip("/")


class _File(NamedTuple):
    """A file the CDN can serve: what it is called, and how to get its bytes."""

    name: str
    content_type: str
    tag: str  # a strong ETag
    modified: float  # unix seconds
    size: int | None  # known without loading, or None
    load: Callable[[], Awaitable[bytes]]


def _find(engine: Engine, path: str) -> _File | None:
    store, storage = engine.media, engine.storage
    media_id = media_id_of(path)
    if media_id is not None:
        spec = store.lookup(media_id)
        if spec is None:
            return None
        name = media_name(media_id, spec.extension)
        if path[len(MEDIA_PREFIX) :] != name:  # its own name, nothing else
            return None

        async def render() -> bytes:
            return await run_in_threadpool(store.content, spec)  # maybe for seconds

        # The id digests the spec, and a spec always renders to the same bytes.
        return _File(
            name, spec.content_type, f'"{media_id}"', store.created, spec.byte_size, render
        )
    upload = parse_upload_path(path)
    stored = storage.get(upload.file_id) if upload and not upload.multipart_id else None
    if upload is None or stored is None or stored.name != upload.name:
        return None
    data = storage.read(stored)
    if data is None:  # dropped since it was found (its key's budget, or its retention)
        return None

    async def read() -> bytes:
        return data

    return _File(stored.name, stored.content_type, etag(data), store.created, len(data), read)


async def download(engine: Engine, provider: str, path: str, request: Request) -> Response | None:
    """The generated medium or uploaded file at ``path`` (below ``provider``'s CDN
    surface), or None. A media fault rule may make it missing, slow, or cut short."""
    fault = engine.faults.pick("media", provider=provider, endpoint=path, path=path)
    if fault is not None and fault.effect == "media_missing":
        return None
    if fault is not None and fault.effect == "media_slow":
        await asyncio.sleep(fault.seconds or 2.0)
    cut_short = fault is not None and fault.effect == "media_truncated"
    return await serve_file(engine, path, request, cut_short=cut_short)


async def serve_file(
    engine: Engine,
    path: str,
    request: Request,
    *,
    served: Mapping[str, str] = SERVED_HEADERS,
    cut_short: bool = False,
) -> Response | None:
    """The medium or file at ``path`` (below a CDN surface) as the CDN answers it, with
    ``served`` for `SERVED_HEADERS`, or None; no fault rule applies here. ``cut_short``:
    half of it sent, and the connection dropped."""
    found = _find(engine, path)
    if found is None:
        return None
    headers = {
        **served,
        "ETag": found.tag,
        "Last-Modified": formatdate(found.modified, usegmt=True),
        "Accept-Ranges": "bytes",
        "Content-Disposition": disposition(found.name),
    }
    if not_modified(request.headers, found.tag, found.modified):
        return Response(status_code=304, headers=headers)
    head = request.method == "HEAD"
    data = b"" if head and found.size is not None else await found.load()
    size = len(data) if data or found.size is None else found.size
    wanted = _range_asked(request.headers, found)
    span = byte_range(wanted, size) if wanted else None
    if span == ():
        return Response(b"", 416, {**headers, "Content-Range": f"bytes */{size}"})
    status = 200
    if span:
        first, last = span
        status, data = 206, data[first : last + 1]
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    if head:
        length = last - first + 1 if span else size
        headers["Content-Length"] = str(length)
        return Response(b"", status, headers, found.content_type)
    if cut_short:
        return _Truncated(data, status, headers, found.content_type)
    return Response(data, status, headers, found.content_type)


def disposition(name: str) -> str:
    """``inline`` with the file's name, quoted for old clients and RFC 5987-encoded."""
    plain = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in name)
    return f"inline; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"


def _seconds(value: str) -> float | None:
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def not_modified(headers: Headers, tag: str, modified: float) -> bool:
    """Whether a conditional GET is answered 304 (If-None-Match wins over the date)."""
    if "if-none-match" in headers:
        asked = {t.strip().removeprefix("W/") for t in headers["if-none-match"].split(",")}
        return "*" in asked or tag in asked
    since = _seconds(headers.get("if-modified-since", ""))
    return since is not None and int(modified) <= since


def _range_asked(headers: Headers, found: _File) -> str:
    """The Range header, unless an If-Range names another version of the file."""
    wanted = headers.get("range", "")
    condition = headers.get("if-range")
    if wanted and condition is not None:
        if condition.startswith(('"', 'W/"')):
            return wanted if condition == found.tag else ""
        since = _seconds(condition)
        return wanted if since is not None and int(found.modified) <= since else ""
    return wanted


def byte_range(header: str, size: int) -> tuple[int, int] | tuple[()] | None:
    """The inclusive span a ``Range`` header asks of ``size`` bytes: None to answer the
    whole file (no range, one this server does not read, or several), ``()`` when no byte
    of it exists (416)."""
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None  # several ranges: the whole file is a valid answer (RFC 9110 14.2)
    start, dash, end = (part.strip() for part in spec.partition("-"))
    if not dash or not (start.isdigit() or end.isdigit()) or (start + end).strip("0123456789"):
        return None
    if not start:  # the last N bytes
        if _offset(end) == 0:
            return ()
        return (max(0, size - _offset(end)), size - 1) if size else ()
    first = _offset(start)
    last = min(_offset(end), size - 1) if end else size - 1
    if end and _offset(end) < first:
        return None  # not a valid range: ignored
    return (first, last) if first < size else ()


def _offset(digits: str) -> int:
    """A byte offset: past any file's size, a number of any length reads as 10**20 (Python
    reads no more than 4,300 digits, and none is needed)."""
    return int(digits) if len(digits) <= 20 else 10**20


class _Truncated(Response):
    """Declares the whole answer, sends half of it, and drops the connection."""

    def __init__(self, data: bytes, status: int, headers: dict[str, str], media: str) -> None:
        super().__init__(data, status, headers, media)
        self.data = data

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        await drop_after(send, self.status_code, self.data, len(self.data) // 2, headers)
