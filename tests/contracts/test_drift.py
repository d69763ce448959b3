"""``contracts diff`` and ``contracts sync`` against the recorded published documents."""

from __future__ import annotations

import copy
import json
import lzma
import shutil
from functools import cache
from pathlib import Path

import pytest

from emulator import cli
from emulator.contracts import catalogue, sources
from emulator.contracts.documents import endpoint_from_document
from emulator.contracts.drift import DriftReport, compare
from emulator.contracts.loading import DEFAULT_CONTRACTS_DIR
from emulator.contracts.rules import rule_from_text
from emulator.contracts.sync import apply_changes

FIXTURES = Path(__file__).parents[2] / "fixtures" / "published"
FAL_TYPES = FIXTURES / "fal-endpoint-types-2026-08-02"
WAVESPEED_PAGES = FIXTURES / "wavespeed-model-pages-2026-08"
SEEDREAM = "fal/fal-ai/bytedance/seedream/v4/text-to-image.json"
SEEDANCE = "fal/fal-ai/bytedance/seedance/v1/pro/fast/image-to-video.json"
DREAMINA = "fal/fal-ai/bytedance/dreamina/v3.1/text-to-image.json"
WAN = "wavespeed/wavespeed-ai/wan-2.2/i2v-480p-lora-ultra-fast.json"


def _edit(root: Path, relative: str, change) -> None:
    path = root / relative
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


def _schemas(document: dict) -> dict:
    return document["components"]["schemas"]


@pytest.fixture
def before_the_drift(tmp_path: Path) -> Path:
    """The shipped contracts as they were before issue 12's sync."""
    root = tmp_path / "contracts"
    shutil.copytree(DEFAULT_CONTRACTS_DIR, root)

    def seedream(d: dict) -> None:
        props = _schemas(d)["BytedanceSeedreamV4TextToImageInput"]["properties"]
        del props["enhance_prompt_mode"], props["image_size"]["x-emulator-size"]
        props["image_size"]["description"] = (
            "The size of the generated image. Width and height must be between 1024 and 4096."
        )
        props["image_size"]["x-emulator-size"] = rule_from_text(props["image_size"]["description"])

    _edit(root, SEEDREAM, seedream)
    _edit(root, SEEDANCE, lambda d: _schemas(d)["BytedanceSeedanceV1ProFastImageToVideoInput"][
        "properties"].pop("num_frames"))  # fmt: skip
    _edit(root, DREAMINA, lambda d: d["info"].pop("x-emulator-delisted"))
    return root


