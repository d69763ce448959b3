"""Uploads kept in a shared `Store`: what `Storage` does when several processes share state.

Every worker (and a restarted one) on the same store serves every upload any of them
accepted. The store holds each file's metadata and, up to ``max_inline_bytes``, its bytes;
larger files (and large multipart parts) go to the directory every worker sees, written
whole to a temporary name first and then renamed (``os.replace``), so a reader never sees
half a file. Quotas are counters in the store, raised with ``incr`` before anything is
written and lowered again when the raise overshot: two workers cannot together exceed a
limit (under a race one of them may be refused a little early, never late).

Keys, under ``files:``: ``meta:{id}`` (hash), ``data:{id}`` (inline bytes), ``total`` and
``owner:{key}`` (bytes counted), ``ticket:{id}`` (a reserved upload: hash),
``multipart:{id}`` (hash: name, type, owner, ``size``, the ``lease`` of a completion,
then ``len:N``/``etag:N``/``where:N`` per part), ``part:{id}:{N}`` (a part's inline
bytes), ``index`` (every file id) and ``waiting`` (tickets and multipart uploads by their
last use: the oldest beyond the bound are dropped). A part is kept only while its upload
waits (its batch is guarded by it), and on disk under a name of its own
(``{id}.{N}.{token}``, its ``where`` ``disk:{name}``).

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

import os
import re
import secrets
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulator.core.store import Op, Store

P = "files:"

#: seconds a process has to complete a multipart upload it claimed: after them a retry of
#: the completion may take its lease over (the process died; one that only stalled that
#: long then answers 404)
COMPLETION_LEASE = 30.0
#: seconds more a lease that ran out is kept for the client's retry, before the next
#: upload that waits drops it and releases its bytes (no retry came)
RETRY_WINDOW = 300.0

#: the names of the files this folder holds for uploads: a file or an upload's id (24 hex
#: digits), then a part's number and token or a lease's token; and half-written ones
_OURS = re.compile(r"[0-9a-f]{24}(?:\.[0-9]+(?:\.[0-9a-f]+)?|-[0-9a-f]+)?|\.incoming-.*")


class QuotaRefused(Exception):
    """Raised through `SharedUploads.count`: which limit refused (status 507 message)."""


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int
    max_total_bytes: int
    max_owner_bytes: int
    max_inline_bytes: int
    max_waiting: int


class SharedUploads:
    """Bytes, metadata, tickets, parts and quota counters of uploads, in a store."""

    def __init__(self, store: Store, directory: Path | None, limits: Limits) -> None:
        self.store = store
        self.directory = directory
        self.limits = limits
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)

    # -- quotas ----------------------------------------------------------------------------

    def count(self, owner: str, size: int) -> None:
        """Count ``size`` bytes (negative: release them); `QuotaRefused` beyond a limit,
        with nothing counted."""
        total, mine = self.recount(owner, size)
        limits = self.limits
        if size > 0 and (mine > limits.max_owner_bytes or total > limits.max_total_bytes):
            self.recount(owner, -size)
            if mine > limits.max_owner_bytes:
                raise QuotaRefused(
                    f"This key's uploads are full (limit {limits.max_owner_bytes} bytes)"
                )
            raise QuotaRefused(f"Storage is full (limit {limits.max_total_bytes} bytes)")

    def recount(self, owner: str, size: int) -> tuple[int, int]:
        """Count ``size`` bytes whatever the limits: the total and the owner's, after."""
        total, mine = self.store.batch(_counting(owner, size))
        return total, mine

    # -- bytes: inline in the store, or a file under the shared directory -------------------

    def _inline(self, size: int) -> bool:
        return self.directory is None or size <= self.limits.max_inline_bytes

    def _path(self, name: str) -> Path:
        assert self.directory is not None
        return self.directory / name

    def _write_file(self, name: str, data: bytes) -> None:
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, self._path(name))
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def write_bytes(self, key: str, name: str, data: bytes) -> tuple[str, list[Op]]:
        """Keep ``data`` on disk as ``name``, or return the op that keeps it inline under
        store ``key`` (to run in the caller's batch): where it is, and that op."""
        if self._inline(len(data)):
            return "inline", [("set", key, data)]
        self._write_file(name, data)
        return "disk", []

    def _forget_bytes(self, name: str, where: str) -> None:
        if where == "disk" and self.directory is not None:  # none: nothing is on disk
            self._path(name).unlink(missing_ok=True)

    # -- whole files -----------------------------------------------------------------------

    def save(
        self, file_id: str, name: str, content_type: str, owner: str, data: bytes, tag: str
    ) -> None:
        """Record a file whose bytes are already counted."""
        self.store.batch(self._keeping(file_id, name, content_type, owner, data, tag))

    def _keeping(
        self,
        file_id: str,
        name: str,
        content_type: str,
        owner: str,
        data: bytes,
        tag: str,
        *,
        disk_name: str | None = None,
    ) -> list[Op]:
        """Write a file's bytes to disk when they are not kept inline (as ``disk_name``
        if given, else as its id), and return the ops that keep the rest of it."""
        where, ops = self.write_bytes(P + f"data:{file_id}", disk_name or file_id, data)
        if where == "disk" and disk_name:
            where = f"disk:{disk_name}"
        meta = {
            "name": name,
            "content_type": content_type,
            "owner": owner,
            "size": len(data),
            "etag": tag,
            "where": where,
        }
        return [
            *ops,
            ("hset", P + f"meta:{file_id}", meta),
            ("zadd", P + "index", file_id, time.time()),
        ]

    def meta(self, file_id: str) -> dict[str, str] | None:
        found = self.store.do("hgetall", P + f"meta:{file_id}")
        return _decoded(found) if found else None

    def read(self, file_id: str) -> bytes:
        where, data = self.store.batch(
            [("hget", P + f"meta:{file_id}", "where"), ("get", P + f"data:{file_id}")]
        )
        if where is None:
            raise KeyError(file_id)
        kind, _, name = where.decode().partition(":")
        return self._path(name or file_id).read_bytes() if kind == "disk" else data or b""

    # -- tickets and multipart uploads: bounded, oldest dropped ----------------------------

    def _wait(self, member: str) -> None:
        """``member`` waits: the oldest waiting beyond the bound, and a completion's lease
        run out (its process died), are dropped."""
        waiting, now = P + "waiting", time.time()
        _, count, expired = self.store.batch(
            [
                ("zadd", waiting, member, now),
                ("zcard", waiting),
                ("zrangebyscore", P + "completing", now - COMPLETION_LEASE - RETRY_WINDOW, 1),
            ]
        )
        excess = count - self.limits.max_waiting
        if excess > 0:
            for old in self.store.do("zrange", waiting, 0, excess - 1):
                self._drop(old)
        for lease in expired:
            self._drop(lease)

    def _drop(self, member: str) -> None:
        """Forget a ticket (``t:id``), a multipart upload (``m:id``) or a completion's
        lease (``c:id:token``), if still there (else another process completed or dropped
        it): taken from its set and forgotten in one step, so that a process that dies
        leaves no bytes counted (but those of a part kept after the upload was read: the
        step says what it dropped, and they are released after it)."""
        kind, _, ident = member.partition(":")
        if kind == "t":
            self.store.guarded(("zrem", P + "waiting", member), [("delete", P + f"ticket:{ident}")])
            return
        upload_id = ident.partition(":")[0]
        upload = self.multipart(upload_id) or {}
        ops = [("hgetall", P + f"multipart:{upload_id}")]  # as it is now: a part may be new
        ops += self._discard_ops(upload_id, upload, release=True)
        held_in = P + ("completing" if kind == "c" else "waiting")
        dropped = self.store.guarded(("zrem", held_in, member), ops)
        if dropped is not None:
            now = _decoded(dropped[0])
            self._release_late_parts(upload_id, upload, now)
            self._forget_parts(upload_id, now)
            if kind == "c":  # the completion that never finished may have written its file
                self._forget_bytes(_lease_file(member), "disk")

    def _release_late_parts(self, upload_id: str, read: Upload, dropped: Upload) -> None:
        """Release the bytes of the parts kept after a drop read their upload (as ``read``),
        before it dropped it (as ``dropped``), and forget their inline bytes."""
        late = int(dropped.get("size", 0)) - int(read.get("size", 0))
        numbers = set(_part_numbers(dropped)) - set(_part_numbers(read))
        ops = _counting(dropped["owner"], -late) if late else []
        if numbers:
            ops.append(("delete", *(P + f"part:{upload_id}:{n}" for n in numbers)))
        if ops:
            self.store.batch(ops)

    def reserve(self, name: str, content_type: str, owner: str) -> str:
        file_id = secrets.token_hex(12)
        ticket = {"name": name, "content_type": content_type, "owner": owner}
        self.store.do("hset", P + f"ticket:{file_id}", ticket)
        self._wait(f"t:{file_id}")
        return file_id

    def claim_ticket(self, file_id: str) -> tuple[str, str, str] | None:
        """The ticket's (name, type, owner), taken: only one process gets it."""
        _, ticket, _ = self.store.batch(
            [
                ("zrem", P + "waiting", f"t:{file_id}"),
                ("hgetall", P + f"ticket:{file_id}"),
                ("delete", P + f"ticket:{file_id}"),
            ]
        )
        if not ticket:
            return None
        return ticket["name"].decode(), ticket["content_type"].decode(), ticket["owner"].decode()

    def start_multipart(self, name: str, content_type: str, owner: str) -> str:
        upload_id = secrets.token_hex(12)
        upload = {"name": name, "content_type": content_type, "owner": owner, "size": 0}
        self.store.do("hset", P + f"multipart:{upload_id}", upload)
        self._wait(f"m:{upload_id}")
        return upload_id

    def multipart(self, upload_id: str) -> Upload | None:
        found = self.store.do("hgetall", P + f"multipart:{upload_id}")
        return _decoded(found) if found else None

    def multipart_part(self, upload_id: str, number: int) -> Upload | None:
        """What putting part ``number`` needs of the upload (its owner and size, and that
        part if it has one): a few fields, where `multipart` reads every part's (a client
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
        where, writes = self.write_bytes(P + f"part:{upload_id}:{number}", name, data)
        where = f"disk:{name}" if where == "disk" else where  # its own name: never written over
        fields = {f"len:{number}": len(data), f"etag:{number}": tag, f"where:{number}": where}
        ops: list[Op] = [
            ("hmget", key, *_part_fields(number)),  # the part it replaces, as it is now
            *writes,
            ("hset", key, fields),
            ("hincrby", key, "size", delta),
        ]
        kept = self._while_waiting(upload_id, ops)
        if kept is None:
            self._forget_bytes(name, "disk")
            return False
        before = _present(_part_fields(number), kept[0])
        replaced = _part_file(upload_id, before, number)
        if replaced is not None:
            self._forget_bytes(replaced, "disk")
        # The same part, put again at once (a client's retry while the first was in flight),
        # was kept after ``upload`` was read: its bytes are replaced too, so released.
        unseen = int(before.get(f"len:{number}", 0)) - int(upload.get(f"len:{number}", 0))
        if unseen:
            self._resize(upload_id, upload["owner"], -unseen)
        return True

    def _resize(self, upload_id: str, owner: str, size: int) -> None:
        """Count ``size`` more bytes to a waiting upload and its owner (none once it is
        completed or dropped: those count by its size, which moved with the counters)."""
        resized = ("hincrby", P + f"multipart:{upload_id}", "size", size)
        self._while_waiting(upload_id, [resized, *_counting(owner, size)])

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
            else self._path(_part_file(upload_id, upload, n) or "").read_bytes()
            for n in numbers
        )

    def claim_multipart(self, upload_id: str, upload: Upload) -> str | None:
        """Claim the waiting upload (as `multipart` read it) to complete it: its lease; None
        if another process completes it now (or it is gone). An upload whose lease ran out
        unfinished (its process died) is taken over."""
        lease, completing = f"c:{upload_id}:{secrets.token_hex(6)}", P + "completing"
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
        self._forget_bytes(_lease_file(held), "disk")  # what the dead process may have written
        return lease

    def unclaim_multipart(self, upload_id: str, lease: str) -> None:
        """Give up the lease of a completion that failed: the upload waits as before, and
        the file it may have written goes (held, the lease proves it was never kept)."""
        back = [
            ("zadd", P + "waiting", f"m:{upload_id}", time.time()),
            ("hdel", P + f"multipart:{upload_id}", "lease"),
        ]
        if self.store.guarded(("zrem", P + "completing", lease), back) is not None:
            self._forget_bytes(_lease_file(lease), "disk")

    def complete_multipart(
        self, upload_id: str, lease: str, upload: Upload, file: StoredAs, data: bytes
    ) -> bool:
        """Under ``lease``, keep ``data`` as the file the upload became and forget its
        parts, its bytes counted in place of theirs, in one step; False if the lease was
        lost (taken over, or dropped: the file is then none of this process's)."""
        (name, content_type, tag), owner = file, upload["owner"]
        disk_name = _lease_file(lease)
        ops = self._keeping(upload_id, name, content_type, owner, data, tag, disk_name=disk_name)
        ops += _counting(owner, len(data) - int(upload["size"]))  # the parts' bytes, or fewer
        ops += self._discard_ops(upload_id, upload, release=False)
        if self.store.guarded(("zrem", P + "completing", lease), ops) is None:
            self._forget_bytes(disk_name, "disk")  # its own: the other's has another name
            return False
        self._forget_parts(upload_id, upload)
        return True

    def _discard_ops(self, upload_id: str, upload: Upload, *, release: bool) -> list[Op]:
        parts = [P + f"part:{upload_id}:{n}" for n in _part_numbers(upload)]
        ops: list[Op] = [("delete", P + f"multipart:{upload_id}", *parts)]
        if release:
            ops += _counting(upload.get("owner", ""), -int(upload.get("size", 0)))
        return ops

    def _forget_parts(self, upload_id: str, upload: Upload) -> None:
        """Remove the upload's parts kept on disk (after the store forgot them)."""
        for n in _part_numbers(upload):
            name = _part_file(upload_id, upload, n)
            if name is not None:
                self._forget_bytes(name, "disk")

    # -- reset -----------------------------------------------------------------------------

    def clear(self) -> None:
        """Forget every upload (and its counters): `Engine.reset` with a shared store."""
        for held_in in ("waiting", "completing"):
            for member in self.store.do("zrange", P + held_in, 0, -1):
                self._drop(member)
        ids = self.store.do("zrange", P + "index", 0, -1)
        metas = self.store.batch([("hgetall", P + f"meta:{i}") for i in ids]) if ids else []
        keys = [P + f"{kind}:{i}" for i in ids for kind in ("meta", "data")]
        owners = {meta.get("owner", b"").decode() for meta in metas}
        keys += [P + "index", P + "total", *(P + f"owner:{o}" for o in owners)]
        self.store.do("delete", *keys)
        # Every file the folder holds of ours goes, those the store knew and those it no
        # longer did (a process killed between forgetting a part and removing its file).
        for path in self.directory.iterdir() if self.directory is not None else ():
            if _OURS.fullmatch(path.name):
                path.unlink(missing_ok=True)


#: a completed file's name, content type and ETag
StoredAs = tuple[str, str, str]
#: a multipart upload's hash, as `SharedUploads.multipart` reads it
Upload = dict[str, str]


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


def _decoded(found: dict[str, bytes]) -> dict[str, str]:
    """A hash as read from the store (a file's meta, an upload), as text."""
    return {field: value.decode() for field, value in found.items()}


def _present(fields: Sequence[str], values: Sequence[bytes | None]) -> Upload:
    """The fields an ``hmget`` found, with their values."""
    return {f: v.decode() for f, v in zip(fields, values, strict=True) if v is not None}


def _part_numbers(upload: Upload) -> list[int]:
    return [int(field[4:]) for field in upload if field.startswith("len:")]


def _counting(owner: str, size: int) -> list[Op]:
    """The ops that count ``size`` bytes (negative: release them), in all and ``owner``'s."""
    return [("incr", P + "total", size), ("tally", P + f"owner:{owner}", size)]
