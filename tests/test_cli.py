import json
import queue
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from emulator import cli
from emulator.contracts import documents
from emulator.contracts.documents import DEFAULT_CONTRACTS_DIR
from tests.bounded import eventually, stop_process
from tests.redis_server import free_port
from tests.test_config import BOUNDS


def test_contracts_lists_every_endpoint(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["contracts", "list"]) == 0
    assert "fal-ai/bytedance/seedream/v4/text-to-image" in capsys.readouterr().out


def test_a_broken_contract_directory_is_reported_not_raised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "fal").mkdir()
    (tmp_path / "fal" / "bad.json").write_text("{")
    assert cli.main(["contracts", "list", "--contracts", str(tmp_path)]) == 2
    assert "bad.json" in capsys.readouterr().err


def _broken_seedream(folder: Path) -> Path:
    """A copy of a shipped document whose input schema JSON Schema refuses."""
    seedream = DEFAULT_CONTRACTS_DIR / "fal/fal-ai/bytedance/seedream/v4/text-to-image.json"
    document = json.loads(seedream.read_text())
    document["components"]["schemas"]["BytedanceSeedreamV4TextToImageInput"]["type"] = "objekt"
    (folder / "fal").mkdir(parents=True)
    (folder / "fal" / "broken.json").write_text(json.dumps(document))
    return folder


def test_serve_refuses_a_broken_user_contract_at_start_up(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: pytest.fail("served"))
    argv = ["serve", "--port", "0", "--contracts", str(_broken_seedream(tmp_path))]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "broken.json" in err and "objekt" in err and err.count("\n") == 1


def test_contracts_list_checks_the_documents_serve_trusts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the folder taken for the shipped one: loading it skips the check, listing it does not
    shipped = _broken_seedream(tmp_path)
    monkeypatch.setattr(documents, "DEFAULT_CONTRACTS_DIR", shipped)
    assert documents.load_contracts([shipped]).get(
        "fal", "fal-ai/bytedance/seedream/v4/text-to-image"
    )
    assert cli.main(["contracts", "list", "--contracts", str(shipped)]) == 2
    assert "objekt" in capsys.readouterr().err


