"""The documentation: generated pages up to date, the site built with ``--strict``, every
page in the nav, every Python example valid, and the README opening with its two commands."""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

import emulator
from docs.generate import PAGES, REGENERATE, stale_pages
from emulator import create_app
from emulator.server import BackgroundServer

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"
MKDOCS = ROOT / "mkdocs.yml"
TWO_COMMANDS = [
    "python3 -m venv .venv && .venv/bin/pip install -e . "
    "&& .venv/bin/provider-emulator serve --port 8000",
    "bash .ci/run",
]
PAGES_IN_DOCS = sorted(path.name for path in DOCS.glob("*.md"))
EXTENSION = re.compile(r"x-emulator-[a-z]+(?:-[a-z]+)*")


def _fenced_blocks(text: str, language: str = "") -> list[str]:
    return re.findall(rf"^```{language}[^\n]*\n(.*?)^```", text, flags=re.M | re.S)


def _nav(commented: bool) -> set[str]:
    """The pages named in mkdocs.yml's nav: its live entries, or its commented-out ones."""
    marker = r"#\s*" if commented else ""
    entry = re.compile(rf"^\s*{marker}- [^#\n]*?:\s*(\S+\.md)\s*$", flags=re.M)
    return set(entry.findall(MKDOCS.read_text(encoding="utf-8")))


def test_the_readme_opens_with_its_two_commands() -> None:
    first = _fenced_blocks((ROOT / "README.md").read_text(encoding="utf-8"))[0]
    assert first.splitlines() == TWO_COMMANDS


def test_generated_pages_are_up_to_date() -> None:
    assert set(PAGES) <= set(PAGES_IN_DOCS)
    stale = stale_pages()
    assert not stale, f"out of date: {', '.join(stale)}; regenerate them with {REGENERATE}"


def test_every_page_is_in_the_nav_and_every_nav_entry_exists() -> None:
    live = _nav(commented=False)
    for page in PAGES_IN_DOCS:
        hint = "uncomment its line" if page in _nav(commented=True) else "add it"
        assert page in live, f"docs/{page} is not in mkdocs.yml's nav: {hint} there"
    missing = sorted(live - set(PAGES_IN_DOCS))
    assert not missing, f"mkdocs.yml's nav names pages that do not exist: {missing}"


@pytest.mark.parametrize(
    "document", ["README.md", *(f"docs/{page}" for page in PAGES_IN_DOCS)], ids=str
)
def test_python_examples_are_valid_python(document: str) -> None:
    for block in _fenced_blocks((ROOT / document).read_text(encoding="utf-8"), "python"):
        ast.parse(block, filename=document)


#: what makes an example a whole program a reader can run: a test file for the plugin, or
#: a script that emulates in-process or calls the emulator the README starts; one that
#: names the reader's own client, ``generate``, without defining it, is a fragment (only
#: parsed, above)
_PROGRAM = re.compile(
    r"def test_|emulate\(|BackgroundServer\(|127\.0\.0\.1:8000|PROVIDER_EMULATOR_URL"
)
_CLIENT = re.compile(r"\bgenerate\b")
_EXAMPLES = [
    (f"{document}#{index}", block)
    for document in ["README.md", *(f"docs/{page}" for page in PAGES_IN_DOCS)]
    for index, block in enumerate(_fenced_blocks((ROOT / document).read_text("utf-8"), "python"))
    if _PROGRAM.search(block) and (not _CLIENT.search(block) or "def generate(" in block)
]
_TEST_FILES = [(name, block) for name, block in _EXAMPLES if "def test_" in block]
_SCRIPTS = [(name, block) for name, block in _EXAMPLES if "def test_" not in block]


def _as_written(block: str, server: BackgroundServer) -> str:
    """``block`` pointed at ``server`` where it names the README's emulator."""
    return block.replace("http://127.0.0.1:8000", server.url.rstrip("/"))


