"""Uploaded files, kept in memory, a directory or a shared `Store`, bounded (their URLs:
file_urls.py).

Each provider's upload flow ends here; the file is then served back at the URL the flow
returned, and can be the input of a later job. Names from clients are only ever used as
the last, sanitised segment of a URL: on disk a file is stored under its generated id
(with shared state, a multipart upload's file and parts under names made from it).
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from emulator.core.shared_files import Limits, SharedUploads
from emulator.core.store import Store, StoreUnavailable, give_back
from emulator.core.stored_files import (
    StorageError,
    StoredFile,
    etag,
    safe_content_type,
    safe_name,
    same_type,
    writing_to,
)


def _unknown_upload(upload_id: str) -> StorageError:
    return StorageError(404, f"Unknown multipart upload '{upload_id}'")


def _check_listed(tag_of: Callable[[int], str | None], parts: list[tuple[int, str]]) -> None:
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


def _shared_tags(upload: dict[str, str]) -> Callable[[int], str | None]:
    """The ETags of a multipart upload's parts, as a shared store keeps them."""
    return lambda number: upload.get(f"etag:{number}")


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
    total; bytes of multipart uploads in progress count as well as finished files.

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
    ) -> None:
        self.directory = directory
        self.max_file_bytes = max_file_bytes
        self.max_total_bytes = max_total_bytes
        self.max_owner_bytes = max_owner_bytes if max_owner_bytes is not None else max_total_bytes
        self._files: OrderedDict[str, StoredFile] = OrderedDict()
        self._contents: dict[str, bytes] = {}
        self._pending: OrderedDict[str, _Multipart] = OrderedDict()
        # upload tickets: id → (name, type, owner)
        self._reserved: OrderedDict[str, tuple[str, str, str, int | None]] = OrderedDict()
        self._total = 0  # finished files and parts in progress
        self._owners: dict[str, int] = {}
        self._file_owner: dict[str, str] = {}
        self._lock = threading.RLock()
        self._shared: SharedUploads | None = None
        if store is not None:
            limits = Limits(
                max_file_bytes,
                max_total_bytes,
                self.max_owner_bytes,
                max_inline_upload_bytes,
                MAX_WAITING,
            )
            self._shared = SharedUploads(store, directory, limits)
        elif directory is not None:
            directory.mkdir(parents=True, exist_ok=True)

    # -- whole files ---------------------------------------------------------------------

    def _check_size(self, size: int, owner: str) -> None:
        if size > self.max_file_bytes:
            raise self._too_big()
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
            self._check_size(len(data), owner)
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
            self._files[stored.id] = stored
            self._file_owner[stored.id] = owner
            self._count(owner, len(data))
            return stored

    def _put_shared(
        self, data: bytes, content_type: str, name: str | None, file_id: str | None, owner: str
    ) -> StoredFile:
        assert self._shared is not None
        if len(data) > self.max_file_bytes:
            raise self._too_big()
        stored = StoredFile(
            id=file_id or secrets.token_hex(12),
            name=safe_name(name),
            content_type=safe_content_type(content_type),
            size=len(data),
        )
        self._shared.save(stored.id, stored.name, stored.content_type, owner, data, etag(data))
        return stored

    def _too_big(self, *, abandoned: bool = False) -> StorageError:
        """A file over the size limit; ``abandoned``: a multipart upload it ended (it could
        never complete, and its parts' bytes, counted against its key, are released)."""
        ended = "; the multipart upload is abandoned" if abandoned else ""
        return StorageError(413, f"File exceeds the limit of {self.max_file_bytes} bytes{ended}")

    def get(self, file_id: str) -> StoredFile | None:
        if self._shared is not None:
            meta = self._shared.meta(file_id)
            if meta is None:
                return None
            return StoredFile(file_id, meta["name"], meta["content_type"], int(meta["size"]))
        return self._files.get(file_id)

    def read(self, stored: StoredFile) -> bytes:
        if self._shared is not None:
            return self._shared.read(stored.id)
        if self.directory is not None:
            return (self.directory / stored.id).read_bytes()
        return self._contents[stored.id]

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
                raise _unknown_upload(upload_id)
            if not 1 <= number <= 10_000:
                raise StorageError(400, "Part numbers run from 1 to 10000")
            replaced = len(upload.parts.get(number, b""))
            if upload.size - replaced + len(data) > self.max_file_bytes:
                del self._pending[upload_id]
                self._count(upload.owner, -upload.size)
                raise self._too_big(abandoned=True)
            self._check_size(len(data) - replaced, upload.owner)
            upload.parts[number] = data
            self._count(upload.owner, len(data) - replaced)
        return etag(data)

    def _put_part_shared(self, upload_id: str, number: int, data: bytes) -> str:
        assert self._shared is not None
        upload = self._shared.multipart.upload_for_part(upload_id, number)
        if upload is None:
            raise _unknown_upload(upload_id)
        if not 1 <= number <= 10_000:
            raise StorageError(400, "Part numbers run from 1 to 10000")
        replaced = int(upload.get(f"len:{number}", 0))
        if int(upload["size"]) - replaced + len(data) > self.max_file_bytes:
            self._shared.multipart.drop(f"m:{upload_id}")
            raise self._too_big(abandoned=True)
        delta = len(data) - replaced
        shared, owner = self._shared, upload["owner"]
        shared.count(owner, delta)  # a 507 (`QuotaRefused`) past a limit
        tag = etag(data)
        try:
            kept = shared.multipart.save_part(upload_id, number, data, tag, delta, upload)
        except StorageError:  # its folder refused it: nothing was kept
            give_back(lambda: shared.recount(owner, -delta))
            raise
        if not kept:
            shared.recount(owner, -delta)  # completed meanwhile, or dropped
            raise _unknown_upload(upload_id)
        return tag

    def _complete_shared(self, upload_id: str, parts: list[tuple[int, str]]) -> StoredFile:
        assert self._shared is not None
        multipart = self._shared.multipart
        upload = multipart.upload(upload_id)
        if upload is None:
            raise _unknown_upload(upload_id)
        _check_listed(_shared_tags(upload), parts)
        lease = multipart.claim(upload_id, upload)
        if lease is None:  # another process completes it, or has completed it
            raise _unknown_upload(upload_id)
        try:
            # Read again now that no part can change (parts are kept only while it waits)
            now = multipart.upload(upload_id)
            if now is None:  # another process took it over, and has completed it
                raise _unknown_upload(upload_id)
            _check_listed(_shared_tags(now), parts)
            kept, stored = self._keep_completed(upload_id, now, parts, lease)
        except BaseException:
            give_back(lambda: multipart.unclaim(upload_id, lease))  # else its lease runs out
            raise
        if not kept:  # it lost its lease: taken over, or dropped
            raise _unknown_upload(upload_id)
        return stored

    def _keep_completed(
        self, upload_id: str, upload: dict[str, str], parts: list[tuple[int, str]], lease: str
    ) -> tuple[bool, StoredFile]:
        """Keep the file the listed parts make, under ``lease``: whether it was kept."""
        assert self._shared is not None
        try:
            data = self._shared.multipart.read_parts(upload_id, upload, sorted(n for n, _ in parts))
        except FileNotFoundError:  # a part is gone: another process took the upload over
            raise _unknown_upload(upload_id) from None
        if len(data) > self.max_file_bytes:  # parts sent at once each passed the check
            raise self._too_big()
        stored = StoredFile(
            id=upload_id,
            name=safe_name(upload["name"]),
            content_type=safe_content_type(upload["content_type"]),
            size=len(data),
        )
        # The parts' bytes become the file's, which are as many or fewer: within the quotas.
        file = (stored.name, stored.content_type, etag(data))
        return self._shared.multipart.complete(upload_id, lease, upload, file, data), stored

    def complete_multipart(self, upload_id: str, parts: list[tuple[int, str]]) -> StoredFile:
        """Join the listed parts (number, ETag) in order into one file."""
        if self._shared is not None:
            return self._complete_shared(upload_id, parts)
        with self._lock:
            upload = self._pending.get(upload_id)
            if upload is None:
                raise _unknown_upload(upload_id)
            held = upload.parts
            _check_listed(lambda number: etag(held[number]) if number in held else None, parts)
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
                for stored in self._files.values():
                    (self.directory / stored.id).unlink(missing_ok=True)
            self._files.clear()
            self._contents.clear()
            self._pending.clear()
            self._reserved.clear()
            self._owners.clear()
            self._file_owner.clear()
            self._total = 0