def test_serve_builds_its_config_from_flags(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seedream = DEFAULT_CONTRACTS_DIR / "fal/fal-ai/bytedance/seedream/v4/text-to-image.json"
    (tmp_path / "fal").mkdir()
    (tmp_path / "fal" / "x.json").write_text(
        seedream.read_text().replace("seedream/v4", "seedream/v9")
    )
    served = {}

    def fake_run(
        app: object, host: str, port: int, log_level: str, access_log: bool, **tls: str
    ) -> None:
        served.update(engine=app.state.engine, host=host, port=port)  # type: ignore[attr-defined]

    monkeypatch.setattr("uvicorn.run", fake_run)
    port = free_port()
    argv = [
        "serve",
        "--port",
        str(port),
        "--seed",
        "4",
        "--progression",
        "polls:2,3",
        "--api-key",
        "a",
        "--api-key",
        "b",
        "--contracts",
        str(tmp_path),
        "--validate-on-submit",
    ]
    assert cli.main(argv) == 0
    config = served["engine"].config
    assert (served["host"], served["port"], config.seed) == ("127.0.0.1", port, 4)
    assert (config.progression.mode, config.progression.queue, config.progression.run) == (
        "polls",
        2,
        3,
    )
    assert config.api_keys == {"a", "b"} and config.validate_on_submit
    assert served["engine"].contracts.get("fal", "fal-ai/bytedance/seedream/v9/text-to-image")


def test_bad_progression_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["serve", "--progression", "soon"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("provider-emulator: --progression: cannot read progression 'soon'")
    assert error.count("\n") == 1


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


def test_every_setting_comes_from_the_environment_and_flags_win(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served = serve_with(
        monkeypatch,
        ["--seed", "5", "--unreachable-media", "synthetic"],
        PROVIDER_EMULATOR_PORT=str(port := free_port()),
        PROVIDER_EMULATOR_SEED="3",
        PROVIDER_EMULATOR_PROGRESSION="polls:1,1",
        PROVIDER_EMULATOR_API_KEYS="a, b",
        PROVIDER_EMULATOR_VALIDATE_ON_SUBMIT="true",
        PROVIDER_EMULATOR_MAX_JOBS="10",
        PROVIDER_EMULATOR_ACCESS_LOG="1",
    )
    config = served["engine"].config
    assert (served["port"], served["access_log"], config.seed) == (port, True, 5)
    assert (str(config.progression), config.api_keys, config.max_jobs) == (
        "polls:1,1",
        {"a", "b"},
        10,
    )
    assert config.validate_on_submit and config.unreachable_media == "synthetic"


def test_a_bad_environment_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PROVIDER_EMULATOR_MAX_JOBS", "many")
    assert cli.main(["serve"]) == 2
    expected = "provider-emulator: PROVIDER_EMULATOR_MAX_JOBS must be an integer, not 'many'\n"
    assert capsys.readouterr().err == expected


def test_the_access_log_is_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert serve_with(monkeypatch, [])["access_log"] is False


def test_python_dash_m_is_the_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "emulator", "contracts", "list"], capture_output=True, text=True
    )
    assert done.returncode == 0 and "fal-ai/bitdance" in done.stdout


def test_the_reference_covers_every_setting() -> None:
    import argparse

    from emulator import serve_flags
    from emulator.config import SETTINGS
    from emulator.serve_flags import reference

    parser = argparse.ArgumentParser()
    serve_flags.add_parser(parser.add_subparsers(dest="command"))
    (commands,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    serve = commands.choices["serve"]
    every_flag = {a.option_strings[0] for a in serve._actions if a.option_strings} - {"-h"}
    flags = [row[0] for row in reference()]
    assert set(flags) == every_flag and len(flags) == len(every_flag)  # each flag, once
    variables = [row[1] for row in reference() if row[1]]
    assert len(set(variables)) == len(variables) >= len(SETTINGS)


def test_the_console_script_is_declared() -> None:
    text = (Path(__file__).parents[1] / "pyproject.toml").read_text()
    assert 'provider-emulator = "emulator.cli:main"' in text


def test_serve_reads_a_settings_file_and_flags_win(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "e.toml").write_text(
        '[emulator]\nseed = 1\nmanual_clock = true\n[[faults]]\neffect = "reset"\n'
    )
    served = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: served.update(engine=app.state.engine))
    fault = '{"effect": "http_error", "status": 503}'
    argv = ["serve", "--port", "0", "--config", str(tmp_path / "e.toml"), "--seed", "2"]
    assert cli.main([*argv, "--fault", fault]) == 0
    engine = served["engine"]
    assert engine.config.seed == 2 and type(engine.clock).__name__ == "ManualClock"
    assert [rule.effect for rule in engine.faults.rules] == ["reset", "http_error"]


def test_a_bad_fault_flag_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["serve", "--fault", '{"effect": "nope"}'])
    assert "not a fault rule" in capsys.readouterr().err


def test_a_server_option_in_the_environment_must_be_a_boolean_it_can_read(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PROVIDER_EMULATOR_ACCESS_LOG", "sometimes")
    assert cli.main(["serve"]) == 2
    expected = "PROVIDER_EMULATOR_ACCESS_LOG must be true or false, not 'sometimes'"
    assert capsys.readouterr().err == f"provider-emulator: {expected}\n"


@pytest.mark.parametrize(
    ("argv", "environ"),
    [(["--workers", "2"], {}), ([], {"PROVIDER_EMULATOR_WORKERS": "3"})],
)
def test_several_workers_without_shared_state_are_refused(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    environ: dict[str, str],
) -> None:
    monkeypatch.setattr("uvicorn.run", _never_served)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["serve", *argv]) == 2
    error = capsys.readouterr().err
    assert error.startswith("provider-emulator: --workers ") and error.count("\n") == 1
    assert "--state redis://" in error and "--data-dir" in error


def test_workers_must_be_positive_and_record_and_replay_with_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr("uvicorn.run", _never_served)
    assert cli.main(["serve", "--workers", "0"]) == 2
    assert "at least 1" in capsys.readouterr().err
    shared = ["--workers", "2", "--data-dir", str(tmp_path)]
    assert cli.main(["serve", *shared, "--record", str(tmp_path / "rec")]) == 2
    assert "--workers 1" in capsys.readouterr().err
    assert cli.main(["serve", *shared, "--replay", str(tmp_path)]) == 2
    assert "--replay works in one process" in capsys.readouterr().err


