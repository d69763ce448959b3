"""The package's layering, checked on its import graph (every import statement, nested
ones included), so the folder tree stays the architecture described in docs/architecture.md.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "emulator"

#: rank of each part: a module may import parts of its own rank or lower, never higher
RANKS = {
    "emulator._version": 0,
    "emulator.config": 0,
    "emulator.setting_values": 0,
    "emulator.core": 0,
    "emulator.contracts": 0,
    "emulator.media": 0,
    "emulator.http": 1,
    "emulator.providers": 2,
    "emulator.app": 3,
    "emulator.transport": 3,
}
TOOLS = 4  # every other module: the CLI, emulate(), the pytest plugin, strategies, harness
#: what the provider-neutral engine (rank 0) must never import
WEB_PACKAGES = {"starlette", "httpx", "uvicorn", "respx", "requests", "pytest"}
#: the only modules that may import pytest: pytest is not needed at run time
PYTEST_USERS = {"emulator.pytest_plugin", "emulator.harness.pytest"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def rank(module: str) -> int:
    for part, value in RANKS.items():
        if module == part or module.startswith(part + "."):
            return value
    return TOOLS


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_imports_follow_the_layers(path: Path) -> None:
    module = module_name(path)
    for imported in imports(path):
        top = imported.split(".")[0]
        if top == "emulator":
            target = imported if imported != "emulator" else "emulator.__init__"
            assert rank(target) <= rank(module) or target.startswith(module), (
                f"{module} (layer {rank(module)}) imports {imported} (layer {rank(target)})"
            )
        elif rank(module) == 0:
            assert top not in WEB_PACKAGES, f"the neutral engine's {module} imports {top}"
        if top == "pytest":
            assert module in PYTEST_USERS, f"{module} imports pytest, not needed at run time"


def test_no_core_module_names_a_provider() -> None:
    for path in MODULES:
        module = module_name(path)
        if rank(module) > 1:
            continue
        for imported in imports(path):
            assert not imported.startswith("emulator.providers"), (module, imported)


#: what `serve` must not load before it listens: each loads with its first use (issue 17),
#: as only some requests, flags or commands need it
HEAVY_AT_FIRST_USE = (
    *("jsonschema", "PIL", "av", "cryptography", "jinja2", "hypothesis", "httpx", "respx"),
    "msgpack",  # fal realtime frames
    "re2",  # a contract's patterns (the shipped ones are not checked at start-up)
    "urllib.request",  # webhook deliveries, `contracts diff --against URL`
    "emulator.contracts.sources",  # `contracts diff` and `sync`
    "emulator.contracts.plans",  # the first input checked (limits.py), or output made
    "emulator.contracts.synthesis",  # the first output made
    "emulator.harness",  # `conformance`
)


def test_serve_builds_its_app_without_the_heavy_libraries() -> None:
    code = (
        "import sys\n"
        "from emulator import cli, serve\n"  # what `provider-emulator serve` loads
        "from emulator.config_file import Settings\n"
        "serve.build_app(Settings())\n"
        f"print([m for m in {HEAVY_AT_FIRST_USE!r} if m in sys.modules])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
