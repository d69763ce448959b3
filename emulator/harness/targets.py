"""How a replay line names the client under test: ``MODULE:CALLABLE``, as the CLI will
import it from the directory the run started in.

The name a module has here is not always one the CLI can import. pytest imports a test
file under a name of its own, with the file's folder put on ``sys.path`` for the run
(``test_inline`` for ``tests/test_inline.py``): the CLI, started from the project root,
has no such entry. Such a module is named by its path from that root instead
(``tests.test_inline``), which the CLI finds there.
"""

from __future__ import annotations

import os
import site
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from emulator.harness.command import CommandClient

__all__ = ["client_target"]


def client_target(client: Callable[..., Any]) -> str:
    """How the replay line names ``client``: ``MODULE:NAME`` when importing that finds this
    very callable; else a placeholder that says why no command can import it. A command
    client is named by its command (``--command=…``)."""
    if isinstance(client, CommandClient):
        return client.target
    module_name = getattr(client, "__module__", None)
    module = sys.modules.get(module_name) if isinstance(module_name, str) else None
    qualname = getattr(client, "__qualname__", None)
    if module is None or module_name == "__main__":
        where = "in the script being run" if module is not None else "in no module"
        return f"<MODULE:CALLABLE: the client is defined {where}, where no import finds it>"
    assert isinstance(module_name, str)
    if isinstance(qualname, str):  # a function or class: its own name, if it leads back
        found: Any = module
        for part in qualname.split("."):
            found = getattr(found, part, None)
        if found is client:
            return f"{importable_name(module_name, module)}:{qualname}"
    # an object (a module-level instance) is found by the global that holds it
    for name, value in vars(module).items():
        if value is client:
            return f"{importable_name(module_name, module)}:{name}"
    what = qualname or type(client).__qualname__ + " object"  # a lambda, a local function…
    return f"<MODULE:CALLABLE: no import finds {what} in {module_name}>"


def importable_name(module_name: str, module: ModuleType) -> str:
    """``module``'s name as the CLI imports it from the current directory: its own, unless
    it was found on a ``sys.path`` entry only this run has (a test runner's), below this
    directory; then its path from here, when that spells a module name."""
    file = getattr(module, "__file__", None)
    if not isinstance(file, str):
        return module_name
    path, cwd = Path(file).resolve(), Path.cwd().resolve()
    entry = _entry_of(module_name, path)
    if entry is None or entry == cwd or not entry.is_relative_to(cwd) or entry in _lasting():
        return module_name
    parts = path.relative_to(cwd).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    if parts and all(part.isidentifier() for part in parts):
        return ".".join(parts)
    return module_name


def _entry_of(module_name: str, path: Path) -> Path | None:
    """The folder that ``module_name`` at ``path`` is found from (None for a module a path
    does not spell, as an import hook's)."""
    names = module_name.split(".")
    folder = path.parent if path.stem != "__init__" else path.parent.parent
    stem = path.stem if path.stem != "__init__" else path.parent.name
    if stem != names[-1]:
        return None
    for name in reversed(names[:-1]):
        if folder.name != name:
            return None
        folder = folder.parent
    return folder


def _lasting() -> set[Path]:
    """The ``sys.path`` entries a new interpreter here starts with beside its own: those
    of ``PYTHONPATH`` and of the site folders' ``.pth`` files (an editable install's)."""
    entries = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    folders = [*site.getsitepackages(), site.getusersitepackages()]
    for folder in map(Path, folders):
        for pth in folder.glob("*.pth") if folder.is_dir() else ():
            for line in pth.read_text(errors="replace").splitlines():
                if line.strip() and not line.startswith(("#", "import ", "import\t")):
                    entries.append(str(folder / line.strip()))
    return {Path(entry).resolve() for entry in entries}
