"""What `serve` and `env` refuse, and how: each bad flag, variable or file value in one line."""

import subprocess
import sys
from pathlib import Path

import pytest

from emulator import cli
from emulator.serve_flags import reference
from tests.command import never_served, refused, serve_with
from tests.test_config import BOUNDS


@pytest.mark.parametrize(("name", "bound"), list(BOUNDS.items()))
def test_serve_refuses_a_setting_past_its_bound_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    bound: tuple[float, float, str],
) -> None:
    monkeypatch.setattr("uvicorn.run", never_served)
    refused, _, words = bound
    flag = "--" + name.replace("_", "-")
    assert cli.main(["serve", flag, str(refused)]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"provider-emulator: {flag} must be {words}, not ")
    assert error.count("\n") == 1


PORT_RANGE = "must be from 0 to 65535, not"


@pytest.mark.parametrize(
    ("argv", "environ", "error"),
    [
        (["serve", "--port", "99999"], {}, f"--port {PORT_RANGE} 99999"),
        (["serve", "--port", "-1"], {}, f"--port {PORT_RANGE} -1"),
        (
            ["serve"],
            {"PROVIDER_EMULATOR_PORT": "70000"},
            f"PROVIDER_EMULATOR_PORT {PORT_RANGE} 70000",
        ),
        (["env", "--port", "65536"], {}, f"--port {PORT_RANGE} 65536"),
        (
            ["serve", "--shutdown-timeout", "-1"],
            {},
            "--shutdown-timeout must be at least 0, not -1.0",
        ),
    ],
)
def test_a_server_option_past_its_bound_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    environ: dict[str, str],
    error: str,
) -> None:
    assert refused(monkeypatch, capsys, argv, environ) == f"provider-emulator: {error}\n"


def test_the_command_refuses_a_port_past_65535_in_one_line() -> None:
    command = [sys.executable, "-m", "emulator", "serve", "--port", "99999"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"provider-emulator: --port {PORT_RANGE} 99999\n"


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("progression = 5", "progression must be a progression"),
        ("state = 5", "state must be a string, not 5"),
        ("api_keys = [1]", "api_keys must be a list of strings, not [1]"),
        ("manual_clock = 'no'", "manual_clock must be true or false, not 'no'"),
        ("seed = 1.5", "seed must be an integer, not 1.5"),
    ],
)
def test_a_setting_of_the_wrong_type_in_the_file_stops_serve_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    line: str,
    error: str,
) -> None:
    monkeypatch.setattr("uvicorn.run", never_served)
    (tmp_path / "c.toml").write_text(f"[emulator]\n{line}\n")
    assert cli.main(["serve", "--config", str(tmp_path / "c.toml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"provider-emulator: {tmp_path / 'c.toml'}: {error}")
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (
            ["serve", "--workers", "abc"],
            "serve: error: argument --workers: invalid int value: 'abc'",
        ),
        (["serve", "--port", "abc"], "serve: error: argument --port: invalid int value: 'abc'"),
        (["serve", "--fault", "{bad"], "serve: error: argument --fault: not a fault rule: "),
        (["serve", "--log-level", "bogus"], "serve: error: argument --log-level: invalid choice"),
        (["env", "--port", "abc"], "env: error: argument --port: invalid int value: 'abc'"),
        (["contracts"], "contracts: error: the following arguments are required"),
        (["contracts", "list", "--nope"], ": error: unrecognized arguments: --nope"),
        (["nope"], ": error: argument command: invalid choice: 'nope'"),
        (["conformance", "--provider", "nope"], "conformance: error: argument --provider: "),
    ],
)
def test_an_argument_argparse_refuses_is_one_line_with_a_hint(
    capsys: pytest.CaptureFixture[str], argv: list[str], error: str
) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli.main(argv)
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and err.startswith(
        f"provider-emulator {error}".replace(" :", ":")
    )
    assert err.count("\n") == 1 and err.endswith("--help)\n")


def test_the_command_reports_an_argument_it_cannot_read_in_one_line() -> None:
    command = [sys.executable, "-m", "emulator", "serve", "--workers", "abc"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "provider-emulator serve: error: argument --workers: invalid int value: 'abc' "
        "(see provider-emulator serve --help)\n"
    )


def test_the_log_levels_are_uvicorns() -> None:
    from uvicorn.config import LOG_LEVELS

    from emulator.serve_flags import LOG_LEVELS as OFFERED

    assert set(OFFERED) == set(LOG_LEVELS)


@pytest.mark.parametrize(
    ("argv", "environ", "error"),
    [
        (["--api-key", ""], {}, "--api-key must not be an empty key"),
        (["--api-key", "a", "--api-key", ""], {}, "--api-key must not be an empty key"),
        (["--api-key", "a,b"], {}, "--api-key: 'a,b' holds a comma; give each key its own"),
        ([], {"PROVIDER_EMULATOR_API_KEYS": ","}, "PROVIDER_EMULATOR_API_KEYS must not be an"),
        (["--admin-token", ""], {}, "--admin-token must not be empty"),
        (["--proxy-key", ""], {}, "--proxy-key must not be empty"),
        ([], {"PROVIDER_EMULATOR_ADMIN_TOKEN": " tok"}, "PROVIDER_EMULATOR_ADMIN_TOKEN must be"),
        (["--api-key", "tök"], {}, "--api-key must be printable ASCII"),
        (["--public-url", "notaurl"], {}, "--public-url must be http(s)://host[:port]"),
        (["--public-url", "http://h/p"], {}, "--public-url must be http(s)://host[:port]"),
        (["--host", ""], {}, "--host must not be empty"),
        (["--data-dir", ""], {}, "--data-dir must be a path, not ''"),
        (["--seed", "1.5"], {}, "--seed must be an integer, not '1.5'"),
        ([], {"PROVIDER_EMULATOR_LOG_LEVEL": "bogus"}, "PROVIDER_EMULATOR_LOG_LEVEL must be one"),
        ([], {"PROVIDER_EMULATOR_WORKERS": "abc"}, "PROVIDER_EMULATOR_WORKERS must be an integer"),
    ],
)
def test_a_value_that_would_serve_nothing_right_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    environ: dict[str, str],
    error: str,
) -> None:
    err = refused(monkeypatch, capsys, ["serve", "--port", "0", *argv], environ)
    assert err.startswith(f"provider-emulator: {error}") and err.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "error"),
    [(["--tls-dir", ""], "--tls-dir must be a path, not ''"), (["--host", ""], "--host must not")],
)
def test_env_refuses_an_empty_folder_or_host(
    capsys: pytest.CaptureFixture[str], argv: list[str], error: str
) -> None:
    assert cli.main(["env", *argv]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"provider-emulator: {error}") and err.count("\n") == 1


def test_an_empty_admin_token_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    served = serve_with(monkeypatch, [], PROVIDER_EMULATOR_ADMIN_TOKEN="")
    assert served["engine"].config.admin_token is None


def test_serve_help_names_the_variable_of_every_option_one_sets(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        cli.main(["serve", "--help"])
    shown = " ".join(capsys.readouterr().out.split())  # argparse wraps its lines anywhere
    for flag, variable, *_ in reference():
        if variable:
            assert f"[env {variable}]" in shown, flag
