"""Uploads in a shared store: two `Storage`s on one store act as one, on every store.

Multipart uploads: `test_shared_multipart` and `test_shared_multipart_races`."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from emulator.core.clock import ManualClock
from emulator.core.files import Storage
from emulator.core.stored_files import StorageError
from tests import shared_stores
from tests.core.shared_storage import Pair, storage_pair
from tests.unwritable import unwritable

stores = shared_stores.stores  # the fixture: every test on memory, SQLite and Redis
session_redis = shared_stores.session_redis


def test_an_upload_through_one_is_served_by_the_other(stores: Pair, tmp_path: Path) -> None:
    first, second = storage_pair(stores, tmp_path)
    small = first.put(b"tiny", "text/plain", "../a b.txt", owner="k")
    large = first.put(b"x" * 1000, "image/png; q=1", "big.png", owner="k")
    assert second.get(small.id) == small
    assert second.get(large.id) == large
    assert (second.read(small), second.read(large)) == (b"tiny", b"x" * 1000)
    # inline bytes never touch the directory; large ones are one file, named by id
    assert [p.name for p in (tmp_path / "uploads").iterdir()] == [large.id]
    assert second.get("0" * 24) is None


def test_a_restarted_process_serves_what_it_handed_out(stores: Pair, tmp_path: Path) -> None:
    first, _ = storage_pair(stores, tmp_path)
    stored = first.put(b"kept", "text/plain", "kept.txt")
    reborn = Storage(store=stores[1], directory=tmp_path / "uploads")
    assert reborn.read(reborn.get(stored.id) or stored) == b"kept"


def test_a_reserved_upload_is_fulfilled_once_anywhere(stores: Pair, tmp_path: Path) -> None:
    first, second = storage_pair(stores, tmp_path)
    ticket = first.reserve("photo.jpg", "image/jpeg", owner="k")
    stored = second.fulfil(ticket, b"jpeg bytes")
    assert (stored.id, stored.name, stored.content_type) == (ticket, "photo.jpg", "image/jpeg")
    assert first.read(stored) == b"jpeg bytes"
    with pytest.raises(StorageError) as refused:
        first.fulfil(ticket, b"again")
    assert refused.value.status == 404


def test_a_reserved_uploads_declared_size_holds_anywhere(stores: Pair, tmp_path: Path) -> None:
    first, second = storage_pair(stores, tmp_path)
    ticket = first.reserve("photo.jpg", "image/jpeg", owner="k", size=4)
    with pytest.raises(StorageError) as refused:
        second.fulfil(ticket, b"five!")
    assert refused.value.status == 400
    with pytest.raises(StorageError) as refused:
        first.fulfil(ticket, b"four", "text/html")
    assert refused.value.status == 403
    # refused twice, the ticket waits still, on either handle
    assert first.fulfil(ticket, b"four", "image/jpeg").size == 4


def test_quotas_hold_for_both_together(stores: Pair, tmp_path: Path) -> None:
    first, second = storage_pair(stores, tmp_path, max_total_bytes=100, max_owner_bytes=60)

    def upload(n: int) -> bool:
        try:
            (first, second)[n % 2].put(b"0123456789", "text/plain", "f", owner=f"k{n % 3}")
        except StorageError as refused:
            assert refused.status == 507
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        accepted = sum(pool.map(upload, range(40)))
    kept = stores[0].do("zrange", "files:index", 0, -1)  # a key's oldest made room for more
    assert 0 < len(kept) <= 10 and accepted >= len(kept)
    assert int(stores[0].do("get", "files:total")) == 10 * len(kept)
    for owner in ("k0", "k1", "k2"):
        assert int(stores[0].do("get", f"files:owner:{owner}") or 0) <= 60


def test_clear_forgets_everything_everywhere(stores: Pair, tmp_path: Path) -> None:
    first, second = storage_pair(stores, tmp_path)
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
    first, second = storage_pair(stores, tmp_path)
    oldest = first.start_multipart("a", "text/plain")
    first.put_part(oldest, 1, b"abc")
    tickets = [second.reserve("b", "text/plain") for _ in range(2)]
    with pytest.raises(StorageError):
        first.put_part(oldest, 2, b"d")  # dropped, its part's bytes released
    assert int(stores[0].do("get", "files:total")) == 0
    assert second.fulfil(tickets[-1], b"ok").size == 2


def test_a_ticket_given_back_waits_within_the_bound(
    stores: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("emulator.core.files.MAX_WAITING", 2)
    first, second = storage_pair(stores, tmp_path)
    refused, oldest = first.reserve("n", "a/b"), first.reserve("n", "a/b")
    meanwhile = []

    def full(*args: object, **kwargs: object) -> None:
        meanwhile.append(first.reserve("n", "a/b"))  # another worker's, while this PUT works
        raise StorageError(507, "full")

    monkeypatch.setattr(second, "put", full)
    with pytest.raises(StorageError):
        second.fulfil(refused, b"x")
    assert stores[0].do("zcard", "files:waiting") == 2
    with pytest.raises(StorageError):
        first.fulfil(oldest, b"x")  # dropped for the one given back
    monkeypatch.undo()  # the PUT as it was (the bound is the storages' own already)
    assert second.fulfil(refused, b"1").size == first.fulfil(meanwhile[0], b"1").size == 1


def test_a_key_refused_its_first_upload_leaves_no_count_behind(
    stores: Pair, tmp_path: Path
) -> None:
    first, _ = storage_pair(stores, tmp_path, max_owner_bytes=5)
    with pytest.raises(StorageError):
        first.put(b"0123456789", "text/plain", "f", owner="passing")
    assert stores[0].do("get", "files:owner:passing") is None


def test_a_folder_that_refuses_a_large_file_is_a_507_with_nothing_counted(
    stores: Pair, tmp_path: Path
) -> None:
    first, second = storage_pair(stores, tmp_path, max_owner_bytes=100)
    with unwritable(tmp_path / "uploads"), pytest.raises(StorageError) as refused:
        first.put(b"x" * 100, "a/b", "big.bin", owner="k")  # beyond the inline 64 bytes
    assert refused.value.status == 507 and "cannot write uploads" in refused.value.message
    assert stores[0].do("get", "files:owner:k") in (None, b"0")
    assert second.read(first.put(b"x" * 100, "a/b", "big.bin", owner="k")) == b"x" * 100


def test_a_keys_oldest_uploads_make_room_for_its_next_anywhere(
    stores: Pair, tmp_path: Path
) -> None:
    """A key that had uploaded its budget in all was refused every upload for good."""
    first, second = storage_pair(stores, tmp_path, max_owner_bytes=200)
    on_disk = first.put(b"a" * 100, "text/plain", "a", owner="k")  # past 64 bytes: on disk
    inline = second.put(b"b" * 50, "text/plain", "b", owner="k")
    theirs = first.put(b"c" * 150, "text/plain", "c", owner="another key")
    newest = second.put(b"d" * 100, "text/plain", "d", owner="k")  # only the oldest goes
    assert first.get(on_disk.id) is None and first.read(on_disk) is None
    assert on_disk.id not in [p.name for p in (tmp_path / "uploads").iterdir()]
    assert [first.read(f) for f in (inline, theirs, newest)] == [b"b" * 50, b"c" * 150, b"d" * 100]
    assert int(stores[0].do("get", "files:owner:k")) == 150
    first.put(b"e" * 200, "text/plain", "e", owner="k")  # its whole budget: both go
    assert second.get(inline.id) is None and second.get(newest.id) is None
    with pytest.raises(StorageError) as refused:  # more than its budget: refused, none dropped
        second.put(b"f" * 201, "text/plain", "f", owner="k")
    assert refused.value.status == 507 and "key's uploads are full" in refused.value.message
    assert int(stores[0].do("get", "files:owner:k")) == 200
    assert int(stores[0].do("get", "files:total")) == 350
    assert second.get(theirs.id) is not None


def test_uploads_expire_with_the_retention_anywhere(stores: Pair, tmp_path: Path) -> None:
    """They were kept until a reset, whatever ``--retention`` said."""
    clock = ManualClock()
    first, second = storage_pair(stores, tmp_path, retention=60, now=clock.now)
    old = first.put(b"a" * 100, "text/plain", "a", owner="k")
    clock.advance(30)
    kept = first.put(b"b" * 10, "text/plain", "b", owner="k")
    clock.advance(31)
    assert second.get(old.id) is None and second.get(kept.id) == kept
    second.put(b"c", "text/plain", "c", owner="another key")  # an upload drops what expired
    assert int(stores[0].do("get", "files:owner:k")) == 10
    assert old.id not in [p.name for p in (tmp_path / "uploads").iterdir()]
    second.clear()  # a reset forgets a key's files in order too
    assert stores[0].do("zrange", "files:owned:k", 0, -1) == []
