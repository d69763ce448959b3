"""The catalogue import: reproducible, from the committed sources (fal's newer types, and
the older types file of the pinned @fal-ai/client package for the endpoints the newer one
no longer lists), with the converter's rules checked on known endpoints."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator.cli import main
from emulator.contracts import sources
from emulator.contracts.catalogue import (
    CATALOGUE_FILE,
    Catalogue,
    documents_from_types,
    shipped_catalogue,
)
from emulator.contracts.catalogue_build import CONVERTER, read_types
from emulator.contracts.loading import DEFAULT_CONTRACTS_DIR

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed"),
]
ROOT = Path(__file__).parents[2]
COMMITTED_SOURCE = ROOT / "catalogue" / "sources" / "fal-endpoint-types.ts.xz"
CLIENT_TYPES = ROOT / "tests/js/node_modules/@fal-ai/client/src/types/endpoints.d.ts"
SOURCE_NAME = "fal-ai/fal-js endpoints.ts (MIT), as catalogue/sources/fal-endpoint-types.ts.xz"
CLIENT_SOURCE = ROOT / "catalogue" / "sources" / "fal-client-1.10.1-endpoints.d.ts.xz"
CLIENT_SOURCE_NAME = (
    "@fal-ai/client 1.10.1 src/types/endpoints.d.ts (MIT), "
    "as catalogue/sources/fal-client-1.10.1-endpoints.d.ts.xz"
)


@pytest.fixture(autouse=True)
def _converter_installed() -> None:
    if not (CONVERTER.parent / "node_modules" / "typescript").is_dir():
        pytest.fail(f"the converter is not installed: run `npm ci --prefix {CONVERTER.parent}`")


def run_import(types: Path, output: Path, *extra: str) -> bytes:
    assert main(["contracts", "import", str(types), "--output", str(output), *extra]) == 0
    return output.read_bytes()


def test_the_committed_catalogue_is_what_its_committed_source_imports_to(tmp_path: Path) -> None:
    made = run_import(
        COMMITTED_SOURCE,
        tmp_path / "fal.zip",
        "--source-name",
        SOURCE_NAME,
        "--source-date",
        "2026-08-02",
        "--delisted-from",
        str(CLIENT_SOURCE),
        "--delisted-source-name",
        CLIENT_SOURCE_NAME,
        "--delisted-source-date",
        "2026-05-04",
    )
    assert made == CATALOGUE_FILE.read_bytes()


def test_the_committed_older_source_is_the_client_packages_types() -> None:
    if not CLIENT_TYPES.is_file():
        pytest.fail("the npm clients are not installed: run `npm ci --prefix tests/js`")
    assert read_types(CLIENT_SOURCE) == CLIENT_TYPES.read_bytes()


def test_the_client_packages_older_types_import_reproducibly(tmp_path: Path) -> None:
    first = run_import(CLIENT_SOURCE, tmp_path / "a.zip")
    second = run_import(CLIENT_SOURCE, tmp_path / "b.zip")
    assert first == second
    older, current = Catalogue(tmp_path / "a.zip"), Catalogue(CATALOGUE_FILE)
    assert len(set(older.ids())) > 1000
    shared = sorted(set(older.ids()) & set(current.ids()))
    assert len(shared) > 800  # the same catalogue, months apart
    for endpoint_id in shared[::100]:
        endpoint = older.endpoint(endpoint_id)
        assert endpoint.input_validator.schema and endpoint.tier == "catalogue"
    documents = documents_from_types(CLIENT_SOURCE)
    assert sorted(documents) == sorted(older.ids())
    assert documents[shared[0]] == older.document(shared[0])


def test_the_older_types_add_only_what_the_newer_lack_flagged_delisted() -> None:
    newer, older = documents_from_types(COMMITTED_SOURCE), documents_from_types(CLIENT_SOURCE)
    catalogue = Catalogue(CATALOGUE_FILE)
    assert set(catalogue.ids()) == set(newer) | set(older)
    assert {i for i in catalogue.ids() if catalogue.delisted(i)} == set(older) - set(newer)
    # where both define an endpoint, differently, the newer file's definition is served
    redefined = [i for i in sorted(set(newer) & set(older)) if newer[i] != older[i]]
    assert len(redefined) > 100
    for endpoint_id in redefined[::25]:
        assert catalogue.document(endpoint_id) == newer[endpoint_id]
    for endpoint_id in sorted(set(older) - set(newer))[::25]:
        document = catalogue.document(endpoint_id)
        flag = document["info"].pop("x-emulator-delisted")
        assert document == older[endpoint_id]
        assert flag == {"source": SOURCE_NAME, "date": "2026-08-02"}


def test_the_converter_keeps_enums_defaults_and_required() -> None:
    document = Catalogue(CATALOGUE_FILE).document("fal-ai/flux/dev")
    schemas = document["components"]["schemas"]
    flux = schemas["FluxDevInput"]
    assert flux["required"] == ["prompt"]
    properties = flux["properties"]
    assert properties["output_format"] == {
        "default": "jpeg",
        "description": "The format of the generated image.",
        "enum": ["jpeg", "png"],
        "type": "string",
    }
    assert properties["enable_safety_checker"]["default"] is True
    assert {"$ref": "#/components/schemas/ImageSize"} in properties["image_size"]["anyOf"]
    assert "ImageSize" in schemas and "Image" in schemas  # nested types come along
    # fal leaves a default string's inner quotes unescaped: its text is what is inside
    realtime = Catalogue(CATALOGUE_FILE).document("fal-ai/flux-2/klein/realtime")
    prompt = realtime["components"]["schemas"]["RealtimeEditInput"]["properties"]["prompt"]
    assert prompt["default"] == 'Turn this into "Living oil painting, melting gold and sapphire"'


def test_a_quoted_default_takes_its_fields_type_and_one_that_cannot_is_left_out(
    tmp_path: Path,
) -> None:
    types = tmp_path / "endpoints.ts"
    types.write_text(
        "export interface ToneInput {\n"
        '  /** Sample rate. Default value: `"48000"` */\n  rate?: 8000 | 48000;\n'
        '  /** Loudness. Default value: `"0.5"` */\n  gain?: number;\n'
        '  /** Looped. Default value: `"true"` */\n  loop?: boolean;\n'
        '  /** Channels. Default value: `"stereo"` */\n  channels?: 1 | 2;\n'
        '  /** Voice. Default value: `"Aria"` */\n  voice?: string;\n'
        "  /** Steps. Default value: `[1,2]` */\n  steps?: number[];\n"  # kept, as it was
        "}\n"
        "export interface ToneOutput { url: string; }\n"
        "export type EndpointTypeMap = {\n"
        '  "fal-ai/tone": { input: ToneInput; output: ToneOutput };\n'
        "};\n"
    )
    document = documents_from_types(types)["fal-ai/tone"]
    properties = document["components"]["schemas"]["ToneInput"]["properties"]
    defaults = {name: field.get("default") for name, field in properties.items()}
    assert defaults == {
        "rate": 48000, "gain": 0.5, "loop": True, "channels": None, "voice": "Aria",
        "steps": [1, 2],
    }  # fmt: skip
    assert properties["channels"]["description"] == "Channels."


def test_a_record_of_never_is_an_open_object_marked_as_a_guess(tmp_path: Path) -> None:
    """fal's types give openrouter's OpenAI-compatible endpoints ``Record<string, never>``,
    which refused every field (``model``, ``messages``): an audit."""
    types = tmp_path / "endpoints.ts"
    types.write_text(
        "export type StackInfoInput = Record<string, never>;\n"
        "export type ChatInput = StackInfoInput;\n"
        "export type ChatOutput = StackInfoInput;\n"
        "export interface TagsInput { tags: Record<string, string>; }\n"
        "export type EndpointTypeMap = {\n"
        '  "openrouter/chat": { input: ChatInput; output: ChatOutput };\n'
        '  "fal-ai/tags": { input: TagsInput; output: ChatOutput };\n'
        "};\n"
    )
    documents = documents_from_types(types)
    opened = documents["openrouter/chat"]["components"]["schemas"]["StackInfoInput"]
    assert opened["type"] == "object" and opened["additionalProperties"] is True
    assert "Record<string, never>" in opened["x-emulator-guess"] == opened["description"]
    tags = documents["fal-ai/tags"]["components"]["schemas"]["TagsInput"]["properties"]["tags"]
    assert tags == {"type": "object", "additionalProperties": {"type": "string"}}


def test_every_catalogue_default_is_valid_by_its_own_schema() -> None:
    # fal's types quote 76 integer defaults (inworld's sample_rate_hertz "48000"…); the
    # endpoints' schemas themselves are checked in test_every_endpoint.py
    catalogue = shipped_catalogue()
    assert catalogue is not None
    refused = []
    for endpoint_id in catalogue.ids():
        endpoint = catalogue.endpoint(endpoint_id)
        assert endpoint is not None
        for name, schema in _defaulted(endpoint.document["components"]["schemas"]):
            if not endpoint.validator(schema).is_valid(schema["default"]):
                refused.append(f"{endpoint_id} {name}: {schema['default']!r}")
    assert refused == []


def _defaulted(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema under ``node`` that has a default, with where it is."""
    if isinstance(node, dict):
        if "default" in node:
            yield where, node
        for key, value in node.items():
            yield from _defaulted(value, f"{where}.{key}")
    elif isinstance(node, list):
        for value in node:
            yield from _defaulted(value, where)


