"""``provider-emulator serve``'s flags: the server's own options, a flag for every
`EmulatorConfig` setting, how they are read (flags over the environment over the
``--config`` file over defaults), and the reference table the docs print of them.

Every `EmulatorConfig` field is a flag (``--max-jobs``), an environment variable
(``PROVIDER_EMULATOR_MAX_JOBS``) and a TOML key (``[emulator] max_jobs``); the options
below are the server's own.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from emulator.config import KINDS, SETTINGS, EmulatorConfig, env_name, not_empty, setting_help
from emulator.config_file import Settings, load_settings
from emulator.core.faults import Fault, FaultError
from emulator.http.upstream import UPSTREAM_VARIABLE
from emulator.recording import add_serve_options as add_recording_options
from emulator.setting_values import Bounds, Kind, described


@dataclass(frozen=True)
class ServerOption:
    """A setting of the server itself (not of the emulator it serves)."""

    name: str
    default: Any
    help: str
    kind: type = str
    in_file: bool = False  # also a key of the TOML file's [emulator] table
    bounds: Bounds | None = None
    choices: tuple[str, ...] | None = None
    check: Callable[[str, Any], None] | None = None

    def read(self, label: str, value: Any) -> Any:
        """``value`` (typed, or text as flags and the environment give it) if this option
        takes it, else `ValueError` naming ``label`` (its flag or variable)."""
        value = Kind(self.kind).read(label, value, text=True)
        if self.choices and value not in self.choices:
            raise ValueError(f"{label} must be one of {', '.join(self.choices)}, not {value!r}")
        if self.bounds is not None:
            self.bounds.check(label, value)
        if self.check is not None:
            self.check(label, value)
        return value


PORTS = Bounds(minimum=0, maximum=65535)
#: uvicorn's log levels (its LOG_LEVELS; uvicorn is imported only when serving)
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")

SERVER_OPTIONS = (
    ServerOption(
        "host",
        "127.0.0.1",
        "Address to listen on (0.0.0.0 exposes it beyond loopback).",
        check=not_empty,
    ),
    ServerOption(
        "port",
        8000,
        "Port to listen on; 0 takes a free one, which the start-up lines name.",
        int,
        bounds=PORTS,
    ),
    ServerOption("config", None, "A TOML file of settings and fault rules.", Path),
    ServerOption(
        "manual_clock", False, "Time moves only when told (POST /_emulator/clock).", bool, True
    ),
    ServerOption("tls", False, "Serve HTTPS with a local CA (see `provider-emulator env`).", bool),
    ServerOption("tls_dir", None, "Where the local CA and certificate live.", Path),
    ServerOption("log_level", "info", "uvicorn's log level.", choices=LOG_LEVELS),
    ServerOption(
        "workers",
        1,
        "Worker processes serving the one port; more than one needs state they share "
        "(--state redis://… or sqlite:///…, or --data-dir).",
        int,
        bounds=Bounds(minimum=1),
    ),
    ServerOption(
        "shutdown_timeout",
        5.0,
        "Seconds SIGTERM waits for open requests (status streams, sync-mode waits, staged "
        "hangs) before it ends them and exits.",
        float,
        bounds=Bounds(minimum=0),
    ),
    ServerOption(
        "access_log",
        False,
        "Log each request, as uvicorn's access log does (its lines written within 0.1 s, "
        "in batches, for a few per cent of request rate: docs/performance.md); off by "
        "default: the request record, /_emulator/requests, is the journal.",
        bool,
    ),
)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def setting_flag(name: str) -> str:
    """The flag of the setting ``name`` (``--api-key`` is repeated, once per key)."""
    return "--api-key" if name == "api_keys" else _flag(name)


def add_parser(commands: Any) -> None:
    serve = commands.add_parser("serve", help="serve every provider on one port")
    for option in SERVER_OPTIONS:
        help_text = f"{described(option.help, option.bounds)} [env {env_name(option.name)}]"
        if option.kind is bool:
            serve.add_argument(
                _flag(option.name), action="store_true", default=None, help=help_text
            )
        else:
            # numbers are read here (argparse names a bad one); text as the environment's is
            kind = option.kind if option.kind in (int, float) else None
            serve.add_argument(
                _flag(option.name), type=kind, choices=option.choices, help=help_text
            )
    for name, setting in SETTINGS.items():
        help_text = f"{setting_help(setting)} [env {env_name(name)}]"
        if name == "contracts":
            serve.add_argument("--contracts", action="append", metavar="DIR", help=help_text)
        elif name == "api_keys":
            serve.add_argument(
                "--api-key", action="append", dest="api_keys", metavar="KEY", help=help_text
            )
        elif type(setting.default) is bool:
            serve.add_argument(_flag(name), action="store_true", default=None, help=help_text)
        else:
            choices = setting.metadata.get("choices")
            serve.add_argument(_flag(name), choices=choices, help=help_text)
    _add_flag_only_options(serve)
    for action in serve._actions:  # a flag-only option a variable also sets says so too
        variable = _ALSO_FROM.get(next(iter(action.option_strings), ""), ("", ""))[0]
        if variable:
            action.help = f"{action.help} [env {variable}]"


def _add_flag_only_options(serve: argparse.ArgumentParser) -> None:
    """The options that are flags only (no setting of `EmulatorConfig`, no server option)."""
    add_recording_options(serve)
    serve.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="JSON",
        type=_fault,
        help='a fault rule, e.g. \'{"effect": "http_error", "status": 429, "times": 1}\'',
    )


def _fault(text: str) -> Fault:
    try:
        return Fault.from_dict(json.loads(text))
    except (ValueError, FaultError, AttributeError) as exc:
        raise argparse.ArgumentTypeError(f"not a fault rule: {exc}") from None


def server_options(args: argparse.Namespace, environ: Mapping[str, str]) -> dict[str, Any]:
    """The server's own options: flags over environment variables over defaults."""
    chosen = {}
    for option in SERVER_OPTIONS:
        value, label = getattr(args, option.name), _flag(option.name)
        text = environ.get(env_name(option.name), "")
        if value is None and text:  # an empty variable counts as unset
            value, label = text, env_name(option.name)
        chosen[option.name] = option.default if value is None else option.read(label, value)
    return chosen


