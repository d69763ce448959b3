"""Multipart uploads kept in a shared `Store`: the part of `SharedUploads` that keeps them.

Keys, under ``files:``: ``multipart:{id}`` (hash: name, type, owner, ``size``, the
``lease`` of a completion, then ``len:N``/``etag:N``/``where:N`` per part),
``part:{id}:{N}`` (a part's inline bytes) and ``completing`` (the leases of completions).
An upload waits among the uploads' tickets (``m:{id}`` in their ``waiting`` set), which
drop the oldest beyond their bound: this module forgets what it kept of it. A part is
kept only while its upload waits (its batch is guarded by it), and on disk under a name
of its own (``{id}.{N}.{token}``, its ``where`` ``disk:{name}``).

A multipart upload being completed is held under a lease (``completing``: members
``c:{id}:{token}`` by the time they were taken, noted in the upload's hash), which the
completion's last step takes: that step keeps the file, counts it in place of the parts
and forgets them at once. The file's bytes on disk are named after the lease
(``{id}-{token}``, its meta's ``where`` is ``disk:{name}``), so that a process that lost
its lease never writes over the file another one kept. A process that dies completing an
upload leaves its lease: a retry of the completion takes it over once `COMPLETION_LEASE`
has passed, and once `RETRY_WINDOW` has passed too, the next upload that waits drops it,
its bytes released.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from typing import Any

from emulator.core.shared_files import P, SharedUploads, counting
from emulator.core.store import Op, StoreUnavailable, as_text, give_back
from emulator.core.stored_files import (
    StoredFile,
    check_listed,
    etag,
    safe_content_type,
    safe_name,
    too_big,
    unknown_upload,
)

#: seconds a process has to complete a multipart upload it claimed: after them a retry of
#: the completion may take its lease over (the process died; one that only stalled that
#: long then answers 404)
COMPLETION_LEASE = 30.0
#: seconds more a lease that ran out is kept for the client's retry, before the next
#: upload that waits drops it and releases its bytes (no retry came)
RETRY_WINDOW = 300.0

#: a completed file's name, content type and ETag
StoredAs = tuple[str, str, str]
#: a multipart upload's hash, as `SharedMultipart.upload` reads it
Upload = dict[str, str]


class SharedMultipart:
    """Multipart uploads of ``uploads``: their parts, the completions' leases, the files
    they become; their bytes kept and counted as ``uploads`` keeps and counts a file's."""

    def __init__(self, uploads: SharedUploads) -> None:
        self.uploads = uploads
        self.store = uploads.store

    def start(self, name: str, content_type: str, owner: str) -> str:
        upload_id = secrets.token_hex(12)
        upload = {"name": name, "content_type": content_type, "owner": owner, "size": 0}
        self.store.do("hset", P + f"multipart:{upload_id}", upload)
        self.uploads.wait(f"m:{upload_id}")
        return upload_id

    def upload(self, upload_id: str) -> Upload | None:
        found = self.store.do("hgetall", P + f"multipart:{upload_id}")
        return as_text(found) if found else None

    def upload_for_part(self, upload_id: str, number: int) -> Upload | None:
        """What putting part ``number`` needs of the upload (its owner and size, and that
        part if it has one): a few fields, where `upload` reads every part's (a client
        sending thousands of parts would otherwise have each read all the others)."""
        fields = ("owner", "size", *_part_fields(number))
        found = self.store.do("hmget", P + f"multipart:{upload_id}", *fields)
        upload = _present(fields, found)
        return upload if "owner" in upload else None

    def save_part(
        self, upload_id: str, number: int, data: bytes, tag: str, delta: int, upload: Upload
    ) -> bool:
        """Keep a part whose bytes (``delta`` more than the part it replaces, in ``upload``
        as read before) are counted, if the upload still waits for parts: not while it is
        completed, nor once dropped (False: the part is not kept)."""
        key, name = P + f"multipart:{upload_id}", f"{upload_id}.{number}.{secrets.token_hex(6)}"
        where, writes = self.uploads.write_bytes(P + f"part:{upload_id}:{number}", name, data)
        where = f"disk:{name}" if where == "disk" else where  # its own name: never written over
        fields = {
            f"len:{number}": len(data),
            f"etag:{number}": tag,
            f"where:{number}": where,
            f"put:{number}": name,  # which put it was: a put whose answer was lost finds it
        }
        ops: list[Op] = [
            ("hmget", key, *_part_fields(number)),  # the part it replaces, as it is now
            *writes,
            ("hset", key, fields),
            ("hincrby", key, "size", delta),
        ]
        try:
            kept = self._while_waiting(upload_id, ops)
        except StoreUnavailable:
            # Its bytes are counted: given back, unless the part was kept all the same
            give_back(lambda: self._uncount_unless_kept(key, number, name, upload, delta))
            raise
        if kept is None:
            self.uploads.forget_file(name)
            return False
        before = _present(_part_fields(number), kept[0])
        replaced = _part_file(upload_id, before, number)
        if replaced is not None:
            self.uploads.forget_file(replaced)
        # The same part, put again at once (a client's retry while the first was in flight),
        # was kept after ``upload`` was read: its bytes are replaced too, so released.
        unseen = int(before.get(f"len:{number}", 0)) - int(upload.get(f"len:{number}", 0))
        if unseen:
            self._resize(upload_id, upload["owner"], -unseen)
        return True

    def _uncount_unless_kept(
        self, key: str, number: int, name: str, upload: Upload, delta: int
    ) -> None:
        if self.store.do("hget", key, f"put:{number}") != name.encode():
            self.uploads.forget_file(name)
            self.store.batch(counting(upload["owner"], -delta))

    def _resize(self, upload_id: str, owner: str, size: int) -> None:
        """Count ``size`` more bytes to a waiting upload and its owner (none once it is
        completed or dropped: those count by its size, which moved with the counters)."""
        resized = ("hincrby", P + f"multipart:{upload_id}", "size", size)
        self._while_waiting(upload_id, [resized, *counting(owner, size)])

    def _while_waiting(self, upload_id: str, ops: list[Op]) -> list[Any] | None:
        """Run ``ops`` in one step if the upload still waits for parts, which it then does
        on, as the newest: their results; None if it is completed or dropped."""
        member = f"m:{upload_id}"
        waits_on: Op = ("zadd", P + "waiting", member, time.time())
        return self.store.guarded(("zrem", P + "waiting", member), [*ops, waits_on])

    def read_parts(self, upload_id: str, upload: Upload, numbers: list[int]) -> bytes:
        inline = [n for n in numbers if upload.get(f"where:{n}") == "inline"]
        found = self.store.batch([("get", P + f"part:{upload_id}:{n}") for n in inline])
        chunks = dict(zip(inline, found, strict=True))
        return b"".join(
            chunks[n] or b""
            if n in chunks
            else self.uploads.path(_part_file(upload_id, upload, n) or "").read_bytes()
            for n in numbers
        )

    # -- completion: under a lease ---------------------------------------------------------

    def complete_upload(self, upload_id: str, parts: list[tuple[int, str]]) -> StoredFile:
        """Join the listed parts (number, ETag) in order into one file, under a lease."""
        upload = self.upload(upload_id)
        if upload is None:
            raise unknown_upload(upload_id)
        check_listed(_tags(upload), parts)
        lease = self.claim(upload_id, upload)
        if lease is None:  # another process completes it, or has completed it
            raise unknown_upload(upload_id)
        try:
            # Read again now that no part can change (parts are kept only while it waits)
            now = self.upload(upload_id)
            if now is None:  # another process took it over, and has completed it
                raise unknown_upload(upload_id)
            check_listed(_tags(now), parts)
            kept, stored = self._keep_completed(upload_id, now, parts, lease)
        except BaseException:
            give_back(lambda: self.unclaim(upload_id, lease))  # else its lease runs out
            raise
        if not kept:  # it lost its lease: taken over, or dropped
            raise unknown_upload(upload_id)
        return stored

    def _keep_completed(
        self, upload_id: str, upload: Upload, parts: list[tuple[int, str]], lease: str
    ) -> tuple[bool, StoredFile]:
        """Keep the file the listed parts make, under ``lease``: whether it was kept."""
        try:
            data = self.read_parts(upload_id, upload, sorted(n for n, _ in parts))
        except FileNotFoundError:  # a part is gone: another process took the upload over
            raise unknown_upload(upload_id) from None
        limit = self.uploads.limits.max_file_bytes
        if len(data) > limit:  # parts sent at once each passed the check
            raise too_big(limit)
        stored = StoredFile(
            id=upload_id,
            name=safe_name(upload["name"]),
            content_type=safe_content_type(upload["content_type"]),
            size=len(data),
        )
        # The parts' bytes become the file's, which are as many or fewer: within the quotas.
        file = (stored.name, stored.content_type, etag(data))
        return self.complete(upload_id, lease, upload, file, data), stored

    def claim(self, upload_id: str, upload: Upload) -> str | None:
        """Claim the waiting upload (as `upload` read it) to complete it: its lease; None
        if another process completes it now (or it is gone). An upload whose lease ran out
        unfinished (its process died) is taken over."""
        lease = f"c:{upload_id}:{secrets.token_hex(6)}"
        try:
            return self._take(upload_id, upload, lease)
        except StoreUnavailable:
            # Perhaps taken all the same, the answer lost: a lease no one works on would
            # refuse every retry of the completion for `COMPLETION_LEASE`. Given back.
            give_back(lambda: self.unclaim(upload_id, lease))
            raise

    def _take(self, upload_id: str, upload: Upload, lease: str) -> str | None:
        completing = P + "completing"
        take = [
            ("zadd", completing, lease, time.time()),
            ("hset", P + f"multipart:{upload_id}", {"lease": lease}),
        ]
        if self.store.guarded(("zrem", P + "waiting", f"m:{upload_id}"), take) is not None:
            return lease
        held = upload.get("lease")
        if held is None:
            return None
        since = self.store.do("zscore", completing, held)
        if since is None or float(since) + COMPLETION_LEASE > time.time():
            return None
        # Only one process removes the old lease: the others are refused, as above.
        if self.store.guarded(("zrem", completing, held), take) is None:
            return None
        self.uploads.forget_file(_lease_file(held))  # what the dead process may have written
        return lease

    def unclaim(self, upload_id: str, lease: str) -> None:
        """Give up the lease of a completion that failed: the upload waits as before, and
        the file it may have written goes (held, the lease proves it was never kept)."""
        back = [
            ("zadd", P + "waiting", f"m:{upload_id}", time.time()),
            ("hdel", P + f"multipart:{upload_id}", "lease"),
        ]
        if self.store.guarded(("zrem", P + "completing", lease), back) is not None:
            self.uploads.forget_file(_lease_file(lease))

    def complete(
        self, upload_id: str, lease: str, upload: Upload, file: StoredAs, data: bytes
    ) -> bool:
        """Under ``lease``, keep ``data`` as the file the upload became and forget its
        parts, its bytes counted in place of theirs, in one step; False if the lease was
        lost (taken over, or dropped: the file is then none of this process's)."""
        (name, content_type, tag), owner = file, upload["owner"]
        disk_name = _lease_file(lease)
        ops = self.uploads.keeping(
            upload_id, name, content_type, owner, data, tag, disk_name=disk_name
        )
        ops += counting(owner, len(data) - int(upload["size"]))  # the parts' bytes, or fewer
        ops += self._discard_ops(upload_id, upload, release=False)
        if self.store.guarded(("zrem", P + "completing", lease), ops) is None:
            self.uploads.forget_file(disk_name)  # its own: the other's has another name
            return False
        self._forget_parts(upload_id, upload)
        return True

    # -- dropped: by the uploads' bound on those waiting, a lease run out, or a reset -------

    def abandoned(self, now: float) -> Op:
        """The op that finds a completion's lease run out, whose retry never came."""
        return ("zrangebyscore", P + "completing", now - COMPLETION_LEASE - RETRY_WINDOW, 1)

    def drop(self, member: str) -> None:
        """Forget a multipart upload (``m:id``) or a completion's lease (``c:id:token``),
        if still there (else another process completed or dropped it): taken from its set
        and forgotten in one step, so that a process that dies leaves no bytes counted
        (but those of a part kept after the upload was read: the step says what it
        dropped, and they are released after it)."""
        kind, _, ident = member.partition(":")
        upload_id = ident.partition(":")[0]
        upload = self.upload(upload_id) or {}
        ops = [("hgetall", P + f"multipart:{upload_id}")]  # as it is now: a part may be new
        ops += self._discard_ops(upload_id, upload, release=True)
        held_in = P + ("completing" if kind == "c" else "waiting")
        dropped = self.store.guarded(("zrem", held_in, member), ops)
        if dropped is not None:
            now = as_text(dropped[0])
            self._release_late_parts(upload_id, upload, now)
            self._forget_parts(upload_id, now)
            if kind == "c":  # the completion that never finished may have written its file
                self.uploads.forget_file(_lease_file(member))

    def drop_completions(self) -> None:
        """Drop every completion's lease, their uploads with them (a reset)."""
        for lease in self.store.do("zrange", P + "completing", 0, -1):
            self.drop(lease)

    def _release_late_parts(self, upload_id: str, read: Upload, dropped: Upload) -> None:
        """Release the bytes of the parts kept after a drop read their upload (as ``read``),
        before it dropped it (as ``dropped``), and forget their inline bytes."""
        late = int(dropped.get("size", 0)) - int(read.get("size", 0))
        numbers = set(_part_numbers(dropped)) - set(_part_numbers(read))
        ops = counting(dropped["owner"], -late) if late else []
        if numbers:
            ops.append(("delete", *(P + f"part:{upload_id}:{n}" for n in numbers)))
        if ops:
            self.store.batch(ops)

    def _discard_ops(self, upload_id: str, upload: Upload, *, release: bool) -> list[Op]:
        parts = [P + f"part:{upload_id}:{n}" for n in _part_numbers(upload)]
        ops: list[Op] = [("delete", P + f"multipart:{upload_id}", *parts)]
        if release:
            ops += counting(upload.get("owner", ""), -int(upload.get("size", 0)))
        return ops

    def _forget_parts(self, upload_id: str, upload: Upload) -> None:
        """Remove the upload's parts kept on disk (after the store forgot them)."""
        for n in _part_numbers(upload):
            name = _part_file(upload_id, upload, n)
            if name is not None:
                self.uploads.forget_file(name)


