"""Contracts load the way users drop them in: a file, or a directory of any layout, the
provider read from each document; clear errors naming the file otherwise. And the opt-in
generic contract for ids no contract knows."""

from __future__ import annotations

import io
import json
from pathlib import Path

import av
import fal_client
import httpx
import pytest
from PIL import Image

from emulator import EmulatorConfig, Progression, emulate
from emulator.cli import main
from emulator.contracts.documents import ContractError
from emulator.contracts.loading import DEFAULT_CONTRACTS_DIR, load_contracts

BITDANCE = DEFAULT_CONTRACTS_DIR / "fal" / "fal-ai" / "bitdance.json"


def renamed(tmp_path: Path, endpoint_id: str, name: str = "doc.json") -> Path:
    """The bitdance document re-published as ``endpoint_id``, written flat in tmp_path."""
    text = BITDANCE.read_text().replace("fal-ai/bitdance", endpoint_id)
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_fal_document_dropped_flat_in_a_directory_is_served(tmp_path: Path) -> None:
    renamed(tmp_path, "acme/flat-model")
    with emulate(contracts=[tmp_path]):
        output = fal_client.subscribe("acme/flat-model", arguments={"prompt": "x"})
    assert output["images"][0]["url"].startswith("https://")


def test_a_single_file_is_a_contract_and_curated_beats_the_catalogue(tmp_path: Path) -> None:
    path = renamed(tmp_path, "fal-ai/flux/dev")
    contracts = load_contracts([path])
    assert contracts.get("fal", "fal-ai/flux/dev").source == str(path)
    with emulate(contracts=[path]) as emulation:
        endpoint = emulation.engine.contracts.get("fal", "fal-ai/flux/dev")
    assert endpoint.tier == "curated" and endpoint.source == str(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"name": "package", "version": "1"}, "not a provider contract"),
        ([1, 2], "not a provider contract"),
        ("{not json", "not JSON"),
    ],
)
def test_what_is_not_a_contract_is_named(tmp_path: Path, content: object, message: str) -> None:
    path = tmp_path / "thing.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(ContractError, match=message) as caught:
        load_contracts([tmp_path])
    assert str(path) in str(caught.value)


def test_a_broken_ref_and_an_empty_directory_are_errors(tmp_path: Path) -> None:
    document = json.loads(BITDANCE.read_text())
    document["components"]["schemas"].pop("ImageSize")
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(document))
    with pytest.raises(ContractError, match="broken \\$ref") as caught:
        load_contracts([broken])
    assert str(broken) in str(caught.value)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ContractError, match="holds no"):
        load_contracts([empty])


def test_the_cli_says_which_file_in_one_line(tmp_path: Path, capsys) -> None:
    (tmp_path / "x.json").write_text("{}")
    assert main(["contracts", "list", "--contracts", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "x.json" in error


def test_unknown_ids_answer_404_unless_the_generic_fallback_is_asked_for() -> None:
    with emulate():
        with pytest.raises(fal_client.client.FalClientHTTPError) as caught:
            fal_client.subscribe("acme/brand-new/text-to-video", arguments={"prompt": "x"})
    assert caught.value.status_code == 404
    config = EmulatorConfig(unknown_endpoints="generic", progression=Progression.parse("immediate"))
    with emulate(config=config):
        video = fal_client.subscribe("acme/brand-new/text-to-video", arguments={"prompt": "x"})
        speech = fal_client.subscribe("acme/brand-new/tts", arguments={"text": "hello"})
        chat = fal_client.subscribe("acme/some-llm", arguments={"prompt": "hi"})
    assert video["video"]["content_type"] == "video/mp4"
    assert speech["audio"]["content_type"].startswith("audio/")
    assert chat["output"]


def test_an_unknown_wavespeed_model_answers_through_the_sdk_with_the_generic_fallback() -> None:
    """WaveSpeed's curated contracts are few: with the fallback, any model id runs through
    the unmodified SDK, its outputs what its name makes and of the size and length asked."""
    from wavespeed import Client

    client = Client(api_key="k", base_url="https://api.wavespeed.ai")
    with emulate():
        with pytest.raises(RuntimeError, match="404"):
            client.run("wavespeed-ai/qwen-image/text-to-image", {"prompt": "x"})
    config = EmulatorConfig(unknown_endpoints="generic", progression=Progression.parse("immediate"))
    with emulate(config=config):
        image = client.run(
            "wavespeed-ai/qwen-image/text-to-image", {"prompt": "x", "size": "640*480"}
        )
        video = client.run("kwaivgi/kling-v2.5-turbo/text-to-video", {"prompt": "x", "duration": 3})
        speech = client.run("minimax/speech-2.6-hd", {"text": "hello there"})
        image_file = httpx.get(image["outputs"][0])
        video_file = httpx.get(video["outputs"][0])
        speech_type = httpx.get(speech["outputs"][0]).headers["content-type"]
    assert Image.open(io.BytesIO(image_file.content)).size == (640, 480)
    assert av.open(io.BytesIO(video_file.content)).duration == 3_000_000
    assert speech_type == "audio/mpeg"


def test_contracts_list_names_each_tier(capsys) -> None:
    assert main(["contracts", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    tiers = {line.split()[0] + " " + line.split()[2] for line in lines}
    assert {"fal curated", "fal catalogue", "wavespeed curated"} <= tiers
    assert len(lines) >= 1390
