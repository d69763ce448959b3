"""What a stored file is (its record, its ETag, its URL) and what of a client's name and
type the storage keeps: the values every upload flow and the CDN share (the storage
itself: files.py)."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator
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