def test_contracts_diff_reads_endpoint_types_through_the_import(capsys) -> None:
    if not CLIENT_TYPES.is_file():
        pytest.fail("the npm clients are not installed: run `npm ci --prefix tests/js`")
    # the curated contracts: the catalogue, compared too by default, is of newer types
    argv = ["--against", str(CLIENT_TYPES), "--contracts", str(DEFAULT_CONTRACTS_DIR)]
    code = main(["contracts", "diff", *argv, "--json"])
    report = json.loads(capsys.readouterr().out)
    # what the types cannot state (bounds, titles, integers) is no drift: it was 41
    # critical changes, each a false alarm, that `sync` would have applied
    assert code == 0 and report["counts"]["critical"] == 0
    quiet = sources.EndpointTypes.unstated
    assert not [c for c in report["changes"] if c["aspect"] in quiet]
    assert {change["endpoint"] for change in report["changes"]} <= {
        "fal-ai/bitdance",
        "fal-ai/bytedance/dreamina/v3.1/text-to-image",
        "fal-ai/bytedance/seedance/v1/pro/fast/image-to-video",
        "fal-ai/bytedance/seedream/v4/text-to-image",
        # the realtime apps, curated from the newer types
        "fal-ai/fast-lcm-diffusion",
        "fal-ai/flux-2/klein/realtime",
    }


