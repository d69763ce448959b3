"""Uploaded files, kept in memory, a directory or a shared `Store`, bounded (their URLs:
file_urls.py).

Each provider's upload flow ends here; the file is then served back at the URL the flow
returned, and can be the input of a later job. Names from clients are only ever used as
the last, sanitised segment of a URL: on disk a file is stored under its generated id
(with shared state, a multipart upload's file and parts under names made from it).
"""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from emulator.core.expiry import expire_oldest
from emulator.core.shared_files import Limits, QuotaRefused, SharedUploads
from emulator.core.store import Store, StoreUnavailable, give_back
from emulator.core.stored_files import (
    StorageError,
    StoredFile,
    abandoned,
    check_listed,
    etag,
    safe_content_type,
    safe_name,
    same_type,
    too_big,
    unknown_upload,
    writing_to,
)


class _Kept(NamedTuple):
    """A finished file, whose key uploaded it and when."""

    file: StoredFile
    owner: str
    at: float


def _kept_at(kept: _Kept) -> float:
    return kept.at


@dataclass
class _Multipart:
    """A multipart upload under way: the parts received so far, by number."""

    name: str
    content_type: str
    owner: str = ""
    parts: dict[int, bytes] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return sum(map(len, self.parts.values()))


#: the most two-step uploads and multipart uploads waiting at once; the oldest are dropped
MAX_WAITING = 10_000


