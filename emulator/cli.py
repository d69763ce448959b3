"""``provider-emulator``: serve the emulator, or check contract documents."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from emulator.config import EmulatorConfig
from emulator.config_file import Settings, SettingsError, load_settings
from emulator.contracts.documents import ContractError, load_contracts
from emulator.core.clock import ManualClock
from emulator.core.engine import Engine
from emulator.core.faults import Fault, FaultError
from emulator.core.lifecycle import Progression
from emulator.harness import cli as conformance
from emulator.tls import as_exports, client_environment, ensure_tls

__all__ = ["main"]


def _progression(text: str) -> Progression:
    try:
        return Progression.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _fault(text: str) -> Fault:
    try:
        return Fault.from_dict(json.loads(text))
    except (ValueError, FaultError, AttributeError) as exc:
        raise argparse.ArgumentTypeError(f"not a fault rule: {exc}") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="provider-emulator", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve every provider on one port")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--contracts",
        action="append",
        default=[],
        metavar="DIR",
        type=Path,
        help="another directory of contract documents (fal/…, wavespeed/…); repeatable",
    )
    serve.add_argument(
        "--config", type=Path, metavar="FILE", help="a TOML file of settings and fault rules"
    )
    serve.add_argument("--seed", type=int, help="fix request ids, seeds and media for replay")
    serve.add_argument(
        "--progression",
        type=_progression,
        help="immediate | polls:QUEUED,RUNNING | wall:QUEUED_S,RUNNING_S[,JITTER] "
        "(default wall:0.25,1.0,0.2)",
    )
    serve.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        metavar="KEY",
        help="accept only these keys (repeatable); by default any non-empty key works",
    )
    serve.add_argument("--retention", type=float, help="seconds jobs are kept (default 3600)")
    serve.add_argument(
        "--manual-clock",
        action="store_true",
        help="time moves only when told (POST /_emulator/clock): wall progression, stepped",
    )
    serve.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="JSON",
        type=_fault,
        help='a fault rule, e.g. \'{"effect": "http_error", "status": 429, "times": 1}\'',
    )
    serve.add_argument("--public-url", help="scheme://host:port that response URLs should use")
    serve.add_argument(
        "--validate-on-submit",
        action="store_true",
        help="reject invalid input at submit (the real fal queue reports it at the result)",
    )
    serve.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS with a local CA (made once in --tls-dir); see `provider-emulator env`",
    )
    serve.add_argument("--tls-dir", type=Path, help="where the CA and certificate live")
    serve.add_argument("--log-level", default="info")
    serve.add_argument(
        "--no-access-log",
        dest="access_log",
        action="store_false",
        help="do not log each request (uvicorn's access log costs ~10%% on status polls)",
    )

    contracts = commands.add_parser("contracts", help="work with contract documents")
    contract_commands = contracts.add_subparsers(dest="contracts_command", required=True)
    listing = contract_commands.add_parser("list", help="load and list contract documents")
    listing.add_argument("--contracts", action="append", default=[], metavar="DIR", type=Path)

    env = commands.add_parser(
        "env", help="print the environment that points the clients at `serve --tls`"
    )
    env.add_argument("--host", default="localhost")
    env.add_argument("--port", type=int, default=8000)
    env.add_argument("--tls-dir", type=Path)
    conformance.add_parser(commands)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    """The file's settings (if any), with the flags that were given on top."""
    settings = load_settings(args.config) if args.config else Settings()
    given = {
        "seed": args.seed,
        "progression": args.progression,
        "api_keys": frozenset(args.api_keys) if args.api_keys else None,
        "retention": args.retention,
        "public_url": args.public_url,
        "validate_on_submit": args.validate_on_submit or None,
    }
    config = replace(settings.config, **{k: v for k, v in given.items() if v is not None})
    return Settings(
        config.with_contracts(*args.contracts),
        settings.manual_clock or args.manual_clock,
        (*settings.faults, *args.fault),
    )


def build_app(settings: Settings) -> Any:
    """The app the settings describe, fault rules staged."""
    from emulator.app import create_app

    clock = ManualClock(wall_start=time.time()) if settings.manual_clock else None
    engine = Engine(settings.config, clock=clock)
    for rule in settings.faults:
        engine.faults.add(rule)
    return create_app(engine=engine)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "conformance":
        return conformance.run(args)
    try:
        if args.command == "env":
            files = ensure_tls(args.tls_dir)
            print(as_exports(client_environment(args.port, files, args.host)))
            return 0
        if args.command == "contracts" and args.contracts_command == "list":
            contracts = load_contracts(EmulatorConfig().with_contracts(*args.contracts).contracts)
            for endpoint in contracts:
                print(f"{endpoint.provider:10} {endpoint.id:60} {endpoint.source}")
            return 0
        import uvicorn

        app = build_app(_settings(args))
    except (ContractError, SettingsError) as exc:
        print(f"provider-emulator: {exc}", file=sys.stderr)
        return 2
    tls = {}
    if args.tls:
        files = ensure_tls(args.tls_dir)
        tls = {"ssl_certfile": str(files.certificate), "ssl_keyfile": str(files.key)}
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=args.access_log,
        **tls,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