def _types_file(path: Path, *ids: str) -> Path:
    """An endpoint-types file naming ``ids``, each a prompt in and a text out."""
    entries = "".join(f'  "{i}": {{ input: PromptInput; output: TextOutput }};\n' for i in ids)
    path.write_text(
        "export interface PromptInput { prompt: string; }\n"
        "export interface TextOutput { text: string; }\n"
        f"export type EndpointTypeMap = {{\n{entries}}};\n"
    )
    return path


def test_an_import_names_the_endpoints_it_stops_serving_and_keeps_them_when_told(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a newer types file without fal-ai/flux/dev/redux, imported as docs/catalogue.md said
    # (--delisted-from the client's older types): redux became a 404, nothing said; and a
    # second --delisted-from replaced the first (an audit)
    previous = _types_file(tmp_path / "previous.ts", "fal-ai/flux/dev", "fal-ai/flux/dev/redux")
    newer = _types_file(tmp_path / "newer.ts", "fal-ai/flux/dev", "fal-ai/new")
    client = _types_file(tmp_path / "client.d.ts", "fal-ai/veo3")
    archive = tmp_path / "fal.zip"
    run_import(previous, archive)
    run_import(newer, archive, "--delisted-from", str(client))
    warned = capsys.readouterr().err
    assert (
        "1 endpoint that" in warned and "no longer served (a 404): fal-ai/flux/dev/redux" in warned
    )
    assert "--delisted-from" in warned and warned.count("\n") == 1
    assert "fal-ai/flux/dev/redux" not in set(Catalogue(archive).ids())
    run_import(previous, archive)
    assert "fal-ai/new, fal-ai/veo3" in capsys.readouterr().err  # served by the last import
    older = ["--delisted-from", str(previous), "--delisted-from", str(client)]
    named = ["--delisted-source-name", "previous", "--delisted-source-name", "client"]
    run_import(newer, archive, *older, *named)
    assert capsys.readouterr().err == ""
    catalogue = Catalogue(archive)
    delisted = {i: catalogue.source(i) for i in catalogue.ids() if catalogue.delisted(i)}
    assert delisted == {
        "fal-ai/flux/dev/redux": "catalogue: previous (undated)",
        "fal-ai/veo3": "catalogue: client (undated)",
    }


def test_more_names_than_older_files_is_refused(tmp_path: Path, capsys) -> None:
    types = _types_file(tmp_path / "types.ts", "fal-ai/x")
    argv = ["contracts", "import", str(types), "--output", str(tmp_path / "fal.zip")]
    named = ["--delisted-from", str(types), *["--delisted-source-name", "a"] * 2]
    assert main([*argv, *named]) == 2
    assert "2 --delisted-source-name" in capsys.readouterr().err
    assert not (tmp_path / "fal.zip").exists()
