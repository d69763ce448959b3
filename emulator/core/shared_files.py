"""Uploads kept in a shared `Store`: what `Storage` does when several processes share state.

Every worker (and a restarted one) on the same store serves every upload any of them
accepted. The store holds each file's metadata and, up to ``max_inline_bytes``, its bytes;
larger files (and large multipart parts) go to the directory every worker sees, written
whole to a temporary name first and then renamed (``os.replace``), so a reader never sees
half a file. Quotas are counters in the store, raised with ``incr`` before anything is
written and lowered again when the raise overshot: two workers cannot together exceed a
limit (under a race one of them may be refused a little early, never late).

Keys, under ``files:``: ``meta:{id}`` (hash), ``data:{id}`` (inline bytes), ``total`` and
``owner:{key}`` (bytes counted), ``ticket:{id}`` (a reserved upload: hash), ``index``
(every file id, by when it was kept: the oldest expire), ``owned:{key}`` (a key's files
likewise: its oldest make room for its next upload past its budget) and ``waiting``
(tickets and multipart uploads by their last use: the oldest beyond the bound are
dropped). Multipart uploads, their parts and the leases of their completions are
`emulator.core.shared_multipart`'s, which builds on this module.
"""

from __future__ import annotations

import math
import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from emulator.core.atomic_writes import write_atomically
from emulator.core.store import Op, Store, as_text, settled
from emulator.core.stored_files import StorageError, writing_to

P = "files:"

#: the names of the files this folder holds for uploads: a file or an upload's id (24 hex
#: digits), then a part's number and token or a lease's token; and half-written ones
_OURS = re.compile(r"[0-9a-f]{24}(?:\.[0-9]+(?:\.[0-9a-f]+)?|-[0-9a-f]+)?|\.incoming-.*")


class QuotaRefused(StorageError):
    """Bytes a limit refused (the message says which): the storage's 507."""

    def __init__(self, message: str) -> None:
        super().__init__(507, message)


class Limits(NamedTuple):
    """The byte and count budgets of uploads: per file, in all, per owner, kept inline, waiting."""

    max_file_bytes: int
    max_total_bytes: int
    max_owner_bytes: int
    max_inline_bytes: int
    max_waiting: int
    retention: float = math.inf  # seconds a finished file is kept


#: how many expired files one upload drops at most (the rest go with the next)
EXPIRE_BATCH = 64


