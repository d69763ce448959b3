"""What a document of the user's own must be to load: checked once, each failure one
actionable line naming the file."""

from __future__ import annotations

import json
from typing import Any

import pytest

from emulator.contracts.checks import refs
from emulator.contracts.documents import ContractError, endpoint_from_document
from emulator.contracts.loading import DEFAULT_CONTRACTS_DIR

BITDANCE = DEFAULT_CONTRACTS_DIR / "fal" / "fal-ai" / "bitdance.json"
POSTER = DEFAULT_CONTRACTS_DIR / "wavespeed/wavespeed-ai/bitdance-14b/text-to-image.json"


def load(document: dict[str, Any], provider: str = "fal") -> None:
    endpoint_from_document(provider, document, source="mine.json")


def bitdance() -> dict[str, Any]:
    return json.loads(BITDANCE.read_text())


def test_a_copy_renamed_in_its_metadata_only_is_refused() -> None:
    # it replaced the endpoint it was copied from, silently (an audit)
    poster = json.loads(POSTER.read_text())
    poster["info"]["x-wavespeed-metadata"]["modelId"] = "acme/poster"
    with pytest.raises(ContractError) as refused:
        load(poster, "wavespeed")
    message = str(refused.value)
    assert message.startswith("mine.json: its submit path names 'wavespeed-ai/bitdance-14b")
    assert "x-wavespeed-metadata.modelId names 'acme/poster'" in message
    renamed = json.loads(json.dumps(bitdance()).replace("fal-ai/bitdance", "acme/sketch"))
    load(renamed)  # renamed in both: served as acme/sketch


@pytest.mark.parametrize("endpoint_id", ["acme/x?y=1", "acme/story board", "acme//x"])
def test_an_id_that_is_no_path_is_refused(endpoint_id: str) -> None:
    text = json.dumps(bitdance()).replace("/fal-ai/bitdance", "/" + endpoint_id)
    document = json.loads(text)
    document["info"]["x-fal-metadata"].pop("endpointId")
    with pytest.raises(ContractError, match="is no endpoint id"):
        load(document)


def test_an_output_schema_that_is_no_json_schema_is_refused_where_it_breaks() -> None:
    document = bitdance()
    document["components"]["schemas"]["BitdanceOutput"]["properties"]["seed"]["type"] = "int"
    with pytest.raises(ContractError, match="the output schema is not JSON Schema 2020-12"):
        load(document)


def test_a_broken_ref_is_named() -> None:
    document = bitdance()
    document["components"]["schemas"]["BitdanceInput"]["properties"]["prompt"] = {
        "$ref": "#/components/schemas/Nope"
    }
    with pytest.raises(ContractError, match="broken \\$ref '#/components/schemas/Nope'"):
        load(document)


def test_refs_come_in_document_order_however_deep() -> None:
    nested: dict[str, Any] = {"$ref": "#/last"}
    for _ in range(5_000):  # deeper than Python's stack
        nested = {"items": nested}
    assert list(refs({"a": {"$ref": "#/a"}, "b": [{"$ref": "#/b"}, nested]})) == [
        "#/a",
        "#/b",
        "#/last",
    ]


@pytest.mark.parametrize("model", ["predictions", "model/price", "balance/mine"])
def test_a_wavespeed_id_its_own_api_would_answer_is_refused(model: str) -> None:
    text = POSTER.read_text().replace("wavespeed-ai/bitdance-14b/text-to-image", model)
    with pytest.raises(ContractError, match="a path of wavespeed's own API"):
        load(json.loads(text), "wavespeed")


@pytest.mark.parametrize(
    ("info", "message"),
    [(["x"], "its info is not an object"), ({"x-fal-metadata": "x"}, "x-fal-metadata is not")],
)
def test_an_info_or_metadata_that_is_no_object_is_refused(info: Any, message: str) -> None:
    # an AttributeError's traceback, from `contracts list` and `serve`, where it was
    # read for the endpoint's category
    document = bitdance()
    document["info"] = info
    with pytest.raises(ContractError, match=message):
        load(document)
