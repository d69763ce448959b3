"""Loading contract documents: the shipped ones, a folder of your own, broken ones."""

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from emulator.contracts import loading
from emulator.contracts.documents import ContractError, Endpoint, check_endpoint
from emulator.contracts.loading import DEFAULT_CONTRACTS_DIR, load_contracts

SEED_ENDPOINTS = {
    "fal-ai/bitdance",
    "fal-ai/bytedance/dreamina/v3.1/text-to-image",
    "fal-ai/bytedance/seedream/v4/text-to-image",
    "fal-ai/bytedance/seedance/v1/pro/fast/image-to-video",
}


def test_the_shipped_contracts_load() -> None:
    contracts = load_contracts([DEFAULT_CONTRACTS_DIR])
    assert {e.id for e in contracts.of("fal")} >= SEED_ENDPOINTS
    seedream = contracts.get("fal", "fal-ai/bytedance/seedream/v4/text-to-image")
    assert seedream.category == "text-to-image"
    assert seedream.resolve(seedream.input_schema)["required"] == ["prompt"]


@pytest.mark.parametrize(
    "path", sorted(DEFAULT_CONTRACTS_DIR.rglob("*.json")), ids=lambda p: p.stem
)
def test_every_shipped_contract_passes_the_check_a_user_contract_gets(path: Path) -> None:
    # serve and emulate() skip the check for the shipped documents (it was most of their
    # start-up): this is where those are checked
    endpoint = next(e for e in load_contracts([path]) if e.source == str(path))
    check_endpoint(endpoint)


def test_every_fal_contract_records_its_source() -> None:
    for path in (DEFAULT_CONTRACTS_DIR / "fal").rglob("*.json"):
        assert json.loads(path.read_text())["info"]["x-emulator-source"]["document"], path


def _drop_in(tmp_path: Path, document: dict) -> Path:
    target = tmp_path / "fal" / "acme" / "model.json"
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps(document))
    return tmp_path


def test_a_dropped_in_document_becomes_an_endpoint(tmp_path: Path) -> None:
    seedream = json.loads(
        (DEFAULT_CONTRACTS_DIR / "fal/fal-ai/bytedance/seedream/v4/text-to-image.json").read_text()
    )
    renamed = json.loads(
        json.dumps(seedream).replace("fal-ai/bytedance/seedream/v4/text-to-image", "acme/painter")
    )
    contracts = load_contracts([DEFAULT_CONTRACTS_DIR, _drop_in(tmp_path, renamed)])
    assert contracts.get("fal", "acme/painter") is not None
    assert len(contracts.of("fal")) == len(load_contracts([DEFAULT_CONTRACTS_DIR]).of("fal")) + 1


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"openapi": "3.0.4"}, "no paths"),
        ({"paths": {}}, "expected one POST"),
        ({"paths": {"/x": {"post": {"requestBody": {}}}}}, "no input schema: POST /x"),
    ],
)
def test_broken_documents_are_refused_with_the_reason(
    tmp_path: Path, document: dict, message: str
) -> None:
    with pytest.raises(ContractError, match=message):
        load_contracts([_drop_in(tmp_path, document)])


def test_a_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="does not exist"):
        load_contracts([tmp_path / "nope"])


@pytest.mark.parametrize(
    ("made", "kind"),
    [
        (lambda folder: Path("/dev/zero"), "character device"),
        (lambda folder: _fifo(folder / "pipe"), "FIFO (named pipe)"),
    ],
    ids=["device", "fifo"],
)
def test_a_path_that_is_neither_a_folder_nor_a_file_is_named_for_what_it_is(
    tmp_path: Path, made: Callable[[Path], Path], kind: str
) -> None:
    # each was said not to exist, which sent its user looking for a typo
    path = made(tmp_path)
    if not path.exists():
        pytest.skip(f"{path} is not on this system")
    with pytest.raises(ContractError, match=re.escape(f"{path} is a {kind}, not a folder")):
        load_contracts([path])


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def test_a_user_contract_beside_the_shipped_ones_is_still_checked_as_it_loads(
    tmp_path: Path,
) -> None:
    seedream = json.loads(
        (DEFAULT_CONTRACTS_DIR / "fal/fal-ai/bytedance/seedream/v4/text-to-image.json").read_text()
    )
    seedream["components"]["schemas"]["BytedanceSeedreamV4TextToImageInput"]["type"] = "strin"
    with pytest.raises(ContractError, match="strin"):
        load_contracts([DEFAULT_CONTRACTS_DIR, _drop_in(tmp_path, seedream)])


