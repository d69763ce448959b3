"""WaveSpeed's upload flows.

- The SDKs: ``POST /api/v3/media/uploads`` with ``{filename, size, content_type}`` answers
  a ticket (``download_url`` and an ``upload`` instruction); then ``PUT upload.url`` with
  the bytes and only the ticket's headers.
- Legacy: ``POST /api/v3/media/upload/binary``, a multipart form with the ``file`` field.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive

from emulator.core.engine import Engine
from emulator.core.file_urls import UploadPath, file_url
from emulator.core.stored_files import (
    StorageError,
    StoredFile,
    content_url,
    safe_content_type,
    safe_name,
)
from emulator.http.bodies import read_body, read_json, receive_reserved
from emulator.http.responses import json_response
from emulator.providers.wavespeed.envelopes import envelope
from emulator.providers.wavespeed.errors import WaveSpeedError

#: what a multipart form may add to its file: boundaries, part headers, a few small fields
FORM_OVERHEAD = 64 * 1024


def _replay(body: bytes) -> Receive:
    """A receive that hands over ``body``, already read, as the request's whole body."""
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> Message:
        return messages.pop() if messages else {"type": "http.disconnect"}

    return receive


def _cut_short(body: bytes, content_type: str) -> bool:
    """Whether a multipart ``body`` lacks its closing delimiter (``--boundary--``)."""
    boundary = parse_options_header(content_type)[1].get(b"boundary")
    return boundary is not None and b"--%s--" % boundary not in body


def _media_type(content_type: str) -> str:
    major = content_type.split("/", 1)[0]
    return major if major in ("image", "video", "audio") else "file"


def _storage_error(error: StorageError) -> WaveSpeedError:
    return WaveSpeedError(error.status, error.message)


class WaveSpeedUploads:
    def __init__(self, engine: Engine, cdn_base: Callable[[Request], str]) -> None:
        self.engine = engine
        self.cdn_base = cdn_base

    def _described(self, request: Request, stored: StoredFile) -> dict[str, Any]:
        return {
            "type": _media_type(stored.content_type),
            "download_url": content_url(self.cdn_base(request), stored),
            "filename": stored.name,
            "size": stored.size,
        }

    async def ticket(self, request: Request, owner: str) -> Response:
        body = await read_json(request.scope, request.receive, max_bytes=64 * 1024, max_depth=4)
        if not isinstance(body, dict) or not isinstance(body.get("filename"), str):
            raise WaveSpeedError(400, "Invalid parameters: filename is required")
        size = body.get("size")
        if size is not None and (type(size) is not int or size < 0):
            raise WaveSpeedError(400, "Invalid parameters: size must be a non-negative integer")
        storage = self.engine.storage
        if size is not None and size > storage.max_file_bytes:
            raise WaveSpeedError(413, f"File exceeds the limit of {storage.max_file_bytes} bytes")
        content_type = safe_content_type(body.get("content_type"))
        name = safe_name(body["filename"])
        file_id = storage.reserve(name, content_type, owner, size)
        url = file_url(self.cdn_base(request), file_id, name)
        upload = {"method": "PUT", "url": url, "headers": {"Content-Type": content_type}}
        ticket = {
            "type": _media_type(content_type),
            "download_url": url,
            "filename": name,
            "size": size or 0,
            "upload": upload,
        }
        return json_response(envelope(ticket))

    async def put(self, request: Request, path: UploadPath) -> Response:
        try:
            stored = await receive_reserved(request, self.engine.storage, path.file_id)
        except StorageError as error:
            raise _storage_error(error) from None
        return json_response(envelope(self._described(request, stored)))

    async def binary(self, request: Request, owner: str) -> Response:
        storage = self.engine.storage
        declared = request.headers.get("content-length", "0")
        declared_type = request.headers.get("content-type", "")
        if not declared.isascii() or not declared.isdigit():
            raise WaveSpeedError(400, "Content-Length must be a number of bytes")
        if int(declared) > storage.max_file_bytes + FORM_OVERHEAD:
            raise WaveSpeedError(413, f"File exceeds the limit of {storage.max_file_bytes} bytes")
        # Read whole first, within the upload limit and the body deadline: the multipart
        # parser bounds each part, not their sum, and waits on the client for as long as
        # the client likes.
        body = await read_body(
            request.scope, request.receive, storage.max_file_bytes + FORM_OVERHEAD
        )
        try:
            form = await Request(request.scope, _replay(body)).form(
                max_files=1, max_fields=10, max_part_size=storage.max_file_bytes
            )
        except (MultipartParseError, ValueError) as error:
            raise WaveSpeedError(400, f"Malformed multipart form: {error}") from None
        except Exception as error:  # Starlette wraps the parser's limits in HTTPException
            status = getattr(error, "status_code", None)
            if status is None:
                raise
            raise WaveSpeedError(400, f"Malformed multipart form: {error}") from None
        upload = form.get("file")
        if not isinstance(upload, UploadFile) and _cut_short(body, declared_type):
            # the parser drops a part that never ends: say so, not that none was sent
            raise WaveSpeedError(400, "Malformed multipart form: it ends before its boundary")
        if not isinstance(upload, UploadFile):
            raise WaveSpeedError(400, "Invalid parameters: a 'file' field is required")
        if upload.size is not None and upload.size > storage.max_file_bytes:
            raise WaveSpeedError(413, f"File exceeds the limit of {storage.max_file_bytes} bytes")
        data = await upload.read()
        try:
            # off the event loop: it may write a large file, or wait out a store error
            stored = await run_in_threadpool(
                functools.partial(
                    storage.put,
                    data,
                    upload.content_type or "application/octet-stream",
                    upload.filename,
                    owner=owner,
                )
            )
        except StorageError as error:
            raise _storage_error(error) from None
        return json_response(envelope(self._described(request, stored)))
