"""Running the command line in-process, for the tests of its commands."""

import pytest

from emulator import cli


def never_served(*args: object, **options: object) -> None:
    raise AssertionError("uvicorn.run was called")


def refused(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    environ: dict[str, str],
) -> str:
    """What the CLI prints on stderr, given ``argv`` and ``environ``, refusing them as a
    usage error (exit 2) before anything is served."""
    monkeypatch.setattr("uvicorn.run", never_served)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert cli.main(argv) == 2
    return capsys.readouterr().err


def serve_with(monkeypatch: pytest.MonkeyPatch, argv: list[str], **environ: str) -> dict:
    """What serve hands uvicorn for ``argv`` and ``environ`` (on a free port, unless they
    name one: serve binds it)."""
    if "--port" not in argv and "PROVIDER_EMULATOR_PORT" not in environ:
        argv = ["--port", "0", *argv]
    served: dict = {}

    def fake_run(app: object, **options: object) -> None:
        served.update(engine=app.state.engine, **options)  # type: ignore[attr-defined]

    monkeypatch.setattr("uvicorn.run", fake_run)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["serve", *argv]) == 0
    return served
