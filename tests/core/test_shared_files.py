"""Uploads in a shared store: two `Storage`s on one store act as one, on every store."""

from __future__ import annotations

import contextlib
import secrets
import selectors
import socket
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from emulator.core.files import Storage, StorageError, StoredFile, etag
from emulator.core.store import Op, Store, StoreUnavailable, open_store
from tests import shared_stores

stores = shared_stores.stores  # the fixture: every test on memory, SQLite and Redis
session_redis = shared_stores.session_redis

Pair = tuple[Store, Store]


def _on(store: Store, tmp_path: Path, **limits: int) -> Storage:
    """A storage on ``store``, large files under ``tmp_path / "uploads"``."""
    options = {"directory": tmp_path / "uploads", "max_inline_upload_bytes": 64, **limits}
    return Storage(store=store, **options)  # type: ignore[arg-type]


def _pair(stores: Pair, tmp_path: Path, **limits: int) -> tuple[Storage, Storage]:
    """Two storages on one store, large files under ``tmp_path / "uploads"``."""
    one, two = stores
    return _on(one, tmp_path, **limits), _on(two, tmp_path, **limits)


def _upload(stores: Pair, tmp_path: Path) -> tuple[Storage, Storage, str]:
    """`_pair`, and a multipart upload key ``k`` started through the first."""
    first, second = _pair(stores, tmp_path)
    return first, second, first.start_multipart("a.bin", "application/octet-stream", owner="k")


def _left_on_disk(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "uploads").iterdir())


def test_an_upload_through_one_is_served_by_the_other(stores: Pair, tmp_path: Path) -> None:
    first, second = _pair(stores, tmp_path)
    small = first.put(b"tiny", "text/plain", "../a b.txt", owner="k")
    large = first.put(b"x" * 1000, "image/png; q=1", "big.png", owner="k")
    assert second.get(small.id) == small
    assert second.get(large.id) == large
    assert (second.read(small), second.read(large)) == (b"tiny", b"x" * 1000)
    # inline bytes never touch the directory; large ones are one file, named by id
    assert [p.name for p in (tmp_path / "uploads").iterdir()] == [large.id]
    assert second.get("0" * 24) is None


def test_a_restarted_process_serves_what_it_handed_out(stores: Pair, tmp_path: Path) -> None:
    first, _ = _pair(stores, tmp_path)
    stored = first.put(b"kept", "text/plain", "kept.txt")
    reborn = Storage(store=stores[1], directory=tmp_path / "uploads")
    assert reborn.read(reborn.get(stored.id) or stored) == b"kept"


def test_a_reserved_upload_is_fulfilled_once_anywhere(stores: Pair, tmp_path: Path) -> None:
    first, second = _pair(stores, tmp_path)
    ticket = first.reserve("photo.jpg", "image/jpeg", owner="k")
    stored = second.fulfil(ticket, b"jpeg bytes")
    assert (stored.id, stored.name, stored.content_type) == (ticket, "photo.jpg", "image/jpeg")
    assert first.read(stored) == b"jpeg bytes"
    with pytest.raises(StorageError) as refused:
        first.fulfil(ticket, b"again")
    assert refused.value.status == 404


def test_quotas_hold_for_both_together(stores: Pair, tmp_path: Path) -> None:
    first, second = _pair(stores, tmp_path, max_total_bytes=100, max_owner_bytes=60)

    def upload(n: int) -> bool:
        try:
            (first, second)[n % 2].put(b"0123456789", "text/plain", "f", owner=f"k{n % 3}")
        except StorageError as refused:
            assert refused.status == 507
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        accepted = sum(pool.map(upload, range(40)))
    assert 0 < accepted <= 10
    assert int(stores[0].do("get", "files:total")) == 10 * accepted
    for owner in ("k0", "k1", "k2"):
        assert int(stores[0].do("get", f"files:owner:{owner}") or 0) <= 60


