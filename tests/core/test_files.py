from pathlib import Path

import pytest

from emulator.core.files import Storage, StorageError, etag, safe_name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("a b?.png", "a_b_.png"),
        ("...", "upload.bin"),
        (None, "upload.bin"),
        ("x" * 300, "x" * 128),
        ("/", "upload.bin"),
    ],
)
def test_names_are_made_harmless(name: str | None, expected: str) -> None:
    assert safe_name(name) == expected


def test_files_on_disk_stay_inside_the_directory(tmp_path: Path) -> None:
    storage = Storage(directory=tmp_path / "files")
    stored = storage.put(b"data", "text/plain", "../../escape.txt")
    assert [p.name for p in (tmp_path / "files").iterdir()] == [stored.id]
    assert not (tmp_path / "escape.txt").exists()
    assert storage.read(stored) == b"data"
    storage.clear()
    assert list((tmp_path / "files").iterdir()) == []


def test_limits_per_file_and_in_total() -> None:
    storage = Storage(max_file_bytes=10, max_total_bytes=15)
    with pytest.raises(StorageError) as too_big:
        storage.put(b"x" * 11, "a/b", "f")
    assert too_big.value.status == 413
    storage.put(b"x" * 10, "a/b", "f")
    with pytest.raises(StorageError) as full:
        storage.put(b"x" * 6, "a/b", "g")
    assert full.value.status == 507


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
    stored = storage.complete_multipart(upload, [(2, tags[2]), (1, tags[1])])
    assert storage.read(stored) == b"hello world"
    with pytest.raises(StorageError):
        storage.put_part("nope", 1, b"x")
    with pytest.raises(StorageError):
        storage.put_part(storage.start_multipart("x", "y"), 0, b"x")