def _reader_env(server: BackgroundServer) -> dict[str, str]:
    keys = ("FAL_KEY", "WAVESPEED_API_KEY")  # a reader of the docs has none
    env = {name: value for name, value in os.environ.items() if name not in keys}
    return {**env, "PROVIDER_EMULATOR_URL": server.url}


def test_there_are_examples_of_each_kind_to_run() -> None:
    # so that a change of `_PROGRAM` cannot leave the two tests below running nothing
    assert len(_TEST_FILES) >= 6 and len(_SCRIPTS) >= 10


@pytest.mark.slow
def test_the_test_file_examples_pass_as_written(server: BackgroundServer, tmp_path: Path) -> None:
    for number, (_, block) in enumerate(_TEST_FILES):
        (tmp_path / f"test_example_{number}.py").write_text(_as_written(block, server))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:schemathesis"],
        cwd=tmp_path,
        env=_reader_env(server),
        capture_output=True,
        text=True,
        timeout=120,
    )
    named = "\n".join(f"test_example_{n}.py: {name}" for n, (name, _) in enumerate(_TEST_FILES))
    assert done.returncode == 0, f"{named}\n{done.stdout}{done.stderr}"


@pytest.mark.slow
@pytest.mark.parametrize("block", [block for _, block in _SCRIPTS], ids=[n for n, _ in _SCRIPTS])
def test_the_script_examples_run_as_written(
    server: BackgroundServer, tmp_path: Path, block: str
) -> None:
    (tmp_path / "example.py").write_text(_as_written(block, server))
    done = subprocess.run(
        [sys.executable, "example.py"],
        cwd=tmp_path,
        env=_reader_env(server),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_control_plane_route_is_documented() -> None:
    faults_page = (DOCS / "faults.md").read_text(encoding="utf-8")
    for route in create_app().routes:
        if isinstance(route, Route) and route.path.startswith("/_emulator"):
            assert route.path in faults_page, f"{route.path} is not in docs/faults.md"


def test_every_contract_extension_is_in_the_reference() -> None:
    # the code's, the tools' that write documents (the catalogue's converter too), and the
    # shipped contracts'
    sources = [*(ROOT / "emulator").rglob("*.py"), *(ROOT / "tools").rglob("*.py")]
    sources += (ROOT / "tools").glob("*/*.mjs")
    sources += (ROOT / "contracts").rglob("*.json")
    used = {key for path in sources for key in EXTENSION.findall(path.read_text("utf-8"))}
    listed = set(re.findall(r"^\| `(x-emulator-[a-z-]+)` \|", _page("extensions.md"), re.M))
    assert used == listed, f"in use, not listed: {used - listed}; listed, unused: {listed - used}"


def test_the_health_answer_shown_is_the_one_served() -> None:
    """docs/deployment.md's health answer has a served one's fields and endpoint count
    (it showed 1403 while 1,558 were served)."""
    blocks = _fenced_blocks(_page("deployment.md"), "json")
    shown = next(json.loads(block) for block in blocks if '"endpoints"' in block)
    with TestClient(create_app()) as client:
        served = client.get("/_emulator/health").json()
    assert set(shown) == set(served) and shown["endpoints"] == served["endpoints"]


def _page(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def test_every_public_name_is_documented() -> None:
    architecture = (DOCS / "architecture.md").read_text(encoding="utf-8")
    for name in emulator.__all__:
        assert f"`{name}`" in architecture, f"emulator.{name} is not in docs/architecture.md"


@pytest.mark.skipif(
    importlib.util.find_spec("material") is None,
    reason="mkdocs-material is not installed (pip install -e '.[test]' installs it)",
)
@pytest.mark.slow  # a mkdocs build in a process of its own: 2 s
def test_the_site_builds_strictly(tmp_path: Path) -> None:
    # Not --quiet: it hides the warnings that --strict turns into a failure.
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict"]
        + ["--config-file", str(MKDOCS), "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},  # Material's end-of-life notice
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "site" / "configuration" / "index.html").exists()