def test_an_unreachable_state_store_stops_serve_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("uvicorn.run", _never_served)
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    assert cli.main(["serve", "--port", "0", "--state", url]) == 1
    error = capsys.readouterr().err
    assert error.startswith("provider-emulator: the state store cannot be reached: Redis at ")
    assert error.count("\n") == 1


def test_workers_rebuild_the_parents_settings_with_its_admin_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], redis_url: str
) -> None:
    """The parent serves an import string; each worker's factory parses the parent's command
    line again, takes the token the parent made, and stages no fault rule of its own."""
    from emulator import serve

    served: dict = {}
    monkeypatch.setattr("uvicorn.run", lambda target, **options: served.update(options, t=target))
    monkeypatch.setenv(serve.WORKER_SETTINGS, "")  # restored after the test
    rule = '{"effect": "http_error", "status": 429, "times": 1}'
    argv = ["serve", "--workers", "2", "--state", redis_url, "--api-key", "k", "--fault", rule]
    argv += ["--max-jobs", "77", "--port", "0"]
    assert cli.main(argv) == 0
    assert (served["t"], served["factory"], served["workers"]) == (
        "emulator.serve:worker_app",
        True,
        2,
    )
    token = capsys.readouterr().err.split("admin token: ")[1].split()[0]
    engine = serve.worker_app().state.engine
    assert (engine.config.admin_token, engine.config.max_jobs) == (token, 77)
    assert engine.config.api_keys == {"k"} and engine.config.state_url == redis_url
    # A worker adds no rule: a second one sees as many as the first (the parent's rule
    # once the engine keeps its rules in the store, none before).
    rules = len(engine.faults.rules)
    assert rules <= 1 and len(serve.worker_app().state.engine.faults.rules) == rules


def test_one_worker_on_shared_state_serves_as_before(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    served = serve_with(monkeypatch, ["--data-dir", str(tmp_path)])
    assert (served["workers"], served["factory"]) == (1, False)
    assert served["engine"].config.state_url == f"sqlite://{tmp_path.resolve()}/state.db"


def _never_served(*args: object, **options: object) -> None:
    raise AssertionError("uvicorn.run was called")


def _refused(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    environ: dict[str, str],
) -> str:
    """What the CLI prints on stderr, given ``argv`` and ``environ``, refusing them as a
    usage error (exit 2) before anything is served."""
    monkeypatch.setattr("uvicorn.run", _never_served)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert cli.main(argv) == 2
    return capsys.readouterr().err


def test_a_redis_state_without_the_redis_package_says_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)  # not installed
    monkeypatch.setattr("uvicorn.run", _never_served)
    assert cli.main(["serve", "--port", "0", "--state", "redis://127.0.0.1:6399/0"]) == 2
    assert "pip install 'provider-emulator[redis]'" in capsys.readouterr().err


def test_a_worker_starts_while_its_store_is_down(tmp_path: Path) -> None:
    """uvicorn restarts a worker whenever it must, Redis up or not: the worker's app is
    built all the same (its requests get 503s until the store is back)."""
    from emulator.config import EmulatorConfig
    from emulator.config_file import Settings
    from emulator.serve import build_app
    from tests.redis_server import RedisServer

    down = RedisServer(tmp_path)  # never started
    app = build_app(Settings(EmulatorConfig(state=down.url)))
    app.state.engine.close()


@pytest.mark.parametrize(("name", "bound"), list(BOUNDS.items()))
def test_serve_refuses_a_setting_past_its_bound_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    bound: tuple[float, float, str],
) -> None:
    monkeypatch.setattr("uvicorn.run", _never_served)
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
    assert _refused(monkeypatch, capsys, argv, environ) == f"provider-emulator: {error}\n"


