from pathlib import Path

import pytest

from emulator.config_file import SettingsError, load_settings


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
        ("[emulator]\nretention = -1", "retention must be more than 0, not -1$"),
        ("[emulator]\nmax_jobs = true", "max_jobs must be an integer, not True$"),
        ("[[faults]]\neffect = 'explode'", "effect: 'explode' is not one of"),
        ("[[faults]]\neffect = 'http_error'", "status"),
        ("not toml ===", "emulator.toml"),
    ],
)
def test_bad_settings_say_why(tmp_path: Path, text: str, reason: str) -> None:
    with pytest.raises(SettingsError, match=reason):
        load_settings(write(tmp_path, text))
