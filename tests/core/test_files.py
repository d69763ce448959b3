from pathlib import Path

import pytest

from emulator.core.clock import ManualClock
from emulator.core.files import Storage
from emulator.core.stored_files import StorageError, etag
from tests.unwritable import unwritable


def test_files_on_disk_stay_inside_the_directory(tmp_path: Path) -> None:
    storage = Storage(directory=tmp_path / "files")
    stored = storage.put(b"data", "text/plain", "../../escape.txt")
    assert [p.name for p in (tmp_path / "files").iterdir()] == [stored.id]
    assert not (tmp_path / "escape.txt").exists()
    assert storage.read(stored) == b"data"
    storage.clear()
    assert list((tmp_path / "files").iterdir()) == []


def test_limits_per_file_and_in_total() -> None:
    storage = Storage(max_file_bytes=10, max_total_bytes=15, max_owner_bytes=10)
    with pytest.raises(StorageError) as too_big:
        storage.put(b"x" * 11, "a/b", "f")
    assert too_big.value.status == 413
    storage.put(b"x" * 10, "a/b", "f", owner="one")
    with pytest.raises(StorageError) as full:  # within its own key's budget, not the total
        storage.put(b"x" * 6, "a/b", "g", owner="another")
    assert full.value.status == 507 and "Storage is full" in full.value.message


def test_reservations_are_used_once() -> None:
    storage = Storage()
    file_id = storage.reserve("a.png", "image/png")
    assert storage.fulfil(file_id, b"png").content_type == "image/png"
    with pytest.raises(StorageError) as again:
        storage.fulfil(file_id, b"other")
    assert again.value.status == 404


def test_multipart_joins_parts_in_order_and_checks_etags() -> None:
    storage = Storage(max_file_bytes=100)
    upload = storage.start_multipart("big.bin", "application/octet-stream")
    tags = {n: storage.put_part(upload, n, data) for n, data in ((2, b"world"), (1, b"hello "))}
    with pytest.raises(StorageError):
        storage.complete_multipart(upload, [(1, tags[1]), (2, etag(b"other"))])
    with pytest.raises(StorageError, match="listed once"):  # a file of bytes never sent
        storage.complete_multipart(upload, [(1, tags[1]), (2, tags[2]), (1, tags[1])])
    stored = storage.complete_multipart(upload, [(2, tags[2]), (1, tags[1])])
    assert storage.read(stored) == b"hello world"
    with pytest.raises(StorageError):
        storage.put_part("nope", 1, b"x")
    with pytest.raises(StorageError):
        storage.put_part(storage.start_multipart("x", "y"), 0, b"x")


@pytest.mark.parametrize(
    ("max_file_bytes", "first", "second", "status"),
    [
        (8, b"12345", b"6789", 413),  # the file too big: it could never complete
        # its key's budget (a 507 kept the parts counted, and the key, storing nothing,
        # was refused every upload)
        (100, b"12345678", b"12345678", 507),
    ],
)
def test_a_refused_part_ends_its_upload_and_frees_its_bytes(
    max_file_bytes: int, first: bytes, second: bytes, status: int
) -> None:
    storage = Storage(max_file_bytes=max_file_bytes, max_owner_bytes=10)
    upload = storage.start_multipart("big.bin", "application/octet-stream", owner="k")
    storage.put_part(upload, 1, first)
    with pytest.raises(StorageError) as refused:
        storage.put_part(upload, 2, second)
    assert refused.value.status == status and "abandoned" in refused.value.message
    with pytest.raises(StorageError) as gone:
        storage.put_part(upload, 3, b"1")
    assert gone.value.status == 404
    storage.put(b"x" * 8, "text/plain", "whole", owner="k")  # the key's bytes are free


def test_one_owner_cannot_fill_the_store_for_everyone() -> None:
    storage = Storage(max_total_bytes=100, max_owner_bytes=60)
    first = storage.put(b"x" * 40, "text/plain", "a", owner="flood")
    storage.put(b"x" * 30, "text/plain", "b", owner="flood")  # its own oldest made room
    assert storage.get(first.id) is None
    with pytest.raises(StorageError) as refused:  # more than its whole budget: nothing dropped
        storage.put(b"x" * 61, "text/plain", "c", owner="flood")
    assert refused.value.status == 507 and "key" in refused.value.message
    storage.put(b"y" * 60, "text/plain", "d", owner="quiet")


def test_parts_in_progress_count_against_the_total() -> None:
    storage = Storage(max_total_bytes=100)
    upload = storage.start_multipart("big", "text/plain")
    storage.put_part(upload, 1, b"x" * 60)
    storage.put_part(upload, 2, b"x" * 30)
    with pytest.raises(StorageError):
        storage.put(b"z" * 20, "text/plain", "other")
    tag = storage.put_part(upload, 2, b"x" * 10)  # a part replaced frees what it held
    first = etag(b"x" * 60)
    stored = storage.complete_multipart(upload, [(1, first), (2, tag)])
    assert stored.size == 70
    storage.put(b"z" * 30, "text/plain", "fits")