def settings(
    args: argparse.Namespace, environ: Mapping[str, str] = os.environ
) -> tuple[Settings, dict[str, Any]]:
    """The emulator's settings and the server's options that ``args`` and ``environ`` say."""
    server = server_options(args, environ)
    file_settings = load_settings(server["config"]) if server["config"] else Settings()
    flags = {name: getattr(args, name) for name in SETTINGS}
    config = file_settings.config.with_environment(environ).with_options(flags, label=setting_flag)
    chosen = Settings(
        config,
        file_settings.manual_clock or server["manual_clock"],
        (*file_settings.faults, *args.fault),
    )
    return chosen, server


def reference() -> list[tuple[str, str, str, str, str, str]]:
    """Every serve setting: (flag, environment variable, TOML key, the values it takes,
    default, description)."""
    rows = [
        (
            _flag(o.name),
            env_name(o.name),
            o.name if o.in_file else "",
            _takes(Kind(o.kind), o.choices),
            str(o.default),
            described(o.help, o.bounds),
        )
        for o in SERVER_OPTIONS
    ]
    defaults = EmulatorConfig()
    for setting in fields(EmulatorConfig):
        flag, name = setting_flag(setting.name), setting.name
        value = getattr(defaults, name)
        default = "(the shipped contracts)" if name == "contracts" else str(value)
        takes = _takes(KINDS[name], setting.metadata.get("choices"))
        rows.append((flag, env_name(name), name, takes, default, setting_help(setting)))
    return rows + _flag_only_rows()


#: what reads a flag-only option beside its flag (the upstream also comes from the
#: environment; fault rules also from a config file's ``[[faults]]``)
_ALSO_FROM = {"--upstream": (UPSTREAM_VARIABLE, ""), "--fault": ("", "[[faults]]")}


def _flag_only_rows() -> list[tuple[str, str, str, str, str, str]]:
    parser = argparse.ArgumentParser(add_help=False)
    _add_flag_only_options(parser)
    rows = []
    for action in parser._actions:
        flag = action.option_strings[0]
        env, key = _ALSO_FROM.get(flag, ("", ""))
        takes = " or ".join(action.choices) if action.choices else str(action.metavar)
        default = "" if action.default in (None, []) else str(action.default)
        rows.append((flag, env, key, takes, default, str(action.help)))
    return rows


def _takes(kind: Kind, choices: Sequence[str] | None) -> str:
    return f"{', '.join(choices[:-1])} or {choices[-1]}" if choices else str(kind)