def test_multipart_parts_arrive_through_both(stores: Pair, tmp_path: Path) -> None:
    first, second = _pair(stores, tmp_path, max_total_bytes=1000)
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
    first, second, upload = _upload(stores, tmp_path)
    listed = [(1, first.put_part(upload, 1, b"x" * 100)), (2, tag)]
    with pytest.raises(StorageError) as refused:
        second.complete_multipart(upload, listed)
    assert (refused.value.status, str(refused.value)) == (
        400,
        "Part 2 is missing or its ETag does not match",
    )
    assert first.read(first.complete_multipart(upload, listed[:1])) == b"x" * 100


def test_a_part_over_the_quota_is_refused(stores: Pair, tmp_path: Path) -> None:
    first, second = _pair(stores, tmp_path, max_total_bytes=10, max_file_bytes=8)
    upload = first.start_multipart("f", "text/plain")
    second.put_part(upload, 1, b"12345")
    with pytest.raises(StorageError) as too_big:
        first.put_part(upload, 2, b"6789")
    assert too_big.value.status == 413
    second.put(b"1234", "text/plain", "other")
    with pytest.raises(StorageError) as full:
        second.put_part(upload, 2, b"67")
    assert full.value.status == 507


def test_clear_forgets_everything_everywhere(stores: Pair, tmp_path: Path) -> None:
    first, second = _pair(stores, tmp_path)
    stored = first.put(b"y" * 100, "text/plain", "y", owner="k")
    ticket = first.reserve("z", "text/plain")
    upload = first.start_multipart("m", "text/plain")
    first.put_part(upload, 1, b"part")
    second.clear()
    assert first.get(stored.id) is None
    assert list((tmp_path / "uploads").iterdir()) == []
    assert stores[0].do("get", "files:total") is None
    with pytest.raises(StorageError):
        first.fulfil(ticket, b"late")
    with pytest.raises(StorageError):
        first.put_part(upload, 2, b"late")


