"""`Storage`s on one shared store, as two worker processes have them: what the tests of
shared uploads (`test_shared_files`, `test_shared_multipart*`) build."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emulator.core.files import Storage
from emulator.core.store import Store

#: two handles on one store (the ``stores`` fixture of `tests.shared_stores`)
Pair = tuple[Store, Store]


def storage_on(store: Store, tmp_path: Path, **limits: Any) -> Storage:
    """A storage on ``store``, large files under ``tmp_path / "uploads"``."""
    options = {"directory": tmp_path / "uploads", "max_inline_upload_bytes": 64, **limits}
    return Storage(store=store, **options)


def storage_pair(stores: Pair, tmp_path: Path, **limits: Any) -> tuple[Storage, Storage]:
    """Two storages on one store, large files under ``tmp_path / "uploads"``."""
    one, two = stores
    return storage_on(one, tmp_path, **limits), storage_on(two, tmp_path, **limits)


def upload_started(stores: Pair, tmp_path: Path) -> tuple[Storage, Storage, str]:
    """`storage_pair`, and a multipart upload of key ``k`` started through the first."""
    first, second = storage_pair(stores, tmp_path)
    return first, second, first.start_multipart("a.bin", "application/octet-stream", owner="k")


def left_on_disk(tmp_path: Path) -> list[str]:
    """The names of the files in the storages' folder."""
    return sorted(p.name for p in (tmp_path / "uploads").iterdir())
