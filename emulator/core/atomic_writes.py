"""Files written whole or not at all: the data goes to a temporary file beside its path,
which then replaces it (``os.replace``), so that a reader, or another process writing the
same path, finds the old file or the new one, never part of one."""

from __future__ import annotations

import os
from pathlib import Path


def write_atomically(
    path: Path, data: str | bytes, *, mode: int = 0o600, prefix: str | None = None
) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` whole, the file made with ``mode`` (less
    the process's umask, as any new file; 0o600 by default, as `tempfile.mkstemp` makes
    one), its temporary name starting with ``prefix`` (``.{name}.`` by default)."""
    start = prefix if prefix is not None else f".{path.name}."
    temporary = path.with_name(start + os.urandom(8).hex())
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    handle = os.open(temporary, flags, mode)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data.encode() if isinstance(data, str) else data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
