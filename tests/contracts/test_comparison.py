"""What ``contracts diff`` compares: against fal's endpoint-types file (which lists fal's
whole catalogue) the catalogue's endpoints too, with the ids the file lists that nothing
serves; without Node, the conversion stood in for by types already converted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from emulator import cli
from emulator.contracts import catalogue, sources
from emulator.contracts.catalogue import Catalogue, openapi_document
from emulator.contracts.catalogue_build import build_archive
from emulator.contracts.comparison import diff_contracts
from emulator.contracts.loading import DEFAULT_CONTRACTS_DIR, load_contracts

RECORDED = Path(__file__).parents[2] / "fixtures" / "published" / "fal-endpoint-types-2026-08-02"
META = {"source_name": "types", "source_date": "2026-08-02", "license": "MIT"}


def _converted(formats: list[str], *ids: str) -> dict[str, Any]:
    """Converted endpoint types: each of ``ids`` an image model of ``output_format``s."""
    schemas = {
        "In": {
            "type": "object",
            "required": ["prompt"],
            "properties": {
                "prompt": {"type": "string"},
                "output_format": {"type": "string", "enum": formats},
            },
        },
        "Out": {"type": "object", "properties": {"seed": {"type": "number"}}},
    }
    return {"types": schemas, "endpoints": {i: {"input": "In", "output": "Out"} for i in ids}}


def _documents(converted: dict[str, Any]) -> dict[str, Any]:
    """The documents of ``converted`` as `catalogue.documents_from_types` makes them."""
    return {
        endpoint_id: openapi_document(endpoint_id, "In", "Out", converted["types"], "text-to-image")
        for endpoint_id in converted["endpoints"]
    }


@pytest.fixture
def served(tmp_path: Path) -> Catalogue:
    """A catalogue of flux/dev and its redux, and whisper that only older types have."""
    current = _converted(["jpeg", "png"], "fal-ai/flux/dev", "fal-ai/flux/dev/redux")
    older = _converted(["jpeg"], "fal-ai/whisper")
    (tmp_path / "fal.zip").write_bytes(build_archive(current, META, [(older, META)]))
    return Catalogue(tmp_path / "fal.zip")


@pytest.fixture
def newer_types(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A newer types file: flux/dev's output_format gains webp, redux is gone, one endpoint
    is new; with the shipped contracts' fal endpoints as recorded (no change of theirs)."""
    newer = _converted(["jpeg", "png", "webp"], "fal-ai/flux/dev", "fal-ai/hyperclip")
    recorded = sources.DocumentDirectory(RECORDED).documents("fal", [])
    published = {**recorded, **_documents(newer)}
    monkeypatch.setattr(catalogue, "documents_from_types", lambda path: published)
    (tmp_path / "newer.ts").write_text("// converted by the catalogue's converter")
    return tmp_path / "newer.ts"


def _found(changes: list[Any]) -> dict[tuple[str, str], str]:
    return {(change["endpoint"], change["aspect"]): change["severity"] for change in changes}


def test_the_catalogue_is_compared_with_the_endpoint_types(
    served: Catalogue, newer_types: Path
) -> None:
    contracts = load_contracts([DEFAULT_CONTRACTS_DIR], catalogue=served)
    report = diff_contracts(contracts, sources.EndpointTypes(newer_types))
    assert _found([change.as_json() for change in report.changes]) == {
        ("fal-ai/flux/dev/redux", "delisted"): "critical",
        ("fal-ai/flux/dev", "enum"): "warning",
        ("fal-ai/hyperclip", "added"): "warning",
    }  # whisper, delisted already, is no change
    fal = len(contracts.of("fal"))
    assert report.critical and report.compared == fal + 3
    assert {change.tier for change in report.changes} == {"catalogue"}


def test_contracts_diff_against_the_endpoint_types_compares_the_catalogue(
    served: Catalogue,
    newer_types: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # it compared the 6 curated fal contracts only: "0 changes in 6 endpoints compared",
    # exit 0, where docs/drift.md says the whole catalogue is compared (an audit)
    monkeypatch.setattr(catalogue, "shipped_catalogue", lambda: served)
    assert cli.main(["contracts", "diff", "--against", str(newer_types), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert _found(report["changes"]) == {
        ("fal-ai/flux/dev/redux", "delisted"): "critical",
        ("fal-ai/flux/dev", "enum"): "warning",
        ("fal-ai/hyperclip", "added"): "warning",
    }
    assert cli.main(["contracts", "diff", "--against", str(newer_types)]) == 1
    text = capsys.readouterr().out
    assert "critical fal fal-ai/flux/dev/redux (catalogue): endpoint: no longer" in text
    assert "3 changes of fal's catalogue: `contracts import` of the newer types" in text


def test_sync_leaves_the_catalogue_to_the_import(
    served: Catalogue,
    newer_types: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # a catalogue endpoint has no document to patch: its source names the types file
    monkeypatch.setattr(catalogue, "shipped_catalogue", lambda: served)
    assert cli.main(["contracts", "sync", "--against", str(newer_types)]) == 0
    assert capsys.readouterr().out == ""


def test_with_contracts_of_your_own_only_those_are_compared(
    served: Catalogue,
    newer_types: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(catalogue, "shipped_catalogue", lambda: served)
    argv = [
        "contracts",
        "diff",
        "--against",
        str(newer_types),
        "--contracts",
        str(DEFAULT_CONTRACTS_DIR),
    ]
    assert cli.main([*argv, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["changes"] == []
