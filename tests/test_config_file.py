import re
from pathlib import Path

import pytest

from emulator.config_file import MAX_FILE_BYTES, SettingsError, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "emulator.toml"
    path.write_text(text)
    return path


def test_settings_and_fault_rules(tmp_path: Path) -> None:
    settings = load_settings(
        write(
            tmp_path,
            """
[emulator]
seed = 7
progression = "polls:1,2"
api_keys = ["a"]
manual_clock = true
unreachable_media = "synthetic"
storage_dir = "files"

[[faults]]
effect = "http_error"
status = 429
retry_after = 2
times = 1
""",
        )
    )
    config = settings.config
    assert (config.seed, config.progression.mode, config.api_keys) == (7, "polls", frozenset({"a"}))
    assert config.storage_dir == tmp_path / "files" and settings.manual_clock
    (rule,) = settings.faults
    assert (rule.effect, rule.status, rule.retry_after, rule.times) == ("http_error", 429, 2, 1)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[emulator]\nsede = 1", "unknown"),
        ("[emulator]\nprogression = 'soon'", "progression"),
        ("[emulator]\nmax_outputs = 0", "max_outputs must be at least 1, not 0$"),
        ("[emulator]\nretention = -1", "retention must be more than 0, at most 2678400, not -1$"),
        ("[emulator]\nmax_jobs = true", "max_jobs must be an integer, not True$"),
        ("[[faults]]\neffect = 'explode'", "effect: 'explode' is not one of"),
        ("[[faults]]\neffect = 'http_error'", "status"),
        ("not toml ===", "emulator.toml"),
    ],
)
def test_bad_settings_say_why(tmp_path: Path, text: str, reason: str) -> None:
    with pytest.raises(SettingsError, match=reason):
        load_settings(write(tmp_path, text))


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("progression = 5", "progression must be a progression (immediate, "),
        ("state = 5", "state must be a string, not 5"),
        ("api_keys = [1]", "api_keys must be a list of strings, not [1]"),
        ("api_keys = [[1]]", "api_keys must be a list of strings, not [[1]]"),
        ("api_keys = 'a'", "api_keys must be a list of strings, not 'a'"),
        ("contracts = 'dir'", "contracts must be a list of paths, not 'dir'"),
        ("retention = [1]", "retention must be a number, not [1]"),
        ("sync_timeout = {a=1}", "sync_timeout must be a number, not {'a': 1}"),
        ("manual_clock = 'no'", "manual_clock must be true or false, not 'no'"),
        ("validate_on_submit = 'yes'", "validate_on_submit must be true or false, not 'yes'"),
        ("seed = 1.5", "seed must be an integer, not 1.5"),
        ("max_jobs = '10'", "max_jobs must be an integer, not '10'"),
        ("admin_token = 5", "admin_token must be a string, not 5"),
        ("admin_token = ''", "admin_token must not be empty"),
        ("storage_dir = ''", "storage_dir must be a path, not ''"),
        ("public_url = 'notaurl'", "public_url must be http(s)://host[:port]"),
    ],
)
def test_each_setting_in_a_file_is_of_its_own_type(tmp_path: Path, line: str, reason: str) -> None:
    path = write(tmp_path, f"[emulator]\n{line}\n")
    with pytest.raises(SettingsError) as refused:
        load_settings(path)
    assert str(refused.value).startswith(f"{path}: {reason}")


def test_a_number_of_seconds_may_be_written_without_a_point(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "[emulator]\nretention = 5\nmanual_clock = false\n"))
    assert (settings.config.retention, settings.manual_clock) == (5, False)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[emulatr]\nseed = 1", "unknown tables: emulatr"),
        ("emulator = 5", "emulator must be a table"),
        ("faults = 5", "faults must be tables"),
        ("faults = [5]", "faults must be tables"),
    ],
)
def test_a_file_holds_an_emulator_table_and_fault_tables(
    tmp_path: Path, text: str, reason: str
) -> None:
    with pytest.raises(SettingsError, match=re.escape(reason)):
        load_settings(write(tmp_path, text))


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('[emulator]\nprogression = "caf\xe9"\n'.encode("latin-1"))
    # the decoding error was all it said, leaving the operator to guess which file
    with pytest.raises(SettingsError, match=re.escape(f"{path}: 'utf-8' codec can't decode")):
        load_settings(path)


def test_a_file_past_its_bound_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.toml"
    path.write_bytes(b"#" * MAX_FILE_BYTES + b"\n")
    # read whole before, so that `--config /dev/zero` grew memory for ever
    with pytest.raises(SettingsError, match=re.escape(f"{path}: larger than 1 MiB")):
        load_settings(path)


def test_crlf_lines_read_as_before(tmp_path: Path) -> None:
    path = tmp_path / "windows.toml"
    path.write_bytes(b"[emulator]\r\nseed = 7\r\n")
    assert load_settings(path).config.seed == 7
