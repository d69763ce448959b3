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
``multipart:{id}`` (hash: name, type, owner, then ``len:N``/``etag:N`` per part),
``part:{id}:{N}`` (a part's inline bytes), ``index`` (every file id) and ``waiting``
(tickets and multipart uploads by age: the oldest beyond the bound are dropped).

A multipart upload being completed waits under its lease (``c:{id}:{token}``, noted in
its hash), which the completion's last step takes: that step counts the file, keeps it
and forgets the parts at once. A process that dies completing it leaves the lease, which
a retry of the completion takes over once `COMPLETION_LEASE` has passed.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from emulator.core.store import Op, Store

P = "files:"

#: seconds a process has to complete a multipart upload it claimed; after them a retry of
#: the completion takes the upload over (the process died, or stalled that long: then the
#: two complete it alike, into the same file)
COMPLETION_LEASE = 30.0


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
        if where == "disk":
            self._path(name).unlink(missing_ok=True)

    # -- whole files -----------------------------------------------------------------------

    def save(
        self, file_id: str, name: str, content_type: str, owner: str, data: bytes, tag: str
    ) -> None:
        """Record a file whose bytes are already counted."""
        self.store.batch(self._keeping(file_id, name, content_type, owner, data, tag))

    def _keeping(
        self, file_id: str, name: str, content_type: str, owner: str, data: bytes, tag: str
    ) -> list[Op]:
        """The ops that keep a file (its bytes on disk already written, where they go)."""
        where, ops = self.write_bytes(P + f"data:{file_id}", file_id, data)
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
        return {k: v.decode() for k, v in found.items()} if found else None

    def read(self, file_id: str) -> bytes:
        where, data = self.store.batch(
            [("hget", P + f"meta:{file_id}", "where"), ("get", P + f"data:{file_id}")]
        )
        if where is None:
            raise KeyError(file_id)
        return self._path(file_id).read_bytes() if where == b"disk" else data or b""

    # -- tickets and multipart uploads: bounded, oldest dropped ----------------------------

    def _wait(self, member: str) -> None:
        waiting = P + "waiting"
        _, count = self.store.batch([("zadd", waiting, member, time.time()), ("zcard", waiting)])
        excess = count - self.limits.max_waiting
        if excess > 0:
            for old in self.store.do("zrange", waiting, 0, excess - 1):
                self._drop(old)

    def _drop(self, member: str) -> None:
        """Forget a ticket (``t:id``) or a multipart upload (``m:id``), if still waiting
        (else another process completed or dropped it): taken from the waiting set and
        forgotten in one step, so that a process that dies leaves no bytes counted."""
        kind, _, ident = member.partition(":")
        if kind == "t":
            self.store.guarded(("zrem", P + "waiting", member), [("delete", P + f"ticket:{ident}")])
            return
        upload_id = ident.partition(":")[0]  # a lease (``c:``) names its upload first
        upload = self.multipart(upload_id) or {}
        ops = self._discard_ops(upload_id, upload, release=True)
        if self.store.guarded(("zrem", P + "waiting", member), ops) is not None:
            self._forget_parts(upload_id, upload)
            if kind == "c" and self.directory is not None:
                # a completion that never finished may have written the file's bytes
                self._forget_bytes(upload_id, "disk")

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

    def multipart(self, upload_id: str) -> dict[str, str] | None:
        found = self.store.do("hgetall", P + f"multipart:{upload_id}")
        return {k: v.decode() for k, v in found.items()} if found else None

    def save_part(self, upload_id: str, number: int, data: bytes, tag: str, delta: int) -> None:
        """Keep a part whose bytes (``delta`` more than the part it replaces) are counted."""
        key = P + f"part:{upload_id}:{number}"
        where, ops = self.write_bytes(key, f"{upload_id}.{number}", data)
        fields = {f"len:{number}": len(data), f"etag:{number}": tag, f"where:{number}": where}
        ops += [
            ("hset", P + f"multipart:{upload_id}", fields),
            ("hincrby", P + f"multipart:{upload_id}", "size", delta),
        ]
        self.store.batch(ops)

    def read_parts(self, upload_id: str, upload: dict[str, str], numbers: list[int]) -> bytes:
        inline = [n for n in numbers if upload.get(f"where:{n}") == "inline"]
        found = self.store.batch([("get", P + f"part:{upload_id}:{n}") for n in inline])
        chunks = dict(zip(inline, found, strict=True))
        return b"".join(
            chunks[n] or b"" if n in chunks else self._path(f"{upload_id}.{n}").read_bytes()
            for n in numbers
        )

    def claim_multipart(self, upload_id: str, upload: dict[str, str]) -> str | None:
        """Claim the waiting upload (as `multipart` read it) to complete it: its lease; None
        if another process completes it now (or it is gone). An upload whose lease ran out
        unfinished (its process died) is taken over."""
        lease = f"c:{upload_id}:{secrets.token_hex(6)}"
        take = [
            ("zadd", P + "waiting", lease, time.time()),
            ("hset", P + f"multipart:{upload_id}", {"lease": lease}),
        ]
        if self.store.guarded(("zrem", P + "waiting", f"m:{upload_id}"), take) is not None:
            return lease
        held = upload.get("lease")
        since = self.store.do("zscore", P + "waiting", held) if held else None
        if since is None or float(since) + COMPLETION_LEASE > time.time():
            return None
        # Only one process removes the old lease: the others are refused, as above.
        return lease if self.store.guarded(("zrem", P + "waiting", held), take) else None

    def unclaim_multipart(self, upload_id: str, lease: str) -> None:
        """Give up the lease of a completion that failed: the upload waits as before."""
        back = [
            ("zadd", P + "waiting", f"m:{upload_id}", time.time()),
            ("hdel", P + f"multipart:{upload_id}", "lease"),
        ]
        self.store.guarded(("zrem", P + "waiting", lease), back)

    def complete_multipart(
        self,
        lease: str,
        upload: dict[str, str],
        file: tuple[str, str, str],
        data: bytes,
        tag: str,
    ) -> bool:
        """Under ``lease``, keep ``data`` as the file (id, name, type) the upload became
        and forget its parts, its bytes counted in place of theirs, in one step; False if
        the lease was taken over (the file is then the other process's to keep)."""
        upload_id, owner = lease.split(":")[1], upload["owner"]
        ops = self._keeping(*file, owner, data, tag)
        ops += _counting(owner, len(data) - int(upload["size"]))  # the parts' bytes, or fewer
        ops += self._discard_ops(upload_id, upload, release=False)
        if self.store.guarded(("zrem", P + "waiting", lease), ops) is None:
            return False
        self._forget_parts(upload_id, upload)
        return True

    def _discard_ops(self, upload_id: str, upload: dict[str, str], *, release: bool) -> list[Op]:
        parts = [P + f"part:{upload_id}:{n}" for n in _part_numbers(upload)]
        ops: list[Op] = [("delete", P + f"multipart:{upload_id}", *parts)]
        if release:
            ops += _counting(upload.get("owner", ""), -int(upload.get("size", 0)))
        return ops

    def _forget_parts(self, upload_id: str, upload: dict[str, str]) -> None:
        """Remove the upload's parts kept on disk (after the store forgot them)."""
        for n in _part_numbers(upload):
            self._forget_bytes(f"{upload_id}.{n}", upload.get(f"where:{n}", "inline"))

    # -- reset -----------------------------------------------------------------------------

    def clear(self) -> None:
        """Forget every upload (and its counters): `Engine.reset` with a shared store."""
        for member in self.store.do("zrange", P + "waiting", 0, -1):
            self._drop(member)
        ids = self.store.do("zrange", P + "index", 0, -1)
        metas = self.store.batch([("hgetall", P + f"meta:{i}") for i in ids]) if ids else []
        for file_id, meta in zip(ids, metas, strict=True):
            if meta.get("where") == b"disk":
                self._forget_bytes(file_id, "disk")
        keys = [P + f"{kind}:{i}" for i in ids for kind in ("meta", "data")]
        owners = {meta.get("owner", b"").decode() for meta in metas}
        keys += [P + "index", P + "total", *(P + f"owner:{o}" for o in owners)]
        self.store.do("delete", *keys)


def _part_numbers(upload: dict[str, str]) -> list[int]:
    return [int(field[4:]) for field in upload if field.startswith("len:")]


def _counting(owner: str, size: int) -> list[Op]:
    """The ops that count ``size`` bytes (negative: release them), in all and ``owner``'s."""
    return [("incr", P + "total", size), ("tally", P + f"owner:{owner}", size)]
