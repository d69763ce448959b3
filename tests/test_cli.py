import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest

from emulator import cli
from emulator.contracts import checks, documents, loading
from emulator.contracts.loading import DEFAULT_CONTRACTS_DIR
from tests.bounded import stop_process
from tests.command import never_served, serve_with
from tests.redis_server import free_port


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


def test_a_document_added_to_the_shipped_folder_is_checked_as_it_loads(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # it loaded unchecked, as the shipped ones do, and failed at its first request with a
    # 500 (an audit): only the documents shipped, as shipped, are trusted now
    shipped = _broken_seedream(tmp_path)
    monkeypatch.setattr(loading, "DEFAULT_CONTRACTS_DIR", shipped)
    with pytest.raises(documents.ContractError, match="objekt"):
        loading.load_contracts([shipped / "fal"])
    assert cli.main(["contracts", "list", "--contracts", str(shipped)]) == 2
    assert "objekt" in capsys.readouterr().err


def test_contracts_list_reads_the_environment_as_serve_does(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bitdance = DEFAULT_CONTRACTS_DIR / "fal" / "fal-ai" / "bitdance.json"
    (tmp_path / "mine.json").write_text(bitdance.read_text().replace("fal-ai/bitdance", "acme/a"))
    monkeypatch.setenv("PROVIDER_EMULATOR_CONTRACTS", str(tmp_path))
    assert cli.main(["contracts", "list"]) == 0
    assert "acme/a" in capsys.readouterr().out


def _renamed_bitdance(folder: Path, endpoint_id: str) -> Path:
    bitdance = DEFAULT_CONTRACTS_DIR / "fal" / "fal-ai" / "bitdance.json"
    path = folder / f"{endpoint_id.replace('/', '-')}.json"
    path.write_text(bitdance.read_text().replace("fal-ai/bitdance", endpoint_id))
    return path


def _counted_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The source of each document `check_endpoint` checks from now on, in turn."""
    checked: list[str] = []
    check_id = checks._check_id  # the check's first step, however it is imported
    monkeypatch.setattr(checks, "_check_id", lambda e: (checked.append(e.source), check_id(e)))
    return checked


def test_contracts_list_names_every_broken_document_and_lists_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # it stopped at the first broken document: one fixed, the next was found (an audit)
    (tmp_path / "a-bad.json").write_text("{")
    (tmp_path / "b-bad.json").write_text("{}")
    _renamed_bitdance(tmp_path, "acme/good")
    missing = tmp_path / "missing"
    assert (
        cli.main(["contracts", "list", "--contracts", str(tmp_path), "--contracts", str(missing)])
        == 2
    )
    out, err = capsys.readouterr()
    assert "acme/good" in out and "fal-ai/bytedance/seedream/v4/text-to-image" in out
    assert [line.split(":")[1].strip() for line in err.splitlines()] == [
        str(tmp_path / "a-bad.json"),
        str(tmp_path / "b-bad.json"),
        f"contracts {missing} does not exist",
    ]


@pytest.mark.parametrize("added_only", [[], ["--added-only"]])
def test_contracts_list_names_an_unreadable_document(
    added_only: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a link to nothing was a traceback (a review)
    (tmp_path / "gone.json").symlink_to(tmp_path / "nothing.json")
    _renamed_bitdance(tmp_path, "acme/good")
    assert cli.main(["contracts", "list", *added_only, "--contracts", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert "acme/good" in out
    gone = tmp_path / "gone.json"
    assert err.splitlines() == [
        f"provider-emulator: {gone}: cannot be read (No such file or directory)"
    ]


def test_contracts_list_checks_each_document_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    checked = _counted_checks(monkeypatch)
    mine = _renamed_bitdance(tmp_path, "acme/once")
    assert cli.main(["contracts", "list", "--contracts", str(mine)]) == 0
    assert checked.count(str(mine)) == 1 and len(checked) == len(set(checked))


def test_contracts_list_added_only_lists_and_checks_the_users_documents_alone(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = _renamed_bitdance(tmp_path, "acme/mine")
    monkeypatch.setenv("PROVIDER_EMULATOR_CONTRACTS", str(_renamed_bitdance(tmp_path, "acme/env")))
    checked = _counted_checks(monkeypatch)
    assert cli.main(["contracts", "list", "--added-only", "--contracts", str(mine)]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert [row.split()[1] for row in rows] == ["acme/env", "acme/mine"]  # no shipped one
    assert checked == [str(tmp_path / "acme-env.json"), str(mine)]


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
    assert 'provider-emulator = "emulator.__main__:main"' in text


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


@pytest.mark.parametrize("command", [["serve", "--tls"], ["env"]])
def test_tls_files_that_cannot_be_made_stop_the_command_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    command: list[str],
) -> None:
    monkeypatch.setattr("uvicorn.run", never_served)
    (tmp_path / "file").write_text("")
    folder = tmp_path / "file" / "tls"  # under a file: no folder can be made there
    assert cli.main([*command, "--port", "0", "--tls-dir", str(folder)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith(f"provider-emulator: the TLS files cannot be made in {folder}: ")


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


def test_node_hook_prints_the_hooks_path(capsys) -> None:
    assert cli.main(["node-hook"]) == 0
    printed = Path(capsys.readouterr().out.strip())
    assert printed.name == "hook.mjs" and printed.is_file()


def test_the_command_loads_with_the_collector_paused_and_resumes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import emulator.__main__ as entry

    seen: list[bool] = []
    monkeypatch.setattr(cli, "main", lambda: seen.append(gc.isenabled()) or 0)
    try:
        assert entry.main() == 0 and seen == [False]
        assert cli._main(["node-hook"]) == 0  # any command but serve resumes it at once
        assert gc.isenabled()
    finally:
        gc.enable()


def test_the_help_describes_every_command_in_plain_words(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    shown = capsys.readouterr().out
    usage, description = shown.split("\n\n")[:2]
    commands = usage.partition("{")[2].partition("}")[0].split(",")
    assert "conformance" in commands and "node-hook" in commands
    for command in commands:
        assert f"({command})" in " ".join(description.split()), command
    assert "``" not in description  # the docstring's reStructuredText, shown as it was