class Storage:
    """Uploaded files, bounded per file, per owner (the key that uploaded them) and in
    total; bytes of multipart uploads in progress count as well as finished files. A
    finished file is kept for ``retention`` seconds (by ``now``), as a job is; an upload
    that would take its owner past its budget first drops the owner's oldest finished
    files, as a key's jobs make room (one larger than the whole budget drops nothing).

    With a ``store``, everything lives there (see `emulator.core.shared_files`): files up
    to ``max_inline_upload_bytes`` inline, larger ones under ``directory`` (which every
    worker must see; without one, every file is inline), so every process on the store
    serves every upload. Without one, the files are this process's, as ever."""

    def __init__(
        self,
        *,
        directory: Path | None = None,
        max_file_bytes: int = 200 * 2**20,
        max_total_bytes: int = 1024 * 2**20,
        max_owner_bytes: int | None = None,
        store: Store | None = None,
        max_inline_upload_bytes: int = 2**20,
        retention: float = math.inf,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.directory = directory
        self.retention = retention
        self._now = now
        self.max_file_bytes = max_file_bytes
        self.max_total_bytes = max_total_bytes
        self.max_owner_bytes = max_owner_bytes if max_owner_bytes is not None else max_total_bytes
        self._files: OrderedDict[str, _Kept] = OrderedDict()  # the oldest first
        self._oldest_at = math.inf  # when the oldest file kept was, or earlier
        self._contents: dict[str, bytes] = {}
        self._pending: OrderedDict[str, _Multipart] = OrderedDict()
        # upload tickets: id → (name, type, owner)
        self._reserved: OrderedDict[str, tuple[str, str, str, int | None]] = OrderedDict()
        self._total = 0  # finished files and parts in progress
        self._owners: dict[str, int] = {}
        self._owned: dict[str, dict[str, None]] = {}  # each owner's files, the oldest first
        self._lock = threading.RLock()
        self._shared: SharedUploads | None = None
        if store is not None:
            limits = Limits(
                max_file_bytes,
                max_total_bytes,
                self.max_owner_bytes,
                max_inline_upload_bytes,
                MAX_WAITING,
                retention,
            )
            self._shared = SharedUploads(store, directory, limits, now)
        elif directory is not None:
            directory.mkdir(parents=True, exist_ok=True)

    # -- whole files ---------------------------------------------------------------------

    def _make_room(self, size: int, owner: str) -> None:
        """Room for ``size`` more bytes of ``owner``'s: the files past the retention
        dropped, then the owner's oldest while it would pass its budget; else a refusal."""
        if size > self.max_file_bytes:
            raise too_big(self.max_file_bytes)
        if self._now() - self._oldest_at > self.retention:
            self._expire()
        owned = self._owned.get(owner)
        while owned and size <= self.max_owner_bytes < self._owners.get(owner, 0) + size:
            self._forget(next(iter(owned)))
            owned = self._owned.get(owner)
        if self._owners.get(owner, 0) + size > self.max_owner_bytes:
            raise StorageError(
                507, f"This key's uploads are full (limit {self.max_owner_bytes} bytes)"
            )
        if self._total + size > self.max_total_bytes:
            raise StorageError(507, f"Storage is full (limit {self.max_total_bytes} bytes)")

    def _count(self, owner: str, size: int) -> None:
        self._total += size
        self._owners[owner] = self._owners.get(owner, 0) + size
        if not self._owners[owner]:
            del self._owners[owner]

    def _expire(self) -> None:
        """Drop the finished files past the retention, the oldest first (the lock held)."""
        self._oldest_at = expire_oldest(
            self._files, _kept_at, self._now(), self.retention, self._forget
        )

    def _forget(self, file_id: str) -> None:
        """Drop a finished file: its bytes released, its URL a missing file's."""
        kept = self._files.pop(file_id)
        owned = self._owned[kept.owner]
        del owned[file_id]
        if not owned:
            del self._owned[kept.owner]
        self._count(kept.owner, -kept.file.size)
        if self.directory is not None:
            (self.directory / file_id).unlink(missing_ok=True)
        else:
            del self._contents[file_id]

    def put(
        self,
        data: bytes,
        content_type: str,
        name: str | None,
        file_id: str | None = None,
        owner: str = "",
    ) -> StoredFile:
        """Store ``data``; raises `StorageError` over the limits."""
        if self._shared is not None:
            return self._put_shared(data, content_type, name, file_id, owner)
        with self._lock:
            if file_id is not None and file_id in self._files:  # kept again: replaced
                self._forget(file_id)
            self._make_room(len(data), owner)
            stored = StoredFile(
                id=file_id or secrets.token_hex(12),
                name=safe_name(name),
                content_type=safe_content_type(content_type),
                size=len(data),
            )
            if self.directory is not None:
                with writing_to(self.directory):
                    (self.directory / stored.id).write_bytes(data)
            else:
                self._contents[stored.id] = data
            now = self._now()
            self._files[stored.id] = _Kept(stored, owner, now)
            self._oldest_at = min(self._oldest_at, now)
            self._owned.setdefault(owner, {})[stored.id] = None
            self._count(owner, len(data))
            return stored

    def _put_shared(
        self, data: bytes, content_type: str, name: str | None, file_id: str | None, owner: str
    ) -> StoredFile:
        assert self._shared is not None
        if len(data) > self.max_file_bytes:
            raise too_big(self.max_file_bytes)
        stored = StoredFile(
            id=file_id or secrets.token_hex(12),
            name=safe_name(name),
            content_type=safe_content_type(content_type),
            size=len(data),
        )
        self._shared.save(stored.id, stored.name, stored.content_type, owner, data, etag(data))
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        """The file kept as ``file_id``; None if there is none, or it was dropped or has
        expired (its URL then answers as a missing file's)."""
        if self._shared is not None:
            meta = self._shared.meta(file_id)
            if meta is None or self._shared.expired(meta):
                return None
            return StoredFile(file_id, meta["name"], meta["content_type"], int(meta["size"]))
        kept = self._files.get(file_id)
        if kept is None:
            return None
        if self._now() - kept.at <= self.retention:
            return kept.file
        with self._lock:
            self._expire()
        return None

    def read(self, stored: StoredFile) -> bytes | None:
        """The bytes of a file `get` found; None if it was dropped since."""
        if self._shared is not None:
            return self._shared.read(stored.id)
        if self.directory is not None:
            try:
                return (self.directory / stored.id).read_bytes()
            except FileNotFoundError:
                return None
        return self._contents.get(stored.id)

    # -- two-step uploads: reserve a name now, receive the bytes later --------------------

    def reserve(
        self, name: str | None, content_type: str, owner: str = "", size: int | None = None
    ) -> str:
        """A file's id, its bytes to come in one `fulfil`; ``size``: exactly so many."""
        name, content_type = safe_name(name), safe_content_type(content_type)
        if self._shared is not None:
            return self._shared.reserve(name, content_type, owner, size)
        file_id = secrets.token_hex(12)
        self._wait(file_id, (name, content_type, owner, size))
        return file_id

    def _wait(self, file_id: str, reserved: tuple[str, str, str, int | None]) -> None:
        """A ticket waits, the newest: the oldest beyond `MAX_WAITING` are dropped."""
        with self._lock:
            self._reserved[file_id] = reserved
            while len(self._reserved) > MAX_WAITING:
                self._reserved.popitem(last=False)

    def fulfil(self, file_id: str, data: bytes, content_type: str | None = None) -> StoredFile:
        """Keep the bytes a `reserve` was for. GUESS: its URL is presigned, for the declared
        length and type (the ticket hands its caller that type's header to send), so
        another length is a 400, another type a 403; and a PUT refused, or that the store
        failed, leaves the ticket for a retry, as a presigned URL stays good."""
        if self._shared is not None:
            reserved = self._shared.claim_ticket(file_id)
        else:
            with self._lock:
                reserved = self._reserved.pop(file_id, None)
        if reserved is None:
            raise StorageError(404, f"Unknown upload '{file_id}'")
        name, declared_type, owner, size = reserved
        try:
            if size is not None and len(data) != size:
                raise StorageError(
                    400, f"The upload is {len(data)} bytes; its ticket declared {size}"
                )
            if content_type and same_type(content_type) != same_type(declared_type):
                raise StorageError(
                    403, f"The upload is {content_type}; its ticket declared {declared_type}"
                )
            return self.put(data, declared_type, name, file_id, owner)
        except (StorageError, StoreUnavailable):
            self._give_back_ticket(file_id, reserved)
            raise

    def _give_back_ticket(self, file_id: str, reserved: tuple[str, str, str, int | None]) -> None:
        if self._shared is None:
            self._wait(file_id, reserved)
        else:
            shared = self._shared
            give_back(lambda: shared.give_back_ticket(file_id, reserved))

    # -- multipart -----------------------------------------------------------------------

    def start_multipart(self, name: str | None, content_type: str, owner: str = "") -> str:
        if self._shared is not None:
            return self._shared.multipart.start(safe_name(name), content_type, owner)
        upload_id = secrets.token_hex(12)
        with self._lock:
            self._pending[upload_id] = _Multipart(safe_name(name), content_type, owner)
            while len(self._pending) > MAX_WAITING:
                _, dropped = self._pending.popitem(last=False)
                self._count(dropped.owner, -dropped.size)
        return upload_id

    def put_part(self, upload_id: str, number: int, data: bytes) -> str:
        """Keep part ``number``; its ETag."""
        if self._shared is not None:
            return self._put_part_shared(upload_id, number, data)
        with self._lock:
            upload = self._pending.get(upload_id)
            if upload is None:
                raise unknown_upload(upload_id)
            if not 1 <= number <= 10_000:
                raise StorageError(400, "Part numbers run from 1 to 10000")
            replaced = len(upload.parts.get(number, b""))
            if upload.size - replaced + len(data) > self.max_file_bytes:
                del self._pending[upload_id]
                self._count(upload.owner, -upload.size)
                raise abandoned(too_big(self.max_file_bytes))
            try:
                self._make_room(len(data) - replaced, upload.owner)
            except StorageError as refused:  # as the 413 above: it could not complete now
                del self._pending[upload_id]
                self._count(upload.owner, -upload.size)
                raise abandoned(refused) from None
            upload.parts[number] = data
            self._count(upload.owner, len(data) - replaced)
        return etag(data)

    def _put_part_shared(self, upload_id: str, number: int, data: bytes) -> str:
        assert self._shared is not None
        upload = self._shared.multipart.upload_for_part(upload_id, number)
        if upload is None:
            raise unknown_upload(upload_id)
        if not 1 <= number <= 10_000:
            raise StorageError(400, "Part numbers run from 1 to 10000")
        replaced = int(upload.get(f"len:{number}", 0))
        if int(upload["size"]) - replaced + len(data) > self.max_file_bytes:
            self._shared.multipart.drop(f"m:{upload_id}")
            raise abandoned(too_big(self.max_file_bytes))
        delta = len(data) - replaced
        shared, owner = self._shared, upload["owner"]
        try:
            shared.make_room(owner, delta)
            shared.count(owner, delta)  # a 507 (`QuotaRefused`) past a limit
        except QuotaRefused as refused:  # as the 413 above: it could not complete now
            shared.multipart.drop(f"m:{upload_id}")
            raise abandoned(refused) from None
        tag = etag(data)
        try:
            kept = shared.multipart.save_part(upload_id, number, data, tag, delta, upload)
        except StorageError:  # its folder refused it: nothing was kept
            give_back(lambda: shared.recount(owner, -delta))
            raise
        if not kept:
            shared.recount(owner, -delta)  # completed meanwhile, or dropped
            raise unknown_upload(upload_id)
        return tag

    def complete_multipart(self, upload_id: str, parts: list[tuple[int, str]]) -> StoredFile:
        """Join the listed parts (number, ETag) in order into one file."""
        if self._shared is not None:
            return self._shared.multipart.complete_upload(upload_id, parts)
        with self._lock:
            upload = self._pending.get(upload_id)
            if upload is None:
                raise unknown_upload(upload_id)
            held = upload.parts
            check_listed(lambda number: etag(held[number]) if number in held else None, parts)
            chunks = [held[number] for number, _ in sorted(parts)]
            # The parts' bytes become the file's: uncounted first, so the file fits.
            del self._pending[upload_id]
            self._count(upload.owner, -upload.size)
            try:
                return self.put(
                    b"".join(chunks), upload.content_type, upload.name, upload_id, upload.owner
                )
            except StorageError:
                self._pending[upload_id] = upload
                self._count(upload.owner, upload.size)
                raise

    def clear(self) -> None:
        if self._shared is not None:
            self._shared.clear()
            return
        with self._lock:
            if self.directory is not None:
                for file_id in self._files:
                    (self.directory / file_id).unlink(missing_ok=True)
            self._files.clear()
            self._contents.clear()
            self._pending.clear()
            self._reserved.clear()
            self._owners.clear()
            self._owned.clear()
            self._total = 0
            self._oldest_at = math.inf