def _tags(upload: Upload) -> Callable[[int], str | None]:
    """The ETags of a multipart upload's parts, as the store keeps them."""
    return lambda number: upload.get(f"etag:{number}")


def _lease_file(lease: str) -> str:
    """The name on disk of the file a completion under ``lease`` (``c:id:token``) keeps."""
    _, upload_id, token = lease.split(":")
    return f"{upload_id}-{token}"


def _part_file(upload_id: str, upload: Upload, number: int) -> str | None:
    """The name on disk of part ``number`` of ``upload``; None if it is kept in the store
    (or there is no such part). A part kept before parts had names of their own is
    ``{id}.{number}``."""
    kind, _, name = upload.get(f"where:{number}", "").partition(":")
    return (name or f"{upload_id}.{number}") if kind == "disk" else None


def _part_fields(number: int) -> tuple[str, str]:
    """The fields of an upload's hash that say how long part ``number`` is and where."""
    return f"len:{number}", f"where:{number}"


def _present(fields: Sequence[str], values: Sequence[bytes | None]) -> Upload:
    """The fields an ``hmget`` found, with their values."""
    return {f: v.decode() for f, v in zip(fields, values, strict=True) if v is not None}


def _part_numbers(upload: Upload) -> list[int]:
    return [int(field[4:]) for field in upload if field.startswith("len:")]
