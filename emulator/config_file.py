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

``[emulator]`` takes the fields of `EmulatorConfig` (``progression`` as text, lists for
``api_keys`` and ``contracts``) and ``manual_clock``; each ``[[faults]]`` table is a rule
(see `emulator.core.faults`). Command-line flags given beside ``--config`` win.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from emulator.config import EmulatorConfig
from emulator.core.faults import Fault, FaultError
from emulator.core.lifecycle import Progression

__all__ = ["Settings", "SettingsError", "load_settings"]


class SettingsError(ValueError):
    """A settings file that cannot be used, with the reason."""


@dataclass(frozen=True)
class Settings:
    config: EmulatorConfig = field(default_factory=EmulatorConfig)
    manual_clock: bool = False
    faults: tuple[Fault, ...] = ()


_CONFIG_FIELDS = {f.name for f in fields(EmulatorConfig)}


def _config(table: dict[str, Any], base: Path) -> EmulatorConfig:
    unknown = set(table) - _CONFIG_FIELDS - {"manual_clock"}
    if unknown:
        raise SettingsError(f"unknown [emulator] settings: {', '.join(sorted(unknown))}")
    values = {k: v for k, v in table.items() if k in _CONFIG_FIELDS}
    if "progression" in values:
        values["progression"] = Progression.parse(str(values["progression"]))
    if "api_keys" in values:
        values["api_keys"] = frozenset(values["api_keys"])
    extra = [base / Path(d) for d in values.pop("contracts", [])]
    if "storage_dir" in values:
        values["storage_dir"] = base / Path(values["storage_dir"])
    return replace(EmulatorConfig(), **values).with_contracts(*extra)


def load_settings(path: Path) -> Settings:
    """Read ``path``; relative paths in it are relative to its folder."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise SettingsError(f"{path}: {error}") from None
    table = document.get("emulator", {})
    try:
        config = _config(table, path.parent)
        faults = tuple(Fault.from_dict(rule) for rule in document.get("faults", []))
    except (FaultError, ValueError, TypeError) as error:
        raise SettingsError(f"{path}: {error}") from None
    return Settings(config, bool(table.get("manual_clock", False)), faults)
