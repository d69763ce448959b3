"""A folder this process cannot write, for the tests of a storage folder that refuses
uploads (a volume mounted root's, a disk gone read-only): as root, whom permissions do not
stop, an immutable one (``chattr +i``); else one without write permission. Made writable
again when the test ends, so that its temporary folder can be removed."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def unwritable(folder: Path) -> Iterator[Path]:
    """``folder`` (made if need be), unwritable while the block runs."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield folder
        finally:
            folder.chmod(0o755)
        return
    chattr = shutil.which("chattr")
    if chattr is None:
        pytest.skip("chattr (e2fsprogs) is not installed: as root, no folder is unwritable")
    made = subprocess.run([chattr, "+i", str(folder)], capture_output=True, timeout=10)
    if made.returncode != 0:  # a file system without the attribute (tmpfs), a container
        pytest.skip(f"chattr +i is refused here: {made.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run([chattr, "-i", str(folder)], check=True, timeout=10)
