"""The repository's style habits, checked with the rest of the suite."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_ruff_finds_nothing() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "emulator", "tests"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_public_modules_declare_their_api() -> None:
    for path in (ROOT / "emulator").rglob("*.py"):
        if path.name.startswith("_") and path.name != "__init__.py":
            continue
        if path.name == "__init__.py" and path.parent.name == "providers":
            continue
        assert "__all__" in path.read_text(), f"{path} has no __all__"