def _diff(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code = cli.main(["contracts", "diff", "--json", *argv])
    return code, json.loads(capsys.readouterr().out)


def test_the_issues_drift_is_reported_and_classified(
    before_the_drift: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = _diff(capsys, "--against", str(FAL_TYPES), "--contracts", str(before_the_drift))
    found = {
        (c["endpoint"].rsplit("/", 2)[-2], c["field"], c["aspect"]): c for c in report["changes"]
    }
    assert code == 1 and report["date"] == "2026-08-02"
    assert found[("v4", "input.enhance_prompt_mode", "added")]["severity"] == "warning"
    rule = found[("v4", "input.image_size", "x-emulator-size")]
    assert rule["value"]["pixels"] == [960 * 960, 4096 * 4096]
    assert found[("v4", "input.image_size", "description")]["severity"] == "info"
    frames = found[("fast", "input.num_frames", "added")]
    assert "sizes.py" in frames["affects"]
    delisted = found[("v3.1", "endpoint", "delisted")]
    assert delisted["severity"] == "critical" and "/_emulator/endpoints" in delisted["affects"]
    assert report["counts"]["critical"] == 1


def test_sync_applies_the_drift_and_records_its_source(
    before_the_drift: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--against", str(FAL_TYPES), "--contracts", str(before_the_drift)]
    assert cli.main(["contracts", "sync", *argv]) == 0
    capsys.readouterr()
    assert _diff(capsys, *argv) == (0, _diff(capsys, *argv)[1])
    synced = json.loads((before_the_drift / SEEDREAM).read_text())
    shipped = json.loads((DEFAULT_CONTRACTS_DIR / SEEDREAM).read_text())
    name = "BytedanceSeedreamV4TextToImageInput"
    assert _schemas(synced)[name]["properties"] == _schemas(shipped)[name]["properties"]
    note = synced["info"]["x-emulator-sync"][-1]
    assert note["published"] == "2026-08-02" and "endpoint types" in note["source"]
    assert "x-emulator-delisted" in json.loads((before_the_drift / DREAMINA).read_text())["info"]


def test_the_shipped_contracts_are_in_sync_with_the_recorded_documents(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for source in (FAL_TYPES, WAVESPEED_PAGES):
        code, report = _diff(capsys, "--against", str(source))
        assert (code, report["changes"]) == (0, [])


def _variant(change, unstated: frozenset[str] = sources.NOTHING_UNSTATED) -> dict:
    document = json.loads((DEFAULT_CONTRACTS_DIR / SEEDREAM).read_text())
    newer = copy.deepcopy(document)
    change(_schemas(newer)["BytedanceSeedreamV4TextToImageInput"])
    old, new = endpoint_from_document("fal", document), endpoint_from_document("fal", newer)
    return {(c.field, c.aspect): c.severity for c in compare(old, new, unstated)}


def _set(field: str, **values):
    return lambda schema: schema["properties"][field].update(values)


def _add(field: str, required: bool):
    def change(schema: dict) -> None:
        schema["properties"][field] = {"type": "string"}
        schema["required"] += [field] * required

    return change


def _enum(change):
    return lambda schema: change(schema["properties"]["enhance_prompt_mode"]["enum"])


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_set("num_images", type="string"), ("num_images", "type", "critical")),
        (_set("num_images", maximum=4), ("num_images", "maximum", "critical")),
        (_set("num_images", maximum=8), ("num_images", "maximum", "warning")),
        (_set("num_images", minimum=2), ("num_images", "minimum", "critical")),
        (_set("num_images", default=2), ("num_images", "default", "warning")),
        (_set("seed", description="x"), ("seed", "description", "info")),
        (lambda s: s["properties"].pop("seed"), ("seed", "removed", "critical")),
        (_add("style", required=False), ("style", "added", "warning")),
        (_add("style", required=True), ("style", "added", "critical")),
        (_enum(lambda values: values.pop()), ("enhance_prompt_mode", "enum", "critical")),
        (_enum(lambda values: values.append("slow")), ("enhance_prompt_mode", "enum", "warning")),
    ],
)
def test_each_kind_of_change_has_its_severity(change, expected) -> None:
    field, aspect, severity = expected
    assert _variant(change)[(f"input.{field}", aspect)] == severity


def test_a_field_no_longer_required_is_critical_in_the_output_only() -> None:
    # a client reading an output field the provider may now leave out crashes (KeyError);
    # an input field no longer required only loosens what is accepted (a harness audit)
    document = json.loads((DEFAULT_CONTRACTS_DIR / SEEDREAM).read_text())
    newer = copy.deepcopy(document)
    _schemas(newer)["BytedanceSeedreamV4TextToImageInput"]["required"].remove("prompt")
    _schemas(newer)["BytedanceSeedreamV4TextToImageOutput"]["required"].remove("seed")
    old, new = endpoint_from_document("fal", document), endpoint_from_document("fal", newer)
    changes = {c.field: c for c in compare(old, new)}
    assert (changes["input"].aspect, changes["input"].severity) == ("required", "warning")
    assert (changes["output"].aspect, changes["output"].severity) == ("required", "critical")
    assert "no longer required: ['seed']" in changes["output"].message


def test_a_new_required_field_is_reported_once() -> None:
    assert _variant(_add("style", required=True)) == {("input.style", "added"): "critical"}
    # an existing field that becomes required is the required list's own change
    assert _variant(lambda s: s["required"].append("seed")) == {("input", "required"): "critical"}


def _drop(field: str):
    def change(schema: dict) -> None:
        del schema["properties"][field]
        schema["required"].remove(field)

    return change


@pytest.mark.parametrize(
    "change",
    [_add("style", required=True), _add("style", required=False), _drop("prompt"),
     lambda s: s["required"].append("seed")],
)  # fmt: skip
def test_sync_keeps_the_required_list_with_the_fields(change) -> None:
    document = json.loads((DEFAULT_CONTRACTS_DIR / SEEDREAM).read_text())
    newer = copy.deepcopy(document)
    change(_schemas(newer)["BytedanceSeedreamV4TextToImageInput"])
    old, new = endpoint_from_document("fal", document), endpoint_from_document("fal", newer)
    report = DriftReport("a test", None, compare(old, new))
    synced = apply_changes(document, report.changes, report, "2026-11-30")
    assert compare(endpoint_from_document("fal", synced), new) == []
    required = [_schemas(d)["BytedanceSeedreamV4TextToImageInput"]["required"]
                for d in (synced, newer)]  # fmt: skip
    assert set(required[0]) == set(required[1])


def _as_the_types_write_it(schema: dict) -> None:
    """The seedream input as fal's endpoint types write it: no bounds, titles or examples,
    ``number`` for every number, the sizes' presets as ``"a" | "b"`` (consts)."""
    for field in schema["properties"].values():
        for key in ("minimum", "maximum", "title", "examples", "default"):
            field.pop(key, None)
        if field.get("type") == "integer":
            field["type"] = "number"
    size = schema["properties"]["image_size"]
    presets = size["anyOf"][1]["enum"]
    size["anyOf"][1:] = [{"const": name, "type": "string"} for name in presets]


def test_what_the_endpoint_types_cannot_state_is_no_drift_from_them() -> None:
    # from an OpenAPI document, each is a change (a type, a looser bound, ...)
    assert {aspect for _, aspect in _variant(_as_the_types_write_it)} >= {"type", "minimum"}
    assert _variant(_as_the_types_write_it, sources.EndpointTypes.unstated) == {}


def test_what_the_endpoint_types_do_state_is_still_drift() -> None:
    types = sources.EndpointTypes.unstated

    def changed(schema: dict) -> None:
        _as_the_types_write_it(schema)
        schema["properties"]["num_images"].update(type="string", default=3)
        schema["properties"]["image_size"]["anyOf"].pop()  # a preset no longer offered

    assert _variant(changed, types) == {
        ("input.num_images", "type"): "critical",
        ("input.num_images", "default"): "warning",
        ("input.image_size", "enum"): "critical",
    }


def test_an_unchanged_document_has_no_drift() -> None:
    assert _variant(lambda s: None) == {}


@pytest.mark.parametrize(
    ("against", "words"),
    [
        ("missing-directory/x.json", "cannot read"),
        ("http://127.0.0.1:9/openapi.json", "cannot read"),
        ("http://127.0.0.1:9/openapi.json?endpoint_id={endpoint_id}", "cannot read"),
        ("types.ts", "no EndpointTypeMap"),  # converted by the catalogue import
    ],
)
def test_an_unreadable_source_is_one_line_and_exit_2(
    against: str, words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "types.ts").write_text("export type X = {};")
    if against == "types.ts":
        against = str(tmp_path / against)
    assert cli.main(["contracts", "diff", "--against", against]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1


@pytest.mark.parametrize("folder", ["empty", "fal"])
def test_a_source_that_says_nothing_of_the_contracts_is_no_all_clear(
    folder: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # an empty folder, or the right one's provider folder (one level too deep): "0 changes"
    # and exit 0 kept a daily drift alarm quiet
    (tmp_path / "empty").mkdir()
    shutil.copytree(FAL_TYPES / "fal", tmp_path / "fal")
    assert cli.main(["contracts", "diff", "--against", str(tmp_path / folder)]) == 2
    err = capsys.readouterr().err
    assert "publishes none of the endpoints compared" in err and err.count("\n") == 1


def test_the_report_says_how_many_endpoints_it_compared(
    before_the_drift: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, report = _diff(capsys, "--against", str(FAL_TYPES), "--contracts", str(before_the_drift))
    # the source lists fal's whole catalogue: each shipped fal endpoint, listed or not
    assert report["compared"] == len(list((before_the_drift / "fal").rglob("*.json")))


def test_a_document_that_is_not_json_is_refused(tmp_path: Path, capsys) -> None:
    (tmp_path / "bad.json").write_text("{")
    assert cli.main(["contracts", "diff", "--against", str(tmp_path / "bad.json")]) == 2
    assert "not JSON" in capsys.readouterr().err


def test_a_sync_that_would_break_a_contract_writes_nothing(
    before_the_drift: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    newer = tmp_path / "newer"
    shutil.copytree(FAL_TYPES, newer)
    _edit(newer, SEEDANCE, lambda d: _schemas(d)["BytedanceSeedanceV1ProFastImageToVideoInput"][
        "properties"]["num_frames"].update(type="frames"))  # fmt: skip
    before = {p: p.read_bytes() for p in before_the_drift.rglob("*.json")}
    argv = ["contracts", "sync", "--against", str(newer), "--contracts", str(before_the_drift)]
    assert cli.main(argv) == 2
    assert "frames" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in before_the_drift.rglob("*.json")} == before
    assert not [p for p in before_the_drift.rglob(".*") if p.is_file()]  # no temporary left


def test_the_endpoint_types_file_goes_through_the_catalogue_import_converter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded = sources.DocumentDirectory(FAL_TYPES)
    converted = lambda path: recorded.documents("fal", [])  # noqa: E731
    monkeypatch.setattr(catalogue, "documents_from_types", converted)
    (tmp_path / "types.ts").write_text("// converted by the catalogue's converter")
    # the shipped contracts alone: the recorded documents are not the whole catalogue
    argv = ["--contracts", str(DEFAULT_CONTRACTS_DIR)]
    code, report = _diff(capsys, "--against", str(tmp_path / "types.ts"), *argv)
    assert (code, report["changes"]) == (0, [])


def _answer(code: int, report: dict) -> tuple[int, list[tuple[str, ...]]]:
    """What a report says, whatever its source (a delisting flag names its source)."""
    fields = ("provider", "endpoint", "field", "aspect", "severity", "message")
    return code, [tuple(change[name] for name in fields) for change in report["changes"]]


#: the endpoint-types file the recorded documents were written from, as committed
COMMITTED_TYPES = Path(__file__).parents[2] / "catalogue" / "sources" / "fal-endpoint-types.ts.xz"


@pytest.mark.slow  # the catalogue's TypeScript converter runs under Node: about 3 s
@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_recorded_documents_show_what_the_endpoint_types_file_shows(
    before_the_drift: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The recorded documents kept output.images[].file_data, which the .ts no longer has:
    # diff against them said 0 changes, against the .ts 3 critical ones, and the drift
    # canary's types step failed on its first run (a harness audit).
    types = tmp_path / "fal-endpoint-types.ts"
    types.write_bytes(lzma.decompress(COMMITTED_TYPES.read_bytes()))
    # the three diffs against it convert it once (2.6 CPU-s a conversion)
    monkeypatch.setattr(catalogue, "documents_from_types", cache(catalogue.documents_from_types))
    for contracts in (DEFAULT_CONTRACTS_DIR, before_the_drift):
        argv = ["--contracts", str(contracts)]
        recorded = _diff(capsys, "--against", str(FAL_TYPES), *argv)
        published = _diff(capsys, "--against", str(types), *argv)
        assert _answer(*recorded) == _answer(*published)
    # the canary's types step, on the shipped contracts: no change at all
    code, report = _diff(capsys, "--against", str(types))
    assert (code, report["changes"]) == (0, [])


def test_a_single_published_document_is_compared_with_its_endpoint(
    before_the_drift: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--against", str(FAL_TYPES / SEEDANCE), "--contracts", str(before_the_drift)]
    code, report = _diff(capsys, *argv)
    assert code == 0 and [c["field"] for c in report["changes"]] == ["input.num_frames"]
    assert cli.main(["contracts", "diff", *argv]) == 0
    assert "\n1 change in 1 endpoint compared: " in capsys.readouterr().out


def test_the_text_report_names_severity_and_affected_behaviour(
    before_the_drift: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["contracts", "diff", "--against", str(FAL_TYPES), "--contracts", str(before_the_drift)]
    assert cli.main(argv) == 1
    out = capsys.readouterr().out
    assert "critical fal fal-ai/bytedance/dreamina/v3.1/text-to-image: endpoint:" in out
    assert "affects the delisted flag in /_emulator/endpoints" in out
    assert out.rstrip().endswith("1 critical, 3 warning, 1 info")
