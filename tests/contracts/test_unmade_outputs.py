"""What a contract declares of its outputs that the emulator makes no file for: warned of
as the document loads (one line naming the file and the field), and for WaveSpeed the same
rule as fal's (a type it makes no file of fails the job, task code 5003; an example URL,
the provider's own file, is never served)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from emulator import EmulatorConfig, Engine, Progression, create_app
from emulator.contracts.documents import endpoint_from_document
from emulator.contracts.limits import Limits
from emulator.contracts.loading import DEFAULT_CONTRACTS_DIR, load_contracts
from emulator.contracts.output_checks import OutputUnmade
from emulator.contracts.synthesis import synthesize
from emulator.contracts.unmade_outputs import unmade_outputs
from emulator.contracts.validation import check_input

BITDANCE = "wavespeed/wavespeed-ai/bitdance-14b/text-to-image.json"
PREDICTION = "WavespeedAiBitdance14bTextToImagePrediction"
CLOUDFRONT = "https://d2p7pge43lyniu.cloudfront.net/output/example.jpeg"


def _typed(media_type: str) -> Callable[[dict], None]:
    return lambda outputs: outputs["items"].update(contentMediaType=media_type)


def _untyped(outputs: dict) -> None:
    del outputs["items"]["contentMediaType"]


def _wavespeed(model: str, change: Callable[[dict], None]) -> dict[str, Any]:
    """bitdance's WaveSpeed document as ``model``, its ``outputs`` schema changed."""
    text = (DEFAULT_CONTRACTS_DIR / BITDANCE).read_text()
    document = json.loads(text.replace("wavespeed-ai/bitdance-14b/text-to-image", model))
    change(document["components"]["schemas"][PREDICTION]["properties"]["outputs"])
    return document


def _outputs(document: dict[str, Any]) -> Any:
    endpoint = endpoint_from_document("wavespeed", document)
    inputs, _ = check_input(endpoint, {"prompt": "a fox"})
    link = lambda spec: (f"https://cdn.test/{spec.index}.{spec.extension}", 1)  # noqa: E731
    return synthesize(endpoint, inputs, 1, link, limits=Limits())["data"]["outputs"]


def test_a_wavespeed_output_of_a_type_the_emulator_makes_no_file_of_fails_naming_it() -> None:
    # it was a .json file (fal's File with such a content_type was a 501 already)
    with pytest.raises(OutputUnmade) as caught:
        _outputs(_wavespeed("acme/weird", _typed("application/x-acme")))
    assert "output field data/outputs " in str(caught.value)
    assert "'application/x-acme'" in str(caught.value)
    assert _outputs(_wavespeed("acme/fine", _typed("video/mp4")))[0].endswith(".mp4")


def test_an_untyped_wavespeed_output_never_serves_the_providers_example_url() -> None:
    # its example, WaveSpeed's CloudFront file, was served as the model's output
    assert _outputs(_wavespeed("acme/untyped", _untyped)) == []


def test_a_job_of_a_wavespeed_type_it_makes_no_file_of_fails_with_task_code_5003(
    tmp_path: Path,
) -> None:
    document = _wavespeed("acme/weird", _typed("application/x-acme"))
    (tmp_path / "weird.json").write_text(json.dumps(document))
    config = EmulatorConfig(progression=Progression.parse("immediate"), contracts=(tmp_path,))
    app = create_app(engine=Engine(config))
    with TestClient(app, headers={"Authorization": "Bearer k"}) as client:
        task = client.post("/wavespeed/api/v3/acme/weird", json={"prompt": "x"}).json()["data"]
        data = client.get(task["urls"]["get"]).json()["data"]
    assert (data["status"], data["code"], data["outputs"]) == ("failed", 5003, [])
    assert "output field data/outputs" in data["error"]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (_typed("application/x-acme"), "its type 'application/x-acme' is none the emulator"),
        (_untyped, "its items declare no contentMediaType"),
    ],
)
def test_a_wavespeed_document_so_written_is_warned_of_as_it_loads(
    change: Callable[[dict], None],
    words: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(_wavespeed("acme/mine", change)))
    with caplog.at_level(logging.WARNING, logger="emulator"):
        load_contracts([tmp_path])
        load_contracts([tmp_path])  # read once while unchanged: warned of once
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 1 and lines[0].startswith(f"{path}: output field data/outputs: ")
    assert words in lines[0] and "\n" not in lines[0]


def test_a_fal_file_of_a_type_it_makes_no_file_of_is_warned_of_too() -> None:
    text = (DEFAULT_CONTRACTS_DIR / "fal/fal-ai/bitdance.json").read_text()
    document = json.loads(text)
    image = document["components"]["schemas"]["Image"]["properties"]
    image["content_type"] = {"type": "string", "const": "application/x-acme"}
    endpoint = endpoint_from_document("fal", document, source="mine.json")
    assert unmade_outputs(endpoint) == [
        "mine.json: output field images: its type 'application/x-acme' is none the emulator "
        "makes a file of, so each job fails (fal: 501 emulator_unsupported; WaveSpeed: task "
        "code 5003)"
    ]


def test_no_shipped_document_declares_an_output_it_cannot_make() -> None:
    for endpoint in load_contracts([DEFAULT_CONTRACTS_DIR]):
        assert unmade_outputs(endpoint) == [], endpoint.source
