"""provider-emulator, an offline emulator of fal.ai's and WaveSpeed AI's APIs: serve it
(serve), check a client or a webhook handler against the providers' contracts
(conformance), work with contract documents (contracts), and point clients at a server:
the environment for serve --tls (env), the Node hook's path (node-hook)."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from emulator import serve, serve_flags
from emulator.catalogue_cli import add_import_parser, run_import
from emulator.config import not_empty
from emulator.config_file import SettingsError
from emulator.contracts import commands as contract_commands
from emulator.contracts.documents import ContractError
from emulator.recording import ERRORS as RECORDING_ERRORS
from emulator.setting_values import Kind


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (not the whole usage first) and a hint;
    the sub-commands' parsers are of this class too."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="provider-emulator", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve_flags.add_parser(commands)

    contracts = commands.add_parser("contracts", help="work with contract documents")
    subcommands = contracts.add_subparsers(dest="contracts_command", required=True)
    contract_commands.add_commands(subcommands)
    add_import_parser(subcommands)

    env = commands.add_parser(
        "env", help="print the environment that points the clients at `serve --tls`"
    )
    env.add_argument(
        "--host", default="localhost", help="the host serve --tls answers as (default: localhost)"
    )
    env.add_argument(
        "--port", type=int, default=8000, help="the port serve --tls listens on (default: 8000)"
    )
    env.add_argument(
        "--tls-dir",
        metavar="DIR",
        help="where serve --tls keeps its CA (default: ~/.cache/provider-emulator/tls)",
    )
    commands.add_parser(
        "node-hook",
        help="print the path of the Node hook (NODE_OPTIONS=--import=PATH), which sends the "
        "JavaScript clients to the emulator at $PROVIDER_EMULATOR_URL",
    )
    # The harness loads only when asked for (it costs a third of serve's start-up): its own
    # parser reads what follows the sub-command.
    conformance = commands.add_parser(
        "conformance",
        help="check a client of the providers' APIs against their contracts",
        add_help=False,
        prefix_chars="\0",
    )
    conformance.add_argument("arguments", nargs=argparse.REMAINDER)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:  # `… --json | head`: the reader has what it wanted
        # Python's own advice: point stdout at nothing, so that its flush at exit (of
        # what is still buffered) fails no louder than the write did.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    if args.command != "serve":  # paused by __main__.py; serve resumes it once it is built
        gc.enable()
    if args.command == "conformance":
        from emulator.harness import cli as conformance

        return conformance.main(args.arguments)
    if args.command == "node-hook":
        from emulator.node import HOOK

        print(HOOK)
        return 0
    try:
        if args.command == "env":
            from emulator.tls import as_exports, client_environment

            serve_flags.PORTS.check("--port", args.port)
            not_empty("--host", args.host)
            text = args.tls_dir
            folder = None if text is None else Kind(Path).read("--tls-dir", text, text=True)
            files = serve.tls_files(folder)
            print(as_exports(client_environment(args.port, files, args.host)))
            return 0
        if args.command == "contracts" and args.contracts_command == "import":
            return run_import(args)
        if args.command == "contracts" and args.contracts_command in contract_commands.COMMANDS:
            return contract_commands.run(args)
        return serve.run(args, sys.argv[1:] if argv is None else argv)
    except (ContractError, SettingsError, ValueError, *RECORDING_ERRORS) as exc:
        print(f"provider-emulator: {exc}", file=sys.stderr)
        return 2
    except serve.CannotStart as exc:  # not a usage error: the machine's state
        print(f"provider-emulator: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
