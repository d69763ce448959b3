"""Multipart uploads in a shared store: parts put and completed through either of two
`Storage`s on one store, on every store (processes that race, stall or die:
`test_shared_multipart_races`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from emulator.core.files import Storage
from emulator.core.store import Op, Store
from emulator.core.stored_files import StorageError, etag
from tests import shared_stores
from tests.core.shared_storage import Pair, left_on_disk, storage_on, storage_pair, upload_started
from tests.unwritable import unwritable

stores = shared_stores.stores  # the fixture: every test on memory, SQLite and Redis
session_redis = shared_stores.session_redis


def test_multipart_parts_arrive_through_both(stores: Pair, tmp_path: Path) -> None:
    first, second = storage_pair(stores, tmp_path, max_total_bytes=1000)
    upload = first.start_multipart("movie.mp4", "video/mp4", owner="k")
    tags = {1: second.put_part(upload, 1, b"a" * 100), 2: first.put_part(upload, 2, b"bc")}
    assert tags[1] == etag(b"a" * 100)
    assert second.put_part(upload, 2, b"b") == etag(b"b")  # replaced: counted once
    tags[2] = etag(b"b")
    with pytest.raises(StorageError) as refused:
        first.complete_multipart(upload, [(1, tags[1]), (2, etag(b"bc"))])
    assert refused.value.status == 400
    stored = second.complete_multipart(upload, sorted(tags.items()))
    assert first.read(stored) == b"a" * 100 + b"b"
    assert int(stores[0].do("get", "files:total")) == 101  # the parts became the file
    kept = [p.name for p in (tmp_path / "uploads").iterdir()]  # the big part is gone
    assert len(kept) == 1 and kept[0].startswith(f"{stored.id}-")  # named after its lease
    with pytest.raises(StorageError):
        first.complete_multipart(upload, sorted(tags.items()))


@pytest.mark.parametrize("tag", ['""', "", " "])
def test_a_completion_listing_a_part_never_put_is_refused_whatever_its_etag(
    stores: Pair, tmp_path: Path, tag: str
) -> None:
    # An empty ETag matched the missing part's absent one: the completion then read the
    # uploads folder itself as that part (a 500).
    first, second, upload = upload_started(stores, tmp_path)
    listed = [(1, first.put_part(upload, 1, b"x" * 100)), (2, tag)]
    with pytest.raises(StorageError) as refused:
        second.complete_multipart(upload, listed)
    assert (refused.value.status, str(refused.value)) == (
        400,
        "Part 2 is missing or its ETag does not match",
    )
    assert first.read(first.complete_multipart(upload, listed[:1])) == b"x" * 100


def test_a_completion_listing_a_part_twice_is_refused(stores: Pair, tmp_path: Path) -> None:
    """A part listed 190 times made a file 190 times its bytes, past the quotas (and a
    list of 15,000 had Redis build a 15 GB reply)."""
    first, second, upload = upload_started(stores, tmp_path)
    listed = [(1, first.put_part(upload, 1, b"x" * 100))]
    with pytest.raises(StorageError) as refused:
        second.complete_multipart(upload, listed * 190)
    assert (refused.value.status, str(refused.value)) == (400, "Each part may be listed once")
    assert first.read(first.complete_multipart(upload, listed)) == b"x" * 100


def test_a_part_over_the_quota_is_refused(stores: Pair, tmp_path: Path) -> None:
    first, second = storage_pair(stores, tmp_path, max_total_bytes=10, max_file_bytes=8)
    upload = first.start_multipart("f", "text/plain")
    second.put_part(upload, 1, b"12345")
    second.put(b"1234", "text/plain", "other", owner="another key")  # not its own to drop
    with pytest.raises(StorageError) as full:
        second.put_part(upload, 2, b"67")
    assert full.value.status == 507


def test_a_part_refused_by_a_budget_ends_its_upload_and_frees_its_bytes(
    stores: Pair, tmp_path: Path
) -> None:
    """A 507 kept the parts counted, and the key, storing nothing, was refused every upload."""
    first, second = storage_pair(stores, tmp_path, max_owner_bytes=150)
    upload = first.start_multipart("f", "text/plain", owner="k")
    second.put_part(upload, 1, b"x" * 100)  # on disk
    with pytest.raises(StorageError) as full:
        first.put_part(upload, 2, b"y" * 100)
    assert full.value.status == 507 and "abandoned" in str(full.value)
    with pytest.raises(StorageError) as gone:
        second.put_part(upload, 3, b"z")
    assert gone.value.status == 404
    assert stores[0].do("get", "files:owner:k") is None and left_on_disk(tmp_path) == []
    second.put(b"w" * 150, "text/plain", "whole", owner="k")  # the key's bytes are free


def test_a_part_that_makes_the_file_too_big_ends_its_upload(stores: Pair, tmp_path: Path) -> None:
    first, second = storage_pair(stores, tmp_path, max_total_bytes=10, max_file_bytes=8)
    upload = first.start_multipart("f", "text/plain", owner="k")
    second.put_part(upload, 1, b"12345")
    with pytest.raises(StorageError) as too_big:
        first.put_part(upload, 2, b"6789")
    assert too_big.value.status == 413 and "abandoned" in str(too_big.value)
    # it could never complete: gone, and its part no longer counted against its key
    with pytest.raises(StorageError) as gone:
        second.put_part(upload, 2, b"6")
    assert gone.value.status == 404
    second.put(b"12345678", "text/plain", "whole", owner="k")


def test_a_live_completion_is_not_taken_over(
    stores: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second, upload = upload_started(stores, tmp_path)
    parts = [(1, first.put_part(upload, 1, b"abc"))]
    shared = first._shared
    assert shared is not None
    assert shared.multipart.claim(upload, shared.multipart.upload(upload) or {})  # completing
    with pytest.raises(StorageError) as busy:
        second.complete_multipart(upload, parts)
    assert busy.value.status == 404
    monkeypatch.setattr("emulator.core.shared_multipart.COMPLETION_LEASE", 0.0)  # it died
    assert second.read(second.complete_multipart(upload, parts)) == b"abc"


def test_a_completion_never_retried_is_dropped_with_its_bytes(
    stores: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second, upload = upload_started(stores, tmp_path)
    first.put_part(upload, 1, b"x" * 100)  # on disk
    shared = first._shared
    assert shared is not None
    lease = shared.multipart.claim(upload, shared.multipart.upload(upload) or {})  # then it died
    assert lease is not None
    (tmp_path / "uploads" / f"{upload}-{lease.rsplit(':', 1)[1]}").write_bytes(b"half")
    second.reserve("b", "text/plain", owner="k")  # the lease is live: kept
    assert int(stores[0].do("get", "files:total")) == 100
    monkeypatch.setattr("emulator.core.shared_multipart.COMPLETION_LEASE", 0.0)  # it ran out
    second.reserve("c", "text/plain", owner="k")  # kept a while for the client's retry
    assert int(stores[0].do("get", "files:total")) == 100
    monkeypatch.setattr("emulator.core.shared_multipart.RETRY_WINDOW", 0.0)  # none came
    second.reserve("d", "text/plain", owner="k")  # the next upload that waits drops it
    assert int(stores[0].do("get", "files:total") or 0) == 0
    assert int(stores[0].do("get", "files:owner:k") or 0) == 0
    assert list((tmp_path / "uploads").iterdir()) == []


def test_a_completion_without_a_folder_is_taken_over_all_in_the_store(
    stores: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = (Storage(store=store) for store in stores)  # every byte in the store
    upload = first.start_multipart("a.bin", "application/octet-stream", owner="k")
    parts = [(1, first.put_part(upload, 1, b"abc")), (2, first.put_part(upload, 2, b"de"))]
    shared = first._shared
    assert shared is not None
    assert shared.multipart.claim(upload, shared.multipart.upload(upload) or {})  # then it died
    monkeypatch.setattr("emulator.core.shared_multipart.COMPLETION_LEASE", 0.0)
    assert second.read(second.complete_multipart(upload, parts)) == b"abcde"
    assert int(stores[0].do("get", "files:total")) == 5


def test_a_part_put_while_its_upload_completes_is_refused_and_released(
    stores: Pair, tmp_path: Path
) -> None:
    first, second, upload = upload_started(stores, tmp_path)
    parts = [(1, first.put_part(upload, 1, b"x" * 100))]
    shared = first._shared
    assert shared is not None
    lease = shared.multipart.claim(upload, shared.multipart.upload(upload) or {})  # completing
    assert lease is not None
    for number, data in ((2, b"y" * 100), (1, b"z" * 100)):  # a new part, a replacement
        with pytest.raises(StorageError) as refused:
            second.put_part(upload, number, data)
        assert refused.value.status == 404
    assert int(stores[0].do("get", "files:total")) == 100  # the first part's bytes alone
    shared.multipart.unclaim(upload, lease)  # the completion gave up: it waits again
    assert first.read(second.complete_multipart(upload, parts)) == b"x" * 100
    assert len(left_on_disk(tmp_path)) == 1  # the file alone: no part left behind


def test_a_big_part_replaced_by_a_small_one_leaves_no_file_on_disk(
    stores: Pair, tmp_path: Path
) -> None:
    # Part 1 first went to disk (100 bytes), then was sent again small enough to be inline:
    # nothing refers to the first file any more, and nothing removes it (not even a reset).
    first, second, upload = upload_started(stores, tmp_path)
    first.put_part(upload, 1, b"x" * 100)
    parts = [(1, second.put_part(upload, 1, b"small"))]
    assert first.read(first.complete_multipart(upload, parts)) == b"small"
    assert int(stores[0].do("get", "files:total")) == 5
    second.clear()
    assert left_on_disk(tmp_path) == []


@pytest.mark.parametrize("sizes", [(100, 200), (200, 100), (5, 100), (100, 5)])
def test_a_part_put_twice_at_once_is_counted_and_kept_once(
    stores: Pair, tmp_path: Path, sizes: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A client retries a part while its first try is still in flight: the retry read the
    # upload before the first try was kept, so it replaces a part it never saw.
    first, second, upload = upload_started(stores, tmp_path)
    first.put_part(upload, 2, b"z" * 100)  # another part, on disk, which stays
    multipart = second._shared.multipart
    unseen = multipart.upload_for_part(upload, 1)
    assert unseen is not None
    monkeypatch.setattr(multipart, "upload_for_part", lambda *_: dict(unseen))  # as before
    first.put_part(upload, 1, b"a" * sizes[0])
    parts = [(1, second.put_part(upload, 1, b"b" * sizes[1]))]
    monkeypatch.undo()
    assert int(stores[0].do("get", "files:total")) == 100 + sizes[1]
    assert int(stores[0].do("get", "files:owner:k")) == 100 + sizes[1]
    on_disk = [name for name in left_on_disk(tmp_path) if not name.startswith(".")]
    assert len(on_disk) == 1 + (sizes[1] > 64)  # part 2, and part 1 if not inline
    parts.append((2, etag(b"z" * 100)))
    stored = first.complete_multipart(upload, parts)
    assert first.read(stored) == b"b" * sizes[1] + b"z" * 100
    assert int(stores[0].do("get", "files:total")) == 100 + sizes[1]
    assert [name.split("-")[0] for name in left_on_disk(tmp_path)] == [stored.id]


class _Reading(shared_stores.Dying):
    """``store``, noting every operation sent to it."""

    def __init__(self, store: Store) -> None:
        super().__init__(store, fatal=10**9)
        self.sent: list[Op] = []

    def batch(self, ops: Sequence[Op]) -> list[Any]:
        self.sent += ops
        return super().batch(ops)

    def guarded(self, guard: Op, ops: Sequence[Op]) -> list[Any] | None:
        self.sent += [guard, *ops]
        return super().guarded(guard, ops)


def test_a_part_put_reads_that_part_of_its_upload_not_every_part(
    stores: Pair, tmp_path: Path
) -> None:
    # Each put reading the whole upload made a client's thousands of parts cost the square.
    first, _, upload = upload_started(stores, tmp_path)
    for number in range(1, 51):
        first.put_part(upload, number, b"p")
    reading = _Reading(stores[1])
    storage_on(reading, tmp_path).put_part(upload, 51, b"p")
    read = [op for op in reading.sent if op[0] in ("hgetall", "hmget")]
    assert read and all(op[0] == "hmget" and len(op) <= 6 for op in read)


def test_a_folder_that_refuses_a_part_is_a_507_with_nothing_counted(
    stores: Pair, tmp_path: Path
) -> None:
    first, second = storage_pair(stores, tmp_path, max_owner_bytes=100)
    upload = first.start_multipart("a.bin", "application/octet-stream", owner="k")
    with unwritable(tmp_path / "uploads"), pytest.raises(StorageError) as refused:
        first.put_part(upload, 1, b"x" * 100)  # beyond the inline 64 bytes
    assert refused.value.status == 507 and "cannot write uploads" in refused.value.message
    assert stores[0].do("get", "files:owner:k") in (None, b"0")
    tag = second.put_part(upload, 1, b"x" * 100)  # the key's whole quota: none was kept
    assert first.read(first.complete_multipart(upload, [(1, tag)])) == b"x" * 100