def test_waiting_uploads_are_bounded(
    stores: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("emulator.core.files.MAX_WAITING", 2)
    first, second = _pair(stores, tmp_path)
    oldest = first.start_multipart("a", "text/plain")
    first.put_part(oldest, 1, b"abc")
    tickets = [second.reserve("b", "text/plain") for _ in range(2)]
    with pytest.raises(StorageError):
        first.put_part(oldest, 2, b"d")  # dropped, its part's bytes released
    assert int(stores[0].do("get", "files:total")) == 0
    assert second.fulfil(tickets[-1], b"ok").size == 2


def test_a_key_refused_its_first_upload_leaves_no_count_behind(
    stores: Pair, tmp_path: Path
) -> None:
    first, _ = _pair(stores, tmp_path, max_owner_bytes=5)
    with pytest.raises(StorageError):
        first.put(b"0123456789", "text/plain", "f", owner="passing")
    assert stores[0].do("get", "files:owner:passing") is None


@pytest.mark.parametrize("fatal", range(1, 8))
def test_a_process_dying_as_it_drops_a_waiting_upload_leaves_no_bytes_counted(
    stores: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fatal: int
) -> None:
    monkeypatch.setattr("emulator.core.files.MAX_WAITING", 1)
    first, _ = _pair(stores, tmp_path)
    upload = first.start_multipart("a", "text/plain", owner="k")
    first.put_part(upload, 1, b"x" * 100)  # over the inline limit: a file on disk
    dying = _on(shared_stores.Dying(stores[1], fatal), tmp_path)  # type: ignore[arg-type]
    with contextlib.suppress(StoreUnavailable):
        dying.reserve("b", "text/plain", owner="k")  # the multipart is dropped to make room
    waiting = f"m:{upload}" in stores[0].do("zrange", "files:waiting", 0, -1)
    counted = int(stores[0].do("get", "files:total") or 0)
    assert counted == (100 if waiting else 0)
    assert int(stores[0].do("get", "files:owner:k") or 0) == counted


@pytest.mark.parametrize("fatal", range(1, 7))
def test_a_completion_cut_short_by_a_dying_process_is_taken_over_by_a_retry(
    stores: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fatal: int
) -> None:
    # The process dies before its ``fatal``-th round trip of the completion: reading the
    # upload, claiming it, reading it again, reading its parts, keeping the file (or after
    # it all).
    monkeypatch.setattr("emulator.core.shared_multipart.COMPLETION_LEASE", 0.0)  # at once
    first, second, upload = _upload(stores, tmp_path)
    parts = [(1, first.put_part(upload, 1, b"x" * 100)), (2, first.put_part(upload, 2, b"yz"))]
    first.put_part(upload, 3, b"not listed")  # kept, counted, and dropped on completion
    dying = _on(shared_stores.Dying(stores[1], fatal), tmp_path)  # type: ignore[arg-type]
    try:
        completed = dying.complete_multipart(upload, parts)
    except StoreUnavailable:
        completed = second.complete_multipart(upload, parts)  # the client's retry
    else:
        with pytest.raises(StorageError) as gone:
            second.complete_multipart(upload, parts)
        assert gone.value.status == 404
    assert first.read(completed) == b"x" * 100 + b"yz"
    # the parts became the file: counted once, as the file's bytes; nothing else is left
    assert int(stores[0].do("get", "files:total")) == 102
    assert int(stores[0].do("get", "files:owner:k")) == 102
    assert stores[0].do("hgetall", f"files:multipart:{upload}") == {}
    assert stores[0].do("zrange", "files:waiting", 0, -1) == []
    assert stores[0].do("zrange", "files:completing", 0, -1) == []
    kept = [p.name for p in (tmp_path / "uploads").iterdir()]  # named after its lease
    assert len(kept) == 1 and kept[0].startswith(f"{completed.id}-")


def test_a_live_completion_is_not_taken_over(
    stores: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second, upload = _upload(stores, tmp_path)
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
    first, second, upload = _upload(stores, tmp_path)
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


# -- review of 8f29775 (branch review-lease): interleavings the lease does not cover -------


class _Stalling(shared_stores.Dying):
    """``store`` as a process sees it that stalls just after its ``after``-th round trip
    while ``meanwhile`` runs (another process's work, interleaved there)."""

    def __init__(self, store: Store, after: int, meanwhile: Callable[[], object]) -> None:
        super().__init__(store, fatal=0)
        self.after, self.meanwhile = after, meanwhile

    def batch(self, ops: Sequence[Op]) -> list[Any]:
        return self._then(self.store.batch(ops))

    def guarded(self, guard: Op, ops: Sequence[Op]) -> list[Any] | None:
        return self._then(self.store.guarded(guard, ops))

    def _then(self, answer: Any) -> Any:
        self.trips += 1
        if self.trips == self.after:
            self.meanwhile()
        return answer


class _Flaky(shared_stores.Dying):
    """``store`` with only its ``fatal``-th round trip failing (a blip, not a death)."""

    def _trip(self) -> None:
        self.trips += 1
        if self.trips == self.fatal:
            raise StoreUnavailable("a blip")


def test_a_file_grown_past_the_limit_by_racing_parts_is_refused_on_completion(
    stores: Pair, tmp_path: Path
) -> None:
    # Two parts uploaded at once each pass the size check (each sees the other's absent);
    # the completion used to refuse the file they make (413), as the in-process one does.
    first, second = _pair(stores, tmp_path, max_file_bytes=150)
    upload = first.start_multipart("a.bin", "application/octet-stream", owner="k")
    tags: dict[int, str] = {}
    racing = _on(  # its part 1 read the upload's size, then part 2 arrived
        _Stalling(stores[1], 1, lambda: tags.setdefault(2, second.put_part(upload, 2, b"y" * 100))),  # type: ignore[arg-type]
        tmp_path,
        max_file_bytes=150,
    )
    tags[1] = racing.put_part(upload, 1, b"x" * 100)
    with pytest.raises(StorageError) as too_big:
        first.complete_multipart(upload, sorted(tags.items()))
    assert too_big.value.status == 413


@pytest.mark.parametrize("stall_after", [2, 4])
def test_a_live_completion_outlasts_the_uploads_that_wait_after_it(
    stores: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stall_after: int
) -> None:
    # Newer uploads arrive while its holder, alive, is between claiming (trip 2) and
    # reading the parts (4), or reading and keeping (5): the waiting bound drops the
    # oldest waiting upload, never a completion's lease (once one did: a 500, a file left).
    monkeypatch.setattr("emulator.core.files.MAX_WAITING", 1)
    first, second, upload = _upload(stores, tmp_path)
    contents = [b"x" * 60, b"y" * 60] + ([b"z" * 100] if stall_after == 2 else [])
    parts = [(n, first.put_part(upload, n, data)) for n, data in enumerate(contents, 1)]
    holder = _on(
        _Stalling(stores[1], stall_after, lambda: second.reserve("b", "text/plain")), tmp_path
    )  # type: ignore[arg-type]
    stored = holder.complete_multipart(upload, parts)
    assert first.read(stored) == b"".join(contents)
    assert int(stores[0].do("get", "files:total")) == stored.size
    assert [name.split("-")[0] for name in _left_on_disk(tmp_path)] == [upload]


def test_a_completion_taken_over_while_it_stalled_answers_404(
    stores: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("emulator.core.shared_multipart.COMPLETION_LEASE", 0.0)  # it ran out
    first, second, upload = _upload(stores, tmp_path)
    parts = [(1, first.put_part(upload, 1, b"x" * 100)), (2, first.put_part(upload, 2, b"yz"))]
    done: list[object] = []
    stalled = _on(  # claimed (trip 2), then stalled while the client's retry completed it
        _Stalling(stores[1], 2, lambda: done.append(second.complete_multipart(upload, parts))),  # type: ignore[arg-type]
        tmp_path,
    )
    with pytest.raises(StorageError) as taken:
        stalled.complete_multipart(upload, parts)  # not a FileNotFoundError (a 500)
    assert taken.value.status == 404
    assert first.read(done[0]) == b"x" * 100 + b"yz"  # type: ignore[arg-type]


def test_a_completion_failing_after_it_wrote_the_file_leaves_no_file_once_dropped(
    stores: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its last step (trip 5) fails after the file's bytes went to disk; the lease is given
    # back (trip 6); the client never retries and the upload is dropped as the oldest.
    monkeypatch.setattr("emulator.core.files.MAX_WAITING", 1)
    first, second, upload = _upload(stores, tmp_path)
    parts = [(1, first.put_part(upload, 1, b"x" * 60)), (2, first.put_part(upload, 2, b"y" * 60))]
    with pytest.raises(StoreUnavailable):
        _on(_Flaky(stores[1], 5), tmp_path).complete_multipart(upload, parts)  # type: ignore[arg-type]
    assert f"m:{upload}" in stores[0].do("zrange", "files:waiting", 0, -1)  # it waits again
    second.reserve("b", "text/plain", owner="k")  # and is dropped
    assert int(stores[0].do("get", "files:total") or 0) == 0
    assert _left_on_disk(tmp_path) == []


def test_a_part_uploaded_while_the_upload_completes_stays_neither_counted_nor_kept(
    stores: Pair, tmp_path: Path
) -> None:
    first, second, upload = _upload(stores, tmp_path)
    parts = [(1, first.put_part(upload, 1, b"x" * 10))]
    completing = _on(  # read the upload (trip 1), then a late part arrived, not listed
        _Stalling(stores[1], 1, lambda: second.put_part(upload, 2, b"late" * 30)),  # type: ignore[arg-type]
        tmp_path,
    )
    stored = completing.complete_multipart(upload, parts)
    assert first.read(stored) == b"x" * 10
    assert int(stores[0].do("get", "files:total")) == 10  # the late part's bytes released
    assert _left_on_disk(tmp_path) == []  # and its file (120 bytes: on disk) removed


def test_a_guarded_set_keeps_big_binary_values_as_a_batch_does(stores: Pair) -> None:
    value = bytes(range(256)) * 8192  # 2 MiB, every byte value
    stores[0].do("zadd", "due", "a", 1.0)
    assert stores[0].guarded(("zrem", "due", "a"), [("set", "big", value)]) == [True]
    assert stores[1].do("get", "big") == value


def test_a_stalled_completion_taken_over_does_not_overwrite_the_file_it_lost(
    stores: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The stalled process read parts 1-3 (trip 4); the retry, listing 1-2, took it over
    # and kept a 120-byte file on disk; the stalled one then writes its 180 bytes there.
    monkeypatch.setattr("emulator.core.shared_multipart.COMPLETION_LEASE", 0.0)  # it ran out
    first, second, upload = _upload(stores, tmp_path)
    parts = [(n, first.put_part(upload, n, bytes([96 + n]) * 60)) for n in (1, 2, 3)]
    done: list[StoredFile] = []
    stalled = _on(
        _Stalling(stores[1], 4, lambda: done.append(second.complete_multipart(upload, parts[:2]))),  # type: ignore[arg-type]
        tmp_path,
    )
    with pytest.raises(StorageError):
        stalled.complete_multipart(upload, parts)
    assert first.get(upload) == done[0]
    assert first.read(done[0]) == b"a" * 60 + b"b" * 60  # what its size and ETag say


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
    first, second, upload = _upload(stores, tmp_path)
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
    assert len(_left_on_disk(tmp_path)) == 1  # the file alone: no part left behind


# -- review of 1a07eff (branch review-lease2) ------------------------------------------------


def test_a_big_part_replaced_by_a_small_one_leaves_no_file_on_disk(
    stores: Pair, tmp_path: Path
) -> None:
    # Part 1 first went to disk (100 bytes), then was sent again small enough to be inline:
    # nothing refers to the first file any more, and nothing removes it (not even a reset).
    first, second, upload = _upload(stores, tmp_path)
    first.put_part(upload, 1, b"x" * 100)
    parts = [(1, second.put_part(upload, 1, b"small"))]
    assert first.read(first.complete_multipart(upload, parts)) == b"small"
    assert int(stores[0].do("get", "files:total")) == 5
    second.clear()
    assert _left_on_disk(tmp_path) == []


@pytest.mark.parametrize("sizes", [(100, 200), (200, 100), (5, 100), (100, 5)])
def test_a_part_put_twice_at_once_is_counted_and_kept_once(
    stores: Pair, tmp_path: Path, sizes: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A client retries a part while its first try is still in flight: the retry read the
    # upload before the first try was kept, so it replaces a part it never saw.
    first, second, upload = _upload(stores, tmp_path)
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
    on_disk = [name for name in _left_on_disk(tmp_path) if not name.startswith(".")]
    assert len(on_disk) == 1 + (sizes[1] > 64)  # part 2, and part 1 if not inline
    parts.append((2, etag(b"z" * 100)))
    stored = first.complete_multipart(upload, parts)
    assert first.read(stored) == b"b" * sizes[1] + b"z" * 100
    assert int(stores[0].do("get", "files:total")) == 100 + sizes[1]
    assert [name.split("-")[0] for name in _left_on_disk(tmp_path)] == [stored.id]


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
    first, _, upload = _upload(stores, tmp_path)
    for number in range(1, 51):
        first.put_part(upload, number, b"p")
    reading = _Reading(stores[1])
    _on(reading, tmp_path).put_part(upload, 51, b"p")
    read = [op for op in reading.sent if op[0] in ("hgetall", "hmget")]
    assert read and all(op[0] == "hmget" and len(op) <= 6 for op in read)


def _a_part_put_as_its_upload_is_dropped(
    stores: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Storage, str]:
    """A part read its upload (trip 1) and counted its bytes (2); the upload was then
    dropped as the oldest waiting (another process's new upload), before the part was
    kept (3)."""
    monkeypatch.setattr("emulator.core.files.MAX_WAITING", 1)
    first, second, upload = _upload(stores, tmp_path)
    late = _on(
        _Stalling(stores[1], 2, lambda: second.reserve("b", "text/plain", owner="k")),  # type: ignore[arg-type]
        tmp_path,
    )
    with contextlib.suppress(StorageError):
        late.put_part(upload, 1, b"x" * 100)  # on disk
    return first, upload


def test_a_part_put_as_its_upload_is_dropped_is_neither_counted_nor_kept(
    stores: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _ = _a_part_put_as_its_upload_is_dropped(stores, tmp_path, monkeypatch)
    assert int(stores[0].do("get", "files:total") or 0) == 0  # its bytes released
    first.clear()  # and at the latest a reset removes its file
    assert _left_on_disk(tmp_path) == []


def test_a_part_put_to_an_upload_dropped_under_a_racing_part_is_a_404(
    stores: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The racing part's keeping wrote the upload's hash again, with no name or owner.
    first, upload = _a_part_put_as_its_upload_is_dropped(stores, tmp_path, monkeypatch)
    with pytest.raises(StorageError) as gone:  # not a KeyError (a 500)
        first.put_part(upload, 2, b"y")
    assert gone.value.status == 404


@pytest.mark.parametrize("size", [5, 100])  # kept inline, and on disk
def test_a_part_kept_as_its_upload_is_dropped_leaves_nothing_counted_nor_kept(
    stores: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    # The drop (to make room for another upload) read the upload (trip 4 of the reserve),
    # a part was then kept, and the drop forgot the upload as it had read it.
    monkeypatch.setattr("emulator.core.files.MAX_WAITING", 1)
    _, second, upload = _upload(stores, tmp_path)
    part = lambda: second.put_part(upload, 1, b"x" * size)  # noqa: E731
    dropping = _on(_Stalling(stores[1], 4, part), tmp_path)  # type: ignore[arg-type]
    dropping.reserve("b", "text/plain", owner="k")
    assert second._shared is not None and second._shared.multipart.upload(upload) is None  # dropped
    assert int(stores[0].do("get", "files:total") or 0) == 0
    assert stores[0].do("get", "files:owner:k") is None
    assert stores[0].do("get", f"files:part:{upload}:1") is None
    assert [name for name in _left_on_disk(tmp_path) if not name.startswith(".")] == []


class _Killed(BaseException):
    """The process was killed (SIGKILL, OOM): nothing more runs in it."""


class _KilledAfter(shared_stores.Dying):
    """``store`` as a process sees it that is killed just after its ``fatal``-th round
    trip reached the store (and its answer came back): nothing after it runs."""

    def batch(self, ops: Sequence[Op]) -> list[Any]:
        return self._then(lambda: self.store.batch(ops))

    def guarded(self, guard: Op, ops: Sequence[Op]) -> list[Any] | None:
        return self._then(lambda: self.store.guarded(guard, ops))

    def _then(self, trip: Callable[[], Any]) -> Any:
        if self.trips >= self.fatal:
            raise _Killed
        answer, self.trips = trip(), self.trips + 1
        if self.trips == self.fatal:
            raise _Killed
        return answer


def test_a_process_killed_just_after_it_completes_an_upload_leaves_no_part_on_disk(
    stores: Pair, tmp_path: Path
) -> None:
    # Its last step (trip 5) kept the file and forgot the parts in the store; it was
    # killed before it removed the parts' files. Nothing refers to them; a reset keeps them.
    first, second, upload = _upload(stores, tmp_path)
    parts = [(1, first.put_part(upload, 1, b"x" * 100))]
    with pytest.raises(_Killed):
        _on(_KilledAfter(stores[1], 5), tmp_path).complete_multipart(upload, parts)  # type: ignore[arg-type]
    assert first.read(first.get(upload) or StoredFile(upload, "", "", 0)) == b"x" * 100
    second.clear()
    assert _left_on_disk(tmp_path) == []


class _CuttingProxy:
    """A loopback TCP proxy to Redis that, once armed, forwards the next script call
    (EVALSHA) and then cuts the connection before its answer reaches the client: the
    store ran it, the client never heard (a reset, or a reply later than the timeout)."""

    def __init__(self, target: str) -> None:
        host, _, port = target.rpartition("//")[2].partition("/")[0].rpartition(":")
        self.target = (host, int(port))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"redis://127.0.0.1:{self.listener.getsockname()[1]}"
        self.armed, self.cuts = False, 0
        self.accepting = threading.Thread(target=self._accept, daemon=True)
        self.accepting.start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = self.listener.accept()
                server = socket.create_connection(self.target, timeout=5)
                threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        cutting = False
        with client, server, selectors.DefaultSelector() as sel:
            sel.register(client, selectors.EVENT_READ, server)
            sel.register(server, selectors.EVENT_READ, client)
            while events := sel.select(timeout=5):  # idle that long: the test is over
                for key, _ in events:
                    data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                    if not data:
                        return
                    if key.fileobj is client and self.armed and b"EVALSHA" in data:
                        self.armed, cutting = False, True
                    elif key.fileobj is server and cutting:
                        self.cuts += 1
                        return  # the answer is dropped, both connections closed
                    key.data.sendall(data)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread: it ends
        self.listener.close()


def test_a_completion_whose_answer_was_lost_leaves_no_part_on_disk(
    session_redis: str, tmp_path: Path
) -> None:
    # The last step (trip 4) ran in Redis (the file kept, the parts forgotten), but the
    # connection broke before its answer came back: a 503, the lease is not given back
    # (it is gone), and the part's file, which nothing refers to, stays; a reset keeps it.
    prefix = f"?prefix=t{secrets.token_hex(4)}"
    proxy = _CuttingProxy(session_redis)
    direct, proxied = open_store(session_redis + prefix), open_store(proxy.url + prefix)
    try:
        first = _on(direct, tmp_path)
        upload = first.start_multipart("a.bin", "application/octet-stream", owner="k")
        parts = [(1, first.put_part(upload, 1, b"x" * 100))]
        arm = lambda: setattr(proxy, "armed", True)  # noqa: E731
        with pytest.raises(StoreUnavailable):
            _on(_Stalling(proxied, 3, arm), tmp_path).complete_multipart(upload, parts)  # type: ignore[arg-type]
        assert proxy.cuts == 1
        assert first.read(first.get(upload) or StoredFile(upload, "", "", 0)) == b"x" * 100
        first.clear()
        assert _left_on_disk(tmp_path) == []
    finally:
        direct.flush()
        proxied.close()
        direct.close()
        proxy.close()
        proxy.accepting.join(timeout=5)


def test_a_retry_after_the_lease_ran_out_takes_over_though_another_upload_waited_first(
    stores: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The docs: a dead worker's completion is taken over by the client's retry once the
    # lease has run out, "and otherwise" dropped by the next upload that waits. On a busy
    # server another upload almost always waits first, and the sweep drops it then: the
    # retry (all its parts sent, its ETags right) is answered 404, the upload lost.
    monkeypatch.setattr("emulator.core.shared_multipart.COMPLETION_LEASE", 0.0)  # it ran out
    first, second, upload = _upload(stores, tmp_path)
    parts = [(1, first.put_part(upload, 1, b"x" * 100))]
    with pytest.raises(StoreUnavailable):  # died after its claim (trip 2)
        _on(shared_stores.Dying(stores[1], 3), tmp_path).complete_multipart(upload, parts)  # type: ignore[arg-type]
    second.reserve("other.png", "image/png", owner="another")  # someone else's upload
    assert first.read(second.complete_multipart(upload, parts)) == b"x" * 100