def test_waiting_uploads_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("emulator.core.files.MAX_WAITING", 3)
    storage = Storage()
    tickets = [storage.reserve("n", "text/plain") for _ in range(5)]
    with pytest.raises(StorageError):
        storage.fulfil(tickets[0], b"late")
    storage.fulfil(tickets[-1], b"fine")


def test_a_ticket_given_back_waits_within_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """A refused PUT leaves its ticket waiting again, as the newest: the bound holds, with
    a ticket reserved while the PUT was at work too (the oldest is dropped)."""
    monkeypatch.setattr("emulator.core.files.MAX_WAITING", 2)
    storage = Storage()
    refused, oldest = storage.reserve("n", "a/b"), storage.reserve("n", "a/b")
    meanwhile = []

    def full(*args: object, **kwargs: object) -> None:
        meanwhile.append(storage.reserve("n", "a/b"))
        raise StorageError(507, "full")

    monkeypatch.setattr(storage, "put", full)
    with pytest.raises(StorageError):
        storage.fulfil(refused, b"x")
    monkeypatch.undo()
    with pytest.raises(StorageError):
        storage.fulfil(oldest, b"x")  # dropped for the one given back
    assert storage.fulfil(refused, b"1").size == storage.fulfil(meanwhile[0], b"1").size == 1


def test_a_folder_that_refuses_a_write_is_a_507_saying_so(tmp_path: Path) -> None:
    """Permissions changed, or the disk filled, since the storage was made: an error
    each provider answers in its own format, not an unforeseen one (a bare 500)."""
    storage = Storage(directory=tmp_path / "files", max_total_bytes=4)
    with unwritable(tmp_path / "files"), pytest.raises(StorageError) as refused:
        storage.put(b"data", "text/plain", "f.txt")
    assert refused.value.status == 507
    assert refused.value.message.startswith(
        f"The emulator cannot write uploads to its storage folder {tmp_path / 'files'}: "
    )
    assert storage.read(storage.put(b"data", "text/plain", "f.txt")) == b"data"  # none counted


@pytest.mark.parametrize("on_disk", [False, True])
def test_a_keys_oldest_finished_uploads_make_room_for_its_next(
    tmp_path: Path, on_disk: bool
) -> None:
    """A key that had uploaded its budget in all was refused every upload for good."""
    folder = tmp_path / "files" if on_disk else None
    storage = Storage(directory=folder, max_total_bytes=100, max_owner_bytes=10)
    empty = storage.put(b"", "text/plain", "empty", owner="k")  # counts for nothing
    oldest = storage.put(b"a" * 4, "text/plain", "a", owner="k")
    older = storage.put(b"b" * 4, "text/plain", "b", owner="k")
    theirs = storage.put(b"c" * 4, "text/plain", "c", owner="another key")
    newest = storage.put(b"d" * 5, "text/plain", "d", owner="k")  # only the oldest goes
    assert storage.get(oldest.id) is None and storage.read(oldest) is None
    assert storage.get(empty.id) is None  # older still
    assert [storage.read(f) for f in (older, theirs, newest)] == [b"b" * 4, b"c" * 4, b"d" * 5]
    if folder is not None:
        assert sorted(p.name for p in folder.iterdir()) == sorted([older.id, theirs.id, newest.id])
    storage.put(b"e" * 10, "text/plain", "e", owner="k")  # its whole budget: both go
    assert storage.get(older.id) is None and storage.get(newest.id) is None
    with pytest.raises(StorageError) as refused:  # more than its budget: refused, none dropped
        storage.put(b"f" * 11, "text/plain", "f", owner="k")
    assert refused.value.status == 507 and "key's uploads are full" in refused.value.message
    assert storage.get(theirs.id) is not None


def test_finished_uploads_expire_with_the_retention() -> None:
    """They were kept until a reset, whatever ``--retention`` said."""
    clock = ManualClock()
    storage = Storage(max_owner_bytes=10, retention=60, now=clock.now)
    first = storage.put(b"a" * 6, "text/plain", "a", owner="k")
    clock.advance(30)
    second = storage.put(b"b" * 4, "text/plain", "b", owner="k")
    clock.advance(31)
    assert storage.get(first.id) is None and storage.get(second.id) == second
    storage.put(b"c" * 6, "text/plain", "c", owner="k")  # the first's bytes were released
    assert storage.get(second.id) == second
    clock.advance(60)
    assert storage.get(second.id) is None
