"""What a stored file is (its record, its ETag, its URL) and what of a client's name and
type the storage keeps: the values every upload flow and the CDN share (the storage
itself: files.py)."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from emulator.core.file_urls import file_url

logger = logging.getLogger("emulator")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class StorageError(Exception):
    """An upload the storage refuses, with the HTTP status that says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def too_big(limit: int) -> StorageError:
    """A file over the size limit of ``limit`` bytes."""
    return StorageError(413, f"File exceeds the limit of {limit} bytes")


def abandoned(refusal: StorageError) -> StorageError:
    """The refusal of a multipart upload's part that ended the upload, its parts' bytes
    released: it could not complete (too big), or not now (a budget full), and a client
    that gives up would leave them counted against its key."""
    return StorageError(refusal.status, f"{refusal.message}; the multipart upload is abandoned")


def unknown_upload(upload_id: str) -> StorageError:
    return StorageError(404, f"Unknown multipart upload '{upload_id}'")


def check_listed(tag_of: Callable[[int], str | None], parts: list[tuple[int, str]]) -> None:
    """Refuse a completion whose listed parts (number, ETag) the upload does not hold;
    ``tag_of``: the ETag of the upload's part, None for a part it does not have."""
    if not parts:
        raise StorageError(400, "A multipart upload needs at least one part")
    if len({number for number, _ in parts}) < len(parts):
        # a part listed twice would make a file of bytes never sent, past every quota
        raise StorageError(400, "Each part may be listed once")
    for number, tag in sorted(parts):
        held = tag_of(number)
        if held is None or tag.strip('"') != held.strip('"'):
            raise StorageError(400, f"Part {number} is missing or its ETag does not match")


@contextmanager
def writing_to(folder: Path | None) -> Iterator[None]:
    """A write to the uploads folder: one it refuses (a full disk, permissions changed
    since start-up) is the storage's 507, which each provider answers in its own format
    with a message saying why, not an unforeseen error's bare 500; the log says it too."""
    try:
        yield
    except OSError as error:
        logger.error("the uploads folder %s cannot be written: %s", folder, error)
        reason = error.strerror or str(error)
        raise StorageError(
            507, f"The emulator cannot write uploads to its storage folder {folder}: {reason}"
        ) from error


_MEDIA_TYPE = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,127}"
)


def safe_content_type(value: object) -> str:
    """A client's content type if it is a plain ``type/subtype`` (safe as a header)."""
    text = value.split(";", 1)[0].strip() if isinstance(value, str) else ""
    return text if _MEDIA_TYPE.fullmatch(text) else "application/octet-stream"


def safe_name(name: object, default: str = "upload.bin") -> str:
    """A client's file name reduced to a harmless URL segment (no path, no dots first)."""
    base = (name if isinstance(name, str) else "").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE.sub("_", base).lstrip(".")[:128]
    return cleaned or default


class StoredFile(NamedTuple):
    """An uploaded file as its URL names it: id, name, type and size."""

    id: str
    name: str
    content_type: str
    size: int


def content_url(cdn_base: str, stored: StoredFile) -> str:
    return file_url(cdn_base, stored.id, stored.name)


def etag(data: bytes) -> str:
    return '"' + hashlib.md5(data, usedforsecurity=False).hexdigest() + '"'


def same_type(content_type: str) -> str:
    """A Content-Type as a ticket keeps it (`safe_content_type`), in lower case."""
    return safe_content_type(content_type).lower()
