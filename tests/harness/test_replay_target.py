"""The replay line names the client so that it runs: ``MODULE:NAME``, derived from the
callable, or a placeholder that says why no import can find it."""

from __future__ import annotations

import shlex
from typing import Any

import pytest

from emulator.harness import FAILED, Options, check
from emulator.harness.cli import main

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
