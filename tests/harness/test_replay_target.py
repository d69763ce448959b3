"""The replay line names the client so that it runs: ``MODULE:NAME``, derived from the
callable, or a placeholder that says why no import can find it."""

from __future__ import annotations

import importlib
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator.harness import FAILED, Options, check
from emulator.harness.cli import load_callable, main
from emulator.harness.targets import client_target

OPTIONS = Options(max_examples=1)


def forgets_the_output(endpoint_id: str, arguments: dict) -> None:
    """Makes no request and returns nothing: fails returns_valid_output at once."""


class _Forgetful:
    def __call__(self, endpoint_id: str, arguments: dict) -> None:
        return None


FORGETFUL = _Forgetful()  # a callable object, named by the global that holds it


@pytest.mark.parametrize(("client", "name"), [(forgets_the_output, "forgets_the_output"),
                                              (FORGETFUL, "FORGETFUL")])  # fmt: skip
def test_the_replay_line_of_the_python_api_runs(
    client: Any, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    report = check(client, provider="fal", endpoint="fal-ai/bitdance",
                   properties=["returns_valid_output"], options=OPTIONS)  # fmt: skip
    outcome = report.outcome("returns_valid_output")
    assert outcome.status == FAILED and outcome.replay is not None
    assert report.target == f"{__name__}:{name}"
    command = shlex.split(outcome.replay)
    assert command[:2] == ["provider-emulator", "conformance"]
    assert main(command[2:]) == 1  # it ran, and the property fails again
    assert "returns_valid_output         FAILED" in capsys.readouterr().out


def test_a_client_no_import_finds_is_said_so_in_the_replay_line() -> None:
    def local(endpoint_id: str, arguments: dict) -> None:
        return None

    for client, what in ((local, "local"), (lambda *_: None, "<lambda>")):
        report = check(client, provider="fal", endpoint="fal-ai/bitdance",
                       properties=["returns_valid_output"], options=OPTIONS)  # fmt: skip
        replay = report.outcome("returns_valid_output").replay or ""
        assert "'<MODULE:CALLABLE: no import finds " in replay and what in replay
        assert report.target.startswith("<MODULE:CALLABLE:")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A project at ``tmp_path``, the current directory, whose ``checks/`` folder is first on
    ``sys.path``, as pytest puts a test file's folder; its modules forgotten after."""
    folder = tmp_path / "checks"
    folder.mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(folder))
    yield folder
    for name in [name for name in sys.modules if name.split(".")[0] in ("checks", "client_in")]:
        del sys.modules[name]


def _client_in(folder: Path, name: str) -> Any:
    """The client of a test file ``folder/<name>.py``, imported as pytest imports it: by
    its bare name."""
    (folder / f"{name}.py").write_text("def forgets(endpoint_id, arguments):\n    return None\n")
    return importlib.import_module(name).forgets


def test_a_client_in_a_test_file_is_named_as_the_cli_imports_it_from_the_project(
    project: Path,
) -> None:
    client = _client_in(project, "client_in_a_test")
    target = client_target(client)
    assert target == "checks.client_in_a_test:forgets"
    sys.path.remove(str(project))  # as the CLI runs: without pytest's entry
    assert load_callable(target).__code__.co_filename == client.__code__.co_filename


def test_a_module_every_interpreter_here_finds_keeps_its_name(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(project))
    client = _client_in(project, "client_in_the_python_path")
    assert client_target(client) == "client_in_the_python_path:forgets"
