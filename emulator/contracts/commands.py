"""``provider-emulator contracts list``, ``contracts diff`` and ``contracts sync``: parsers
and runners.

    provider-emulator contracts list [--contracts PATH]... [--added-only]
    provider-emulator contracts diff [--against FILE|DIR|URL] [--json]
    provider-emulator contracts sync [--against FILE|DIR|URL]

``list`` loads and checks every document ``serve`` would serve, each once, and lists the
endpoints served; it names every document that cannot be used (not only the first) and
then exits 2. ``diff`` exits 1 when a change is critical (so a scheduled job fails), 0
otherwise, and 2 when the contracts or the source cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from emulator.contracts.documents import ContractError, Contracts
from emulator.contracts.loading import load_contracts

if TYPE_CHECKING:
    from emulator.contracts.drift import DriftReport

# The comparison's modules (and jsonschema, urllib with them) load when a command runs,
# not with every `provider-emulator` start: the parser is built for `serve` too.

COMMANDS = ("list", "diff", "sync")


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add ``list``, ``diff`` and ``sync`` to the ``contracts`` command's sub-commands."""
    listing = commands.add_parser("list", help="load, check and list contract documents")
    listing.add_argument(
        "--contracts",
        action="append",
        default=[],
        metavar="PATH",
        type=Path,
        help="a contract document, or a directory of them, added to the shipped ones "
        "(repeatable; after PROVIDER_EMULATOR_CONTRACTS's)",
    )
    listing.add_argument(
        "--added-only",
        action="store_true",
        help="only the documents added to the shipped ones (--contracts, "
        "PROVIDER_EMULATOR_CONTRACTS, or a file added to or changed in contracts/), "
        "not the shipped ones or fal's catalogue",
    )
    for name, words in (
        ("diff", "compare the shipped contracts with newer published documents"),
        ("sync", "apply the changes newer published documents make to the contracts"),
    ):
        command = commands.add_parser(name, help=words)
        command.add_argument(
            "--against",
            metavar="FILE|DIR|URL",
            help="a per-endpoint OpenAPI document (file or URL; a URL with {endpoint_id} is "
            "fetched per endpoint), a directory laid out like contracts/, or fal's endpoint "
            "types .ts file (default: fal's published per-endpoint documents)",
        )
        command.add_argument(
            "--contracts",
            type=Path,
            metavar="DIR",
            help="the contract documents to compare (default: the shipped ones, and with "
            "diff against fal's endpoint types, fal's catalogue)",
        )
        if name == "diff":
            command.add_argument("--json", action="store_true", help="a JSON report for CI")


def _contracts(directory: Path | None, *, catalogue: bool) -> Contracts:
    """The contracts ``directory`` holds, else the shipped ones (with fal's catalogue if
    ``catalogue``: `diff` compares it against a source that lists it whole)."""
    from emulator.contracts.catalogue import shipped_catalogue
    from emulator.contracts.loading import DEFAULT_CONTRACTS_DIR

    if directory is not None:
        return load_contracts([directory])
    return load_contracts(
        [DEFAULT_CONTRACTS_DIR], catalogue=shipped_catalogue() if catalogue else None
    )


def _print_report(report: DriftReport) -> None:
    from emulator.contracts.drift import SEVERITIES

    print(f"against {report.source}" + (f" (published {report.date})" if report.date else ""))
    for severity in SEVERITIES:
        for change in (c for c in report.changes if c.severity == severity):
            tier = " (catalogue)" * (change.tier == "catalogue")
            print(f"{severity:8} {change.provider} {change.endpoint}{tier}: {change.message}")
            print(f"{'':8}   affects {change.affects}")
    counts = ", ".join(f"{report.count(s)} {s}" for s in SEVERITIES)
    changes, compared = (
        _counted(len(report.changes), "change"),
        _counted(report.compared, "endpoint"),
    )
    print(f"{changes} in {compared} compared: {counts}")
    catalogue = sum(change.tier == "catalogue" for change in report.changes)
    if catalogue:
        applied = "`contracts import` of the newer types applies them, not `contracts sync`"
        print(f"{_counted(catalogue, 'change')} of fal's catalogue: {applied} (docs/catalogue.md)")


def _counted(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def list_contracts(args: argparse.Namespace) -> int:
    """Print a row per endpoint served and each unusable document on stderr (then 2)."""
    from emulator.config import EmulatorConfig
    from emulator.contracts.loading import each_document
    from emulator.contracts.served import served_catalogue

    # the documents `serve` would serve: the environment's, then --contracts
    config = EmulatorConfig().with_environment().with_contracts(*args.contracts)
    endpoints, broken = [], 0
    for loaded in each_document(config.contracts, added_only=args.added_only):
        if isinstance(loaded, ContractError):
            print(f"provider-emulator: {loaded}", file=sys.stderr)
            broken += 1
        else:
            endpoints.append(loaded)
    catalogue = None if args.added_only else served_catalogue(config)
    for row in Contracts(endpoints, catalogue=catalogue).listing():
        print(f"{row['provider']:10} {row['id']:60} {row['tier']:9} {row['source']}")
    return 2 if broken else 0


def run(args: argparse.Namespace) -> int:
    if args.contracts_command == "list":
        return list_contracts(args)
    from emulator.contracts.comparison import diff_contracts
    from emulator.contracts.sources import SourceError, open_source
    from emulator.contracts.sync import sync_contracts

    syncing = args.contracts_command == "sync"
    try:
        # `sync` patches documents: the catalogue's changes are `contracts import`'s
        contracts = _contracts(args.contracts, catalogue=not syncing)
        report = diff_contracts(contracts, open_source(args.against))
        if syncing:
            for path in sync_contracts(contracts, report):
                print(f"synced {path}")
            return 0
    except (ContractError, SourceError) as exc:
        print(f"provider-emulator: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.as_json(), indent=2, ensure_ascii=False))
    else:
        _print_report(report)
    return 1 if report.critical else 0
