"""``provider-emulator contracts import``: fal's endpoint types → the catalogue archive.

    npm ci --prefix tools/catalogue
    provider-emulator contracts import path/to/endpoints.ts \\
        --source-name "fal-ai/fal-js endpoints.ts" --source-date 2026-08-02 \\
        --delisted-from path/to/older/endpoints.d.ts --delisted-source-date 2026-05-04

writes ``catalogue/fal.zip`` (what the emulator serves) and, with ``--coverage``, a
Markdown page listing every endpoint with its category and tier. The endpoints only the
older files (``--delisted-from``, repeatable, newest first) have are served too, flagged
delisted: fal still serves many an endpoint its newer types no longer list, and a
client's own types still offer it. The endpoints the archive it replaces served that none
of the files has are named on stderr: they are no longer served.
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

from emulator.config import EmulatorConfig
from emulator.contracts.catalogue import CATALOGUE_FILE, Catalogue
from emulator.contracts.documents import ContractError, Contracts
from emulator.contracts.loading import load_contracts


def add_import_parser(commands: Any) -> None:
    """Register ``import`` under the ``contracts`` sub-commands."""
    parser = commands.add_parser(
        "import", help="import fal's published endpoint types as the catalogue"
    )
    parser.add_argument("types", type=Path, help="an endpoint-types file (endpoints.ts/.d.ts)")
    parser.add_argument("--output", type=Path, default=CATALOGUE_FILE, help="archive to write")
    parser.add_argument("--source-name", help="where the types file came from")
    parser.add_argument("--source-date", help="when its publisher regenerated it (YYYY-MM-DD)")
    parser.add_argument("--license", default="MIT", help="the types files' licence")
    parser.add_argument(
        "--delisted-from",
        type=Path,
        action="append",
        default=[],
        metavar="TYPES",
        help="an older types file: the endpoints only it has are served, flagged delisted "
        "(repeatable, newest first: when importing a newer file, the one imported before "
        "it, then the older ones)",
    )
    parser.add_argument(
        "--delisted-source-name",
        action="append",
        default=[],
        help="where each older file came from (repeatable, in --delisted-from's order)",
    )
    parser.add_argument(
        "--delisted-source-date",
        action="append",
        default=[],
        help="when each was published (YYYY-MM-DD; repeatable, in --delisted-from's order)",
    )
    parser.add_argument("--coverage", type=Path, metavar="MD", help="also write this page")


def _metadata(types: Path, name: str | None, date: str | None, licence: str) -> dict[str, Any]:
    from emulator.contracts.catalogue_build import file_digest

    return {
        "source_name": name or types.name,
        "source_date": date,
        "source_sha256": file_digest(types),
        "license": licence,
    }


def run_import(args: argparse.Namespace) -> int:
    from emulator.contracts.catalogue_build import build_archive, convert_types

    try:
        older_sources = _older_sources(args)
        converted = convert_types(args.types)
        older = [
            (convert_types(path), _metadata(path, name, date, args.license))
            for path, name, date in older_sources
        ]
    except ContractError as exc:  # (a TypesImportError too)
        print(f"provider-emulator: {exc}", file=sys.stderr)
        return 2
    metadata = {
        **_metadata(args.types, args.source_name, args.source_date, args.license),
        "converter": "tools/catalogue/convert.mjs (TypeScript compiler API)",
    }
    replaced = _served_ids(args.output)
    archive = build_archive(converted, metadata, older)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(archive)
    served = set(Catalogue(args.output).ids())
    delisted = len(served) - len(converted["endpoints"])
    counts = f"{len(converted['endpoints'])} endpoints, {delisted} delisted"
    print(f"{args.output}: {counts}, {len(archive)} bytes")
    dropped = sorted(replaced - served)
    if dropped:
        print(_dropped(args.output, dropped), file=sys.stderr)
    if args.coverage:
        contracts = load_contracts(EmulatorConfig().contracts, catalogue=Catalogue(args.output))
        args.coverage.write_text(coverage_page(contracts), encoding="utf-8")
        print(f"{args.coverage}: coverage page")
    return 0


def _older_sources(args: argparse.Namespace) -> list[tuple[Path, str | None, str | None]]:
    """Each ``--delisted-from`` file with its name and date (given in the same order)."""
    files, names, dates = args.delisted_from, args.delisted_source_name, args.delisted_source_date
    if len(names) > len(files) or len(dates) > len(files):
        raise ContractError(
            f"{len(names)} --delisted-source-name and {len(dates)} --delisted-source-date for "
            f"{len(files)} --delisted-from: each names the --delisted-from file in its place"
        )
    return [
        (path, names[i] if i < len(names) else None, dates[i] if i < len(dates) else None)
        for i, path in enumerate(files)
    ]


def _served_ids(archive: Path) -> set[str]:
    """The ids the archive an import replaces served (none if there is none to read)."""
    try:
        return set(Catalogue(archive).ids()) if archive.is_file() else set()
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return set()


#: how many dropped ids the import's warning names
_NAMED = 10


def _dropped(archive: Path, ids: list[str]) -> str:
    """The warning for the ids the archive replaced served that the new one does not."""
    named = ", ".join(ids[:_NAMED]) + (f" and {len(ids) - _NAMED} more" * (len(ids) > _NAMED))
    return (
        f"provider-emulator: {len(ids)} endpoint{'s' * (len(ids) != 1)} that {archive} served "
        f"before this import {'are' if len(ids) != 1 else 'is'} in none of the types files "
        f"given, so no longer served (a 404): {named}. To serve them flagged delisted, give "
        "the types file they came from (the one imported before) to --delisted-from, "
        "newest first"
    )


def _sources(meta: dict[str, Any]) -> list[str]:
    """Where the catalogue came from: its types file, and the older ones (if any) that its
    delisted endpoints come from."""
    lines = [
        f"Catalogue source: {meta.get('source_name')}, regenerated "
        f"{meta.get('source_date') or '(undated)'}, {meta.get('license')}, "
        f"sha256 `{meta.get('source_sha256')}`.",
        "",
    ]
    older = meta.get("delisted_source")
    if older:
        lines += [
            f'Delisted endpoints (served, flagged `"delisted": true`): the {older["endpoints"]}'
            f" only {older.get('source_name')} has, published "
            f"{older.get('source_date') or '(undated)'}, {older.get('license')}, "
            f"sha256 `{older.get('source_sha256')}`.",
            "",
        ]
    for further in meta.get("further_delisted_sources", ()):
        lines += [
            f"Delisted too: the {further['endpoints']} that {further.get('source_name')} has "
            "and none of the files above, published "
            f"{further.get('source_date') or '(undated)'}, {further.get('license')}, "
            f"sha256 `{further.get('source_sha256')}`.",
            "",
        ]
    return lines


def coverage_page(contracts: Contracts) -> str:
    """Every endpoint served, by provider, with its category, tier and source."""
    rows = sorted(contracts.listing(), key=lambda r: (r["provider"], r["id"]))
    tiers = Counter(r["tier"] for r in rows)
    delisted = sum(r["delisted"] for r in rows)
    lines = [
        "# Endpoint coverage",
        "",
        "Generated by `python -m docs.generate` (or `provider-emulator contracts import "
        "--coverage`). Tiers: **curated** "
        "(a full OpenAPI document: bounds, examples), **catalogue** (imported from fal's "
        "published endpoint types: the types carry no numeric bounds or length limits that "
        "fal states only in text, no examples, and every number is a JSON number).",
        "",
        ", ".join(f"{count} {tier}" for tier, count in sorted(tiers.items()))
        + f" ({delisted} of them delisted)",
        "",
    ]
    if contracts.catalogue is not None:
        lines += _sources(contracts.catalogue.metadata)
    lines += ["| provider | endpoint | category | tier |", "|---|---|---|---|"]
    lines += [
        f"| {r['provider']} | `{r['id']}` | {r['category']} | {r['tier']}"
        f"{', delisted' if r['delisted'] else ''} |"
        for r in rows
    ]
    return "\n".join(lines) + "\n"
