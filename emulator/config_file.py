"""The server's settings from a TOML file, so a scenario can be checked in and replayed.

    [emulator]
    seed = 7
    progression = "polls:1,2"
    manual_clock = false
    unreachable_media = "synthetic"

    [[faults]]
    effect = "http_error"
    status = 429
    retry_after = 2
    times = 1

``[emulator]`` takes the fields of `EmulatorConfig` (``progression`` and paths as text,
lists for ``api_keys`` and ``contracts``) and ``manual_clock``, each of its own type (a
boolean is true or false, never "no"); each ``[[faults]]`` table is a rule (see
`emulator.core.faults`). Command-line flags given beside ``--config`` win.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.config import EmulatorConfig
from emulator.core.faults import Fault, FaultError
from emulator.setting_values import kinds


class SettingsError(ValueError):
    """A settings file that cannot be used, with the reason."""


@dataclass(frozen=True)
class Settings:
    """What a start of the server is given: the emulator's config, whether its clock is manual,
    and the fault rules to stage."""

    config: EmulatorConfig = field(default_factory=EmulatorConfig)
    manual_clock: bool = False
    faults: tuple[Fault, ...] = ()


#: the tables a settings file may hold (any other is a misspelling, not to be ignored)
TABLES = ("emulator", "faults")


def _config(table: dict[str, Any], base: Path) -> EmulatorConfig:
    options = {name: value for name, value in table.items() if name != "manual_clock"}
    return EmulatorConfig().with_options(options, base, text=False)


def _tables(document: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    unknown = sorted(set(document) - set(TABLES))
    if unknown:
        raise ValueError(
            f"unknown tables: {', '.join(unknown)} (a file holds [emulator] and [[faults]])"
        )
    table, rules = document.get("emulator", {}), document.get("faults", [])
    if not isinstance(table, dict):
        raise ValueError("emulator must be a table: [emulator]")
    if not isinstance(rules, list) or not all(isinstance(rule, dict) for rule in rules):
        raise ValueError("faults must be tables: [[faults]]")
    return table, rules


#: the largest settings file read (GUESS: a bound far past any scenario's, thousands of rules)
MAX_FILE_BYTES = 2**20


def load_settings(path: Path) -> Settings:
    """Read ``path``; relative paths in it are relative to its folder."""
    import tomllib  # only a server given --config reads TOML

    try:
        # Read up to a bound: `--config /dev/zero` (or an endless pipe) grew memory for ever.
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise SettingsError(f"{path}: larger than {MAX_FILE_BYTES // 2**20} MiB")
        document = tomllib.loads(data.decode("utf-8"))
    # a file that is not UTF-8 is named, as any other unreadable one is
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise SettingsError(f"{path}: {error}") from None
    try:
        table, rules = _tables(document)
        config = _config(table, path.parent)
        manual_clock = kinds(Settings)["manual_clock"].read(
            "manual_clock", table.get("manual_clock", False)
        )
        faults = tuple(Fault.from_dict(rule) for rule in rules)
    except (FaultError, ValueError, TypeError) as error:
        raise SettingsError(f"{path}: {error}") from None
    return Settings(config, manual_clock, faults)
