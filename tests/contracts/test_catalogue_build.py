"""The catalogue archive (catalogue_build.py), from endpoint types already converted: the
endpoints only older types files have are served flagged delisted, each from the first
file given that has it, its source named (without Node: the conversion is the import's)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from emulator.cli import main
from emulator.contracts import catalogue_build
from emulator.contracts.catalogue import Catalogue
from emulator.contracts.catalogue_build import build_archive


def _types(*ids: str, prompt: str = "string") -> dict[str, Any]:
    """Converted endpoint types: each of ``ids`` takes a prompt of type ``prompt``."""
    schemas = {
        "In": {"type": "object", "properties": {"prompt": {"type": prompt}}},
        "Out": {"type": "object", "properties": {"text": {"type": "string"}}},
    }
    return {"types": schemas, "endpoints": {i: {"input": "In", "output": "Out"} for i in ids}}


def _meta(name: str) -> dict[str, Any]:
    return {"source_name": name, "source_date": "2026-01-01", "license": "MIT"}


def test_each_older_types_file_adds_the_endpoints_only_it_has_flagged_and_named(
    tmp_path: Path,
) -> None:
    # a second --delisted-from replaced the first: the endpoints only the first had (the
    # types imported before, fal-ai/flux/dev/redux) were dropped, a 404 (an audit)
    newest = _types("fal-ai/flux/dev")
    previous = _types("fal-ai/flux/dev", "fal-ai/flux/dev/redux", "fal-ai/veo3", prompt="number")
    oldest = _types("fal-ai/veo3", "fal-ai/whisper")
    path = tmp_path / "fal.zip"
    older = [(previous, _meta("previous")), (oldest, _meta("oldest"))]
    path.write_bytes(build_archive(newest, _meta("newest"), older))
    catalogue = Catalogue(path)
    assert sorted(catalogue.ids()) == [
        "fal-ai/flux/dev", "fal-ai/flux/dev/redux", "fal-ai/veo3", "fal-ai/whisper",
    ]  # fmt: skip
    assert [catalogue.delisted(i) for i in sorted(catalogue.ids())] == [False, True, True, True]
    sources = {i: catalogue.source(i) for i in catalogue.ids()}
    assert sources == {
        "fal-ai/flux/dev": "catalogue: newest (2026-01-01)",
        "fal-ai/flux/dev/redux": "catalogue: previous (2026-01-01)",
        "fal-ai/veo3": "catalogue: previous (2026-01-01)",  # the first file given that has it
        "fal-ai/whisper": "catalogue: oldest (2026-01-01)",
    }
    veo3 = catalogue.document("fal-ai/veo3")
    assert veo3["components"]["schemas"]["In"]["properties"]["prompt"] == {"type": "number"}
    assert veo3["info"]["x-emulator-delisted"]["source"] == "newest"


def test_one_older_file_is_recorded_as_before(tmp_path: Path) -> None:
    # the committed archive's format: one older file, no list of further ones
    made = build_archive(_types("a/b"), _meta("newest"), [(_types("a/c"), _meta("older"))])
    (tmp_path / "fal.zip").write_bytes(made)
    metadata = Catalogue(tmp_path / "fal.zip").metadata
    assert metadata["delisted_source"]["endpoints"] == 1
    assert "further_delisted_sources" not in metadata


def test_a_types_file_that_is_not_there_is_said_before_the_tooling_is_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # without the converter's node_modules it said "run `npm ci …` first" (a review)
    monkeypatch.setattr(catalogue_build, "CONVERTER", tmp_path / "catalogue" / "convert.mjs")
    missing = tmp_path / "nonexistent.ts"
    assert main(["contracts", "import", str(missing), "--output", str(tmp_path / "f.zip")]) == 2
    err = capsys.readouterr().err
    assert f"{missing}: no such file" in err and "npm ci" not in err