class SharedUploads:
    """Bytes, metadata, tickets and quota counters of uploads, in a store; its
    ``multipart`` keeps the multipart uploads."""

    def __init__(
        self,
        store: Store,
        directory: Path | None,
        limits: Limits,
        now: Callable[[], float] = time.time,
    ) -> None:
        """``now``: the clock a file's age is read on (every process's alike)."""
        # imported here: that module builds on this one
        from emulator.core.shared_multipart import SharedMultipart

        self.store = store
        self.directory = directory
        self.limits = limits
        self.now = now
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
        self.multipart: SharedMultipart = SharedMultipart(self)

    # -- quotas ----------------------------------------------------------------------------

    def count(self, owner: str, size: int) -> None:
        """Count ``size`` bytes (negative: release them); `QuotaRefused` beyond a limit,
        with nothing counted."""
        total, mine = self.recount(owner, size)
        refusal = self._refusal(total, mine) if size > 0 else None
        if refusal is not None:
            self.recount(owner, -size)
            raise QuotaRefused(refusal)

    def _refusal(self, total: int, mine: int) -> str | None:
        """Why bytes counted to ``total`` in all and ``mine`` for their owner are too many."""
        limits = self.limits
        if mine > limits.max_owner_bytes:
            return f"This key's uploads are full (limit {limits.max_owner_bytes} bytes)"
        if total > limits.max_total_bytes:
            return f"Storage is full (limit {limits.max_total_bytes} bytes)"
        return None

    def make_room(self, owner: str, size: int) -> None:
        """Before ``size`` more bytes of ``owner``'s are counted: the files past the
        retention dropped, then the owner's oldest while it would pass its budget (none
        for more bytes than the whole budget: refused all the same). Another process's
        upload may take the room meanwhile: the count that follows still refuses."""
        self.expire()
        limit, owned = self.limits.max_owner_bytes, P + f"owned:{owner}"
        while 0 < size <= limit:
            mine, oldest = self.store.batch(
                [("get", P + f"owner:{owner}"), ("zrange", owned, 0, 0)]
            )
            if int(mine or 0) + size <= limit or not oldest:
                return
            self.forget(oldest[0], owner)

    def expire(self) -> None:
        """Drop the oldest files past the retention (a batch at a time)."""
        if math.isinf(self.limits.retention):
            return
        due_by = self.now() - self.limits.retention
        for file_id in self.store.do("zrangebyscore", P + "index", due_by, EXPIRE_BATCH):
            self.forget(file_id)

    def expired(self, meta: dict[str, str]) -> bool:
        """Whether the file of ``meta`` is past the retention (dropped by a later upload)."""
        kept_at = meta.get("kept_at")
        return kept_at is not None and self.now() - float(kept_at) > self.limits.retention

    def forget(self, file_id: str, owner: str | None = None) -> None:
        """Drop a finished file (``owner``'s, if known), if still kept (else another
        process dropped it): taken from the index and forgotten, its bytes released, in
        one step; its URL then answers as a missing file's."""
        meta = self.meta(file_id)
        if meta is None:  # gone already: only what still names it
            gone: list[Op] = [("zrem", P + "index", file_id)]
            self.store.batch([*gone, ("zrem", P + f"owned:{owner}", file_id)] if owner else gone)
            return
        owner = meta.get("owner", "")
        ops: list[Op] = [
            ("delete", P + f"meta:{file_id}", P + f"data:{file_id}"),
            ("zrem", P + f"owned:{owner}", file_id),
            *counting(owner, -int(meta["size"])),
        ]
        if self.store.guarded(("zrem", P + "index", file_id), ops) is not None:
            kind, _, name = meta.get("where", "").partition(":")
            if kind == "disk":
                self.forget_file(name or file_id)

    def recount(self, owner: str, size: int) -> tuple[int, int]:
        """Count ``size`` bytes whatever the limits: the total and the owner's, after."""
        total, mine = self.store.batch(counting(owner, size))
        return total, mine

    # -- bytes: inline in the store, or a file under the shared directory -------------------

    def _inline(self, size: int) -> bool:
        return self.directory is None or size <= self.limits.max_inline_bytes

    def path(self, name: str) -> Path:
        """Where the file ``name`` is kept in the shared directory."""
        assert self.directory is not None
        return self.directory / name

    def _write_file(self, name: str, data: bytes) -> None:
        with writing_to(self.directory):
            write_atomically(self.path(name), data, prefix=".incoming-")

    def write_bytes(self, key: str, name: str, data: bytes) -> tuple[str, list[Op]]:
        """Keep ``data`` on disk as ``name``, or return the op that keeps it inline under
        store ``key`` (to run in the caller's batch): where it is, and that op."""
        if self._inline(len(data)):
            return "inline", [("set", key, data)]
        self._write_file(name, data)
        return "disk", []

    def forget_file(self, name: str) -> None:
        """Remove the file ``name`` from the shared directory, if it is there."""
        if self.directory is not None:  # none: nothing is on disk
            self.path(name).unlink(missing_ok=True)

    # -- whole files -----------------------------------------------------------------------

    def save(
        self, file_id: str, name: str, content_type: str, owner: str, data: bytes, tag: str
    ) -> None:
        """Keep a file and count its bytes, in one step: `QuotaRefused` beyond a limit, with
        nothing kept or counted. (Counted first, then kept, a store error between the two
        left bytes counted for a file never kept, for good.)"""
        self.make_room(owner, len(data))
        if not self._inline(len(data)):  # refused before it is written, when it is clear
            total, mine = self.store.batch([("get", P + "total"), ("get", P + f"owner:{owner}")])
            refusal = self._refusal(int(total or 0) + len(data), int(mine or 0) + len(data))
            if refusal is not None:
                raise QuotaRefused(refusal)
        keeping = self.keeping(file_id, name, content_type, owner, data, tag)
        meta = P + f"meta:{file_id}"
        was, total, mine = self.store.batch(
            [("hget", meta, "owner"), *counting(owner, len(data)), *keeping]
        )[:3]
        refusal = self._refusal(total, mine)
        if refusal is None:
            return
        # Undone: the count, and the file unless another save kept one under this id before
        # (a picture kept under its content's digest): that one stays.
        undo = counting(owner, -len(data))
        if was is None:
            undo += [("delete", meta, P + f"data:{file_id}"), ("zrem", P + "index", file_id)]
        settled(lambda: self.store.batch(undo))
        if was is None:
            self.forget_file(file_id)
        raise QuotaRefused(refusal)

    def keeping(
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
        now = self.now()
        if where == "disk" and disk_name:
            where = f"disk:{disk_name}"
        meta = {
            "name": name,
            "content_type": content_type,
            "owner": owner,
            "size": len(data),
            "etag": tag,
            "where": where,
            "kept_at": now,
        }
        return [
            *ops,
            ("hset", P + f"meta:{file_id}", meta),
            ("zadd", P + "index", file_id, now),
            ("zadd", P + f"owned:{owner}", file_id, now),
        ]

    def meta(self, file_id: str) -> dict[str, str] | None:
        found = self.store.do("hgetall", P + f"meta:{file_id}")
        return as_text(found) if found else None

    def read(self, file_id: str) -> bytes | None:
        """A file's bytes; None if it is not kept (dropped since it was found)."""
        where, data = self.store.batch(
            [("hget", P + f"meta:{file_id}", "where"), ("get", P + f"data:{file_id}")]
        )
        if where is None:
            return None
        kind, _, name = where.decode().partition(":")
        if kind != "disk":
            return data or b""
        try:
            return self.path(name or file_id).read_bytes()
        except FileNotFoundError:  # dropped between the two reads
            return None

    # -- tickets and multipart uploads: bounded, oldest dropped ----------------------------

    def wait(self, member: str) -> None:
        """``member`` waits: the oldest waiting beyond the bound, and a completion's lease
        run out (its process died), are dropped."""
        waiting, now = P + "waiting", time.time()
        _, count, abandoned = self.store.batch(
            [("zadd", waiting, member, now), ("zcard", waiting), self.multipart.abandoned(now)]
        )
        excess = count - self.limits.max_waiting
        if excess > 0:
            for old in self.store.do("zrange", waiting, 0, excess - 1):
                self._drop(old)
        for lease in abandoned:
            self.multipart.drop(lease)

    def _drop(self, member: str) -> None:
        """Forget a ticket (``t:id``), if still there (else it was fulfilled or dropped):
        taken from the waiting set and forgotten in one step. A multipart upload
        (``m:id``) is its module's to drop."""
        kind, _, file_id = member.partition(":")
        if kind != "t":
            self.multipart.drop(member)
            return
        self.store.guarded(("zrem", P + "waiting", member), [("delete", P + f"ticket:{file_id}")])

    def reserve(self, name: str, content_type: str, owner: str, size: int | None) -> str:
        file_id = secrets.token_hex(12)
        self.store.do("hset", P + f"ticket:{file_id}", _ticket(name, content_type, owner, size))
        self.wait(f"t:{file_id}")
        return file_id

    def claim_ticket(self, file_id: str) -> tuple[str, str, str, int | None] | None:
        """The ticket's (name, type, owner, declared size), taken: only one process gets it."""
        _, ticket, _ = self.store.batch(
            [
                ("zrem", P + "waiting", f"t:{file_id}"),
                ("hgetall", P + f"ticket:{file_id}"),
                ("delete", P + f"ticket:{file_id}"),
            ]
        )
        if not ticket:
            return None
        declared = ticket.get("size", b"").decode()
        size = int(declared) if declared else None
        return (
            ticket["name"].decode(),
            ticket["content_type"].decode(),
            ticket["owner"].decode(),
            size,
        )

    def give_back_ticket(self, file_id: str, reserved: tuple[str, str, str, int | None]) -> None:
        """Make a claimed ticket waiting again, as `reserve` made it, unless its file was
        kept all the same (a save whose answer was lost): a PUT the store failed may be
        retried."""
        if self.meta(file_id) is not None:
            return
        self.store.do("hset", P + f"ticket:{file_id}", _ticket(*reserved))
        self.wait(f"t:{file_id}")  # within the bound, as a new one

    # -- reset -----------------------------------------------------------------------------

    def clear(self) -> None:
        """Forget every upload (and its counters): `Engine.reset` with a shared store."""
        for member in self.store.do("zrange", P + "waiting", 0, -1):
            self._drop(member)
        self.multipart.drop_completions()
        ids = self.store.do("zrange", P + "index", 0, -1)
        metas = self.store.batch([("hgetall", P + f"meta:{i}") for i in ids]) if ids else []
        keys = [P + f"{kind}:{i}" for i in ids for kind in ("meta", "data")]
        owners = {meta.get("owner", b"").decode() for meta in metas}
        keys += [P + "index", P + "total", *(P + f"owner:{o}" for o in owners)]
        keys += [P + f"owned:{o}" for o in owners]
        self.store.do("delete", *keys)
        # Every file the folder holds of ours goes, those the store knew and those it no
        # longer did (a process killed between forgetting a part and removing its file).
        for path in self.directory.iterdir() if self.directory is not None else ():
            if _OURS.fullmatch(path.name):
                path.unlink(missing_ok=True)


def _ticket(name: str, content_type: str, owner: str, size: int | None) -> dict[str, str]:
    """A ticket's hash: what its PUT is to be kept as (no size: any)."""
    declared = "" if size is None else str(size)
    return {"name": name, "content_type": content_type, "owner": owner, "size": declared}


def counting(owner: str, size: int) -> list[Op]:
    """The ops that count ``size`` bytes (negative: release them), in all and ``owner``'s."""
    return [("incr", P + "total", size), ("tally", P + f"owner:{owner}", size)]
