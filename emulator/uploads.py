"""Upload plumbing shared by the providers' flows: file URLs and receiving bytes.

An uploaded file lives at ``{cdn}/files/uploads/{id}/{name}``; a reserved one (a two-step
upload) is sent to that same URL with PUT. Ids are 96 random bits, so the URL itself is
the capability, as a signed upload URL is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.requests import Request

from emulator.payloads import read_body
from emulator.storage import Storage, StoredFile

__all__ = ["UPLOAD_PREFIX", "UploadPath", "content_url", "file_url", "parse_upload_path", "receive"]

UPLOAD_PREFIX = "/files/uploads/"
_PATH = re.compile(
    r"^/files/uploads/(?P<id>[0-9a-f]{24})/(?P<name>[^/]+)"
    r"(?:/multipart/(?P<upload>[0-9a-f]{24})/(?P<part>[0-9]{1,5}|complete))?/?$"
)


def file_url(cdn_base: str, stored_id: str, name: str) -> str:
    return f"{cdn_base}{UPLOAD_PREFIX}{stored_id}/{name}"


def content_url(cdn_base: str, stored: StoredFile) -> str:
    return file_url(cdn_base, stored.id, stored.name)


@dataclass(frozen=True)
class UploadPath:
    file_id: str
    name: str
    multipart_id: str | None = None
    part: str | None = None  # a part number, or "complete"


def parse_upload_path(path: str) -> UploadPath | None:
    match = _PATH.match(path)
    if match is None:
        return None
    return UploadPath(match["id"], match["name"], match["upload"], match["part"])


async def receive(request: Request, storage: Storage, file_id: str) -> StoredFile:
    """A PUT to a reserved file's URL: its bytes, stored. Raises `StorageError` for an
    unknown reservation and `PayloadError` for a body over the limit."""
    data = await read_body(request, storage.max_file_bytes)
    return storage.fulfil(file_id, data, request.headers.get("content-type"))