def test_the_command_refuses_a_port_past_65535_in_one_line() -> None:
    command = [sys.executable, "-m", "emulator", "serve", "--port", "99999"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"provider-emulator: --port {PORT_RANGE} 99999\n"


def test_port_0_is_bound_before_start_up_and_served_as_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served = serve_with(monkeypatch, ["--port", "0"])
    assert served["port"] != 0 and served["fd"] is not None
    assert served["port"] in served["engine"].webhooks.own_ports  # never a webhook target


def test_workers_learn_the_port_bound_for_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from emulator import serve

    served: dict = {}
    monkeypatch.setattr("uvicorn.run", lambda target, **options: served.update(options))
    monkeypatch.setenv(serve.WORKER_SETTINGS, "")  # restored after the test
    assert cli.main(["serve", "--port", "0", "--workers", "2", "--data-dir", str(tmp_path)]) == 0
    engine = serve.worker_app().state.engine
    assert served["port"] != 0 and engine.webhooks.own_ports == {served["port"]}
    engine.close()


def test_serve_on_port_0_names_the_port_it_listens_on() -> None:
    command = [sys.executable, "-m", "emulator", "serve", "--port", "0", "--log-level", "warning"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    threading.Thread(
        target=lambda: [lines.put(line) for line in process.stdout], daemon=True
    ).start()
    try:
        serving = re.fullmatch(
            r"provider-emulator: serving on http://127\.0\.0\.1:(\d+)/\n", lines.get(timeout=60)
        )
        assert serving is not None and serving[1] != "0"
        origin = f"http://127.0.0.1:{serving[1]}"
        assert lines.get(timeout=10) == f"provider-emulator: dashboard at {origin}/_emulator/ui\n"
        assert eventually(lambda: _healthy(origin), 30, 0.1)
    finally:
        stop_process(process, 10)  # type: ignore[arg-type]


def _healthy(origin: str) -> bool:
    try:
        return httpx.get(f"{origin}/_emulator/health", timeout=5).json()["status"] == "ok"
    except httpx.TransportError:
        return False


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
    monkeypatch.setattr("uvicorn.run", _never_served)
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
    err = _refused(monkeypatch, capsys, ["serve", "--port", "0", *argv], environ)
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


@pytest.mark.parametrize("command", [["serve", "--tls"], ["env"]])
def test_tls_files_that_cannot_be_made_stop_the_command_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    command: list[str],
) -> None:
    monkeypatch.setattr("uvicorn.run", _never_served)
    (tmp_path / "file").write_text("")
    folder = tmp_path / "file" / "tls"  # under a file: no folder can be made there
    assert cli.main([*command, "--port", "0", "--tls-dir", str(folder)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith(f"provider-emulator: the TLS files cannot be made in {folder}: ")


def test_a_port_in_use_stops_serve_before_it_says_it_serves(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("uvicorn.run", _never_served)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert cli.main(["serve", "--port", str(port)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert (
        err
        == f"provider-emulator: cannot listen on 127.0.0.1 port {port}: Address already in use\n"
    )


def test_an_address_not_of_this_machine_stops_serve_before_it_says_it_serves(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("uvicorn.run", _never_served)
    # TEST-NET-1 (RFC 5737): no interface here has it; binding it sends nothing anywhere
    assert cli.main(["serve", "--host", "192.0.2.1", "--port", "0"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith("provider-emulator: cannot listen on 192.0.2.1 port 0: ")


def test_a_port_given_is_bound_by_serve_and_served_as_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = free_port()
    served = serve_with(monkeypatch, ["--port", str(port)])
    assert served["port"] == port and served["fd"] is not None


def test_the_served_socket_sends_small_answers_at_once() -> None:
    """uvicorn takes a socket handed over by descriptor for a Unix one and leaves Nagle's
    algorithm on: without TCP_NODELAY on the listener (which accepted connections inherit)
    each kept-alive answer waited ~40 ms for an ACK (the benchmark's 734 polls a second)."""
    import socket

    from emulator.serve import listener

    with listener("127.0.0.1", 0) as bound:
        assert bound.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        bound.listen()  # as uvicorn does
        with socket.create_connection(bound.getsockname(), timeout=5):
            accepted, _ = bound.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


def test_a_reader_that_stops_early_ends_the_listing_without_a_traceback() -> None:
    """``provider-emulator contracts list | head -1``: a closed pipe ends the command."""
    command = [sys.executable, "-m", "emulator", "contracts", "list"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert process.stdout is not None and process.stdout.readline().startswith(b"fal ")
        process.stdout.close()  # as `head -1` does, with ~1,400 lines still to come
        _, stderr = process.communicate(timeout=60)
    finally:
        stop_process(process, 5)
    assert process.returncode == 1 and b"Traceback" not in stderr, stderr.decode()
