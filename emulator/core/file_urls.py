"""The URL grammar of every file the emulator serves.

Below a provider's CDN surface, an uploaded file lives at ``/files/uploads/{id}/{name}``
(a reserved one, from a two-step upload, is sent to that same URL with PUT) and a
generated medium at ``/files/emulator/{media id}.{extension}``. Ids are 96 random bits, so
the URL itself is the capability, as a signed upload URL is.
"""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import unquote

UPLOAD_PREFIX = "/files/uploads/"
MEDIA_PREFIX = "/files/emulator/"
_UPLOAD_PATH = re.compile(
    r"^/files/uploads/(?P<id>[0-9a-f]{24})/(?P<name>[^/]+)"
    r"(?:/multipart/(?P<upload>[0-9a-f]{24})/(?P<part>[0-9]{1,5}|complete))?/?$"
)
#: a file's URL ends at its name (a trailing slash aside), as the CDN serves it
_UPLOAD_IN_URL = re.compile(r"/files/uploads/([0-9a-f]+)/([^/?#]+)/?$")
_MEDIA_IN_URL = re.compile(r"/files/emulator/(([0-9a-f]{32})\.[^/?#]+)/?$")


def file_url(cdn_base: str, stored_id: str, name: str) -> str:
    return f"{cdn_base}{UPLOAD_PREFIX}{stored_id}/{name}"


def media_name(media_id: str, extension: str) -> str:
    """A medium's own name, the last segment of its URL: the only one it is served at."""
    return f"{media_id}.{extension}"


def media_url(cdn_base: str, media_id: str, extension: str) -> str:
    return f"{cdn_base}{MEDIA_PREFIX}{media_name(media_id, extension)}"


def media_id_of(path: str) -> str | None:
    """The media id of a path below a CDN surface (``/files/emulator/{id}.jpg``)."""
    if not path.startswith(MEDIA_PREFIX):
        return None
    return path[len(MEDIA_PREFIX) :].split(".", 1)[0]


class UploadPath(NamedTuple):
    """An upload URL's path read: the file, its name and, for a multipart upload, the part."""

    file_id: str
    name: str
    multipart_id: str | None = None
    part: str | None = None  # a part number, or "complete"


def parse_upload_path(path: str) -> UploadPath | None:
    match = _UPLOAD_PATH.match(path)
    if match is None:
        return None
    return UploadPath(match["id"], match["name"], match["upload"], match["part"])


class Named(NamedTuple):
    """Which file a URL names: its kind (``upload`` or ``media``), its id, and the name
    the URL gives it (a medium's: ``{id}.{extension}``), which must be its own."""

    kind: str
    id: str
    name: str


def find_in_url(path: str) -> Named | None:
    """Which file a URL (without its query) or its path names, if one of the emulator's."""
    if match := _UPLOAD_IN_URL.search(path):
        return Named("upload", match.group(1), unquote(match.group(2)))
    if match := _MEDIA_IN_URL.search(path):
        return Named("media", match.group(2), match.group(1))
    return None
