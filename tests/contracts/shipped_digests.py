"""Writes `emulator/contracts/shipped.py`: the SHA-256 of every shipped contract document,
by which a document loads unchecked (the suite checks these; any other is checked as it
loads). After changing a shipped document:

    .venv/bin/python tests/contracts/shipped_digests.py --write
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from emulator.contracts.loading import DEFAULT_CONTRACTS_DIR

MODULE = Path(__file__).resolve().parents[2] / "emulator" / "contracts" / "shipped.py"
HEADER = '''# ruff: noqa: E501 (generated: one document a line)
"""The shipped contract documents (by path under the contracts folder) and the SHA-256 of
each: a document that matches loads unchecked, as the test suite checks it; any other (one
added to the folder, or changed) is checked as it loads. Written by
``tests/contracts/shipped_digests.py --write``; a test keeps it current."""

SHIPPED = {
'''


def digests(root: Path = DEFAULT_CONTRACTS_DIR) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*.json"))
    }


def module_text() -> str:
    rows = "".join(f'    "{name}": "{digest}",\n' for name, digest in digests().items())
    return HEADER + rows + "}\n"


if __name__ == "__main__":
    if "--write" in sys.argv:
        MODULE.write_text(module_text())
    print(f"{len(digests())} shipped documents")