def test_a_broken_ref_in_a_user_contract_is_refused(tmp_path: Path) -> None:
    seedream = json.loads(
        (DEFAULT_CONTRACTS_DIR / "fal/fal-ai/bytedance/seedream/v4/text-to-image.json").read_text()
    )
    schema = seedream["components"]["schemas"]["BytedanceSeedreamV4TextToImageInput"]
    schema["properties"]["prompt"] = {"$ref": "#/components/schemas/Nowhere"}
    with pytest.raises(ContractError, match="broken \\$ref"):
        load_contracts([_drop_in(tmp_path, seedream)])


def test_each_added_document_is_one_not_shipped_as_it_is(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # a checkout's contracts/: a document as shipped, one changed, one added
    shipped = tmp_path / "contracts"
    relative = Path("fal/fal-ai/bitdance.json")
    text = (DEFAULT_CONTRACTS_DIR / relative).read_text()
    (shipped / relative).parent.mkdir(parents=True)
    (shipped / relative).write_text(text)
    changed = shipped / "fal/fal-ai/bytedance/seedream/v4/text-to-image.json"
    changed.parent.mkdir(parents=True)
    changed.write_text(
        text.replace("fal-ai/bitdance", "fal-ai/bytedance/seedream/v4/text-to-image")
    )
    added = shipped / "fal/acme.json"
    added.write_text(text.replace("fal-ai/bitdance", "acme/added"))
    monkeypatch.setattr(loading, "DEFAULT_CONTRACTS_DIR", shipped)
    found = list(loading.each_document([shipped], added_only=True))
    assert [e.source for e in found if isinstance(e, Endpoint)] == [str(added), str(changed)]
    assert len(list(loading.each_document([shipped]))) == 3


def _two_teams_copies(tmp_path: Path) -> tuple[Path, Path]:
    """The bitdance document as ``acme/dupe``, in two teams' folders of one directory."""
    text = (DEFAULT_CONTRACTS_DIR / "fal/fal-ai/bitdance.json").read_text()
    paths = tmp_path / "team1/fal/acme/dupe.json", tmp_path / "team2/fal/acme/dupe.json"
    for path in paths:
        path.parent.mkdir(parents=True)
        path.write_text(text.replace("fal-ai/bitdance", "acme/dupe"))
    return paths


def test_two_documents_for_one_endpoint_in_one_directory_are_refused_naming_both(
    tmp_path: Path,
) -> None:
    # the later path won, silently (an audit): a later directory replaces an earlier
    # one's endpoint, but within one directory a second copy is a mistake
    first, second = _two_teams_copies(tmp_path)
    with pytest.raises(ContractError) as caught:
        load_contracts([tmp_path])
    message = str(caught.value)
    assert message.startswith(f"{second}: fal endpoint 'acme/dupe' again, as {first}")
    found = list(loading.each_document([tmp_path]))
    assert found[0].source == str(first) and isinstance(found[1], ContractError)
    assert str(found[1]) == message


def test_a_later_directory_still_replaces_an_endpoint(tmp_path: Path) -> None:
    first, second = _two_teams_copies(tmp_path)
    contracts = load_contracts([first.parents[2], second.parents[2]])
    assert contracts.get("fal", "acme/dupe").source == str(second)
